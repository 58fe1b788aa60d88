//! Polls across servers: a poll posted on A is a Question on B with its
//! options; B's votes reach A as vote Notes (and are no statuses on
//! either side), A's totals come back to B in an Update of the Question,
//! and the end closes the poll on both; a Mastodon-shaped Question, its
//! Update and votes for a local poll arrive through the real inbox from a
//! fake Mastodon server, and votes that do not count are dropped.

use perch_core::time::now_millis;
use perch_federation_tests::{Instance, PASSWORD, drain, follow_across};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::interop::Peer;

async fn poll_of(instance: &Instance, token: &str, status_id: &str) -> Value {
    let (status, body) = instance
        .get(&format!("/api/v1/statuses/{status_id}"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["poll"].clone()
}

async fn vote(instance: &Instance, token: &str, poll: &Value, choices: Value) -> Value {
    let id = poll["id"].as_str().expect("a poll id");
    let (status, body) = instance
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/polls/{id}/votes"),
            token,
            Some(json!({ "choices": choices })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The id here of the status whose ActivityPub id is `uri`.
async fn local_id(instance: &Instance, uri: &str) -> String {
    perch_db::statuses::find_by_uri(&instance.db, uri)
        .await
        .expect("query")
        .unwrap_or_else(|| panic!("{uri} is stored"))
        .id
        .to_string()
}

/// End, on `instance`, the polls due two hours from now.
async fn end_polls(instance: &Instance) -> u64 {
    perch_domain::polls::close_expired(&instance.apub.domain, now_millis() + 2 * 3600 * 1000)
        .await
        .expect("polls ended")
}

fn votes(poll: &Value) -> Vec<i64> {
    poll["options"]
        .as_array()
        .expect("options")
        .iter()
        .map(|o| o["votes_count"].as_i64().unwrap_or(-1))
        .collect()
}

#[tokio::test]
async fn a_poll_travels_and_its_votes_and_its_end_come_back() {
    let (a, b) = (Instance::start().await, Instance::start().await);
    a.create_user("alice", PASSWORD).await;
    a.create_user("dave", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    let (alice, dave, bob) = (
        a.token("alice").await,
        a.token("dave").await,
        b.token("bob").await,
    );
    follow_across(&b, &bob, &format!("alice@{}", a.domain), &[&a, &b]).await;
    let posted = a
        .post_status(
            &alice,
            json!({"status": "Tea or coffee?", "visibility": "public",
                   "poll": {"options": ["tea", "coffee"], "expires_in": 3600}}),
        )
        .await;
    drain(&[&a, &b]).await;

    // A serves the status as a Question.
    let uri = posted["uri"].as_str().expect("uri");
    let question: Value = a
        .client
        .get(uri)
        .header("accept", "application/activity+json")
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(question["type"], "Question", "{question}");
    assert_eq!(question["oneOf"][0]["name"], "tea");
    assert_eq!(question["oneOf"][1]["replies"]["totalItems"], 0);
    assert_eq!(question["votersCount"], 0);
    assert!(question["endTime"].is_string() && question.get("closed").is_none());

    // B has it with its options and end.
    let on_b = local_id(&b, uri).await;
    let poll = poll_of(&b, &bob, &on_b).await;
    assert_eq!(poll["options"][0]["title"], "tea");
    assert_eq!(poll["options"][1]["title"], "coffee");
    assert_eq!(poll["multiple"], false);
    assert_eq!(poll["expires_at"], posted["poll"]["expires_at"]);
    assert_eq!(votes(&poll), [0, 0]);

    // Bob votes on B: counted there at once, and on A once delivered.
    let voted = vote(&b, &bob, &poll, json!([1])).await;
    assert_eq!(voted["own_votes"], json!([1]));
    assert_eq!(votes(&voted), [0, 1]);
    drain(&[&a, &b]).await;
    let on_a = poll_of(&a, &alice, posted["id"].as_str().expect("id")).await;
    assert_eq!(votes(&on_a), [0, 1], "{on_a}");
    assert_eq!(on_a["voters_count"], 1);
    // The vote is no reply on either side.
    let (_, context) = a
        .get(
            &format!(
                "/api/v1/statuses/{}/context",
                posted["id"].as_str().expect("id")
            ),
            &alice,
        )
        .await;
    assert_eq!(context["descendants"], json!([]), "{context}");
    let (_, status_on_a) = a
        .get(
            &format!("/api/v1/statuses/{}", posted["id"].as_str().expect("id")),
            &alice,
        )
        .await;
    assert_eq!(status_on_a["replies_count"], 0);
    let (_, bobs) = b.get("/api/v1/accounts/verify_credentials", &bob).await;
    assert_eq!(
        bobs["statuses_count"], 0,
        "the vote is not a status of bob's"
    );

    // Dave votes on A: B learns it only from the Update of the Question.
    vote(&a, &dave, &on_a, json!([0])).await;
    drain(&[&a, &b]).await;
    let poll = poll_of(&b, &bob, &on_b).await;
    assert_eq!(votes(&poll), [1, 1], "{poll}");
    assert_eq!(poll["voters_count"], 2);
    assert_eq!(poll["voted"], true);
    assert_eq!(poll["own_votes"], json!([1]));

    // An edit of its text is an edit on B too, and the totals stay.
    let (status, edited) = a
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/statuses/{}", posted["id"].as_str().expect("id")),
            &alice,
            Some(json!({"status": "Tea or coffee, then?"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    drain(&[&a, &b]).await;
    let (_, status_on_b) = b.get(&format!("/api/v1/statuses/{on_b}"), &bob).await;
    assert_eq!(status_on_b["content"], "<p>Tea or coffee, then?</p>");
    assert_eq!(votes(&status_on_b["poll"]), [1, 1], "{status_on_b}");
    let (_, history) = b
        .get(&format!("/api/v1/statuses/{on_b}/history"), &bob)
        .await;
    assert_eq!(history.as_array().map(Vec::len), Some(2), "{history}");

    // The end: A closes it, notifies alice and dave, and tells B, which
    // closes it too and notifies bob.
    assert_eq!(end_polls(&a).await, 1);
    drain(&[&a, &b]).await;
    let (_, alices) = a.get("/api/v1/notifications?types[]=poll", &alice).await;
    assert_eq!(alices.as_array().map(Vec::len), Some(1), "{alices}");
    let poll = poll_of(&b, &bob, &on_b).await;
    assert_eq!(poll["expired"], true, "{poll}");
    let (_, refused) = b
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/polls/{}/votes", poll["id"].as_str().expect("id")),
            &bob,
            Some(json!({"choices": [0]})),
        )
        .await;
    assert_eq!(
        refused["error"],
        "Validation failed: The poll has already ended"
    );
    perch_domain::polls::close_expired(&b.apub.domain, now_millis())
        .await
        .expect("pass");
    let (_, bobs) = b.get("/api/v1/notifications?types[]=poll", &bob).await;
    assert_eq!(bobs.as_array().map(Vec::len), Some(1), "{bobs}");
    assert_eq!(bobs[0]["status"]["id"], json!(on_b));
    let question: Value = a
        .client
        .get(uri)
        .header("accept", "application/activity+json")
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert!(question["closed"].is_string(), "{question}");
}

#[tokio::test]
async fn a_mastodon_question_its_update_and_our_votes() {
    let b = Instance::start().await;
    b.create_user("bob", PASSWORD).await;
    let peer = Peer::serve("https://mastodon.example", &b).await;
    let alice = peer.actor("mastodon/actor_person.json");
    peer.followed_by(&b, "bob", &alice).await;

    let mut create = peer.fixture("mastodon/create_question.json");
    let end = perch_apub::objects::note::timestamp(now_millis() + 3600 * 1000);
    create["object"]["endTime"] = json!(end);
    assert_eq!(peer.send(&b, &alice, &create).await, StatusCode::ACCEPTED);
    let uri = create["object"]["id"].as_str().expect("id").to_owned();
    let bob = b.token("bob").await;
    let on_b = local_id(&b, &uri).await;
    let poll = poll_of(&b, &bob, &on_b).await;
    assert_eq!(poll["multiple"], true);
    assert_eq!(votes(&poll), [4, 2, 0]);
    assert_eq!(poll["voters_count"], 5);
    assert_eq!(poll["votes_count"], 6);
    assert_eq!(poll["expired"], false);
    let (_, status) = b.get(&format!("/api/v1/statuses/{on_b}"), &bob).await;
    assert_eq!(
        status["content"],
        "<p>Which birds came to your garden this week?</p>"
    );

    // Bob votes for two birds (sent to her server as two vote Notes).
    vote(&b, &bob, &poll, json!([0, 2])).await;
    drain(&[&b]).await;
    let (_, bobs) = b.get("/api/v1/accounts/verify_credentials", &bob).await;
    assert_eq!(bobs["statuses_count"], 0, "votes are not statuses");
    let poll = poll_of(&b, &bob, &on_b).await;
    assert_eq!(
        votes(&poll),
        [5, 2, 1],
        "counted here until the server says"
    );

    // Her Update carries the totals, and then the end.
    let mut update = create.clone();
    update["type"] = json!("Update");
    update["id"] = json!(format!("{uri}#updates/1"));
    update["object"]["anyOf"][0]["replies"]["totalItems"] = json!(9);
    update["object"]["anyOf"][2]["replies"]["totalItems"] = json!(3);
    update["object"]["votersCount"] = json!(10);
    update["object"]["closed"] = json!(perch_apub::objects::note::timestamp(now_millis()));
    assert_eq!(peer.send(&b, &alice, &update).await, StatusCode::ACCEPTED);
    let poll = poll_of(&b, &bob, &on_b).await;
    assert_eq!(votes(&poll), [9, 2, 3], "{poll}");
    assert_eq!(poll["voters_count"], 10);
    assert_eq!(poll["expired"], true);
    let (_, history) = b
        .get(&format!("/api/v1/statuses/{on_b}/history"), &bob)
        .await;
    assert_eq!(
        history.as_array().map(Vec::len),
        Some(1),
        "totals are no edit"
    );
    perch_domain::polls::close_expired(&b.apub.domain, now_millis())
        .await
        .expect("pass");
    let (_, notes) = b.get("/api/v1/notifications?types[]=poll", &bob).await;
    assert_eq!(notes.as_array().map(Vec::len), Some(1), "{notes}");
}

#[tokio::test]
async fn votes_for_a_local_poll_count_once_and_bad_ones_are_dropped() {
    let b = Instance::start().await;
    b.create_user("bob", PASSWORD).await;
    let bob = b.token("bob").await;
    let posted = b
        .post_status(
            &bob,
            json!({"status": "Spring or autumn?", "visibility": "public",
                   "poll": {"options": ["spring", "autumn"], "expires_in": 3600}}),
        )
        .await;
    let question = posted["uri"].as_str().expect("uri").to_owned();
    let peer = Peer::serve("https://mastodon.example", &b).await;
    let alice = peer.actor("mastodon/actor_person.json");
    let alice_id = alice["id"].as_str().expect("id").to_owned();
    let bob_uri = b.url("/users/bob");
    let vote_note = |n: u32, name: &str, content: Option<&str>| {
        let to = match content {
            Some(_) => json!(["https://www.w3.org/ns/activitystreams#Public", bob_uri]),
            None => json!([bob_uri]),
        };
        let mut note = json!({
            "id": format!("{alice_id}#votes/{n}"),
            "type": "Note",
            "name": name,
            "attributedTo": alice_id,
            "to": to,
            "inReplyTo": question,
        });
        if let Some(content) = content {
            note["content"] = json!(content);
        }
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{alice_id}#votes/{n}/activity"),
            "type": "Create",
            "actor": alice_id,
            "to": to,
            "object": note,
        })
    };
    let deliver = |activity: Value| {
        let (peer, b, alice) = (&peer, &b, &alice);
        async move {
            assert_eq!(peer.send(b, alice, &activity).await, StatusCode::ACCEPTED);
        }
    };
    let poll_now = || async { poll_of(&b, &bob, posted["id"].as_str().expect("id")).await };

    // No such option: dropped, and not kept as a reply either.
    deliver(vote_note(1, "winter", None)).await;
    assert_eq!(votes(&poll_now().await), [0, 0]);
    // A vote counts, once however often it comes; Pleroma's `Answer` is
    // a vote too.
    let mut answer = vote_note(2, "autumn", None);
    answer["object"]["type"] = json!("Answer");
    deliver(answer.clone()).await;
    deliver(answer).await;
    assert_eq!(votes(&poll_now().await), [0, 1]);
    // A second vote in a single-choice poll is dropped.
    deliver(vote_note(3, "spring", None)).await;
    let poll = poll_now().await;
    assert_eq!(votes(&poll), [0, 1]);
    assert_eq!(poll["voters_count"], 1);
    // A named Note with text is a reply, not a vote.
    deliver(vote_note(4, "spring", Some("<p>spring, surely</p>"))).await;
    assert_eq!(votes(&poll_now().await), [0, 1]);
    let (_, context) = b
        .get(
            &format!(
                "/api/v1/statuses/{}/context",
                posted["id"].as_str().expect("id")
            ),
            &bob,
        )
        .await;
    let replies = context["descendants"].as_array().expect("descendants");
    assert_eq!(replies.len(), 1, "only the Note with text: {context}");
    assert!(
        replies[0]["content"]
            .as_str()
            .unwrap_or("")
            .contains("spring, surely")
    );
    for n in [1, 2, 3] {
        let uri = format!("{alice_id}#votes/{n}");
        let stored = perch_db::statuses::find_by_uri(&b.db, &uri)
            .await
            .expect("query");
        assert!(stored.is_none(), "{uri} is no status");
    }
    // After the end, votes are dropped.
    assert_eq!(end_polls(&b).await, 1);
    let (_, notes) = b.get("/api/v1/notifications?types[]=poll", &bob).await;
    assert_eq!(
        notes.as_array().map(Vec::len),
        Some(1),
        "the author hears of the end"
    );
    let mut late = vote_note(5, "spring", None);
    late["object"]["id"] = json!(format!("{alice_id}#votes/5b"));
    deliver(late).await;
    assert_eq!(votes(&poll_now().await), [0, 1]);
}
