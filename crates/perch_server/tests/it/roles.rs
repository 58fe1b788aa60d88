//! Roles: each user sees its own in `verify_credentials` as Mastodon's
//! seeded role, and the instance's contact is its owner.

use perch_server::testing::Role;
use reqwest::StatusCode;

use crate::statuses::PASSWORD;
use crate::support::spawn_app;

#[tokio::test]
async fn each_user_sees_its_role_and_the_owner_is_the_contact() {
    let app = spawn_app().await;
    // An admin older than the owner: the owner is still the contact.
    app.create_with_role("ada", PASSWORD, Role::Admin).await;
    app.create_with_role("otto", PASSWORD, Role::Owner).await;
    app.create_with_role("mo", PASSWORD, Role::Moderator).await;
    app.create_user("ulla", PASSWORD).await;
    for (name, id, role_name, permissions) in [
        ("ada", "2", "Admin", "980988"),
        ("otto", "3", "Owner", "1048575"),
        ("mo", "1", "Moderator", "1820"),
        ("ulla", "-99", "", "0"),
    ] {
        let token = app.token(name).await;
        let (status, me) = app.get("/api/v1/accounts/verify_credentials", &token).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["role"]["id"], id, "{name}: {me}");
        assert_eq!(me["role"]["name"], role_name, "{name}");
        assert_eq!(me["role"]["permissions"], permissions, "{name}");
        assert_eq!(me["role"]["highlighted"], name != "ulla", "{name}");
    }
    let response = app
        .client
        .get(app.url("/api/v2/instance"))
        .send()
        .await
        .expect("sent");
    let instance: serde_json::Value = response.json().await.expect("json");
    assert_eq!(
        instance["contact"]["account"]["username"], "otto",
        "{instance}"
    );
}
