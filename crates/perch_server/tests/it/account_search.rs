//! `GET /api/v1/accounts/search`: accounts by the start of their names or
//! by their address, only those one follows with `following=true`.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::statuses::{call, user};
use crate::support::spawn_app;

fn usernames(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|a| a["username"].as_str().expect("username").to_owned())
        .collect()
}

#[tokio::test]
async fn accounts_are_found_by_name_and_address_and_among_the_followed() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let alba = user(&app, "alba").await;
    let _albert = user(&app, "albert").await;
    let _bob = user(&app, "bob").await;
    let follow = format!("/api/v1/accounts/{}/follow", alba.id);
    assert_eq!(
        call(&app, Method::POST, &follow, Some(&ann.token), None)
            .await
            .0,
        StatusCode::OK
    );
    let search = |query: &str| {
        let path = format!("/api/v1/accounts/search?{query}");
        let token = ann.token.clone();
        let app = &app;
        async move {
            let (status, body, _) = call(app, Method::GET, &path, Some(&token), None).await;
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
            body
        }
    };

    let mut found = usernames(&search("q=alb").await);
    found.sort();
    assert_eq!(found, ["alba", "albert"]);
    assert_eq!(usernames(&search("q=alb&following=true").await), ["alba"]);
    assert_eq!(usernames(&search("q=alb&limit=1").await).len(), 1);
    // An address names one account, first.
    let address = format!("q=@albert@{}", app.domain);
    assert_eq!(usernames(&search(&address).await)[0], "albert");
    assert_eq!(usernames(&search("q=albert").await)[0], "albert");
    assert_eq!(search("q=zzz").await, Value::Array(Vec::new()));
    assert_eq!(search("q=").await, Value::Array(Vec::new()));
    let entity = &search("q=bob").await[0];
    for field in [
        "id",
        "acct",
        "display_name",
        "avatar",
        "followers_count",
        "url",
    ] {
        assert!(entity.get(field).is_some(), "{field}: {entity}");
    }

    let (status, _, _) = call(
        &app,
        Method::GET,
        "/api/v1/accounts/search?q=alb",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = call(
        &app,
        Method::GET,
        "/api/v1/accounts/search?q=alb&limit=many",
        Some(&ann.token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
