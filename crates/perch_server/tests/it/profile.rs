//! Profiles over HTTP: `update_credentials` (JSON, form, multipart, images),
//! the media files it stores, `lookup`, `relationships` and account 404s.

use perch_db::actors::{self, RemoteActor};
use perch_db::follows::{self, NewFollow};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::oauth::{get_with, password_token, register_app};
use crate::support::{TestApp, spawn_app};

const PASSWORD: &str = "correct horse battery staple";
const UPDATE: &str = "/api/v1/accounts/update_credentials";
const ME: &str = "/api/v1/accounts/verify_credentials";

/// A new local user and an access token for `scope`.
async fn signed_in(app: &TestApp, username: &str, scope: &str) -> (i64, String) {
    let id = app.create_user(username, PASSWORD).await;
    let client = register_app(app, "read write follow").await;
    let token = password_token(app, &client, username, scope).await;
    let access = token["access_token"].as_str().expect("access_token");
    (id, access.to_owned())
}

fn patch(app: &TestApp, token: &str) -> reqwest::RequestBuilder {
    app.client.patch(app.url(UPDATE)).bearer_auth(token)
}

async fn json_of(response: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    response.json().await.expect("json")
}

async fn send(request: reqwest::RequestBuilder, status: StatusCode) -> Value {
    json_of(request.send().await.expect("sent"), status).await
}

async fn me(app: &TestApp, token: &str) -> Value {
    json_of(get_with(app, ME, token).await, StatusCode::OK).await
}

fn link(url: &str, shown: &str) -> String {
    format!(
        "<a href=\"{url}\" target=\"_blank\" rel=\"nofollow noopener noreferrer\">\
         <span class=\"invisible\">https://</span><span class=\"\">{shown}</span>\
         <span class=\"invisible\"></span></a>"
    )
}

#[tokio::test]
async fn json_updates_every_text_field_and_reads_back() {
    let app = spawn_app().await;
    let (_, token) = signed_in(&app, "alice", "read write").await;
    let note = "Hi <b>&</b> \"q\" 'a'\nline two\n\nSee https://perch.example/about.";
    let request = json!({
        "display_name": "  Alice A.  ",
        "note": note,
        "locked": true,
        "bot": "1",
        "discoverable": false,
        "fields_attributes": [
            {"name": "Site", "value": "https://alice.example"},
            {"name": "", "value": ""},
            {"name": "Pronouns", "value": "she/her"},
        ],
    });
    let body = send(patch(&app, &token).json(&request), StatusCode::OK).await;

    for account in [body, me(&app, &token).await] {
        assert_eq!(account["display_name"], "Alice A.");
        assert_eq!(
            account["note"],
            format!(
                "<p>Hi &lt;b&gt;&amp;&lt;/b&gt; &quot;q&quot; &#39;a&#39;<br>line two</p>\
                 <p>See {}.</p>",
                link("https://perch.example/about", "perch.example/about")
            )
        );
        assert_eq!(account["source"]["note"], note);
        let flags = [
            &account["locked"],
            &account["bot"],
            &account["discoverable"],
        ];
        assert_eq!(flags, [true, true, false]);
        assert_eq!(account["source"]["discoverable"], false);
        assert_eq!(
            account["fields"],
            json!([
                {"name": "Site", "value": link("https://alice.example", "alice.example"),
                 "verified_at": null},
                {"name": "Pronouns", "value": "she/her", "verified_at": null},
            ])
        );
        assert_eq!(
            account["source"]["fields"],
            json!([
                {"name": "Site", "value": "https://alice.example", "verified_at": null},
                {"name": "Pronouns", "value": "she/her", "verified_at": null},
            ])
        );
    }

    // Leaving a parameter out leaves its value alone; an empty object of
    // fields removes them all.
    let body = send(
        patch(&app, &token).json(&json!({"bot": false, "fields_attributes": {}})),
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["display_name"], "Alice A.");
    assert_eq!(body["source"]["note"], note);
    assert_eq!([&body["bot"], &body["locked"]], [false, true]);
    assert_eq!(body["fields"], json!([]));
}

