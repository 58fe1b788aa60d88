//! Reports through the client API, on one instance: Mastodon's Report
//! entity, rules cited, and the refusals (someone else's status, a comment
//! too long, an unknown category or rule, oneself, a token without the
//! scope); and the server's rules in both instance documents.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::statuses::{call, post_status, user};
use crate::support::{TestApp, spawn_app};

async fn report(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    let (status, body, _) = call(
        app,
        Method::POST,
        "/api/v1/reports",
        Some(token),
        Some(body),
    )
    .await;
    (status, body)
}

#[tokio::test]
async fn a_user_reports_an_account_with_statuses_and_rules() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    let spam = post_status(&app, &ben.token, json!({"status": "buy now"})).await;
    let now = perch_core::time::now_millis();
    let rule =
        perch_db::reports::add_rule(&app.db, app.ids.next_id().as_i64(), "No spam", "Ads", now)
            .await
            .expect("rule");
    let second =
        perch_db::reports::add_rule(&app.db, app.ids.next_id().as_i64(), "Be kind", "", now)
            .await
            .expect("rule");
    assert!(second.position > rule.position);

    // The rules, in order, where clients read them.
    let (status, rules, _) = call(&app, Method::GET, "/api/v1/instance/rules", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        rules,
        json!([
            {"id": rule.id.to_string(), "text": "No spam", "hint": "Ads"},
            {"id": second.id.to_string(), "text": "Be kind", "hint": ""},
        ])
    );
    for path in ["/api/v1/instance", "/api/v2/instance"] {
        let (_, instance, _) = call(&app, Method::GET, path, None, None).await;
        assert_eq!(instance["rules"], rules, "{path}");
    }

    let (status, made) = report(
        &app,
        &ann.token,
        json!({
            "account_id": ben.id,
            "status_ids": [spam["id"]],
            "comment": "selling things",
            "rule_ids": [rule.id.to_string()],
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{made}");
    for field in [
        "id",
        "action_taken",
        "action_taken_at",
        "category",
        "comment",
        "forwarded",
        "created_at",
        "status_ids",
        "rule_ids",
        "target_account",
    ] {
        assert!(made.get(field).is_some(), "{field} missing: {made}");
    }
    assert_eq!(made["category"], "violation", "rules cited: a violation");
    assert_eq!(made["status_ids"], json!([spam["id"]]));
    assert_eq!(made["rule_ids"], json!([rule.id.to_string()]));
    assert_eq!(made["comment"], "selling things");
    assert_eq!(made["action_taken"], false);
    assert_eq!(
        made["forwarded"], false,
        "a local account: nothing to forward"
    );
    assert_eq!(made["target_account"]["id"], ben.id.as_str());
    let stored = perch_db::reports::about(&app.db, ben.id.parse().unwrap(), 10)
        .await
        .expect("reports");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].account_id.to_string(), ann.id);

    // Form parameters, as many apps send them, and a plain category.
    let response = app
        .client
        .post(app.url("/api/v1/reports"))
        .bearer_auth(&ann.token)
        .form(&[
            ("account_id", ben.id.as_str()),
            ("status_ids[]", spam["id"].as_str().unwrap()),
            ("category", "spam"),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let made: Value = response.json().await.expect("json");
    assert_eq!(made["category"], "spam");
    assert_eq!(made["rule_ids"], Value::Null, "{made}");
}

#[tokio::test]
async fn bad_reports_are_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    let anns = post_status(&app, &ann.token, json!({"status": "mine"})).await;
    let cases = [
        (
            json!({"account_id": ben.id, "status_ids": [anns["id"]]}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"account_id": ben.id, "comment": "x".repeat(1001)}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"account_id": ben.id, "category": "boring"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"account_id": ben.id, "rule_ids": ["12345"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"account_id": ann.id}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({"account_id": "999999"}), StatusCode::NOT_FOUND),
        (json!({}), StatusCode::UNPROCESSABLE_ENTITY),
    ];
    for (body, expected) in cases {
        let (status, answer) = report(&app, &ann.token, body.clone()).await;
        assert_eq!(status, expected, "{body}: {answer}");
        assert!(answer["error"].is_string(), "{answer}");
    }
    for account in [&ann, &ben] {
        let stored = perch_db::reports::about(&app.db, account.id.parse().unwrap(), 10)
            .await
            .expect("reports");
        assert!(stored.is_empty(), "{stored:?}");
    }

    app.create_user("cat", crate::statuses::PASSWORD).await;
    let client = crate::oauth::register_app(&app, "read").await;
    let token = crate::oauth::password_token(&app, &client, "cat", "read").await;
    let (status, _) = report(
        &app,
        token["access_token"].as_str().unwrap(),
        json!({"account_id": ben.id}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn moderators_work_the_reports_queue_and_users_cannot() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    let spam = post_status(&app, &ben.token, json!({"status": "buy now"})).await;
    let (status, made) = report(
        &app,
        &ann.token,
        json!({"account_id": ben.id, "status_ids": [spam["id"]], "comment": "ads"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let report_path = format!("/api/v1/admin/reports/{}", made["id"].as_str().unwrap());

    let scopes = "read write admin:read admin:write";
    let client = crate::oauth::register_app(&app, scopes).await;
    app.create_with_role(
        "mo",
        crate::statuses::PASSWORD,
        perch_server::testing::Role::Moderator,
    )
    .await;
    app.create_user("ulla", crate::statuses::PASSWORD).await;
    let token = |name: &'static str| {
        let (app, client) = (&app, &client);
        async move {
            let token = crate::oauth::password_token(app, client, name, scopes).await;
            token["access_token"].as_str().expect("token").to_owned()
        }
    };
    let (mo, ulla) = (token("mo").await, token("ulla").await);
    let admin = |method: Method, path: String, who: String| {
        let app = &app;
        async move { call(app, method, &path, Some(&who), None).await }
    };

    for path in ["/api/v1/admin/reports".to_owned(), report_path.clone()] {
        let (status, body, _) = admin(Method::GET, path.clone(), ulla.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
    }
    // A moderator with a token lacking the admin scope is refused too.
    let (status, _, _) = admin(
        Method::GET,
        "/api/v1/admin/reports".to_owned(),
        ann.token.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, list, headers) =
        admin(Method::GET, "/api/v1/admin/reports".to_owned(), mo.clone()).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    let shown = &list[0];
    assert_eq!(shown["account"]["username"], "ann");
    assert_eq!(shown["target_account"]["username"], "ben");
    assert_eq!(shown["target_account"]["account"]["id"], ben.id.as_str());
    assert_eq!(shown["statuses"][0]["id"], spam["id"]);
    assert_eq!(shown["comment"], "ads");
    assert_eq!(shown["action_taken"], false);
    assert_eq!(shown["assigned_account"], Value::Null);
    assert!(headers.contains_key("link"));

    let (_, taken, _) = admin(
        Method::POST,
        format!("{report_path}/assign_to_self"),
        mo.clone(),
    )
    .await;
    assert_eq!(taken["assigned_account"]["username"], "mo", "{taken}");
    let (_, resolved, _) = admin(Method::POST, format!("{report_path}/resolve"), mo.clone()).await;
    assert_eq!(resolved["action_taken"], true, "{resolved}");
    assert_eq!(resolved["action_taken_by_account"]["username"], "mo");
    assert!(resolved["action_taken_at"].is_string());
    let (_, open, _) = admin(Method::GET, "/api/v1/admin/reports".to_owned(), mo.clone()).await;
    assert_eq!(open, json!([]), "resolved reports leave the open list");
    let (_, done, _) = admin(
        Method::GET,
        "/api/v1/admin/reports?resolved=true".to_owned(),
        mo.clone(),
    )
    .await;
    assert_eq!(done.as_array().map(Vec::len), Some(1));
    let (_, reopened, _) = admin(Method::POST, format!("{report_path}/reopen"), mo.clone()).await;
    assert_eq!(reopened["action_taken"], false, "{reopened}");
    assert_eq!(reopened["action_taken_by_account"], Value::Null);
    let (_, let_go, _) = admin(Method::POST, format!("{report_path}/unassign"), mo.clone()).await;
    assert_eq!(let_go["assigned_account"], Value::Null, "{let_go}");
    let (status, _, _) = admin(
        Method::GET,
        "/api/v1/admin/reports/12345".to_owned(),
        mo.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let filtered = format!("/api/v1/admin/reports?target_account_id={}", ann.id);
    let (_, none, _) = admin(Method::GET, filtered, mo.clone()).await;
    assert_eq!(none, json!([]));
}

/// The notifications of `token`'s owner, of `kind`.
async fn notifications_of(app: &TestApp, token: &str, kind: &str) -> Vec<Value> {
    let (status, list, _) =
        call(app, Method::GET, "/api/v1/notifications", Some(token), None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array()
        .expect("a list")
        .iter()
        .filter(|n| n["type"] == kind)
        .cloned()
        .collect()
}

#[tokio::test]
async fn the_staff_hear_of_reports_and_sign_ups_and_keep_deleted_statuses() {
    use perch_server::testing::Role;
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    let mo_id = app
        .create_with_role("mo", crate::statuses::PASSWORD, Role::Moderator)
        .await;
    let max_id = app
        .create_with_role("max", crate::statuses::PASSWORD, Role::Moderator)
        .await;
    let mo = app.token_with_scopes("mo", "read write admin:read").await;
    let max = app.token_with_scopes("max", "read write admin:read").await;

    // Staff wear their role on their public profile; others wear none.
    let (_, profile, _) = call(
        &app,
        Method::GET,
        &format!("/api/v1/accounts/{mo_id}"),
        None,
        None,
    )
    .await;
    assert_eq!(
        profile["roles"],
        json!([{"id": "1", "name": "Moderator", "color": ""}])
    );
    let (_, profile, _) = call(
        &app,
        Method::GET,
        &format!("/api/v1/accounts/{}", ann.id),
        None,
        None,
    )
    .await;
    assert_eq!(profile["roles"], json!([]));

    let spam = post_status(&app, &ben.token, json!({"status": "buy now"})).await;
    let (status, made) = report(
        &app,
        &ann.token,
        json!({"account_id": ben.id, "status_ids": [spam["id"]], "comment": "ads"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{made}");
    // A second report by the same reporter notifies again.
    let (status, about_max) = report(
        &app,
        &ann.token,
        json!({"account_id": max_id.to_string(), "comment": "rude"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{about_max}");

    let told = notifications_of(&app, &mo, "admin.report").await;
    assert_eq!(told.len(), 2, "{told:?}");
    let of_ben = told
        .iter()
        .find(|n| n["report"]["id"] == made["id"])
        .expect("the report of ben");
    assert_eq!(of_ben["account"]["username"], "ann");
    assert_eq!(of_ben["report"]["target_account"]["id"], ben.id.as_str());
    assert_eq!(of_ben["report"]["comment"], "ads");
    assert_eq!(of_ben["status"], Value::Null);
    // The reported moderator is not told of the report about himself, and
    // users are told of none.
    let max_told = notifications_of(&app, &max, "admin.report").await;
    assert_eq!(max_told.len(), 1, "{max_told:?}");
    assert_eq!(max_told[0]["report"]["id"], made["id"]);
    assert!(
        notifications_of(&app, &ben.token, "admin.report")
            .await
            .is_empty()
    );
    // The staff's own mutes do not hide what they must handle.
    let (status, _, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/accounts/{}/mute", ann.id),
        Some(&mo),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(notifications_of(&app, &mo, "admin.report").await.len(), 2);

    // Ben deletes what he was reported for: the moderators still read it.
    let (status, _, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/statuses/{}", spam["id"].as_str().unwrap()),
        Some(&ben.token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, shown, _) = call(
        &app,
        Method::GET,
        &format!("/api/v1/admin/reports/{}", made["id"].as_str().unwrap()),
        Some(&mo),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(
        shown["statuses"].as_array().map(Vec::len),
        Some(1),
        "{shown}"
    );
    assert_eq!(shown["statuses"][0]["id"], spam["id"]);
    assert!(
        shown["statuses"][0]["content"]
            .as_str()
            .is_some_and(|c| c.contains("buy now")),
        "{shown}"
    );
    assert_eq!(shown["statuses"][0]["account"]["id"], ben.id.as_str());

    // A sign-up through the API tells those who handle accounts.
    let client = crate::oauth::register_app(&app, "read write").await;
    let app_token = crate::signup::app_token(&app, &client, "write:accounts").await;
    let response = crate::signup::sign_up(&app, &app_token, crate::signup::valid("newbie")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let signed_up = notifications_of(&app, &mo, "admin.sign_up").await;
    assert_eq!(signed_up.len(), 1, "{signed_up:?}");
    assert_eq!(signed_up[0]["account"]["username"], "newbie");
    assert!(
        notifications_of(&app, &ann.token, "admin.sign_up")
            .await
            .is_empty()
    );

    // A moderator made a user again no longer sees the staff's notices.
    perch_db::users::set_role(&app.db, mo_id, Role::User)
        .await
        .expect("role");
    assert!(notifications_of(&app, &mo, "admin.report").await.is_empty());
    assert!(
        notifications_of(&app, &mo, "admin.sign_up")
            .await
            .is_empty()
    );
}
