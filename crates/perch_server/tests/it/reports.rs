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
