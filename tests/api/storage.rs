//! Storage behaviour: migrations, and a bounded SQLite WAL.

use poem::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{ADMIN_KEY, TestApp};

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
