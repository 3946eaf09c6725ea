//! OAM dialect: create, get, delete, search, auth and errors.

use poem::http::{Method, StatusCode};
use serde_json::{Value, json};
use sessiond::clock::Clock;

use crate::helpers::{ADMIN_KEY, OAM_SEARCH, OAM_SESSION, TestApp};

fn oam_error(code: &str, message: &str) -> Value {
    json!({"code": code, "message": message})
}

fn time(v: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a time"))
        .expect("RFC 3339")
        .with_timezone(&chrono::Utc)
}

#[tokio::test]
async fn create_fills_in_server_fields_and_echoes_the_rest() {
    let app = TestApp::spawn().await;
    app.create_user("alice", "alice-pass-1").await;
    let named = app
        .oam_create(json!({"userId": "alice", "userAttributes": {"a": {"attrName": "other", "attrValue": "x"}}}))
        .await;
    assert_eq!(
        named["userAttributes"],
        json!({"a": {"attrName": "a", "attrValue": "x"}}),
        "the key names the attribute"
    );
    let body = app
        .oam_create(json!({
            "userId": "alice",
            "clientIp": "192.0.2.10",
            "isImpersonating": true,
            "sessionId": "client-chosen",
            "userAttributes": {"mail": {"attrName": "mail", "attrValue": "alice@example.com"}}
        }))
        .await;
    assert_eq!(body["userId"], "alice");
    assert_eq!(body["clientIp"], "192.0.2.10");
    assert_eq!(body["isImpersonating"], true);
    assert_eq!(body["idStoreName"], "UserIdentityStore");
    assert_eq!(
        body["userAttributes"],
        json!({"mail": {"attrName": "mail", "attrValue": "alice@example.com"}})
    );
    let id = body["sessionId"].as_str().unwrap();
    assert_ne!(id, "client-chosen");
    assert_ne!(body["sessionIndex"], body["sessionId"]);
    assert!(body["sessionIndex"].as_str().unwrap().len() >= 20);
    let created = time(&body["createTime"]);
    assert_eq!(time(&body["updateTime"]), created);
    assert_eq!(time(&body["lastAccessTime"]), created);
    assert_eq!(
        time(&body["expiryTime"]),
        created + chrono::Duration::minutes(1440)
    );

    let got = app
        .admin(Method::GET, &format!("{OAM_SESSION}/{id}"), None)
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, body);
}

