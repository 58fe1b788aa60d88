//! Media uploads through the API: the four image types, previews and
//! blurhashes, refusals (not an image, too large, too many pixels),
//! alt text and focus, ownership, scopes, and attachment to statuses.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, RgbImage};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::statuses::{post_status, user};
use crate::support::{TestApp, spawn_app};

pub(crate) fn picture(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 128])
    });
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(image)
        .write_to(&mut out, format)
        .expect("encodes");
    out.into_inner()
}

pub(crate) async fn upload(
    app: &TestApp,
    token: &str,
    bytes: Vec<u8>,
    name: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
    for (key, value) in extra {
        form = form.text(key.to_string(), value.to_string());
    }
    app.client
        .post(app.url("/api/v2/media"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("sent")
}

#[tokio::test]
async fn the_four_image_types_upload_with_previews_and_blurhashes() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    for (format, name, content_type) in [
        (ImageFormat::Jpeg, "a.jpg", "image/jpeg"),
        (ImageFormat::Png, "a.png", "image/png"),
        (ImageFormat::Gif, "a.gif", "image/gif"),
        (ImageFormat::WebP, "a.webp", "image/webp"),
    ] {
        let response = upload(
            &app,
            &ann.token,
            picture(800, 600, format),
            name,
            &[("description", "a gradient")],
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK, "{name}");
        let media: Value = response.json().await.expect("json");
        for field in [
            "id",
            "type",
            "url",
            "preview_url",
            "remote_url",
            "preview_remote_url",
            "text_url",
            "meta",
            "description",
            "blurhash",
        ] {
            assert!(media.get(field).is_some(), "{name}: missing {field}");
        }
        assert_eq!(media["type"], "image");
        assert_eq!(media["meta"]["original"]["width"], 800, "{name}: {media}");
        assert_eq!(media["meta"]["original"]["height"], 600);
        assert_eq!(media["meta"]["original"]["size"], "800x600");
        assert_eq!(media["meta"]["small"]["width"], 400);
        assert_eq!(media["meta"]["small"]["height"], 300);
        assert_eq!(media["description"], "a gradient");
        assert!(
            media["blurhash"].as_str().is_some_and(|b| b.len() >= 6),
            "{media}"
        );

        let original = app
            .client
            .get(media["url"].as_str().unwrap())
            .send()
            .await
            .expect("sent");
        assert_eq!(original.status(), StatusCode::OK);
        assert_eq!(original.headers()["content-type"], content_type, "{name}");
        let original = original.bytes().await.expect("bytes");
        let preview = app
            .client
            .get(media["preview_url"].as_str().unwrap())
            .send()
            .await
            .expect("sent");
        assert_eq!(preview.status(), StatusCode::OK);
        let preview = preview.bytes().await.expect("bytes");
        let small = image::load_from_memory(&preview).expect("a preview image");
        assert_eq!((small.width(), small.height()), (400, 300));
        let big = image::load_from_memory(&original).expect("the original");
        assert_eq!((big.width(), big.height()), (800, 600));
    }
}

#[tokio::test]
async fn uploads_that_are_not_images_too_large_or_too_many_pixels_are_refused() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let response = upload(
        &app,
        &ann.token,
        b"just some text, honestly".to_vec(),
        "x.png",
        &[],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.expect("json");
    assert!(
        body["error"].as_str().unwrap().contains("content type"),
        "{body}"
    );

    let mut huge = picture(8, 8, ImageFormat::Png);
    huge.resize(17 * 1024 * 1024, 0);
    let response = upload(&app, &ann.token, huge, "big.png", &[]).await;
    assert!(
        matches!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY | StatusCode::PAYLOAD_TOO_LARGE
        ),
        "{}",
        response.status()
    );

    // A tiny PNG whose header claims 100000×100000 pixels.
    let mut bomb = picture(8, 8, ImageFormat::Png);
    bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.to_be_bytes());
    let response = upload(&app, &ann.token, bomb, "bomb.png", &[]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.expect("json");
    assert!(body["error"].as_str().unwrap().contains("pixels"), "{body}");
}

/// CRC-32 (IEEE), for a PNG chunk.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
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

