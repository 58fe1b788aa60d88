//! `GET /api/v2/search` on one instance: statuses by their words among
//! those the searcher may read, hashtags and accounts by the start of
//! their names, and links to posts and accounts of this server.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::statuses::{User, call, post_status, user};
use crate::support::{TestApp, spawn_app};

async fn search(app: &TestApp, who: Option<&User>, query: &str) -> Value {
    let path = format!(
        "/api/v2/search?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", query)
            .finish()
    );
    let (status, body, _) =
        call(app, Method::GET, &path, who.map(|u| u.token.as_str()), None).await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    body
}

fn texts(found: &Value) -> Vec<String> {
    found["statuses"]
        .as_array()
        .expect("statuses")
        .iter()
        .map(|s| s["content"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn statuses_are_found_by_their_words_among_those_the_searcher_may_read() {
    let app = spawn_app().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    post_status(
        &app,
        &ann.token,
        json!({"status": "Perch swims in the lake #fishing", "visibility": "public"}),
    )
    .await;
    post_status(
        &app,
        &ann.token,
        json!({"status": "A private perch note", "visibility": "private"}),
    )
    .await;
    let edited = post_status(
        &app,
        &ann.token,
        json!({"status": "nothing to see", "visibility": "public"}),
    )
    .await;
    post_status(
        &app,
        &ben.token,
        json!({"status": "Café au lait", "spoiler_text": "drinks"}),
    )
    .await;

    // Every word must occur; case and markup do not matter.
    assert_eq!(
        texts(&search(&app, Some(&ben), "PERCH lake").await).len(),
        1,
        "the public one only: ben does not follow ann"
    );
    assert_eq!(texts(&search(&app, Some(&ann), "perch").await).len(), 2);
    assert!(texts(&search(&app, Some(&ben), "perch ocean").await).is_empty());
    // Neither markup nor link targets are words.
    assert!(texts(&search(&app, Some(&ben), "href").await).is_empty());
    // The hashtag's name is a word; the content warning is searched too.
    assert_eq!(texts(&search(&app, Some(&ben), "#fishing").await).len(), 1);
    assert_eq!(texts(&search(&app, Some(&ann), "drinks").await).len(), 1);
    // Query syntax is not interpreted.
    assert!(texts(&search(&app, Some(&ann), "\"perch* OR NOT").await).is_empty());
    assert!(texts(&search(&app, Some(&ann), "*** ((").await).is_empty());

    // An edit is searched by its new words, and no longer by the old.
    let path = format!("/api/v1/statuses/{}", edited["id"].as_str().expect("id"));
    let (status, body, _) = call(
        &app,
        Method::PUT,
        &path,
        Some(&ann.token),
        Some(json!({"status": "now about herons"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(texts(&search(&app, Some(&ben), "herons").await).len(), 1);
    assert!(texts(&search(&app, Some(&ben), "nothing").await).is_empty());
    // A deleted status is gone from the results.
    let (status, _, _) = call(&app, Method::DELETE, &path, Some(&ann.token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(texts(&search(&app, Some(&ben), "herons").await).is_empty());

    // A block keeps the blocker's statuses from the blocked.
    let (status, _, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/accounts/{}/block", ben.id),
        Some(&ann.token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(texts(&search(&app, Some(&ben), "lake").await).is_empty());

    // Nobody signed in finds no statuses by their words.
    assert!(texts(&search(&app, None, "lake").await).is_empty());
}

#[tokio::test]
async fn search_pages_statuses_newest_first() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    for n in 0..5 {
        post_status(&app, &ann.token, json!({"status": format!("heron {n}")})).await;
    }
    let page = |query: &str| {
        let app = &app;
        let token = ann.token.clone();
        let path = format!("/api/v2/search?q=heron&type=statuses&{query}");
        async move { call(app, Method::GET, &path, Some(&token), None).await.1 }
    };
    let first = texts(&page("limit=2").await);
    assert_eq!(first, ["<p>heron 4</p>", "<p>heron 3</p>"]);
    assert_eq!(
        texts(&page("limit=2&offset=2").await),
        ["<p>heron 2</p>", "<p>heron 1</p>"]
    );
    let oldest_shown = page("limit=2").await["statuses"][1]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        texts(&page(&format!("limit=2&max_id={oldest_shown}")).await),
        ["<p>heron 2</p>", "<p>heron 1</p>"]
    );
    let (status, body, _) = call(
        &app,
        Method::GET,
        "/api/v2/search?q=heron&offset=many",
        Some(&ann.token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"].is_string());
}

#[tokio::test]
async fn hashtags_and_accounts_are_found_by_the_start_of_their_names_and_links_by_address() {
    let app = spawn_app().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "annabel").await);
    user(&app, "carl").await;
    let posted = post_status(
        &app,
        &ann.token,
        json!({"status": "#Rustacean meets #rust and #rusty_nail", "visibility": "public"}),
    )
    .await;

    let found = search(&app, Some(&ben), "#rust").await;
    let tags: Vec<&str> = found["hashtags"]
        .as_array()
        .expect("hashtags")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(tags, ["rust", "rustacean", "rusty_nail"], "shortest first");
    assert!(
        found["hashtags"][0]["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/tags/rust"))
    );
    let only_tags = call(
        &app,
        Method::GET,
        "/api/v2/search?q=rust&type=hashtags",
        Some(&ben.token),
        None,
    )
    .await
    .1;
    assert_eq!(only_tags["accounts"], json!([]));
    assert_eq!(only_tags["statuses"], json!([]));
    // LIKE's wildcards are plain characters.
    assert!(
        search(&app, Some(&ben), "r%").await["hashtags"]
            .as_array()
            .expect("hashtags")
            .is_empty()
    );

    let found = search(&app, Some(&ben), "ann").await;
    let names: Vec<&str> = found["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .filter_map(|a| a["username"].as_str())
        .collect();
    assert_eq!(names[0], "ann", "the exact match first");
    assert!(
        names.contains(&"annabel") && !names.contains(&"carl"),
        "{names:?}"
    );

    // A link to a post here, by its id or its page, and to an account.
    let status_uri = posted["uri"].as_str().expect("uri");
    let status_page = posted["url"].as_str().expect("url");
    for link in [status_uri, status_page] {
        let found = search(&app, Some(&ben), link).await;
        assert_eq!(found["statuses"][0]["id"], posted["id"], "{link}: {found}");
    }
    let found = search(&app, Some(&ben), &app.url("/users/ann")).await;
    assert_eq!(found["accounts"][0]["username"], "ann", "{found}");
    assert_eq!(found["statuses"], json!([]));
}
