//! Media rows: attaching only one's own unattached uploads, loading a
//! status's attachments in order, and finding stale unattached uploads.

use perch_db::media::{self, MediaRow};
use perch_db::statuses::{self, NewStatus};
use perch_db::testing::TestDatabase;

use crate::accounts::create;

fn upload(id: i64, account_id: i64, created_at: i64) -> MediaRow {
    MediaRow {
        id,
        account_id,
        status_id: None,
        kind: "image".to_owned(),
        content_type: Some("image/png".to_owned()),
        url: format!("https://perch.example/media/attachments/{account_id}/{id}.png"),
        preview_url: None,
        remote_url: None,
        file_size: Some(10),
        width: Some(2),
        height: Some(2),
        preview_width: None,
        preview_height: None,
        blurhash: None,
        description: None,
        focus_x: None,
        focus_y: None,
        created_at,
        updated_at: created_at,
    }
}

#[tokio::test]
async fn attach_only_ones_own_unattached_uploads() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    let ann = create(&db, "ann", "ann@example.com").await;
    let ben = create(&db, "ben", "ben@example.com").await;
    for (id, owner) in [(1, ann.id), (2, ann.id), (3, ben.id), (4, ann.id)] {
        media::create(&db, &upload(id, owner, 1000))
            .await
            .expect("upload");
    }
    let status = NewStatus {
        id: 100,
        account_id: ann.id,
        uri: "https://perch.example/users/ann/statuses/100".to_owned(),
        url: None,
        content: "<p>pictures</p>".to_owned(),
        source_text: None,
        spoiler_text: String::new(),
        sensitive: false,
        visibility: 0,
        language: None,
        local: true,
        in_reply_to_id: None,
        in_reply_to_account_id: None,
        in_reply_to_uri: None,
        reblog_of_id: None,
        created_at: 2000,
    };
    let mut tx = db.begin().await.expect("tx");
    statuses::insert(&mut tx, &status, &[], &[])
        .await
        .expect("status");
    let refused = media::attach(&mut tx, ann.id, 100, &[2, 1, 3], None)
        .await
        .expect("attach");
    tx.commit().await.expect("commit");
    assert_eq!(refused, [3], "ben's upload is not ann's to attach");
    let attached: Vec<i64> = media::for_statuses(&db, &[100])
        .await
        .expect("load")
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(attached, [1, 2]);
    let mut tx = db.begin().await.expect("tx");
    assert_eq!(
        media::attach(&mut tx, ann.id, 100, &[1], None)
            .await
            .expect("attach"),
        [1],
        "once only"
    );
    drop(tx);

    let stale: Vec<i64> = media::unattached_before(&db, 5000)
        .await
        .expect("stale")
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(stale, [3, 4]);
    media::delete(&db, 4).await.expect("delete");
    assert!(media::find(&db, 4).await.expect("find").is_none());
    assert!(
        media::unattached_before(&db, 500)
            .await
            .expect("stale")
            .is_empty()
    );
}
