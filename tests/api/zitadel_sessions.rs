//! ZITADEL dialect: tokens, metadata, get, search, delete, errors.

use std::collections::HashSet;

use poem::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{ADMIN_KEY, TestApp, zitadel_error};

async fn patch(app: &TestApp, key: &str, id: &str, body: Value) -> crate::helpers::Reply {
    app.call(
        Method::PATCH,
        &format!("/v2alpha/sessions/{id}"),
        Some(key),
        Some(body),
    )
    .await
}

#[tokio::test]
async fn create_returns_201_with_details() {
    let app = TestApp::spawn().await;
    let r = app
        .admin(Method::POST, "/v2alpha/sessions", Some(json!({})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let d = &r.body["details"];
    assert_eq!(d["sequence"], "1");
    assert!(d["changeDate"].as_str().unwrap().ends_with('Z'));
    assert!(!d["resourceOwner"].as_str().unwrap().is_empty());
    assert_eq!(r.body["sessionToken"].as_str().unwrap().len(), 43);
    let id = r.body["sessionId"].as_str().unwrap();
    assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()));
}

#[tokio::test]
async fn every_change_rotates_the_token() {
    let app = TestApp::spawn().await;
    let (id, t1) = app.zitadel_create(ADMIN_KEY, json!({})).await;
    let r = patch(
        &app,
        ADMIN_KEY,
        &id,
        json!({"sessionToken": t1, "metadata": {"k": "dg=="}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["details"]["sequence"], "2");
    let t2 = r.body["sessionToken"].as_str().unwrap().to_owned();
    assert_ne!(t1, t2);

    let stale = patch(
        &app,
        ADMIN_KEY,
        &id,
        json!({"sessionToken": t1, "metadata": {"k": "dw=="}}),
    )
    .await;
    assert_eq!(stale.status, StatusCode::FORBIDDEN);
    assert_eq!(
        stale.body,
        zitadel_error(7, "COMMAND-sGr42", "Session Token is invalid")
    );

    let old_get = app
        .admin(
            Method::GET,
            &format!("/v2alpha/sessions/{id}?sessionToken={t1}"),
            None,
        )
        .await;
    assert_eq!(old_get.status, StatusCode::FORBIDDEN);
    assert_eq!(old_get.body["code"], 7);
    let new_get = app
        .admin(
            Method::GET,
            &format!("/v2alpha/sessions/{id}?sessionToken={t2}"),
            None,
        )
        .await;
    assert_eq!(new_get.status, StatusCode::OK);
}

#[tokio::test]
async fn an_update_that_changes_nothing_keeps_token_and_sequence() {
    let app = TestApp::spawn().await;
    let (id, token) = app
        .zitadel_create(ADMIN_KEY, json!({"metadata": {"k": "dg=="}}))
        .await;
    let r = patch(
        &app,
        ADMIN_KEY,
        &id,
        json!({"sessionToken": token, "metadata": {"k": "dg==", "gone": ""}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["sessionToken"], token);
    assert_eq!(r.body["details"]["sequence"], "1");
    let r = patch(&app, ADMIN_KEY, &id, json!({"sessionToken": token})).await;
    assert_eq!(r.body["sessionToken"], token);
    assert_eq!(r.body["details"]["sequence"], "1");
}

#[tokio::test]
async fn concurrent_updates_with_one_token_let_exactly_one_win() {
    let app = TestApp::spawn().await;
    let (id, token) = app.zitadel_create(ADMIN_KEY, json!({})).await;
    let calls = (0..8).map(|i| {
        let body = json!({"sessionToken": token, "metadata": {"writer": base64(&format!("{i}"))}});
        let path = format!("/v2alpha/sessions/{id}");
        let app = &app;
        async move {
            app.call(Method::PATCH, &path, Some(ADMIN_KEY), Some(body))
                .await
        }
    });
    let replies = futures::future::join_all(calls).await;
    let ok: Vec<_> = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .collect();
    assert_eq!(
        ok.len(),
        1,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for r in replies.iter().filter(|r| r.status != StatusCode::OK) {
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(r.body["code"], 7);
    }
    let got = app
        .admin(Method::GET, &format!("/v2alpha/sessions/{id}"), None)
        .await;
    assert_eq!(got.body["session"]["sequence"], "2");
}

fn base64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[tokio::test]
async fn metadata_rules_on_create_and_update() {
    let app = TestApp::spawn().await;
    let raw: Vec<u8> = (0u8..=255).collect();
    let encoded = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&raw)
    };
    let (id, token) = app
        .zitadel_create(
            ADMIN_KEY,
            json!({"metadata": {"bin": encoded, "empty": "", "keep": "a2VlcA==", "drop": "ZHJvcA=="}}),
        )
        .await;
    let r = app
        .admin(Method::GET, &format!("/v2alpha/sessions/{id}"), None)
        .await;
    assert_eq!(
        r.body["session"]["metadata"],
        json!({"bin": encoded, "keep": "a2VlcA==", "drop": "ZHJvcA=="})
    );

    let r = patch(
        &app,
        ADMIN_KEY,
        &id,
        json!({"sessionToken": token, "metadata": {"drop": "", "new": "bmV3", "keep": "a2VwdA"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .admin(Method::GET, &format!("/v2alpha/sessions/{id}"), None)
        .await;
    assert_eq!(
        r.body["session"]["metadata"],
        json!({"bin": encoded, "keep": "a2VwdA==", "new": "bmV3"})
    );
}

#[tokio::test]
async fn invalid_base64_metadata_is_rejected() {
    let app = TestApp::spawn().await;
    let r = app
        .admin(
            Method::POST,
            "/v2alpha/sessions",
            Some(json!({"metadata": {"k": "***"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        json!({"code": 3, "message": "invalid request body: body.metadata.k: expected base64"})
    );
}

#[tokio::test]
async fn get_is_allowed_by_token_creator_or_session_read() {
    let app = TestApp::spawn().await;
    let writer = app.create_key(&["session.write"]).await;
    let other = app.create_key(&["session.write"]).await;
    let reader = app.create_key(&["session.read"]).await;
    let (id, token) = app.zitadel_create(&writer, json!({})).await;
    let path = format!("/v2alpha/sessions/{id}");

    assert_eq!(
        app.call(Method::GET, &path, Some(&writer), None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.call(Method::GET, &path, Some(&reader), None)
            .await
            .status,
        StatusCode::OK
    );
    let denied = app.call(Method::GET, &path, Some(&other), None).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(
        denied.body,
        zitadel_error(7, "AUTHZ-HKJD33", "No matching permissions found")
    );
    let with_token = app
        .call(
            Method::GET,
            &format!("{path}?sessionToken={token}"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(with_token.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_session_is_not_found() {
    let app = TestApp::spawn().await;
    let r = app
        .admin(Method::GET, "/v2alpha/sessions/does-not-exist", None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.body,
        zitadel_error(5, "QUERY-SFeaa", "Session does not exist")
    );
}

#[tokio::test]
async fn delete_then_gone_everywhere_and_idempotent() {
    let app = TestApp::spawn().await;
    let (id, token) = app
        .zitadel_create(ADMIN_KEY, json!({"metadata": {"k": "dg=="}}))
        .await;
    let path = format!("/v2alpha/sessions/{id}");

    let wrong = app
        .admin(
            Method::DELETE,
            &path,
            Some(json!({"sessionToken": "not-the-token"})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert_eq!(
        wrong.body,
        zitadel_error(7, "COMMAND-sGr42", "Session Token is invalid")
    );

    let r = app
        .admin(Method::DELETE, &path, Some(json!({"sessionToken": token})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["details"]["sequence"], "2");

    let again = app.admin(Method::DELETE, &path, None).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);

    let get = app.admin(Method::GET, &path, None).await;
    assert_eq!(get.status, StatusCode::NOT_FOUND);
    assert_eq!(
        get.body,
        zitadel_error(5, "QUERY-SFeaa", "Session does not exist")
    );

    let update = patch(&app, ADMIN_KEY, &id, json!({"sessionToken": token})).await;
    assert_eq!(update.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        update.body,
        zitadel_error(9, "COMAND-SAjeh", "Session already terminated")
    );

    let search = app
        .admin(
            Method::POST,
            "/v2alpha/sessions/search",
            Some(json!({"queries": [{"idsQuery": {"ids": [id]}}]})),
        )
        .await;
    assert!(search.body.get("sessions").is_none(), "{}", search.body);
}

#[tokio::test]
async fn delete_without_token_needs_session_delete() {
    let app = TestApp::spawn().await;
    let writer = app.create_key(&["session.write"]).await;
    let (id, _) = app.zitadel_create(&writer, json!({})).await;
    let r = app
        .call(
            Method::DELETE,
            &format!("/v2alpha/sessions/{id}"),
            Some(&writer),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["code"], 7);
    let still = app
        .admin(Method::GET, &format!("/v2alpha/sessions/{id}"), None)
        .await;
    assert_eq!(still.status, StatusCode::OK);
}

#[tokio::test]
async fn search_orders_pages_and_counts() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let (id, _) = app.zitadel_create(ADMIN_KEY, json!({})).await;
        ids.push(id);
        app.clock.advance(chrono::Duration::milliseconds(10));
    }
    let r = app
        .admin(Method::POST, "/v2alpha/sessions/search", Some(json!({})))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["details"]["totalResult"], "5");
    let got: Vec<&str> = r.body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    let mut newest_first: Vec<&str> = ids.iter().map(String::as_str).collect();
    newest_first.reverse();
    assert_eq!(got, newest_first);

    let r = app
        .admin(
            Method::POST,
            "/v2alpha/sessions/_search",
            Some(json!({"query": {"offset": "1", "limit": 2, "asc": true}})),
        )
        .await;
    assert_eq!(r.body["details"]["totalResult"], "5");
    let got: Vec<&str> = r.body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, vec![ids[1].as_str(), ids[2].as_str()]);

    let r = app
        .admin(
            Method::POST,
            "/v2alpha/sessions/search",
            Some(json!({"queries": [{"idsQuery": {"ids": [ids[0], ids[3], "unknown"]}}]})),
        )
        .await;
    let got: HashSet<&str> = r.body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, HashSet::from([ids[0].as_str(), ids[3].as_str()]));
    assert_eq!(r.body["details"]["totalResult"], "2");
}

#[tokio::test]
async fn search_shows_a_key_only_its_own_sessions_without_session_read() {
    let app = TestApp::spawn().await;
    let a = app.create_key(&["session.write"]).await;
    let b = app.create_key(&["session.write"]).await;
    let (mine, _) = app.zitadel_create(&a, json!({})).await;
    app.zitadel_create(&b, json!({})).await;
    let r = app
        .call(
            Method::POST,
            "/v2alpha/sessions/search",
            Some(&a),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.body["details"]["totalResult"], "1");
    assert_eq!(r.body["sessions"][0]["id"], mine);
    let all = app
        .admin(Method::POST, "/v2alpha/sessions/search", Some(json!({})))
        .await;
    assert_eq!(all.body["details"]["totalResult"], "2");
}

#[tokio::test]
async fn search_rejects_invalid_queries_and_large_limits() {
    let app = TestApp::spawn_with(|c| c.search_max_limit = 50).await;
    let r = app
        .admin(
            Method::POST,
            "/v2alpha/sessions/search",
            Some(json!({"queries": [{}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        json!({"code": 3, "message": "invalid request body: body.queries[0].idsQuery: is required"})
    );
    let r = app
        .admin(
            Method::POST,
            "/v2alpha/sessions/search",
            Some(json!({"query": {"limit": 51}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        zitadel_error(3, "QUERY-4M0fs", "Limit exceeds the maximum")
    );
}

#[tokio::test]
async fn auth_errors_use_the_zitadel_shape() {
    let app = TestApp::spawn().await;
    let r = app
        .call(Method::POST, "/v2alpha/sessions", None, Some(json!({})))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.body,
        json!({"code": 16, "message": "auth header missing"})
    );
    let r = app
        .call(
            Method::POST,
            "/v2alpha/sessions",
            Some("wrong"),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body, zitadel_error(16, "AUTH-7fs1e", "Token is invalid"));
    let reader = app.create_key(&["session.read"]).await;
    let r = app
        .call(
            Method::POST,
            "/v2alpha/sessions",
            Some(&reader),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.body,
        zitadel_error(7, "AUTHZ-HKJD33", "No matching permissions found")
    );
}

#[tokio::test]
async fn malformed_and_oversized_bodies_use_the_zitadel_shape() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .post("/v2alpha/sessions")
        .header("authorization", format!("Bearer {ADMIN_KEY}"))
        .content_type("application/json")
        .body("{not json")
        .send()
        .await;
    r.assert_status(StatusCode::BAD_REQUEST);
    let body: Value = serde_json::from_slice(&r.0.into_body().into_bytes().await.unwrap()).unwrap();
    assert_eq!(body["code"], 3);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("parse request payload error")
    );

    let big = json!({"metadata": {"k": "A".repeat(1100 * 1024)}});
    let r = app
        .admin(Method::POST, "/v2alpha/sessions", Some(big))
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        r.body,
        json!({"code": 8, "message": "request body exceeds 1048576 bytes"})
    );

    let r = app
        .admin(
            Method::POST,
            "/v2alpha/sessions",
            Some(json!({"checks": {"password": {"password": ""}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["code"], 3);

    let r = app.admin(Method::GET, "/v2alpha/nothing-here", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body, json!({"code": 5, "message": "Not Found"}));
}

#[tokio::test]
async fn unknown_fields_are_ignored() {
    let app = TestApp::spawn().await;
    let r = app
        .admin(
            Method::POST,
            "/v2alpha/sessions",
            Some(json!({"surprise": 1, "checks": {"other": true}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

#[tokio::test]
async fn expired_sessions_cannot_be_updated() {
    let app = TestApp::spawn_with(|c| c.zitadel_session_lifetime_minutes = 5).await;
    let (id, token) = app.zitadel_create(ADMIN_KEY, json!({})).await;
    app.clock.advance(chrono::Duration::minutes(6));
    let r = patch(
        &app,
        ADMIN_KEY,
        &id,
        json!({"sessionToken": token, "metadata": {"k": "dg=="}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        zitadel_error(9, "COMMAND-Hkl3d", "Session has expired")
    );
}

#[tokio::test]
async fn a_wrong_method_is_405_with_allow() {
    let app = TestApp::spawn().await;
    let r = app
        .admin(Method::PUT, "/v2alpha/sessions/some-id", None)
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.body, json!({"code": 12, "message": "Method Not Allowed"}));
    assert_eq!(r.headers.get("allow").unwrap(), "GET, PATCH, DELETE");
    let r = app
        .admin(Method::GET, "/v2alpha/sessions/search", None)
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers.get("allow").unwrap(), "POST");
}

#[tokio::test]
async fn a_bad_key_is_401_even_with_a_bad_body() {
    let app = TestApp::spawn().await;
    let r = app
        .call(
            Method::POST,
            "/v2alpha/sessions",
            Some("wrong"),
            Some(json!({"checks": 5})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body, zitadel_error(16, "AUTH-7fs1e", "Token is invalid"));
    let r = app
        .call(
            Method::POST,
            "/v2alpha/sessions",
            Some(ADMIN_KEY),
            Some(json!({"checks": 5})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        json!({"code": 3, "message": "invalid request body: body.checks: expected an object"})
    );
}

#[tokio::test]
async fn idle_sessions_are_expired_for_updates() {
    let app = TestApp::spawn_with(|c| c.zitadel_idle_timeout_minutes = 10).await;
    let (id, token) = app.zitadel_create(ADMIN_KEY, json!({})).await;
    app.clock.advance(chrono::Duration::minutes(9));
    let r = patch(
        &app,
        ADMIN_KEY,
        &id,
        json!({"sessionToken": token, "metadata": {"k": "dg=="}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "used within its idle timeout");
    let token = r.body["sessionToken"].as_str().unwrap().to_owned();
    app.clock.advance(chrono::Duration::minutes(11));
    let r = patch(
        &app,
        ADMIN_KEY,
        &id,
        json!({"sessionToken": token, "metadata": {"k": "dw=="}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        zitadel_error(9, "COMMAND-Hkl3d", "Session has expired")
    );
    // ZITADEL still returns expired sessions on read.
    let r = app
        .admin(Method::GET, &format!("/v2alpha/sessions/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn the_largest_valid_body_is_accepted_whole() {
    use base64::Engine;
    let app = TestApp::spawn().await;
    // 100 keys of 200 characters, each written as a JSON escape, each with
    // a 4096-byte value: the documents allow it, so the body limit must.
    let value = base64::engine::general_purpose::STANDARD.encode(vec![0xA5u8; 4096]);
    let metadata: serde_json::Map<String, Value> = (0..100)
        .map(|i| (format!("{i:03}{}", "\u{e9}".repeat(197)), json!(value)))
        .collect();
    let body = serde_json::to_string(&json!({"metadata": metadata}))
        .unwrap()
        .replace('\u{e9}', "\\u00e9");
    assert!(body.len() > 64 * 1024 && body.len() <= sessiond::api::body_limit::MAX_BODY_BYTES);
    let r = app
        .client
        .post("/v2alpha/sessions")
        .header("authorization", format!("Bearer {ADMIN_KEY}"))
        .content_type("application/json")
        .body(body)
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    let created: Value =
        serde_json::from_slice(&r.0.into_body().into_bytes().await.unwrap()).unwrap();
    let id = created["sessionId"].as_str().unwrap();
    let got = app
        .admin(Method::GET, &format!("/v2alpha/sessions/{id}"), None)
        .await;
    assert_eq!(got.status, StatusCode::OK);
    let stored = got.body["session"]["metadata"].as_object().unwrap();
    assert_eq!(stored.len(), 100);
    assert!(stored.values().all(|v| v == &json!(value)));
}
