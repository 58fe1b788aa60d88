//! Test support for federation: complete Perch instances started in one
//! process, each on 127.0.0.1 port 0 with its own database (SQLite, or
//! PostgreSQL when the test script provides one) and private addresses
//! allowed. They are perch_server's test servers (its `testing` feature)
//! with their default settings: the delivery and inbound workers are off,
//! and tests drain the queues explicitly with [`drain`], so what crossed the
//! wire, and what was applied, is known when an assertion runs.

pub use perch_server::testing::{
    PASSWORD, TestServer as Instance, deliver, drain, signed_delivery,
};

/// How the account behind `token` on `instance` relates to account `id`
/// there (Mastodon's Relationship entity).
pub async fn relationship(instance: &Instance, token: &str, id: &str) -> serde_json::Value {
    let (status, body) = instance
        .get(&format!("/api/v1/accounts/relationships?id[]={id}"), token)
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "relationships: {body}");
    body[0].clone()
}

/// `follower` (holding `token` on `on`) follows `acct` of another
/// instance, the queues are drained, and the follow stands: the followed
/// account's id on `on`. `instances` are every instance the Follow and
/// its Accept cross.
pub async fn follow_across(
    on: &Instance,
    token: &str,
    acct: &str,
    instances: &[&Instance],
) -> String {
    let id = on.resolve(token, acct).await;
    let (status, body) = on
        .post(&format!("/api/v1/accounts/{id}/follow"), token)
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "follow {acct}: {body}");
    drain(instances).await;
    assert_eq!(
        relationship(on, token, &id).await["following"],
        true,
        "{acct} is followed"
    );
    id
}

/// The `content` of each status of a timeline (or any list of statuses)
/// at `path`, as the holder of `token` reads it.
pub async fn texts(instance: &Instance, token: &str, path: &str) -> Vec<String> {
    let (_, list) = instance.get(path, token).await;
    list.as_array()
        .expect("a list")
        .iter()
        .map(|s| s["content"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A 2×2 PNG.
pub fn png_dot() -> Vec<u8> {
    let mut png = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image::RgbImage::new(2, 2))
        .write_to(&mut png, image::ImageFormat::Png)
        .expect("encodes");
    png.into_inner()
}

/// A 2×2 PNG uploaded by `token` on `instance`: its MediaAttachment.
pub async fn upload_dot(instance: &Instance, token: &str) -> serde_json::Value {
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(png_dot()).file_name("dot.png"),
        )
        .text("description", "two by two");
    instance
        .client
        .post(instance.url("/api/v2/media"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json")
}