#[tokio::test]
async fn form_and_json_object_fields_in_index_order() {
    let app = spawn_app().await;
    let (_, token) = signed_in(&app, "bea", "write:accounts read:accounts").await;
    let body = send(
        patch(&app, &token).form(&[
            ("display_name", "Bea"),
            ("note", "plain"),
            ("locked", "on"),
            ("discoverable", "0"),
            ("fields_attributes[1][name]", "Second"),
            ("fields_attributes[1][value]", "2"),
            ("fields_attributes[0][name]", "First"),
            ("fields_attributes[0][value]", "1 < 2"),
        ]),
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["display_name"], "Bea");
    assert_eq!(body["note"], "<p>plain</p>");
    assert_eq!([&body["locked"], &body["discoverable"]], [true, false]);
    let names: Vec<&Value> = body["fields"].as_array().expect("fields").iter().collect();
    assert_eq!(names[0]["name"], "First");
    assert_eq!(names[0]["value"], "1 &lt; 2");
    assert_eq!(body["source"]["fields"][0]["value"], "1 < 2");
    assert_eq!(names[1]["name"], "Second");

    let body = send(
        patch(&app, &token).json(&json!({"fields_attributes": {
            "10": {"name": "Ten", "value": "x"},
            "2": {"name": "Two", "value": "y"},
        }})),
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["source"]["fields"][0]["name"], "Two");
    assert_eq!(body["source"]["fields"][1]["name"], "Ten");
    assert_eq!(me(&app, &token).await["fields"], body["fields"]);
}

/// A valid 1×1 RGBA PNG, built here: signature, IHDR, a stored (level 0)
/// zlib IDAT and IEND, with their CRCs.
fn tiny_png() -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFF_u32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        png.extend(u32::try_from(data.len()).expect("small").to_be_bytes());
        let start = png.len();
        png.extend(kind);
        png.extend(data);
        let crc = crc32(&png[start..]);
        png.extend(crc.to_be_bytes());
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]);
    let scanline = [0_u8, 0x2e, 0x8b, 0x57, 0xff];
    let (mut a, mut b) = (1_u32, 0_u32);
    for &byte in &scanline {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    let mut zlib = vec![0x78, 0x01, 0x01, 5, 0, !5, 0xff];
    zlib.extend(scanline);
    zlib.extend(((b << 16) | a).to_be_bytes());
    chunk(&mut png, b"IDAT", &zlib);
    chunk(&mut png, b"IEND", &[]);
    png
}

/// The smallest valid GIF: one transparent pixel.
const TINY_GIF: &[u8] = b"GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff!\xf9\x04\x01\0\0\0\0,\0\0\0\0\x01\0\x01\0\0\x02\x02D\x01\0;";

fn image_part(bytes: Vec<u8>, name: &str, declared: &str) -> Part {
    Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str(declared)
        .expect("mime")
}

