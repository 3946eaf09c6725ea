//! Storage behaviour: migrations, a bounded SQLite WAL, purging, and
//! last-access times written behind the read path.

use poem::http::{Method, StatusCode};
use serde_json::{Value, json};
use sessiond::clock::Clock;

use crate::helpers::{ADMIN_KEY, OAM_SEARCH, OAM_SESSION, TestApp};

#[tokio::test]
async fn migrations_are_idempotent() {
    let app = TestApp::spawn().await;
    let (id, _) = app.zitadel_create(ADMIN_KEY, json!({})).await;
    let again = sessiond::store::connect(&app.db.url, 1, app.db.schema.as_deref())
        .await
        .expect("re-running migrations is a no-op");
    let store = sessiond::store::Store::new(again);
    assert!(store.find_session(&id).await.unwrap().is_some());
}

/// The SQLite read pool opens new connections while another connection
/// holds the write lock, and every read still succeeds: opening a
/// connection must not need that lock.
#[tokio::test]
async fn sqlite_reads_open_connections_while_a_write_is_held() {
    use sea_orm::sqlx::Connection as _;
    let app = TestApp::spawn().await;
    if !app.db.url.starts_with("sqlite:") {
        return; // PostgreSQL run: no file lock to hold.
    }
    let (id, _) = app.zitadel_create(ADMIN_KEY, json!({})).await;
    let mut holder = sea_orm::sqlx::sqlite::SqliteConnection::connect(&app.db.url)
        .await
        .unwrap();
    sea_orm::sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .unwrap();
    sea_orm::sqlx::query("UPDATE sessions SET changed_at = changed_at + 1")
        .execute(&mut holder)
        .await
        .unwrap();
    // More reads at once than the pool has connections open, so it grows.
    let path = format!("/v2alpha/sessions/{id}");
    let reads = (0..12).map(|_| app.admin(Method::GET, &path, None));
    let replies = futures::future::join_all(reads).await;
    sea_orm::sqlx::query("ROLLBACK")
        .execute(&mut holder)
        .await
        .unwrap();
    for reply in replies {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["session"]["id"], id);
    }
}

#[tokio::test]
async fn sqlite_wal_stays_bounded_under_sustained_writes() {
    let app = TestApp::spawn().await;
    let Some(path) = app.db.url.strip_prefix("sqlite://") else {
        return; // PostgreSQL run: no WAL file to watch.
    };
    let db_file = path.split('?').next().unwrap().to_owned();
    let wal = format!("{db_file}-wal");
    let (id, mut token) = app
        .zitadel_create(ADMIN_KEY, json!({"metadata": {"k": "dg=="}}))
        .await;
    let mut largest = 0;
    for i in 0..1500u32 {
        if i % 2 == 0 {
            app.zitadel_create(ADMIN_KEY, json!({"metadata": {"n": "bnVtYmVy"}}))
                .await;
        } else {
            let value = {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.encode(i.to_be_bytes())
            };
            let r = app
                .admin(
                    Method::PATCH,
                    &format!("/v2alpha/sessions/{id}"),
                    Some(json!({"sessionToken": token, "metadata": {"k": value}})),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK);
            token = r.body["sessionToken"].as_str().unwrap().to_owned();
        }
        if i % 100 == 0 {
            largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
        }
    }
    largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
    // Auto-checkpoints every 1000 pages (~4 MiB); unbounded growth would be
    // about 8 KiB per write, i.e. over 11 MiB here.
    assert!(largest < 8 * 1024 * 1024, "WAL grew to {largest} bytes");
}

#[tokio::test]
async fn ended_sessions_are_purged_after_the_retention() {
    let app = TestApp::spawn_with(|c| c.zitadel_session_lifetime_minutes = 30).await;
    let (old, _) = app
        .zitadel_create(ADMIN_KEY, json!({"metadata": {"k": "dg=="}}))
        .await;
    let (expiring, _) = app.zitadel_create(ADMIN_KEY, json!({})).await;
    app.admin(Method::DELETE, &format!("/v2alpha/sessions/{old}"), None)
        .await;
    app.clock.advance(chrono::Duration::minutes(20));
    let (recent, _) = app.zitadel_create(ADMIN_KEY, json!({})).await;
    app.admin(Method::DELETE, &format!("/v2alpha/sessions/{recent}"), None)
        .await;
    app.clock.advance(chrono::Duration::minutes(15));
    let (live, _) = app.zitadel_create(ADMIN_KEY, json!({})).await;

    // Retention 10 minutes: `old` ended 35 min ago, `expiring` 5 min ago,
    // `recent` 15 min ago.
    let purged = app
        .services
        .sessions
        .purge_ended(chrono::Duration::minutes(10))
        .await
        .unwrap();
    assert_eq!(purged, 2);
    assert!(app.store.find_session(&old).await.unwrap().is_none());
    assert!(app.store.find_session(&recent).await.unwrap().is_none());
    assert!(app.store.find_session(&expiring).await.unwrap().is_some());
    assert!(app.store.find_session(&live).await.unwrap().is_some());
}

