//! Admin API: users and keys.

use poem::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn users_can_be_created_read_listed_and_deleted() {
    let app = TestApp::spawn().await;
    let id = app.create_user("Mona", "mona-pass-1").await;
    let r = app
        .admin(Method::GET, &format!("/admin/v1/users/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["loginName"], "Mona");
    assert_eq!(r.body["displayName"], "Mona display");
    assert_eq!(r.body["state"], "active");
    assert_eq!(r.body["idStoreName"], "UserIdentityStore");
    assert!(r.body.get("password").is_none() && r.body.get("passwordHash").is_none());

    let dup = app
        .admin(
            Method::POST,
            "/admin/v1/users",
            Some(json!({"loginName": "MONA", "password": "x"})),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(
        dup.body,
        json!({"code": "LOGIN_NAME_TAKEN", "message": "login name is already taken"})
    );

    app.create_user("nina", "nina-pass-1").await;
    let list = app
        .admin(Method::GET, "/admin/v1/users?limit=1&offset=1", None)
        .await;
    assert_eq!(list.body["totalResult"], 2);
    assert_eq!(list.body["users"][0]["loginName"], "nina");

    let r = app
        .admin(Method::DELETE, &format!("/admin/v1/users/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app
        .admin(Method::GET, &format!("/admin/v1/users/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.body,
        json!({"code": "USER_NOT_FOUND", "message": "user not found"})
    );
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_and_can_be_changed() {
    let app = TestApp::spawn().await;
    let id = app.create_user("olga", "first-pass").await;
    let stored = app.store.find_user(&id).await.unwrap().unwrap();
    assert!(stored.password_hash.starts_with("$argon2id$v=19$"));
    assert!(!stored.password_hash.contains("first-pass"));

    let r = app
        .admin(
            Method::PUT,
            &format!("/admin/v1/users/{id}/password"),
            Some(json!({"password": "second-pass"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let old = app
        .admin(
            Method::POST,
            "/v2alpha/sessions",
            Some(
                json!({"checks": {"user": {"userId": id}, "password": {"password": "first-pass"}}}),
            ),
        )
        .await;
    assert_eq!(old.status, StatusCode::BAD_REQUEST);
    let new = app
        .admin(Method::POST, "/v2alpha/sessions", Some(json!({"checks": {"user": {"userId": id}, "password": {"password": "second-pass"}}})))
        .await;
    assert_eq!(new.status, StatusCode::CREATED);
}

#[tokio::test]
async fn keys_are_hashed_listed_and_revocable() {
    let app = TestApp::spawn().await;
    let r = app
        .admin(
            Method::POST,
            "/admin/v1/keys",
            Some(json!({"name": "ui", "permissions": ["session.read", "session.write"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let key_id = r.body["keyId"].as_str().unwrap().to_owned();
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 43, "at least 256 bits");

    let stored = app.store.find_key(&key_id).await.unwrap().unwrap();
    assert_ne!(stored.secret_hash, secret);
    assert_eq!(stored.secret_hash, sessiond::ids::hash_secret(&secret));

    let list = app.admin(Method::GET, "/admin/v1/keys", None).await;
    let listed = list.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["keyId"] == key_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        listed["permissions"],
        json!(["session.read", "session.write"])
    );
    assert!(listed.get("secret").is_none());

    // The key works, cannot manage keys, then stops working once revoked.
    let ok = app
        .call(
            Method::POST,
            "/v2alpha/sessions",
            Some(&secret),
            Some(json!({})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED);
    let denied = app
        .call(Method::GET, "/admin/v1/keys", Some(&secret), None)
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(denied.body["code"], "PERMISSION_DENIED");
    let r = app
        .admin(Method::DELETE, &format!("/admin/v1/keys/{key_id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let gone = app
        .call(
            Method::POST,
            "/v2alpha/sessions",
            Some(&secret),
            Some(json!({})),
        )
        .await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED);
    assert_eq!(gone.body["code"], 16);
}

#[tokio::test]
async fn unknown_permissions_and_missing_auth_are_rejected() {
    let app = TestApp::spawn().await;
    let r = app
        .admin(
            Method::POST,
            "/admin/v1/keys",
            Some(json!({"name": "x", "permissions": ["root"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["code"], "INVALID_ARGUMENT");
    let r = app.call(Method::GET, "/admin/v1/users", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.body,
        json!({"code": "UNAUTHENTICATED", "message": "authorization header missing"})
    );
}

#[tokio::test]
async fn bootstrap_key_is_set_to_the_configured_secret() {
    let app = TestApp::spawn().await;
    let secret = "another-bootstrap-secret-0123456789abcdef";
    app.services.auth.bootstrap(Some(secret)).await.unwrap();
    let r = app
        .call(Method::GET, "/admin/v1/keys", Some(secret), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let old = app
        .call(
            Method::GET,
            "/admin/v1/keys",
            Some(crate::helpers::ADMIN_KEY),
            None,
        )
        .await;
    assert_eq!(
        old.status,
        StatusCode::UNAUTHORIZED,
        "the bootstrap key has exactly the configured secret"
    );
    assert!(
        app.services
            .auth
            .bootstrap(Some("too-short"))
            .await
            .is_err()
    );
}
