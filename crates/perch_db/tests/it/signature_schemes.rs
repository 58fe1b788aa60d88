use perch_db::signature_schemes;
use perch_db::testing::TestDatabase;

#[tokio::test]
async fn a_servers_scheme_is_remembered_and_replaced() {
    let database = TestDatabase::create().await;
    let db = database.connect().await;
    assert_eq!(
        signature_schemes::find(&db, "remote.example")
            .await
            .expect("find"),
        None
    );
    signature_schemes::remember(&db, "remote.example", "cavage", 1)
        .await
        .expect("remember");
    signature_schemes::remember(&db, "other.example:8443", "rfc9421", 1)
        .await
        .expect("remember");
    assert_eq!(
        signature_schemes::find(&db, "remote.example")
            .await
            .expect("find")
            .as_deref(),
        Some("cavage")
    );
    signature_schemes::remember(&db, "remote.example", "rfc9421", 2)
        .await
        .expect("replace");
    assert_eq!(
        signature_schemes::find(&db, "remote.example")
            .await
            .expect("find")
            .as_deref(),
        Some("rfc9421")
    );
    assert!(
        signature_schemes::remember(&db, "remote.example", "bogus", 3)
            .await
            .is_err(),
        "only the two schemes are stored"
    );
}
