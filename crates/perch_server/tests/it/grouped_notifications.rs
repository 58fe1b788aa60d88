//! Grouped notifications as Mastodon 4.3 serves them (`/api/v2/notifications`):
//! likes and reblogs of one status and follows come grouped, the rest one
//! by one; pages count groups and link by notification ids; a group is read,
//! its accounts listed and it is dismissed on its own; the streams keep
//! sending single notifications, each with its group key.

use perch_server::testing::{PASSWORD, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::streaming::{connect, next_event};

pub struct Person {
    pub id: String,
    pub token: String,
}

pub async fn person(server: &TestServer, name: &str) -> Person {
    let id = server.create_user(name, PASSWORD).await;
    Person {
        id: id.to_string(),
        token: server.token(name).await,
    }
}

/// GET `path` as `token`: the status, the JSON body and the `Link` header.
pub async fn get_linked(
    server: &TestServer,
    path: &str,
    token: &str,
) -> (StatusCode, Value, String) {
    let url = if path.starts_with("http") {
        path.to_owned()
    } else {
        server.url(path)
    };
    let response = server
        .client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("sent");
    let status = response.status();
    let link = response
        .headers()
        .get("link")
        .map(|l| l.to_str().expect("ascii").to_owned())
        .unwrap_or_default();
    (status, response.json().await.unwrap_or(Value::Null), link)
}

/// The URL of the `rel` link in a `Link` header.
pub fn link_to(link: &str, rel: &str) -> String {
    link.split(", ")
        .find(|part| part.ends_with(&format!("rel=\"{rel}\"")))
        .and_then(|part| part.split('>').next())
        .map(|url| url.trim_start_matches('<').to_owned())
        .unwrap_or_else(|| panic!("no {rel} link in {link:?}"))
}

fn field(list: &Value, name: &str) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|v| v[name].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn act(server: &TestServer, who: &Person, path: &str) {
    let (status, body) = server.post(path, &who.token).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
}

/// alice's post liked by bob, carol and dan, reblogged by bob and carol,
/// alice followed by bob and carol, and mentioned by dan, in that order.
struct Scene {
    server: TestServer,
    alice: Person,
    bob: Person,
    carol: Person,
    dan: Person,
    post: String,
    mention: String,
}

async fn scene() -> Scene {
    let server = TestServer::start().await;
    let alice = person(&server, "alice").await;
    let bob = person(&server, "bob").await;
    let carol = person(&server, "carol").await;
    let dan = person(&server, "dan").await;
    let post = server
        .post_status(&alice.token, json!({"status": "something to like"}))
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for who in [&bob, &carol, &dan] {
        act(&server, who, &format!("/api/v1/statuses/{post}/favourite")).await;
    }
    for who in [&bob, &carol] {
        act(&server, who, &format!("/api/v1/statuses/{post}/reblog")).await;
    }
    for who in [&bob, &carol] {
        act(
            &server,
            who,
            &format!("/api/v1/accounts/{}/follow", alice.id),
        )
        .await;
    }
    let mention = server
        .post_status(&dan.token, json!({"status": "@alice hello"}))
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    Scene {
        server,
        alice,
        bob,
        carol,
        dan,
        post,
        mention,
    }
}

#[tokio::test]
async fn likes_reblogs_and_follows_come_grouped_and_the_rest_one_by_one() {
    let Scene {
        server,
        alice,
        bob,
        carol,
        dan,
        post,
        mention,
    } = scene().await;

    let (status, page, link) = get_linked(&server, "/api/v2/notifications", &alice.token).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let groups = &page["notification_groups"];
    assert_eq!(
        field(groups, "type"),
        ["mention", "follow", "reblog", "favourite"],
        "{page}"
    );
    let mention_group = &groups[0];
    assert_eq!(mention_group["notifications_count"], 1);
    let mention_id = mention_group["most_recent_notification_id"]
        .as_str()
        .expect("a string id");
    assert_eq!(
        mention_group["group_key"],
        format!("ungrouped-{mention_id}"),
        "{mention_group}"
    );
    assert_eq!(mention_group["status_id"], mention.as_str());
    assert_eq!(mention_group["sample_account_ids"], json!([dan.id]));
    for absent in ["report", "event", "moderation_warning"] {
        assert_eq!(mention_group[absent], Value::Null, "{absent} is null");
    }

    let follows = &groups[1];
    assert_eq!(follows["notifications_count"], 2);
    assert_eq!(follows["sample_account_ids"], json!([carol.id, bob.id]));
    assert!(
        follows["group_key"]
            .as_str()
            .is_some_and(|k| k.starts_with("follow-")),
        "{follows}"
    );
    assert_eq!(follows["status_id"], Value::Null);

    let likes = &groups[3];
    assert_eq!(likes["notifications_count"], 3);
    assert_eq!(
        likes["sample_account_ids"],
        json!([dan.id, carol.id, bob.id])
    );
    assert_eq!(likes["status_id"], post.as_str());
    let like_key = likes["group_key"].as_str().expect("key").to_owned();
    assert!(
        like_key.starts_with(&format!("favourite-{post}-")),
        "{like_key}"
    );
    assert!(likes["page_min_id"].is_string() && likes["page_max_id"].is_string());
    assert_eq!(likes["page_max_id"], likes["most_recent_notification_id"]);
    assert!(
        likes["latest_page_notification_at"]
            .as_str()
            .is_some_and(|at| at.ends_with('Z')),
        "{likes}"
    );
    let mut account_ids = field(&page["accounts"], "id");
    account_ids.sort();
    let mut expected = vec![bob.id.clone(), carol.id.clone(), dan.id.clone()];
    expected.sort();
    assert_eq!(account_ids, expected, "every account once");
    let mut status_ids = field(&page["statuses"], "id");
    status_ids.sort();
    let mut expected = vec![post.clone(), mention.clone()];
    expected.sort();
    assert_eq!(status_ids, expected, "every status once");
    assert_eq!(page["partial_accounts"], json!([]));
    assert!(link.contains("rel=\"prev\""), "{link}");

    // The single notifications name the same groups.
    let (_, single) = server.get("/api/v1/notifications", &alice.token).await;
    assert_eq!(single.as_array().expect("list").len(), 8, "{single}");
    let like_keys: Vec<&Value> = single
        .as_array()
        .expect("list")
        .iter()
        .filter(|n| n["type"] == "favourite")
        .map(|n| &n["group_key"])
        .collect();
    assert_eq!(like_keys, [&json!(like_key); 3]);

    // Pages count groups and link by notification ids.
    let (_, first, link) = get_linked(&server, "/api/v2/notifications?limit=2", &alice.token).await;
    assert_eq!(
        field(&first["notification_groups"], "type"),
        ["mention", "follow"]
    );
    let next = link_to(&link, "next");
    assert!(
        next.contains("limit=2") && next.contains("max_id="),
        "{next}"
    );
    // The follow group began before the first page's last head: its rest
    // comes again on the next page, as Mastodon pages groups.
    let (_, second, link) = get_linked(&server, &next, &alice.token).await;
    assert_eq!(
        field(&second["notification_groups"], "type"),
        ["follow", "reblog"],
        "{second}"
    );
    let rest = &second["notification_groups"][0];
    assert_eq!(rest["group_key"], follows["group_key"]);
    assert_eq!(rest["sample_account_ids"], json!([bob.id]), "{rest}");
    let (_, back, _) = get_linked(&server, &link_to(&link, "prev"), &alice.token).await;
    assert_eq!(
        field(&back["notification_groups"], "type"),
        ["mention", "follow"],
        "{back}"
    );

    // A client that groups only follows sees likes and reblogs one by one.
    let (_, only_follows, _) = get_linked(
        &server,
        "/api/v2/notifications?grouped_types[]=follow",
        &alice.token,
    )
    .await;
    let kinds = field(&only_follows["notification_groups"], "type");
    assert_eq!(kinds.len(), 7, "{only_follows}");
    assert!(
        field(&only_follows["notification_groups"], "group_key")
            .iter()
            .filter(|k| !k.starts_with("follow-"))
            .all(|k| k.starts_with("ungrouped-")),
        "{only_follows}"
    );
    let (_, types, _) = get_linked(
        &server,
        "/api/v2/notifications?types[]=favourite&types[]=mention",
        &alice.token,
    )
    .await;
    assert_eq!(
        field(&types["notification_groups"], "type"),
        ["mention", "favourite"]
    );
    let (_, excluded, _) = get_linked(
        &server,
        "/api/v2/notifications?exclude_types[]=favourite",
        &alice.token,
    )
    .await;
    assert_eq!(
        field(&excluded["notification_groups"], "type"),
        ["mention", "follow", "reblog"]
    );
    let (_, from_dan, _) = get_linked(
        &server,
        &format!("/api/v2/notifications?account_id={}", dan.id),
        &alice.token,
    )
    .await;
    assert_eq!(
        field(&from_dan["notification_groups"], "type"),
        ["mention", "favourite"]
    );

    // Partial avatars: each group's newest account in full, the others
    // stripped down.
    let (_, partial, _) = get_linked(
        &server,
        "/api/v2/notifications?expand_accounts=partial_avatars",
        &alice.token,
    )
    .await;
    let mut full = field(&partial["accounts"], "id");
    full.sort();
    let mut expected = vec![carol.id.clone(), dan.id.clone()];
    expected.sort();
    assert_eq!(full, expected, "{partial}");
    let stripped = &partial["partial_accounts"][0];
    assert_eq!(stripped["id"], bob.id.as_str(), "{partial}");
    let mut keys: Vec<&String> = stripped.as_object().expect("object").keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "acct",
            "avatar",
            "avatar_static",
            "bot",
            "id",
            "locked",
            "url"
        ]
    );
    let (status, error, _) = get_linked(
        &server,
        "/api/v2/notifications?expand_accounts=everything",
        &alice.token,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error["error"].is_string(), "{error}");

    // One group, its accounts, the unread count, and its dismissal.
    let (status, one) = server
        .get(&format!("/api/v2/notifications/{like_key}"), &alice.token)
        .await;
    assert_eq!(status, StatusCode::OK, "{one}");
    let group = &one["notification_groups"][0];
    assert_eq!(group["notifications_count"], 3);
    assert_eq!(group["page_min_id"], Value::Null, "no page here");
    assert_eq!(field(&one["statuses"], "id"), [post.as_str()]);
    let (status, accounts, _) = get_linked(
        &server,
        &format!("/api/v2/notifications/{like_key}/accounts"),
        &alice.token,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{accounts}");
    assert_eq!(
        field(&accounts, "id"),
        [dan.id.as_str(), carol.id.as_str(), bob.id.as_str()]
    );
    let (status, ungrouped) = server
        .get(
            &format!("/api/v2/notifications/ungrouped-{mention_id}"),
            &alice.token,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ungrouped}");
    assert_eq!(ungrouped["notification_groups"][0]["type"], "mention");

    let (_, unread) = server
        .get("/api/v2/notifications/unread_count", &alice.token)
        .await;
    assert_eq!(unread, json!({"count": 4}));
    let (_, unread) = server
        .get(
            "/api/v2/notifications/unread_count?grouped_types[]=follow",
            &alice.token,
        )
        .await;
    assert_eq!(unread, json!({"count": 7}));
    let (_, unread_v1) = server
        .get("/api/v1/notifications/unread_count", &alice.token)
        .await;
    assert_eq!(unread_v1, json!({"count": 8}));

    // Others' groups are not found.
    for (method, path) in [
        (Method::GET, format!("/api/v2/notifications/{like_key}")),
        (
            Method::POST,
            format!("/api/v2/notifications/{like_key}/dismiss"),
        ),
        (
            Method::GET,
            format!("/api/v2/notifications/{like_key}/accounts"),
        ),
    ] {
        let (status, body) = server.send(method, &path, &bob.token, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert!(body["error"].is_string(), "{body}");
    }

    let (status, body) = server
        .post(
            &format!("/api/v2/notifications/{like_key}/dismiss"),
            &alice.token,
        )
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    let (status, _) = server
        .get(&format!("/api/v2/notifications/{like_key}"), &alice.token)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, after) = server.get("/api/v2/notifications", &alice.token).await;
    assert_eq!(
        field(&after["notification_groups"], "type"),
        ["mention", "follow", "reblog"]
    );

    // Reading them takes read:notifications.
    let statuses_only = server.token_with_scopes("alice", "read:statuses").await;
    let (status, _) = server.get("/api/v2/notifications", &statuses_only).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let notifications_only = server
        .token_with_scopes("alice", "read:notifications")
        .await;
    let (status, _) = server
        .get("/api/v2/notifications", &notifications_only)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server
        .post(
            &format!("/api/v2/notifications/ungrouped-{mention_id}/dismiss"),
            &notifications_only,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "dismissing takes write");
}