#[tokio::test]
async fn alt_text_focus_ownership_scopes_and_attachment() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    let response = upload(
        &app,
        &ann.token,
        picture(64, 48, ImageFormat::Png),
        "a.png",
        &[("focus", "0.5,-0.5")],
    )
    .await;
    let media: Value = response.json().await.expect("json");
    assert_eq!(media["meta"]["focus"], json!({"x": 0.5, "y": -0.5}));
    let id = media["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/media/{id}");

    let updated: Value = app
        .client
        .put(app.url(&path))
        .bearer_auth(&ann.token)
        .json(&json!({"description": "now described", "focus": "0,0"}))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(updated["description"], "now described");
    assert_eq!(updated["meta"]["focus"], json!({"x": 0.0, "y": 0.0}));
    let too_long = app
        .client
        .put(app.url(&path))
        .bearer_auth(&ann.token)
        .json(&json!({"description": "x".repeat(1501)}))
        .send()
        .await
        .expect("sent");
    assert_eq!(too_long.status(), StatusCode::UNPROCESSABLE_ENTITY);

    for request in [
        app.client.get(app.url(&path)),
        app.client
            .put(app.url(&path))
            .json(&json!({"description": "mine"})),
    ] {
        let response = request.bearer_auth(&ben.token).send().await.expect("sent");
        assert_eq!(
            response.status(),
            StatusCode::NOT_FOUND,
            "someone else's media"
        );
    }
    let client = crate::oauth::register_app(&app, "read write").await;
    let reader = crate::oauth::password_token(&app, &client, "ann", "read").await;
    let response = upload(
        &app,
        reader["access_token"].as_str().unwrap(),
        picture(8, 8, ImageFormat::Png),
        "a.png",
        &[],
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "uploading needs write:media"
    );

    // Attached to a status, it shows there; nobody else can attach it, and
    // it is no longer edited on its own.
    let posted = post_status(&app, &ann.token, json!({"status": "", "media_ids": [id]})).await;
    assert_eq!(posted["media_attachments"][0]["id"], id.as_str());
    assert_eq!(
        posted["media_attachments"][0]["description"],
        "now described"
    );
    let refused = app
        .client
        .post(app.url("/api/v1/statuses"))
        .bearer_auth(&ben.token)
        .json(&json!({"status": "stealing", "media_ids": [id]}))
        .send()
        .await
        .expect("sent");
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let reused = app
        .client
        .post(app.url("/api/v1/statuses"))
        .bearer_auth(&ann.token)
        .json(&json!({"status": "again", "media_ids": [id]}))
        .send()
        .await
        .expect("sent");
    assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let after = app
        .client
        .put(app.url(&path))
        .bearer_auth(&ann.token)
        .json(&json!({"description": "late"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(after.status(), StatusCode::NOT_FOUND);

    post_status(&app, &ann.token, json!({"status": "no pictures"})).await;
    let only_media: Value = app
        .client
        .get(app.url(&format!(
            "/api/v1/accounts/{}/statuses?only_media=true",
            ann.id
        )))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(only_media.as_array().map(Vec::len), Some(1), "{only_media}");
    assert_eq!(only_media[0]["id"], posted["id"]);
    let public: Value = app
        .get_response("/api/v1/timelines/public?only_media=true")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(public.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn parallel_uploads_decode_a_few_at_a_time() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let limit = app.image_decodes.limit();
    // Twice as many large uploads at once as there are permits, and more.
    let uploads = (limit * 2).max(8);
    let bytes = picture(1600, 1600, ImageFormat::Png);
    let responses = futures_util::future::join_all(
        (0..uploads).map(|_| upload(&app, &ann.token, bytes.clone(), "big.png", &[])),
    )
    .await;
    for response in responses {
        assert_eq!(response.status(), StatusCode::OK);
    }
    let peak = app.image_decodes.peak();
    assert!(
        (1..=limit).contains(&peak),
        "{peak} decodes ran at once; the limit is {limit}"
    );
}

#[tokio::test]
async fn an_unattached_upload_is_deleted_by_its_owner_with_its_files() {
    let app = spawn_app().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let uploaded: Value = upload(
        &app,
        &ann.token,
        picture(64, 48, ImageFormat::Png),
        "a.png",
        &[],
    )
    .await
    .json()
    .await
    .expect("json");
    let id = uploaded["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/media/{id}");

    let (status, body) = app
        .send(reqwest::Method::DELETE, &path, &ben.token, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not ben's: {body}");
    let (status, body) = app
        .send(reqwest::Method::DELETE, &path, &ann.token, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({}));
    assert_eq!(app.get(&path, &ann.token).await.0, StatusCode::NOT_FOUND);
    for file in ["url", "preview_url"] {
        let served = app
            .client
            .get(uploaded[file].as_str().expect("a URL"))
            .send()
            .await
            .expect("sent");
        assert_eq!(served.status(), StatusCode::NOT_FOUND, "{file} is gone");
    }
    let (status, _) = app
        .send(reqwest::Method::DELETE, &path, &ann.token, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Once a status uses it, it stays with the status.
    let used: Value = upload(
        &app,
        &ann.token,
        picture(64, 48, ImageFormat::Png),
        "b.png",
        &[],
    )
    .await
    .json()
    .await
    .expect("json");
    let posted = post_status(
        &app,
        &ann.token,
        json!({"status": "", "media_ids": [used["id"]]}),
    )
    .await;
    let path = format!("/api/v1/media/{}", used["id"].as_str().expect("id"));
    let (status, body) = app
        .send(reqwest::Method::DELETE, &path, &ann.token, None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"].is_string());
    let (_, status) = app
        .get(
            &format!("/api/v1/statuses/{}", posted["id"].as_str().expect("id")),
            &ann.token,
        )
        .await;
    assert_eq!(status["media_attachments"][0]["id"], used["id"]);
}