#[tokio::test]
async fn create_validates_its_input() {
    let app = TestApp::spawn().await;
    app.create_user("bob", "bob-pass-1").await;
    let r = app
        .admin(
            Method::POST,
            OAM_SESSION,
            Some(json!({"clientIp": "1.2.3.4"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        oam_error(
            "INVALID_REQUEST",
            "invalid request body: body.userId: is required"
        )
    );
    let r = app
        .admin(Method::POST, OAM_SESSION, Some(json!({"userId": ""})))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        oam_error("INVALID_REQUEST", "userId must not be empty")
    );
    let r = app
        .admin(Method::POST, OAM_SESSION, Some(json!({"userId": 7})))
        .await;
    assert_eq!(
        r.body,
        oam_error(
            "INVALID_REQUEST",
            "invalid request body: body.userId: expected a string"
        )
    );
    let r = app
        .client
        .post(OAM_SESSION)
        .header("authorization", format!("Bearer {ADMIN_KEY}"))
        .content_type("application/json")
        .body("{\"userId\":")
        .send()
        .await;
    r.assert_status(StatusCode::BAD_REQUEST);
    let body: Value = serde_json::from_slice(&r.0.into_body().into_bytes().await.unwrap()).unwrap();
    assert_eq!(body["code"], "INVALID_REQUEST");

    let r = app
        .admin(Method::POST, OAM_SESSION, Some(json!({"userId": "nobody"})))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        oam_error(
            "UNKNOWN_USER",
            "userId is not a login name in the directory"
        )
    );
    let r = app
        .admin(
            Method::POST,
            OAM_SESSION,
            Some(json!({"userId": "bob", "idStoreName": "OtherStore"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        oam_error(
            "UNKNOWN_ID_STORE",
            "idStoreName does not name this deployment's identity store"
        )
    );
    let r = app
        .admin(Method::POST, OAM_SESSION, Some(json!({"userId": "bob", "userAttributes": {"a": {"attrValue": "%%%", "attrEncoding": "base64"}}})))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        oam_error(
            "INVALID_REQUEST",
            "userAttributes[\"a\"].attrValue is not valid base64"
        )
    );

    let search = app
        .admin(Method::POST, OAM_SEARCH, Some(json!({"userId": "bob"})))
        .await;
    assert_eq!(
        search.status,
        StatusCode::NOT_FOUND,
        "nothing was half-written"
    );
}

#[tokio::test]
async fn a_later_expiry_from_the_client_wins_and_an_earlier_one_is_ignored() {
    let app = TestApp::spawn().await;
    app.create_user("cara", "cara-pass-1").await;
    let later = app.clock.now() + chrono::Duration::days(3);
    let body = app
        .oam_create(json!({"userId": "cara", "expiryTime": later.to_rfc3339()}))
        .await;
    assert_eq!(time(&body["expiryTime"]), later);
    let earlier = app.clock.now() - chrono::Duration::minutes(1);
    let body = app
        .oam_create(json!({"userId": "cara", "expiryTime": earlier.to_rfc3339()}))
        .await;
    assert_eq!(
        time(&body["expiryTime"]),
        time(&body["createTime"]) + chrono::Duration::minutes(1440)
    );
}

#[tokio::test]
async fn get_reports_unknown_expired_and_idle_sessions() {
    let app = TestApp::spawn_with(|c| {
        c.oam_idle_timeout_minutes = 15;
        c.oam_session_lifetime_minutes = 60;
    })
    .await;
    app.create_user("dora", "dora-pass-1").await;
    let r = app
        .admin(
            Method::GET,
            &format!("{OAM_SESSION}/3b844e4d%7CU90idWYSK4h%2BJuHB%3D"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body, oam_error("NOT_FOUND", "session not found"));

    let id = app.oam_create(json!({"userId": "dora"})).await["sessionId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock.advance(chrono::Duration::minutes(16));
    let r = app
        .admin(Method::GET, &format!("{OAM_SESSION}/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::REQUEST_TIMEOUT);
    assert_eq!(
        r.body,
        oam_error("SESSION_TIMED_OUT", "session has timed out")
    );
    // Idle sessions are kept: search still lists them.
    let s = app
        .admin(Method::POST, OAM_SEARCH, Some(json!({"userId": "dora"})))
        .await;
    assert_eq!(s.status, StatusCode::OK);

    app.clock.advance(chrono::Duration::minutes(45));
    let r = app
        .admin(Method::GET, &format!("{OAM_SESSION}/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let s = app
        .admin(Method::POST, OAM_SEARCH, Some(json!({"userId": "dora"})))
        .await;
    assert_eq!(
        s.status,
        StatusCode::NOT_FOUND,
        "expired sessions are not listed"
    );
}

#[tokio::test]
async fn an_admin_read_does_not_move_last_access() {
    let app = TestApp::spawn().await;
    app.create_user("emil", "emil-pass-1").await;
    let body = app.oam_create(json!({"userId": "emil"})).await;
    let id = body["sessionId"].as_str().unwrap();
    app.clock.advance(chrono::Duration::minutes(5));
    let r = app
        .admin(Method::GET, &format!("{OAM_SESSION}/{id}"), None)
        .await;
    assert_eq!(r.body["lastAccessTime"], body["lastAccessTime"]);
    let r = app
        .admin(Method::GET, &format!("/v2alpha/sessions/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .admin(Method::GET, &format!("{OAM_SESSION}/{id}"), None)
        .await;
    assert_eq!(
        r.body["lastAccessTime"], body["lastAccessTime"],
        "a ZITADEL read by key is no access either"
    );
}

#[tokio::test]
async fn delete_one_session_by_id() {
    let app = TestApp::spawn().await;
    app.create_user("finn", "finn-pass-1").await;
    let body = app
        .oam_create(json!({"userId": "finn", "userAttributes": {"k": {"attrValue": "v"}}}))
        .await;
    let id = body["sessionId"].as_str().unwrap();
    let r = app
        .admin(
            Method::DELETE,
            &format!("{OAM_SESSION}?sessionId={id}&userId=nobody"),
            None,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "sessionId wins over userId: {}",
        r.body
    );
    assert_eq!(r.body, json!([body]));
    let again = app
        .admin(
            Method::DELETE,
            &format!("{OAM_SESSION}?sessionId={id}"),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.body, oam_error("NOT_FOUND", "session not found"));
    let get = app
        .admin(Method::GET, &format!("{OAM_SESSION}/{id}"), None)
        .await;
    assert_eq!(get.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn delete_all_of_a_users_sessions_caps_the_answer_only() {
    let app = TestApp::spawn_with(|c| c.oam_max_results = 2).await;
    app.create_user("a+b@example.com", "gus-pass-1").await;
    app.create_user("other", "other-pass-1").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            app.oam_create(json!({"userId": "a+b@example.com"})).await["sessionId"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        app.clock.advance(chrono::Duration::seconds(1));
    }
    let keep = app.oam_create(json!({"userId": "other"})).await["sessionId"]
        .as_str()
        .unwrap()
        .to_owned();

    let r = app
        .admin(
            Method::DELETE,
            &format!("{OAM_SESSION}?userId=a+b@example.com&idStore=Elsewhere"),
            None,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "idStore narrows the user's sessions"
    );

    let r = app
        .admin(
            Method::DELETE,
            &format!("{OAM_SESSION}?userId=a+b@example.com&idStore=UserIdentityStore"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let returned: Vec<&str> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sessionId"].as_str().unwrap())
        .collect();
    assert_eq!(
        returned,
        vec![ids[2].as_str(), ids[1].as_str()],
        "newest first, capped at 2"
    );
    for id in &ids {
        let get = app
            .admin(Method::GET, &format!("{OAM_SESSION}/{id}"), None)
            .await;
        assert_eq!(get.status, StatusCode::NOT_FOUND, "all three are gone");
    }
    let other = app
        .admin(Method::GET, &format!("{OAM_SESSION}/{keep}"), None)
        .await;
    assert_eq!(other.status, StatusCode::OK);
}

#[tokio::test]
async fn delete_needs_a_selector_that_finds_something() {
    let app = TestApp::spawn().await;
    let r = app.admin(Method::DELETE, OAM_SESSION, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.body,
        oam_error("NOT_FOUND", "sessionId or userId is required")
    );
    let r = app
        .admin(
            Method::DELETE,
            &format!("{OAM_SESSION}?idStore=UserIdentityStore"),
            None,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "idStore alone selects nothing"
    );
    let r = app
        .admin(Method::DELETE, &format!("{OAM_SESSION}?userId=ghost"), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body, oam_error("NOT_FOUND", "no session found"));
    let r = app
        .admin(
            Method::DELETE,
            &format!("{OAM_SESSION}?sessionId=a%7Cb%2Bc%3D"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn search_filters_and_and_parameters_win() {
    let app = TestApp::spawn_with(|c| c.oam_max_results = 2).await;
    app.create_user("hana", "hana-pass-1").await;
    app.create_user("ivan", "ivan-pass-1").await;
    let h1 = app.oam_create(json!({"userId": "hana", "clientIp": "10.0.0.1", "userAttributes": {"role": {"attrValue": "admin"}}})).await;
    app.clock.advance(chrono::Duration::seconds(1));
    let h2 = app
        .oam_create(json!({"userId": "hana", "clientIp": "10.0.0.2", "isImpersonating": true}))
        .await;
    app.clock.advance(chrono::Duration::seconds(1));
    let h3 = app
        .oam_create(json!({"userId": "hana", "clientIp": "10.0.0.1"}))
        .await;
    app.clock.advance(chrono::Duration::seconds(1));
    let i1 = app
        .oam_create(json!({"userId": "ivan", "clientIp": "10.0.0.1"}))
        .await;

    let ids = |r: &Value| -> Vec<String> {
        r["sessions"]["sessionData"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["sessionId"].as_str().unwrap().to_owned())
            .collect()
    };
    let id = |s: &Value| s["sessionId"].as_str().unwrap().to_owned();

    let r = app
        .admin(
            Method::POST,
            OAM_SEARCH,
            Some(json!({"userId": "hana", "fromIndex": 5, "pageSize": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["totalRecords"], 3);
    assert_eq!(ids(&r.body), vec![id(&h3), id(&h2)], "newest first, capped");

    let r = app
        .admin(
            Method::POST,
            &format!("{OAM_SEARCH}?userId=ivan"),
            Some(json!({"userId": "hana"})),
        )
        .await;
    assert_eq!(ids(&r.body), vec![id(&i1)], "the query parameter wins");

    let r = app
        .admin(
            Method::POST,
            OAM_SEARCH,
            Some(json!({"clientIp": "10.0.0.1", "userId": "hana"})),
        )
        .await;
    assert_eq!(r.body["totalRecords"], 2);
    assert_eq!(ids(&r.body), vec![id(&h3), id(&h1)]);

    let r = app
        .admin(
            Method::POST,
            OAM_SEARCH,
            Some(json!({"isImpersonating": true})),
        )
        .await;
    assert_eq!(ids(&r.body), vec![id(&h2)]);

    let r = app
        .admin(
            Method::POST,
            OAM_SEARCH,
            Some(json!({"userAttributes": {"role": {"attrName": "role", "attrValue": "admin"}}})),
        )
        .await;
    assert_eq!(ids(&r.body), vec![id(&h1)]);
    let r = app
        .admin(
            Method::POST,
            OAM_SEARCH,
            Some(json!({"userAttributes": {"role": {"attrValue": "user"}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body, oam_error("NOT_FOUND", "no session found"));

    let r = app
        .admin(
            Method::POST,
            &format!("{OAM_SEARCH}?sessionId={}", id(&h2)),
            Some(json!({})),
        )
        .await;
    assert_eq!(ids(&r.body), vec![id(&h2)]);

    // Time filters: at or before the instant.
    let r = app
        .admin(
            Method::POST,
            OAM_SEARCH,
            Some(json!({"updateTime": h2["updateTime"], "userId": "hana"})),
        )
        .await;
    assert_eq!(r.body["totalRecords"], 2);
    assert_eq!(ids(&r.body), vec![id(&h2), id(&h1)]);
    let r = app
        .admin(
            Method::POST,
            OAM_SEARCH,
            Some(json!({"lastAccessTime": h1["lastAccessTime"]})),
        )
        .await;
    assert_eq!(ids(&r.body), vec![id(&h1)]);
    let r = app
        .admin(
            Method::POST,
            OAM_SEARCH,
            Some(json!({"expiryTime": h1["expiryTime"]})),
        )
        .await;
    assert_eq!(ids(&r.body), vec![id(&h1)]);

    let r = app
        .admin(Method::POST, &format!("{OAM_SEARCH}?idStore=Nowhere"), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn basic_and_bearer_auth_with_permissions() {
    let app = TestApp::spawn().await;
    app.create_user("jana", "jana-pass-1").await;
    let (key_id, secret) = app
        .create_key_pair(&["session.write", "session.read"])
        .await;
    let r = app
        .call_basic(
            Method::POST,
            OAM_SESSION,
            Some((&key_id, &secret)),
            Some(json!({"userId": "jana"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let id = r.body["sessionId"].as_str().unwrap().to_owned();
    let r = app
        .call(
            Method::GET,
            &format!("{OAM_SESSION}/{id}"),
            Some(&secret),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "bearer works too");

    let r = app
        .call_basic(Method::GET, &format!("{OAM_SESSION}/{id}"), None, None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body, oam_error("UNAUTHORIZED", "credentials required"));
    assert_eq!(
        r.headers.get("www-authenticate").unwrap(),
        "Basic realm=\"sessiond\""
    );
    let r = app
        .call_basic(
            Method::GET,
            &format!("{OAM_SESSION}/{id}"),
            Some((&key_id, "wrong-secret")),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.body,
        oam_error("UNAUTHORIZED", "credentials are not valid")
    );
    assert_eq!(
        r.headers.get("www-authenticate").unwrap(),
        "Basic realm=\"sessiond\""
    );

    let r = app
        .call_basic(
            Method::DELETE,
            &format!("{OAM_SESSION}?sessionId={id}"),
            Some((&key_id, &secret)),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.body,
        oam_error(
            "FORBIDDEN",
            "the credentials lack the permission for this operation"
        )
    );
    let (reader_id, reader) = app.create_key_pair(&["session.read"]).await;
    let r = app
        .call_basic(
            Method::POST,
            OAM_SESSION,
            Some((&reader_id, &reader)),
            Some(json!({"userId": "jana"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let (writer_id, writer) = app.create_key_pair(&["session.write"]).await;
    let r = app
        .call_basic(
            Method::POST,
            OAM_SEARCH,
            Some((&writer_id, &writer)),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .call_basic(
            Method::GET,
            &format!("{OAM_SESSION}/{id}"),
            Some((&writer_id, &writer)),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn other_methods_are_405() {
    let app = TestApp::spawn().await;
    let r = app.admin(Method::PUT, OAM_SESSION, None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        r.body,
        oam_error("METHOD_NOT_ALLOWED", "method not allowed")
    );
    assert_eq!(r.headers.get("allow").unwrap(), "POST, DELETE");
    let r = app.admin(Method::GET, OAM_SEARCH, None).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers.get("allow").unwrap(), "POST");
    let r = app
        .admin(Method::PATCH, &format!("{OAM_SESSION}/x"), None)
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers.get("allow").unwrap(), "GET");
}