fn time(v: &Value) -> sessiond::domain::Timestamp {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a time"))
        .expect("RFC 3339")
        .with_timezone(&chrono::Utc)
}

/// Reads session `id` with its token: a use of the token.
async fn use_token(app: &TestApp, id: &str, token: &str) {
    let r = app.zitadel_get_with_token(id, token).await;
    assert_eq!(r.status, StatusCode::OK);
}

/// The stored last access of session `id`, read past the service.
async fn stored_last_access(app: &TestApp, id: &str) -> sessiond::domain::Timestamp {
    app.store
        .find_session(id)
        .await
        .unwrap()
        .expect("session is stored")
        .last_access_at
}

#[tokio::test]
async fn token_uses_are_written_in_the_next_flush_and_seen_at_once() {
    let app = TestApp::spawn_with(|c| c.oam_idle_timeout_minutes = 15).await;
    app.create_user("ute", "ute-pass-1").await;
    let (id, token) = app
        .zitadel_create(ADMIN_KEY, json!({"checks": {"user": {"loginName": "ute"}}}))
        .await;
    let created = stored_last_access(&app, &id).await;

    app.clock.advance(chrono::Duration::minutes(5));
    let used_at = app.clock.now();
    use_token(&app, &id, &token).await;

    // Not yet in the store, but every read through the service sees it.
    assert_eq!(stored_last_access(&app, &id).await, created);
    let oam = app
        .admin(Method::GET, &format!("{OAM_SESSION}/{id}"), None)
        .await;
    assert_eq!(oam.status, StatusCode::OK);
    assert_eq!(time(&oam.body["lastAccessTime"]), used_at);
    let found = app
        .admin(Method::POST, OAM_SEARCH, Some(json!({"sessionId": id})))
        .await;
    assert_eq!(found.status, StatusCode::OK);
    assert_eq!(
        time(&found.body["sessions"]["sessionData"][0]["lastAccessTime"]),
        used_at
    );

    // The flush writes it, once.
    assert_eq!(app.services.accesses.flush().await.unwrap(), 1);
    assert_eq!(stored_last_access(&app, &id).await, used_at);
    assert_eq!(app.services.accesses.flush().await.unwrap(), 0);
}

#[tokio::test]
async fn a_flush_never_moves_last_access_back_nor_touches_ended_sessions() {
    let app = TestApp::spawn().await;
    let (live, _) = app.zitadel_create(ADMIN_KEY, json!({})).await;
    let (ended, _) = app.zitadel_create(ADMIN_KEY, json!({})).await;
    let created = stored_last_access(&app, &live).await;
    let r = app
        .admin(Method::DELETE, &format!("/v2alpha/sessions/{ended}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);

    let accesses = &app.services.accesses;
    accesses.record(&live, created - chrono::Duration::minutes(1));
    accesses.record(&ended, created + chrono::Duration::minutes(1));
    accesses.record("no-such-session", created);
    assert_eq!(accesses.flush().await.unwrap(), 0);
    assert_eq!(stored_last_access(&app, &live).await, created);
    assert_eq!(stored_last_access(&app, &ended).await, created);

    // Of two accesses to one session, the later one is kept.
    let later = created + chrono::Duration::minutes(2);
    accesses.record(&live, later);
    accesses.record(&live, created + chrono::Duration::minutes(1));
    assert_eq!(accesses.flush().await.unwrap(), 1);
    assert_eq!(stored_last_access(&app, &live).await, later);
}

#[tokio::test]
async fn a_pending_token_use_keeps_a_session_from_going_idle() {
    let app = TestApp::spawn_with(|c| c.zitadel_idle_timeout_minutes = 10).await;
    let (id, token) = app.zitadel_create(ADMIN_KEY, json!({})).await;
    app.clock.advance(chrono::Duration::minutes(8));
    use_token(&app, &id, &token).await;
    // 16 minutes after creation, 8 after the (unflushed) token use.
    app.clock.advance(chrono::Duration::minutes(8));
    let r = app
        .admin(
            Method::PATCH,
            &format!("/v2alpha/sessions/{id}"),
            Some(json!({"sessionToken": token, "metadata": {"k": "dg=="}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}