#[tokio::test]
async fn multipart_uploads_images_and_serves_them_back() {
    let app = spawn_app().await;
    let (id, token) = signed_in(&app, "cleo", "read write").await;
    let png = tiny_png();
    assert!(png.ends_with(&[0xAE, 0x42, 0x60, 0x82]), "IEND CRC");
    let form = Form::new()
        .text("display_name", "Cleo")
        .text("fields_attributes[0][name]", "Web")
        .text("fields_attributes[0][value]", "cleo.example")
        .part("avatar", image_part(png.clone(), "me.png", "image/png"))
        // The type comes from the bytes, not the name or declared type.
        .part(
            "header",
            image_part(TINY_GIF.to_vec(), "h.jpg", "image/jpeg"),
        );
    let body = send(patch(&app, &token).multipart(form), StatusCode::OK).await;
    assert_eq!(body["display_name"], "Cleo");
    assert_eq!(body["fields"][0]["value"], "cleo.example");
    let avatar = body["avatar"].as_str().expect("avatar").to_owned();
    let header = body["header"].as_str().expect("header").to_owned();
    assert!(
        avatar.starts_with(&app.url(&format!("/media/avatars/{id}/"))),
        "{avatar}"
    );
    assert!(avatar.ends_with(".png"), "{avatar}");
    assert!(
        header.starts_with(&app.url(&format!("/media/headers/{id}/"))),
        "{header}"
    );
    assert!(header.ends_with(".gif"), "{header}");
    assert_eq!(body["avatar_static"], avatar.as_str());
    assert_eq!(me(&app, &token).await["avatar"], avatar.as_str());

    for (url, content_type, bytes) in [
        (&avatar, "image/png", &png[..]),
        (&header, "image/gif", TINY_GIF),
    ] {
        let response = app.client.get(url).send().await.expect("sent");
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert_eq!(headers["content-type"], content_type);
        assert_eq!(
            headers["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(&response.bytes().await.expect("body")[..], bytes);
    }

    // A new avatar replaces the file; the old one is gone.
    let form = Form::new().part("avatar", image_part(png, "again.png", "image/png"));
    let body = send(patch(&app, &token).multipart(form), StatusCode::OK).await;
    assert_ne!(body["avatar"], avatar.as_str());
    assert_eq!(body["header"], header.as_str());
    let old = app.client.get(&avatar).send().await.expect("sent");
    assert_eq!(old.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn non_images_and_oversized_images_are_refused() {
    let app = spawn_app().await;
    let (_, token) = signed_in(&app, "dan", "read write").await;
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
    let form = Form::new()
        .text("display_name", "Changed")
        .part("avatar", image_part(svg.to_vec(), "cute.png", "image/png"));
    let body = send(
        patch(&app, &token).multipart(form),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        body["details"]["avatar"][0]["error"], "ERR_INVALID",
        "{body}"
    );

    let mut big = tiny_png();
    big.resize(8 * 1024 * 1024 + 1, 0);
    let form = Form::new().part("header", image_part(big, "big.png", "image/png"));
    let body = send(
        patch(&app, &token).multipart(form),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        body["details"]["header"][0]["error"], "ERR_INVALID",
        "{body}"
    );

    let account = me(&app, &token).await;
    assert_eq!(account["display_name"], "");
    assert!(
        account["avatar"]
            .as_str()
            .expect("avatar")
            .ends_with("/avatars/original/missing.png")
    );
}

#[tokio::test]
async fn every_limit_is_reported_at_once() {
    let app = spawn_app().await;
    let (_, token) = signed_in(&app, "eve", "read write").await;
    let long = "x".repeat(256);
    let body = send(
        patch(&app, &token).json(&json!({
            "display_name": "é".repeat(31),
            "note": "n".repeat(501),
            "fields_attributes": [{"name": long, "value": "ok"}, {"name": "ok", "value": long}],
        })),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        body["error"]
            .as_str()
            .expect("error")
            .starts_with("Validation failed")
    );
    for key in ["display_name", "note", "fields.0.name", "fields.1.value"] {
        assert_eq!(
            body["details"][key][0]["error"], "ERR_TOO_LONG",
            "{key}: {body}"
        );
    }

    let five: Vec<Value> = (0..5)
        .map(|i| json!({"name": format!("f{i}"), "value": "v"}))
        .collect();
    let body = send(
        patch(&app, &token).json(&json!({"fields_attributes": five})),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        body["details"]["fields"][0]["error"], "ERR_TOO_LONG",
        "{body}"
    );

    // Exactly at the limits is fine; nothing above was stored.
    assert_eq!(me(&app, &token).await["display_name"], "");
    send(
        patch(&app, &token).json(&json!({"display_name": "é".repeat(30), "note": "n".repeat(500)})),
        StatusCode::OK,
    )
    .await;
}

#[tokio::test]
async fn scopes_are_enforced() {
    let app = spawn_app().await;
    let (_, read) = signed_in(&app, "fay", "read").await;
    let body = send(
        patch(&app, &read).json(&json!({"note": "x"})),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(
        body["error"],
        "This action is outside the authorized scopes"
    );
    let anonymous = app
        .client
        .patch(app.url(UPDATE))
        .json(&json!({}))
        .send()
        .await;
    assert_eq!(anonymous.expect("sent").status(), StatusCode::UNAUTHORIZED);

    let client = register_app(&app, "read write").await;
    let statuses = password_token(&app, &client, "fay", "read:statuses").await;
    let statuses = statuses["access_token"].as_str().expect("token");
    let response = get_with(&app, "/api/v1/accounts/relationships?id=1", statuses).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = get_with(&app, "/api/v1/accounts/lookup?acct=fay", statuses).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

/// Send a GET for `target` as-is (clients normalise `..` away before sending).
async fn raw_get(app: &TestApp, target: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(app.address)
        .await
        .expect("connect");
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        app.address
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test]
async fn media_paths_cannot_leave_the_media_root() {
    let app = spawn_app().await;
    let (_, token) = signed_in(&app, "gus", "read write").await;
    let form = Form::new().part("avatar", image_part(tiny_png(), "a.png", "image/png"));
    let body = send(patch(&app, &token).multipart(form), StatusCode::OK).await;
    let avatar = body["avatar"].as_str().expect("avatar");
    let path = avatar.strip_prefix(&app.base_url).expect("ours");
    assert!(raw_get(&app, path).await.starts_with("HTTP/1.1 200"));

    let inside = path.trim_start_matches("/media/");
    for target in [
        format!("/media/../media/{inside}"),
        format!("/media/avatars/../{inside}"),
        "/media/../../../../etc/passwd".to_owned(),
        "/media/..%2F..%2F..%2Fetc%2Fpasswd".to_owned(),
        "/media/%2e%2e/%2e%2e/etc/hosts".to_owned(),
        "/media/avatars/1/missing.png".to_owned(),
        "/media/".to_owned(),
    ] {
        let response = raw_get(&app, &target).await;
        assert!(response.starts_with("HTTP/1.1 404"), "{target}: {response}");
        assert!(!response.contains("root:"), "{target}");
    }
}

fn remote_actor(username: &str, domain: &str) -> RemoteActor {
    let uri = format!("https://{domain}/users/{username}");
    RemoteActor {
        accepts_chat_messages: false,
        uri: uri.clone(),
        username: username.to_owned(),
        domain: domain.to_owned(),
        url: None,
        actor_type: "Person".to_owned(),
        display_name: "Remote".to_owned(),
        note: String::new(),
        locked: false,
        bot: false,
        discoverable: true,
        avatar_url: None,
        header_url: None,
        inbox_url: format!("{uri}/inbox"),
        shared_inbox_url: None,
        outbox_url: None,
        followers_url: None,
        following_url: None,
        featured_url: None,
        also_known_as: Vec::new(),
        key_id: format!("{uri}#main-key"),
        public_key_pem: "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n".to_owned(),
        fields: Vec::new(),
        fetched_at: 1,
    }
}

#[tokio::test]
async fn lookup_by_every_acct_form() {
    let app = spawn_app().await;
    let alice = app.create_user("alice", PASSWORD).await;
    let remote = actors::upsert_remote(
        &app.db,
        app.ids.next_id(),
        &remote_actor("bob", "remote.example"),
    )
    .await
    .expect("remote account");
    let domain = app.address.to_string();
    for (acct, id) in [
        ("alice".to_owned(), alice),
        ("@ALICE".to_owned(), alice),
        (format!("alice@{domain}"), alice),
        (format!("@alice@{domain}"), alice),
        ("bob@remote.example".to_owned(), remote),
        ("@Bob@Remote.Example".to_owned(), remote),
    ] {
        let response = app
            .get_response(&format!(
                "/api/v1/accounts/lookup?acct={}",
                urlencode(&acct)
            ))
            .await;
        let body = json_of(response, StatusCode::OK).await;
        assert_eq!(body["id"], id.to_string(), "{acct}");
    }
    let body = json_of(
        app.get_response("/api/v1/accounts/lookup?acct=bob@remote.example")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["acct"], "bob@remote.example");
    assert_eq!(body["fields"], json!([]));

    for acct in [
        "nobody",
        "bob",
        "alice@elsewhere.example",
        "bob@other.example",
        "",
        "a@b@c",
    ] {
        let response = app
            .get_response(&format!("/api/v1/accounts/lookup?acct={}", urlencode(acct)))
            .await;
        let body = json_of(response, StatusCode::NOT_FOUND).await;
        assert_eq!(body["error"], "Record not found", "{acct}");
    }
    let missing = app.get_response("/api/v1/accounts/lookup").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn accounts_by_id_and_their_404s() {
    let app = spawn_app().await;
    let alice = app.create_user("alice", PASSWORD).await;
    let body = json_of(
        app.get_response(&format!("/api/v1/accounts/{alice}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["username"], "alice");
    for path in [
        "/api/v1/accounts/1",
        "/api/v1/accounts/not-a-number",
        "/api/v1/accounts/99999999999999999999",
    ] {
        let body = json_of(app.get_response(path).await, StatusCode::NOT_FOUND).await;
        assert_eq!(body["error"], "Record not found", "{path}");
    }
}

async fn relate(app: &TestApp, follower: i64, target: i64, accepted: bool) {
    let follow = NewFollow {
        id: app.ids.next_id().as_i64(),
        account_id: follower,
        target_account_id: target,
        uri: None,
        created_at: 1,
    };
    let mut tx = app.db.begin().await.expect("tx");
    let inserted = if accepted {
        follows::insert_follow(&mut tx, &follow).await
    } else {
        follows::insert_request(&mut tx, &follow).await
    };
    assert!(inserted.expect("insert"));
    tx.commit().await.expect("commit");
}

#[tokio::test]
async fn relationships_in_request_order_from_follows_and_requests() {
    let app = spawn_app().await;
    let (me, token) = signed_in(&app, "hana", "read").await;
    let mutual = app.create_user("ivan", PASSWORD).await;
    let pending = app.create_user("jo", PASSWORD).await;
    let stranger = app.create_user("kim", PASSWORD).await;
    relate(&app, me, mutual, true).await;
    relate(&app, mutual, me, true).await;
    relate(&app, me, pending, false).await;
    relate(&app, pending, me, false).await;

    let path = format!(
        "/api/v1/accounts/relationships?id[]={pending}&id[]={mutual}&id[]=12345&id[]={pending}&id[]={stranger}"
    );
    let body = json_of(get_with(&app, &path, &token).await, StatusCode::OK).await;
    let relationship =
        |id: i64, following: bool, followed_by: bool, requested: bool, requested_by: bool| {
            json!({
                "id": id.to_string(), "following": following,
                "showing_reblogs": following || requested, "notifying": false, "languages": null,
                "followed_by": followed_by, "blocking": false, "blocked_by": false, "muting": false,
                "muting_notifications": false, "requested": requested, "requested_by": requested_by,
                "domain_blocking": false, "endorsed": false, "note": "",
            })
        };
    assert_eq!(
        body,
        json!([
            relationship(pending, false, false, true, true),
            relationship(mutual, true, true, false, false),
            relationship(stranger, false, false, false, false),
        ])
    );

    let single = format!("/api/v1/accounts/relationships?id={mutual}");
    let body = json_of(get_with(&app, &single, &token).await, StatusCode::OK).await;
    assert_eq!(
        body,
        json!([relationship(mutual, true, true, false, false)])
    );
    let none = json_of(
        get_with(&app, "/api/v1/accounts/relationships", &token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(none, json!([]));
}
