//! One model, two dialects: what one API writes, the other reads.

use poem::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{ADMIN_KEY, OAM_SEARCH, OAM_SESSION, TestApp, zitadel_error};

#[tokio::test]
async fn oam_attributes_read_back_as_zitadel_metadata() {
    let app = TestApp::spawn().await;
    let user_id = app.create_user("kim", "kim-pass-1").await;
    let body = app
        .oam_create(json!({"userId": "kim", "userAttributes": {
            "mail": {"attrName": "mail", "attrValue": "kim@example.com"},
            "blob": {"attrValue": "AAH/", "attrEncoding": "base64"}
        }}))
        .await;
    let id = body["sessionId"].as_str().unwrap();
    let r = app
        .admin(Method::GET, &format!("/v2alpha/sessions/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let s = &r.body["session"];
    assert_eq!(
        s["metadata"],
        json!({"mail": "a2ltQGV4YW1wbGUuY29t", "blob": "AAH/"})
    );
    assert_eq!(s["factors"]["user"]["id"], user_id);
    assert_eq!(s["factors"]["user"]["loginName"], "kim");
    assert_eq!(s["factors"]["user"]["verifiedAt"], body["createTime"]);
    assert_eq!(s["creationDate"], body["createTime"]);
    assert!(s["factors"].get("password").is_none());
}

#[tokio::test]
async fn zitadel_metadata_reads_back_through_oam_without_loss() {
    let app = TestApp::spawn().await;
    app.create_user("lou", "lou-pass-1").await;
    let (id, _) = app
        .zitadel_create(
            ADMIN_KEY,
            json!({"checks": {"user": {"loginName": "lou"}}, "metadata": {"text": "aMOpbGxv", "binary": "/wCA"}}),
        )
        .await;
    let r = app
        .admin(Method::GET, &format!("{OAM_SESSION}/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["userId"], "lou");
    assert_eq!(
        r.body["userAttributes"],
        json!({
            "text": {"attrName": "text", "attrValue": "héllo"},
            "binary": {"attrName": "binary", "attrValue": "/wCA", "attrEncoding": "base64"}
        })
    );
    // What OAM shows can be written back through OAM to the same bytes.
    let again = app
        .oam_create(json!({"userId": "lou", "userAttributes": r.body["userAttributes"].clone()}))
        .await;
    let z = app
        .admin(
            Method::GET,
            &format!("/v2alpha/sessions/{}", again["sessionId"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(
        z.body["session"]["metadata"],
        json!({"text": "aMOpbGxv", "binary": "/wCA"})
    );
}

#[tokio::test]
async fn deleted_in_one_dialect_is_gone_from_the_other() {
    let app = TestApp::spawn().await;
    app.create_user("max", "max-pass-1").await;
    let (zid, _) = app
        .zitadel_create(ADMIN_KEY, json!({"checks": {"user": {"loginName": "max"}}}))
        .await;
    let r = app
        .admin(Method::DELETE, &format!("/v2alpha/sessions/{zid}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .admin(Method::GET, &format!("{OAM_SESSION}/{zid}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let oid = app.oam_create(json!({"userId": "max"})).await["sessionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .admin(
            Method::DELETE,
            &format!("{OAM_SESSION}?sessionId={oid}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .admin(Method::GET, &format!("/v2alpha/sessions/{oid}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.body,
        zitadel_error(5, "QUERY-SFeaa", "Session does not exist")
    );
}

#[tokio::test]
async fn oam_search_finds_zitadel_sessions_of_the_same_user() {
    let app = TestApp::spawn().await;
    app.create_user("Nora", "nora-pass-1").await;
    let (zid, _) = app
        .zitadel_create(ADMIN_KEY, json!({"checks": {"user": {"loginName": "nora"}, "password": {"password": "nora-pass-1"}}}))
        .await;
    let oid = app.oam_create(json!({"userId": "NORA"})).await["sessionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .admin(Method::POST, OAM_SEARCH, Some(json!({"userId": "nora"})))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["totalRecords"], 2);
    let ids: Vec<&str> = r.body["sessions"]["sessionData"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sessionId"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&zid.as_str()) && ids.contains(&oid.as_str()));
    assert!(
        r.body["sessions"]["sessionData"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["userId"] == "Nora")
    );
}

#[tokio::test]
async fn evict_oldest_applies_across_dialects() {
    let app = TestApp::spawn_with(|c| {
        c.max_sessions_per_user = 2;
        c.session_limit_policy = sessiond::config::SessionLimitPolicy::EvictOldest;
    })
    .await;
    app.create_user("olaf", "olaf-pass-1").await;
    let first = app.oam_create(json!({"userId": "olaf"})).await["sessionId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock.advance(chrono::Duration::seconds(1));
    let (second, _) = app
        .zitadel_create(
            ADMIN_KEY,
            json!({"checks": {"user": {"loginName": "olaf"}}}),
        )
        .await;
    app.clock.advance(chrono::Duration::seconds(1));
    let (third, _) = app
        .zitadel_create(
            ADMIN_KEY,
            json!({"checks": {"user": {"loginName": "olaf"}}}),
        )
        .await;
    assert_eq!(
        app.admin(Method::GET, &format!("/v2alpha/sessions/{first}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.admin(Method::GET, &format!("{OAM_SESSION}/{second}"), None)
            .await
            .status,
        StatusCode::OK
    );
    app.clock.advance(chrono::Duration::seconds(1));
    app.oam_create(json!({"userId": "olaf"})).await;
    assert_eq!(
        app.admin(Method::GET, &format!("{OAM_SESSION}/{second}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.admin(Method::GET, &format!("{OAM_SESSION}/{third}"), None)
            .await
            .status,
        StatusCode::OK
    );
    let r = app
        .admin(Method::POST, OAM_SEARCH, Some(json!({"userId": "olaf"})))
        .await;
    assert_eq!(r.body["totalRecords"], 2);
}

#[tokio::test]
async fn deny_applies_across_dialects() {
    let app = TestApp::spawn_with(|c| {
        c.max_sessions_per_user = 1;
        c.session_limit_policy = sessiond::config::SessionLimitPolicy::Deny;
    })
    .await;
    app.create_user("pia", "pia-pass-1").await;
    app.oam_create(json!({"userId": "pia"})).await;
    let r = app
        .admin(
            Method::POST,
            "/v2alpha/sessions",
            Some(json!({"checks": {"user": {"loginName": "pia"}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        zitadel_error(
            9,
            "SESSION-Lm8x4",
            "Maximum number of sessions for the user reached"
        )
    );
    let r = app
        .admin(Method::POST, OAM_SESSION, Some(json!({"userId": "pia"})))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        json!({"code": "SESSION_LIMIT_REACHED", "message": "the user already has the maximum number of sessions"})
    );
    // Sessions without a user do not count.
    let r = app
        .admin(Method::POST, "/v2alpha/sessions", Some(json!({})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
}

#[tokio::test]
async fn token_use_and_updates_move_last_access_and_idle_oam_sessions_expire_for_zitadel() {
    let app = TestApp::spawn_with(|c| c.oam_idle_timeout_minutes = 15).await;
    app.create_user("quin", "quin-pass-1").await;
    let (zid, token) = app
        .zitadel_create(
            ADMIN_KEY,
            json!({"checks": {"user": {"loginName": "quin"}}}),
        )
        .await;
    let before = app
        .admin(Method::GET, &format!("{OAM_SESSION}/{zid}"), None)
        .await
        .body["lastAccessTime"]
        .clone();
    app.clock.advance(chrono::Duration::minutes(3));
    let r = app.zitadel_get_with_token(&zid, &token).await;
    assert_eq!(r.status, StatusCode::OK);
    let after = app
        .admin(Method::GET, &format!("{OAM_SESSION}/{zid}"), None)
        .await
        .body["lastAccessTime"]
        .clone();
    assert_ne!(before, after, "presenting the token moves lastAccessTime");
    app.clock.advance(chrono::Duration::minutes(3));
    let r = app
        .admin(
            Method::PATCH,
            &format!("/v2alpha/sessions/{zid}"),
            Some(json!({"sessionToken": token, "metadata": {"a": "Yg=="}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let updated = app
        .admin(Method::GET, &format!("{OAM_SESSION}/{zid}"), None)
        .await
        .body;
    assert_ne!(
        updated["lastAccessTime"], after,
        "an update moves lastAccessTime"
    );
    assert_eq!(updated["lastAccessTime"], updated["updateTime"]);

    // A session created through OAM carries OAM's idle timeout; idle, it is
    // expired for ZITADEL updates.
    let oid = app.oam_create(json!({"userId": "quin"})).await["sessionId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock.advance(chrono::Duration::minutes(16));
    let r = app
        .admin(Method::GET, &format!("{OAM_SESSION}/{oid}"), None)
        .await;
    assert_eq!(r.status, StatusCode::REQUEST_TIMEOUT);
    // ZITADEL-created sessions have no idle timeout by default.
    let r = app
        .admin(Method::GET, &format!("{OAM_SESSION}/{zid}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
}
