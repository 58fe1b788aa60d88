//! How other servers find our users: WebFinger, host-meta, NodeInfo and
//! actor documents.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use serde_json::Value;

use crate::support::{TestApp, spawn_app};

const AP_ACCEPT: &str = "application/activity+json";
const LD_ACCEPT: &str = "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";

fn domain(app: &TestApp) -> String {
    app.base_url.trim_start_matches("http://").to_owned()
}

async fn webfinger(app: &TestApp, resource: &str) -> reqwest::Response {
    app.client
        .get(app.url("/.well-known/webfinger"))
        .query(&[("resource", resource)])
        .send()
        .await
        .expect("sent")
}

#[tokio::test]
async fn webfinger_finds_local_users() {
    let app = spawn_app().await;
    app.create_user("alice", "a long enough password").await;
    let domain = domain(&app);
    let actor = format!("{}/users/alice", app.base_url);

    for resource in [
        format!("acct:alice@{domain}"),
        format!("acct:ALICE@{domain}"),
        format!("alice@{domain}"),
        actor.clone(),
        format!("{}/@alice", app.base_url),
    ] {
        let response = webfinger(&app, &resource).await;
        assert_eq!(response.status(), StatusCode::OK, "{resource}");
        assert_eq!(
            response.headers()[CONTENT_TYPE],
            "application/jrd+json; charset=utf-8"
        );
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["subject"], format!("acct:alice@{domain}"));
        let links = body["links"].as_array().expect("links");
        let self_link = links
            .iter()
            .find(|l| l["rel"] == "self")
            .expect("self link");
        assert_eq!(self_link["type"], "application/activity+json");
        assert_eq!(self_link["href"], actor);
        assert!(
            links
                .iter()
                .any(|l| l["rel"] == "http://webfinger.net/rel/profile-page")
        );
        assert!(
            links
                .iter()
                .any(|l| l["rel"] == "http://ostatus.org/schema/1.0/subscribe"
                    && l["template"].as_str().is_some_and(|t| t.contains("{uri}")))
        );
    }

    for (resource, status) in [
        (format!("acct:nobody@{domain}"), StatusCode::NOT_FOUND),
        (
            "acct:alice@elsewhere.example".to_owned(),
            StatusCode::NOT_FOUND,
        ),
        (
            "https://elsewhere.example/users/alice".to_owned(),
            StatusCode::NOT_FOUND,
        ),
        ("acct:alice".to_owned(), StatusCode::BAD_REQUEST),
        ("acct:@".to_owned(), StatusCode::BAD_REQUEST),
        ("http://[bad".to_owned(), StatusCode::BAD_REQUEST),
    ] {
        let response = webfinger(&app, &resource).await;
        assert_eq!(response.status(), status, "{resource}");
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
    }
    let missing = app.get_response("/.well-known/webfinger").await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);

    // The instance actor answers to acct:domain@domain.
    let response = webfinger(&app, &format!("acct:{domain}@{domain}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    let self_link = body["links"]
        .as_array()
        .expect("links")
        .iter()
        .find(|l| l["rel"] == "self")
        .cloned();
    assert_eq!(
        self_link.expect("self")["href"],
        format!("{}/actor", app.base_url)
    );
}

#[tokio::test]
async fn host_meta_points_at_webfinger() {
    let app = spawn_app().await;
    let template = format!("{}/.well-known/webfinger?resource={{uri}}", app.base_url);
    let xml = app.get_response("/.well-known/host-meta").await;
    assert_eq!(xml.status(), StatusCode::OK);
    assert!(
        xml.headers()[CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .starts_with("application/xrd+xml")
    );
    let text = xml.text().await.expect("text");
    assert!(text.contains(&format!("template=\"{template}\"")), "{text}");
    let json: Value = app
        .get_response("/.well-known/host-meta.json")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(json["links"][0]["template"], template);
    let negotiated = app
        .client
        .get(app.url("/.well-known/host-meta"))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .expect("sent");
    let json: Value = negotiated.json().await.expect("json");
    assert_eq!(json["links"][0]["rel"], "lrdd");
}

#[tokio::test]
async fn nodeinfo_describes_the_server() {
    let app = spawn_app().await;
    app.create_user("bob", "a long enough password").await;
    let links: Value = app
        .get_response("/.well-known/nodeinfo")
        .await
        .json()
        .await
        .expect("json");
    let links = links["links"].as_array().expect("links");
    for version in ["2.0", "2.1"] {
        let link = links
            .iter()
            .find(|l| l["rel"] == format!("http://nodeinfo.diaspora.software/ns/schema/{version}"))
            .expect("link");
        assert_eq!(link["href"], format!("{}/nodeinfo/{version}", app.base_url));
        let response = app.get_response(&format!("/nodeinfo/{version}")).await;
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers()[CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(
            content_type.contains(&format!("schema/{version}#")),
            "{content_type}"
        );
        let doc: Value = response.json().await.expect("json");
        assert_eq!(doc["version"], version);
        assert_eq!(doc["software"]["name"], "perch");
        assert_eq!(doc["protocols"], serde_json::json!(["activitypub"]));
        assert_eq!(doc["usage"]["users"]["total"], 1);
        assert!(doc["usage"]["users"]["activeMonth"].is_i64());
        assert!(doc["usage"]["users"]["activeHalfyear"].is_i64());
        assert_eq!(doc["usage"]["localPosts"], 0);
        assert_eq!(doc["openRegistrations"], true);
        assert!(doc["metadata"].is_object(), "metadata is always present");
    }
}

#[tokio::test]
async fn actors_are_served_as_activitypub_json() {
    let app = spawn_app().await;
    app.create_user("carol", "a long enough password").await;
    let actor_url = format!("{}/users/carol", app.base_url);

    for accept in [AP_ACCEPT, LD_ACCEPT] {
        let response = app
            .client
            .get(&actor_url)
            .header(ACCEPT, accept)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), StatusCode::OK, "{accept}");
        assert_eq!(
            response.headers()[CONTENT_TYPE],
            "application/activity+json; charset=utf-8"
        );
        let person: Value = response.json().await.expect("json");
        assert_eq!(person["id"], actor_url);
        assert_eq!(person["type"], "Person");
        assert_eq!(person["preferredUsername"], "carol");
        assert_eq!(person["inbox"], format!("{actor_url}/inbox"));
        assert_eq!(person["outbox"], format!("{actor_url}/outbox"));
        assert_eq!(person["followers"], format!("{actor_url}/followers"));
        assert_eq!(person["following"], format!("{actor_url}/following"));
        assert_eq!(
            person["endpoints"]["sharedInbox"],
            format!("{}/inbox", app.base_url)
        );
        assert_eq!(person["url"], format!("{}/@carol", app.base_url));
        assert_eq!(person["manuallyApprovesFollowers"], false);
        assert_eq!(person["publicKey"]["id"], format!("{actor_url}#main-key"));
        assert_eq!(person["publicKey"]["owner"], actor_url);
        let pem = person["publicKey"]["publicKeyPem"].as_str().expect("pem");
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        let context = person["@context"].as_array().expect("context");
        assert!(context.contains(&Value::from("https://www.w3.org/ns/activitystreams")));
        assert!(context.contains(&Value::from("https://w3id.org/security/v1")));
        assert!(
            person["published"]
                .as_str()
                .is_some_and(|p| p.ends_with('Z'))
        );
    }

    // Browsers go to the profile page.
    let response = app
        .client
        .get(&actor_url)
        .header(ACCEPT, "text/html")
        .send()
        .await
        .expect("sent");
    assert!(response.status().is_redirection());
    assert_eq!(
        response.headers()[LOCATION],
        format!("{}/@carol", app.base_url)
    );

    let missing = app
        .client
        .get(app.url("/users/nobody"))
        .header(ACCEPT, AP_ACCEPT)
        .send()
        .await
        .expect("sent");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let instance = app
        .client
        .get(app.url("/actor"))
        .header(ACCEPT, AP_ACCEPT)
        .send()
        .await
        .expect("sent");
    assert_eq!(instance.status(), StatusCode::OK);
    let instance: Value = instance.json().await.expect("json");
    assert_eq!(instance["type"], "Application");
    assert_eq!(instance["preferredUsername"], domain(&app));
    assert_eq!(
        instance["publicKey"]["owner"],
        format!("{}/actor", app.base_url)
    );
    // The instance actor is no user.
    let response = app
        .client
        .get(app.url(&format!("/users/{}", domain(&app))))
        .header(ACCEPT, AP_ACCEPT)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn collections_and_the_profile_page() {
    let app = spawn_app().await;
    app.create_user("dora", "a long enough password").await;
    let actor = format!("{}/users/dora", app.base_url);
    for name in ["followers", "following"] {
        let response = app
            .client
            .get(format!("{actor}/{name}"))
            .header(ACCEPT, AP_ACCEPT)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[CONTENT_TYPE],
            "application/activity+json; charset=utf-8"
        );
        let collection: Value = response.json().await.expect("json");
        assert_eq!(collection["type"], "OrderedCollection");
        assert_eq!(collection["id"], format!("{actor}/{name}"));
        assert_eq!(collection["totalItems"], 0);
        let first = collection["first"].as_str().expect("first page").to_owned();
        let page: Value = app
            .client
            .get(&first)
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("json");
        assert_eq!(page["type"], "OrderedCollectionPage");
        assert_eq!(page["partOf"], format!("{actor}/{name}"));
        assert_eq!(page["orderedItems"], serde_json::json!([]));
    }
    let outbox: Value = app
        .client
        .get(format!("{actor}/outbox"))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(outbox["type"], "OrderedCollection");
    assert_eq!(outbox["totalItems"], 0);
    let first = outbox["first"].as_str().expect("first page").to_owned();
    let page: Value = app
        .client
        .get(&first)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(page["type"], "OrderedCollectionPage");
    assert_eq!(page["partOf"], format!("{actor}/outbox"));

    let page = app.get_response("/@dora").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()[CONTENT_TYPE]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    let html = page.text().await.expect("html");
    assert!(html.contains("@dora@") && html.contains(&actor), "{html}");
    assert_eq!(
        app.get_response("/@nobody").await.status(),
        StatusCode::NOT_FOUND
    );
    let unknown = app.get_response("/not-a-profile").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let body: Value = unknown.json().await.expect("json");
    assert_eq!(body["error"], "Record not found");
}

/// Profile fields and the avatar reach the actor document.
#[tokio::test]
async fn the_actor_carries_profile_fields() {
    let app = spawn_app().await;
    app.create_user("eve", "correct horse battery staple").await;
    let client = crate::oauth::register_app(&app, "read write").await;
    let token = crate::oauth::password_token(&app, &client, "eve", "read write").await;
    let token = token["access_token"].as_str().expect("token");
    let response = app
        .client
        .patch(app.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(token)
        .json(&serde_json::json!({
            "display_name": "Eve",
            "note": "Hello",
            "locked": true,
            "fields_attributes": [{"name": "Site", "value": "perch"}],
        }))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let person: Value = app
        .client
        .get(app.url("/users/eve"))
        .header(ACCEPT, AP_ACCEPT)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(person["name"], "Eve");
    assert_eq!(person["manuallyApprovesFollowers"], true);
    assert!(
        person["summary"]
            .as_str()
            .is_some_and(|s| s.contains("Hello"))
    );
    assert_eq!(person["attachment"][0]["type"], "PropertyValue");
    assert_eq!(person["attachment"][0]["name"], "Site");
    assert_eq!(person["attachment"][0]["value"], "perch");
}
