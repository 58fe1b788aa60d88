//! The notification policy (Mastodon 4.3) and its requests: what a policy
//! filters is kept out of the lists, streams and pushes and counted in a
//! request per sender; accepting the request brings it back and lets the
//! sender through from then on, dismissing it deletes it; dropped ones are
//! never stored; those followed, the staff and answers to one's own private
//! mentions are never held back; an account's deletion takes its policy and
//! requests.

use perch_server::testing::{PASSWORD, Role, TestServer, drain};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::grouped_notifications::{Person, get_linked, person};
use crate::push::{browser, endpoint, subscribe, subscription};
use crate::streaming::{connect, next_event};

async fn set_policy(server: &TestServer, who: &Person, body: Value) -> Value {
    let (status, policy) = server
        .send(
            Method::PATCH,
            "/api/v2/notifications/policy",
            &who.token,
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{policy}");
    policy
}

async fn mention(server: &TestServer, from: &Person, body: Value) -> String {
    server.post_status(&from.token, body).await["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

async fn follow(server: &TestServer, who: &Person, target: &Person) {
    let (status, body) = server
        .post(
            &format!("/api/v1/accounts/{}/follow", target.id),
            &who.token,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// The ids of the accounts behind `who`'s notifications at `path`.
async fn senders(server: &TestServer, who: &Person, path: &str) -> Vec<String> {
    let (status, list) = server.get(path, &who.token).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array()
        .expect("a list")
        .iter()
        .map(|n| n["account"]["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn requests(server: &TestServer, who: &Person) -> Value {
    let (status, list) = server
        .get("/api/v1/notifications/requests", &who.token)
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list
}

#[tokio::test]
async fn the_policy_reads_and_changes_in_both_forms() {
    let server = TestServer::start().await;
    let alice = person(&server, "alice").await;
    let (status, policy) = server
        .get("/api/v2/notifications/policy", &alice.token)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        policy,
        json!({
            "for_not_following": "accept",
            "for_not_followers": "accept",
            "for_new_accounts": "accept",
            "for_private_mentions": "accept",
            "for_limited_accounts": "filter",
            "summary": {"pending_requests_count": 0, "pending_notifications_count": 0},
        })
    );
    let (_, v1) = server
        .get("/api/v1/notifications/policy", &alice.token)
        .await;
    assert_eq!(
        v1,
        json!({
            "filter_not_following": false,
            "filter_not_followers": false,
            "filter_new_accounts": false,
            "filter_private_mentions": false,
            "summary": {"pending_requests_count": 0, "pending_notifications_count": 0},
        })
    );

    let changed = set_policy(
        &server,
        &alice,
        json!({"for_not_following": "filter", "for_new_accounts": "drop"}),
    )
    .await;
    assert_eq!(changed["for_not_following"], "filter");
    assert_eq!(changed["for_new_accounts"], "drop");
    assert_eq!(changed["for_limited_accounts"], "filter", "the rest stays");

    // The v1 form, as a form: a setting that is not "accept" filters.
    let response = server
        .client
        .put(server.url("/api/v1/notifications/policy"))
        .bearer_auth(&alice.token)
        .form(&[
            ("filter_private_mentions", "true"),
            ("filter_new_accounts", "false"),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let v1: Value = response.json().await.expect("json");
    assert_eq!(v1["filter_not_following"], true);
    assert_eq!(v1["filter_private_mentions"], true);
    assert_eq!(v1["filter_new_accounts"], false);
    let (_, v2) = server
        .get("/api/v2/notifications/policy", &alice.token)
        .await;
    assert_eq!(v2["for_private_mentions"], "filter");
    assert_eq!(v2["for_new_accounts"], "accept");
    assert_eq!(v2["for_not_following"], "filter");

    let (status, error) = server
        .send(
            Method::PATCH,
            "/api/v2/notifications/policy",
            &alice.token,
            Some(json!({"for_not_followers": "sometimes"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error["error"].is_string(), "{error}");
    let reader = server
        .token_with_scopes("alice", "read:notifications")
        .await;
    let (status, _) = server
        .send(
            Method::PATCH,
            "/api/v2/notifications/policy",
            &reader,
            Some(json!({"for_not_followers": "filter"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = server.get("/api/v2/notifications/policy", &reader).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_strangers_mentions_become_a_request_until_accepted() {
    let server = TestServer::start().await;
    let alice = person(&server, "alice").await;
    let bob = person(&server, "bob").await;
    let eve = person(&server, "eve").await;
    follow(&server, &alice, &bob).await;
    set_policy(&server, &alice, json!({"for_not_following": "filter"})).await;
    let post = mention(&server, &alice, json!({"status": "hello world"})).await;

    mention(&server, &eve, json!({"status": "@alice hi"})).await;
    let (status, _) = server
        .post(&format!("/api/v1/statuses/{post}/favourite"), &eve.token)
        .await;
    assert_eq!(status, StatusCode::OK);
    let latest = mention(&server, &eve, json!({"status": "@alice again"})).await;
    mention(&server, &bob, json!({"status": "@alice from a friend"})).await;

    assert_eq!(
        senders(&server, &alice, "/api/v1/notifications").await,
        [bob.id.as_str()]
    );
    let (_, groups) = server.get("/api/v2/notifications", &alice.token).await;
    assert_eq!(
        groups["notification_groups"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(
        senders(
            &server,
            &alice,
            "/api/v1/notifications?include_filtered=true"
        )
        .await
        .len(),
        4
    );
    assert_eq!(
        senders(
            &server,
            &alice,
            &format!("/api/v1/notifications?account_id={}", eve.id)
        )
        .await,
        [eve.id.as_str(), eve.id.as_str(), eve.id.as_str()],
        "a request's notifications are read by their sender"
    );
    let (_, filtered_groups) = server
        .get("/api/v2/notifications?include_filtered=true", &alice.token)
        .await;
    assert_eq!(
        filtered_groups["notification_groups"]
            .as_array()
            .map(Vec::len),
        Some(4),
        "filtered ones are never grouped: {filtered_groups}"
    );
    let (_, unread) = server
        .get("/api/v1/notifications/unread_count", &alice.token)
        .await;
    assert_eq!(unread, json!({"count": 1}));

    let (status, list, link) =
        get_linked(&server, "/api/v1/notifications/requests", &alice.token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    let request = &list[0];
    let id = request["id"].as_str().expect("a string id").to_owned();
    assert_eq!(request["account"]["id"], eve.id.as_str());
    assert_eq!(request["notifications_count"], "3", "a string, as Mastodon");
    assert_eq!(request["last_status"]["id"], latest.as_str());
    assert!(
        request["created_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert!(request["updated_at"].is_string());
    assert!(link.contains("rel=\"prev\""), "{link}");
    let (_, policy) = server
        .get("/api/v2/notifications/policy", &alice.token)
        .await;
    assert_eq!(
        policy["summary"],
        json!({"pending_requests_count": 1, "pending_notifications_count": 3})
    );
    let (status, shown) = server
        .get(
            &format!("/api/v1/notifications/requests/{id}"),
            &alice.token,
        )
        .await;
    assert_eq!((status, &shown), (StatusCode::OK, request));

    // Another account's request is not found.
    for (method, path) in [
        (Method::GET, format!("/api/v1/notifications/requests/{id}")),
        (
            Method::POST,
            format!("/api/v1/notifications/requests/{id}/accept"),
        ),
        (
            Method::POST,
            format!("/api/v1/notifications/requests/{id}/dismiss"),
        ),
    ] {
        let (status, body) = server.send(method, &path, &bob.token, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }

    let (status, body) = server
        .post(
            &format!("/api/v1/notifications/requests/{id}/accept"),
            &alice.token,
        )
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    let (_, merged) = server
        .get("/api/v1/notifications/requests/merged", &alice.token)
        .await;
    assert_eq!(merged, json!({"merged": true}));
    assert_eq!(
        senders(&server, &alice, "/api/v1/notifications").await,
        [
            bob.id.as_str(),
            eve.id.as_str(),
            eve.id.as_str(),
            eve.id.as_str()
        ]
    );
    assert_eq!(requests(&server, &alice).await, json!([]));
    let (_, policy) = server
        .get("/api/v2/notifications/policy", &alice.token)
        .await;
    assert_eq!(policy["summary"]["pending_requests_count"], 0);
    let (status, _) = server
        .get(
            &format!("/api/v1/notifications/requests/{id}"),
            &alice.token,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an accepted request is gone");

    // From now on eve is let through.
    mention(&server, &eve, json!({"status": "@alice thanks"})).await;
    assert_eq!(
        senders(&server, &alice, "/api/v1/notifications?limit=1").await,
        [eve.id.as_str()]
    );
    assert_eq!(requests(&server, &alice).await, json!([]));
}

#[tokio::test]
async fn dismissing_requests_deletes_their_notifications_one_or_many_at_once() {
    let server = TestServer::start().await;
    let alice = person(&server, "alice").await;
    let eve = person(&server, "eve").await;
    let frank = person(&server, "frank").await;
    set_policy(&server, &alice, json!({"for_not_following": "filter"})).await;
    mention(&server, &eve, json!({"status": "@alice one"})).await;
    mention(&server, &frank, json!({"status": "@alice two"})).await;
    let list = requests(&server, &alice).await;
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
    let id_of = |who: &Person| {
        list.as_array()
            .expect("list")
            .iter()
            .find(|r| r["account"]["id"] == who.id.as_str())
            .and_then(|r| r["id"].as_str())
            .expect("a request")
            .to_owned()
    };
    let (eve_request, frank_request) = (id_of(&eve), id_of(&frank));

    let (status, _) = server
        .post(
            &format!("/api/v1/notifications/requests/{eve_request}/dismiss"),
            &alice.token,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        senders(
            &server,
            &alice,
            "/api/v1/notifications?include_filtered=true"
        )
        .await,
        [frank.id.as_str()],
        "eve's filtered notifications went with her request"
    );

    let response = server
        .client
        .post(server.url("/api/v1/notifications/requests/dismiss"))
        .bearer_auth(&alice.token)
        .form(&[("id[]", frank_request.as_str()), ("id[]", "12345")])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(requests(&server, &alice).await, json!([]));

    // eve's next one opens a new request, which is accepted among others.
    mention(&server, &eve, json!({"status": "@alice three"})).await;
    let list = requests(&server, &alice).await;
    let again = list[0]["id"].as_str().expect("id").to_owned();
    assert_ne!(again, eve_request);
    let (status, body) = server
        .send(
            Method::POST,
            "/api/v1/notifications/requests/accept",
            &alice.token,
            Some(json!({"id": [again, "999"]})),
        )
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    assert_eq!(
        senders(&server, &alice, "/api/v1/notifications").await,
        [eve.id.as_str()]
    );
}

#[tokio::test]
async fn followed_accounts_staff_and_answers_are_never_held_back() {
    let server = TestServer::start().await;
    let alice_id = server
        .create_with_role("alice", PASSWORD, Role::Admin)
        .await;
    let alice = Person {
        id: alice_id.to_string(),
        token: server.token("alice").await,
    };
    let bob = person(&server, "bob").await;
    let eve = person(&server, "eve").await;
    let mona = Person {
        id: server
            .create_with_role("mona", PASSWORD, Role::Moderator)
            .await
            .to_string(),
        token: server.token("mona").await,
    };
    let user = person(&server, "ursula").await;
    follow(&server, &alice, &bob).await;
    set_policy(
        &server,
        &alice,
        json!({"for_not_following": "filter", "for_private_mentions": "filter"}),
    )
    .await;
    set_policy(&server, &user, json!({"for_not_following": "filter"})).await;

    mention(&server, &bob, json!({"status": "@alice followed"})).await;
    // A report reaches the admin whatever her policy.
    let (status, report) = server
        .send(
            Method::POST,
            "/api/v1/reports",
            &eve.token,
            Some(json!({"account_id": bob.id, "comment": "spam"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    // A moderator's message reaches a user, though not the admin above her.
    mention(
        &server,
        &mona,
        json!({"status": "@ursula please read the rules"}),
    )
    .await;
    mention(&server, &mona, json!({"status": "@alice a question"})).await;
    assert_eq!(
        senders(&server, &user, "/api/v1/notifications").await,
        [mona.id.as_str()]
    );
    let kinds: Vec<String> = {
        let (_, list) = server.get("/api/v1/notifications", &alice.token).await;
        list.as_array()
            .expect("list")
            .iter()
            .map(|n| n["type"].as_str().expect("type").to_owned())
            .collect()
    };
    assert_eq!(
        kinds,
        ["admin.report", "mention"],
        "bob's mention and the report"
    );

    // A private mention that answers pat's own private mention of eve
    // comes through; one out of the blue is filtered.
    let pat = person(&server, "pat").await;
    set_policy(&server, &pat, json!({"for_private_mentions": "filter"})).await;
    let opening = mention(
        &server,
        &pat,
        json!({"status": "@eve between us", "visibility": "direct"}),
    )
    .await;
    mention(
        &server,
        &eve,
        json!({"status": "@pat sure", "visibility": "direct", "in_reply_to_id": opening}),
    )
    .await;
    mention(&server, &eve, json!({"status": "@pat in public"})).await;
    assert_eq!(
        senders(&server, &pat, "/api/v1/notifications").await,
        [eve.id.as_str(), eve.id.as_str()]
    );
    mention(
        &server,
        &eve,
        json!({"status": "@pat out of the blue", "visibility": "direct"}),
    )
    .await;
    assert_eq!(
        senders(&server, &pat, "/api/v1/notifications").await.len(),
        2,
        "the unsolicited private mention is filtered"
    );
    let list = requests(&server, &pat).await;
    assert_eq!(list[0]["account"]["id"], eve.id.as_str(), "{list}");
    assert_eq!(list[0]["notifications_count"], "1", "{list}");
}

#[tokio::test]
async fn limited_accounts_are_filtered_by_default_and_dropped_when_asked() {
    let server = TestServer::start().await;
    server.create_admin("root", PASSWORD).await;
    let root = server
        .token_with_scopes("root", "read write admin:read admin:write")
        .await;
    let alice = person(&server, "alice").await;
    let eve = person(&server, "eve").await;
    let (status, body) = server
        .send(
            Method::POST,
            &format!("/api/v1/admin/accounts/{}/action", eve.id),
            &root,
            Some(json!({"type": "silence"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    mention(&server, &eve, json!({"status": "@alice limited"})).await;
    assert!(
        senders(&server, &alice, "/api/v1/notifications")
            .await
            .is_empty()
    );
    let list = requests(&server, &alice).await;
    assert_eq!(list[0]["notifications_count"], "1", "{list}");

    set_policy(&server, &alice, json!({"for_limited_accounts": "drop"})).await;
    mention(&server, &eve, json!({"status": "@alice dropped"})).await;
    assert_eq!(
        senders(
            &server,
            &alice,
            "/api/v1/notifications?include_filtered=true"
        )
        .await
        .len(),
        1,
        "a dropped notification is not stored at all"
    );
    let list = requests(&server, &alice).await;
    assert_eq!(list[0]["notifications_count"], "1", "{list}");

    // Once alice follows eve, eve is not limited for her.
    follow(&server, &alice, &eve).await;
    mention(&server, &eve, json!({"status": "@alice followed now"})).await;
    assert_eq!(
        senders(&server, &alice, "/api/v1/notifications").await,
        [eve.id.as_str()]
    );
}

#[tokio::test]
async fn filtered_notifications_are_neither_streamed_nor_pushed() {
    let server = TestServer::start().await;
    let alice = Person {
        id: server.create_user("alice", PASSWORD).await.to_string(),
        token: server
            .token_with_scopes("alice", "read write follow push")
            .await,
    };
    let bob = person(&server, "bob").await;
    let eve = person(&server, "eve").await;
    follow(&server, &alice, &bob).await;
    set_policy(&server, &alice, json!({"for_not_following": "filter"})).await;
    let push = endpoint().await;
    let keys = browser();
    let (status, made) = subscribe(
        &server,
        &alice.token,
        subscription(&push, &keys, true, json!({"mention": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let mut ws = connect(
        &server.base_url,
        &format!("stream=user:notification&access_token={}", alice.token),
    )
    .await;

    mention(&server, &eve, json!({"status": "@alice filtered"})).await;
    mention(&server, &bob, json!({"status": "@alice let through"})).await;
    // Events for one account keep their order: the first to arrive is
    // bob's, so eve's was never sent.
    let event = next_event(&mut ws, json!(["user:notification"]), "notification").await;
    assert_eq!(event["account"]["id"], bob.id.as_str(), "{event}");
    drain(&[&server]).await;
    assert_eq!(
        push.received.lock().expect("lock").len(),
        1,
        "only bob's mention is pushed"
    );
}

#[tokio::test]
async fn an_accounts_deletion_takes_its_policy_permissions_and_requests() {
    let server = TestServer::start().await;
    let alice = person(&server, "alice").await;
    let eve = person(&server, "eve").await;
    let frank = person(&server, "frank").await;
    set_policy(&server, &alice, json!({"for_not_following": "filter"})).await;
    mention(&server, &eve, json!({"status": "@alice hi"})).await;
    mention(&server, &frank, json!({"status": "@alice hello"})).await;
    let list = requests(&server, &alice).await;
    let frank_request = list
        .as_array()
        .expect("list")
        .iter()
        .find(|r| r["account"]["id"] == frank.id.as_str())
        .and_then(|r| r["id"].as_str())
        .expect("frank's request")
        .to_owned();
    let (status, _) = server
        .post(
            &format!("/api/v1/notifications/requests/{frank_request}/accept"),
            &alice.token,
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    for who in [&eve, &alice] {
        let response = server
            .client
            .post(server.url("/api/v1/accounts/delete"))
            .bearer_auth(&who.token)
            .form(&[("password", PASSWORD)])
            .send()
            .await
            .expect("sent");
        assert!(response.status().is_success(), "{:?}", response.status());
    }
    for id in [alice.id.as_str(), eve.id.as_str()] {
        let id: i64 = id.parse().expect("id");
        let left: Vec<(String, i64)> = perch_db::testing::rows_naming_account(&server.db, id)
            .await
            .into_iter()
            .filter(|(column, _)| column.starts_with("notification"))
            .collect();
        assert!(left.is_empty(), "rows left for {id}: {left:?}");
    }
}