#[tokio::test]
async fn the_streams_still_send_single_notifications_with_their_group_key() {
    let server = TestServer::start().await;
    let alice = person(&server, "alice").await;
    let bob = person(&server, "bob").await;
    let post = server
        .post_status(&alice.token, json!({"status": "like me"}))
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut user = connect(
        &server.base_url,
        &format!("stream=user&access_token={}", alice.token),
    )
    .await;
    let mut notifications = connect(
        &server.base_url,
        &format!("stream=user:notification&access_token={}", alice.token),
    )
    .await;
    act(&server, &bob, &format!("/api/v1/statuses/{post}/favourite")).await;
    let (_, groups) = server.get("/api/v2/notifications", &alice.token).await;
    let key = groups["notification_groups"][0]["group_key"].clone();
    for (ws, stream) in [
        (&mut user, "user"),
        (&mut notifications, "user:notification"),
    ] {
        let event = next_event(ws, json!([stream]), "notification").await;
        assert_eq!(event["type"], "favourite", "{event}");
        assert_eq!(event["group_key"], key, "{event}");
        assert_eq!(event["account"]["id"], bob.id.as_str());
        assert_eq!(event["status"]["id"], post.as_str());
        assert!(event.get("notification_groups").is_none(), "{event}");
    }
}
