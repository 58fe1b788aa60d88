//! Custom emoji on one instance: `perch emoji add|list|remove` keeps the
//! server's own, `/api/v1/custom_emojis` lists them, statuses show those
//! their text uses in `emojis`, and their Note names them as `Emoji` tags.

use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::statuses::{call, post_status, user};
use crate::support::{TestApp, perch, run_with_stdin, spawn_app, stderr, stdout};

async fn emoji_cli(app: &TestApp, work: &Path, args: &[&str]) -> std::process::Output {
    let mut command = perch(work);
    command
        .arg("emoji")
        .args(args)
        .env("PERCH_DATABASE_URL", &app.database_url)
        .env("PERCH_DATA_DIR", app.data_dir())
        .env("PERCH_PUBLIC_URL", &app.base_url);
    tokio::task::spawn_blocking(move || run_with_stdin(command, ""))
        .await
        .expect("ran")
}

fn png() -> Vec<u8> {
    let mut png = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgba8(image::RgbaImage::new(4, 4))
        .write_to(&mut png, image::ImageFormat::Png)
        .expect("encodes");
    png.into_inner()
}

#[tokio::test]
async fn custom_emoji_are_added_listed_shown_in_statuses_and_removed() {
    let app = spawn_app().await;
    let work = tempfile::tempdir().expect("temporary dir");
    let picture = work.path().join("blobcat.png");
    std::fs::write(&picture, png()).expect("written");
    let not_an_image = work.path().join("notes.txt");
    std::fs::write(&not_an_image, "hello").expect("written");

    let added = emoji_cli(
        &app,
        work.path(),
        &[
            "add",
            "--shortcode",
            "blobcat",
            "--file",
            picture.to_str().expect("utf-8"),
            "--category",
            "cats",
        ],
    )
    .await;
    assert!(added.status.success(), "{}", stderr(&added));
    let bad = emoji_cli(
        &app,
        work.path(),
        &[
            "add",
            "--shortcode",
            "notes",
            "--file",
            not_an_image.to_str().expect("utf-8"),
        ],
    )
    .await;
    assert_eq!(bad.status.code(), Some(1));
    let bad_name = emoji_cli(
        &app,
        work.path(),
        &[
            "add",
            "--shortcode",
            ":x y:",
            "--file",
            picture.to_str().expect("utf-8"),
        ],
    )
    .await;
    assert_eq!(bad_name.status.code(), Some(1));
    let listed = emoji_cli(&app, work.path(), &["list"]).await;
    assert!(
        stdout(&listed).starts_with(":blobcat: "),
        "{}",
        stdout(&listed)
    );

    // Listed for clients, and its picture served.
    let (status, emojis, _) = call(&app, Method::GET, "/api/v1/custom_emojis", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(emojis.as_array().map(Vec::len), Some(1), "{emojis}");
    assert_eq!(emojis[0]["shortcode"], "blobcat");
    assert_eq!(emojis[0]["category"], "cats");
    let url = emojis[0]["url"].as_str().expect("url").to_owned();
    let served = app.client.get(&url).send().await.expect("sent");
    assert_eq!(served.status(), StatusCode::OK, "{url}");

    // A status that uses it shows it; one that does not, does not.
    let ann = user(&app, "ann").await;
    let with = post_status(
        &app,
        &ann.token,
        json!({"status": "hello :blobcat: and :unknown:"}),
    )
    .await;
    assert_eq!(with["emojis"].as_array().map(Vec::len), Some(1), "{with}");
    assert_eq!(with["emojis"][0]["shortcode"], "blobcat");
    assert_eq!(with["emojis"][0]["url"], url.as_str());
    let without = post_status(&app, &ann.token, json!({"status": "plain"})).await;
    assert_eq!(without["emojis"], json!([]));
    let note: Value = app
        .client
        .get(with["uri"].as_str().expect("uri"))
        .header("Accept", "application/activity+json")
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let tags = note["tag"].as_array().expect("tags");
    let emoji = tags
        .iter()
        .find(|t| t["type"] == "Emoji")
        .expect("an Emoji tag");
    assert_eq!(emoji["name"], ":blobcat:");
    assert_eq!(emoji["icon"]["url"], url.as_str());

    let removed = emoji_cli(&app, work.path(), &["remove", "--shortcode", "blobcat"]).await;
    assert!(removed.status.success(), "{}", stderr(&removed));
    let (_, emojis, _) = call(&app, Method::GET, "/api/v1/custom_emojis", None, None).await;
    assert_eq!(emojis, json!([]));
    let gone = app.client.get(&url).send().await.expect("sent");
    assert_eq!(
        gone.status(),
        StatusCode::NOT_FOUND,
        "its picture is removed"
    );
    let again = emoji_cli(&app, work.path(), &["remove", "--shortcode", "blobcat"]).await;
    assert_eq!(again.status.code(), Some(1));
}
