//! ZITADEL dialect: user and password checks, atomicity and lockout.

use poem::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{ADMIN_KEY, TestApp, zitadel_error};

#[tokio::test]
async fn create_with_user_and_password_sets_both_factors() {
    let app = TestApp::spawn().await;
    let user_id = app.create_user("Alice@Example.com", "s3cret-pass").await;
    let (id, token) = app
        .zitadel_create(
            ADMIN_KEY,
            json!({"checks": {"user": {"loginName": "alice@example.com"}, "password": {"password": "s3cret-pass"}}}),
        )
        .await;
    let r = app.zitadel_get_with_token(&id, &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let s = &r.body["session"];
    assert_eq!(s["id"], id);
    assert_eq!(s["sequence"], "1");
    assert_eq!(s["factors"]["user"]["id"], user_id);
    assert_eq!(s["factors"]["user"]["loginName"], "Alice@Example.com");
    assert_eq!(
        s["factors"]["user"]["displayName"],
        "Alice@Example.com display"
    );
    assert!(
        s["factors"]["user"]["verifiedAt"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert!(s["factors"]["password"]["verifiedAt"].is_string());
    assert_eq!(s["creationDate"], s["changeDate"]);
}

#[tokio::test]
async fn user_check_by_id_works_and_both_selectors_are_rejected() {
    let app = TestApp::spawn().await;
    let user_id = app.create_user("bob", "pw-bob-123").await;
    let (id, _) = app
        .zitadel_create(ADMIN_KEY, json!({"checks": {"user": {"userId": user_id}}}))
        .await;
    let r = app
        .admin(Method::GET, &format!("/v2alpha/sessions/{id}"), None)
        .await;
    assert_eq!(r.body["session"]["factors"]["user"]["id"], user_id);
    assert!(r.body["session"]["factors"].get("password").is_none());

    let r = app
        .admin(
            Method::POST,
            "/v2alpha/sessions",
            Some(json!({"checks": {"user": {"userId": user_id, "loginName": "bob"}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        json!({"code": 3, "message": "invalid request body: body.checks.user: exactly one of userId, loginName must be set"})
    );
}

#[tokio::test]
async fn unknown_user_is_not_found_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let r = app
        .admin(
            Method::POST,
            "/v2alpha/sessions",
            Some(
                json!({"checks": {"user": {"loginName": "ghost"}, "password": {"password": "x"}}}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.body,
        zitadel_error(5, "QUERY-Dfbg2", "User could not be found")
    );
    let search = app
        .admin(Method::POST, "/v2alpha/sessions/search", Some(json!({})))
        .await;
    assert!(search.body.get("sessions").is_none(), "{}", search.body);
}

#[tokio::test]
async fn password_without_user_fails_precondition() {
    let app = TestApp::spawn().await;
    let r = app
        .admin(
            Method::POST,
            "/v2alpha/sessions",
            Some(json!({"checks": {"password": {"password": "whatever"}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body, zitadel_error(9, "COMMAND-Sfw3f", "User ID missing"));
}

#[tokio::test]
async fn wrong_password_is_invalid_argument_and_nothing_is_created() {
    let app = TestApp::spawn().await;
    let user_id = app.create_user("carol", "right-password").await;
    let r = app
        .admin(
            Method::POST,
            "/v2alpha/sessions",
            Some(json!({"checks": {"user": {"userId": user_id}, "password": {"password": "wrong"}}, "metadata": {"k": "dg=="}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        zitadel_error(3, "COMMAND-SAF3g", "Password is invalid")
    );
    let search = app
        .admin(Method::POST, "/v2alpha/sessions/search", Some(json!({})))
        .await;
    assert!(search.body.get("sessions").is_none());
    let user = app
        .admin(Method::GET, &format!("/admin/v1/users/{user_id}"), None)
        .await;
    assert_eq!(user.body["failedAttempts"], 1);
}

#[tokio::test]
async fn failed_update_changes_nothing_and_keeps_the_token() {
    let app = TestApp::spawn().await;
    let user_id = app.create_user("dave", "dave-pass-1").await;
    let (id, token) = app
        .zitadel_create(
            ADMIN_KEY,
            json!({"checks": {"user": {"userId": user_id}}, "metadata": {"a": "AQ=="}}),
        )
        .await;
    let r = app
        .admin(
            Method::PATCH,
            &format!("/v2alpha/sessions/{id}"),
            Some(json!({"sessionToken": token, "checks": {"password": {"password": "nope"}}, "metadata": {"a": "Ag=="}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let got = app.zitadel_get_with_token(&id, &token).await;
    assert_eq!(got.status, StatusCode::OK, "old token still valid");
    assert_eq!(got.body["session"]["sequence"], "1");
    assert_eq!(got.body["session"]["metadata"], json!({"a": "AQ=="}));
    assert!(got.body["session"]["factors"].get("password").is_none());
}

#[tokio::test]
async fn changing_the_checked_user_is_rejected_and_rechecking_refreshes() {
    let app = TestApp::spawn().await;
    let a = app.create_user("erin", "erin-pass-1").await;
    let b = app.create_user("frank", "frank-pass-1").await;
    let (id, token) = app
        .zitadel_create(ADMIN_KEY, json!({"checks": {"user": {"userId": a}}}))
        .await;
    let r = app
        .admin(
            Method::PATCH,
            &format!("/v2alpha/sessions/{id}"),
            Some(json!({"sessionToken": token, "checks": {"user": {"userId": b}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        zitadel_error(3, "SESSION-Nc7h2", "user change not possible")
    );

    let before = app
        .admin(Method::GET, &format!("/v2alpha/sessions/{id}"), None)
        .await;
    app.clock.advance(chrono::Duration::seconds(5));
    let r = app
        .admin(
            Method::PATCH,
            &format!("/v2alpha/sessions/{id}"),
            Some(json!({"sessionToken": token, "checks": {"user": {"loginName": "ERIN"}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let after = app
        .admin(Method::GET, &format!("/v2alpha/sessions/{id}"), None)
        .await;
    assert_ne!(
        before.body["session"]["factors"]["user"]["verifiedAt"],
        after.body["session"]["factors"]["user"]["verifiedAt"]
    );
    assert_eq!(after.body["session"]["sequence"], "2");
}

#[tokio::test]
async fn lockout_after_threshold_until_unlocked() {
    let app = TestApp::spawn_with(|c| c.lockout_threshold = 2).await;
    let user_id = app.create_user("gina", "gina-pass-1").await;
    let wrong = json!({"checks": {"user": {"userId": user_id}, "password": {"password": "bad"}}});
    for _ in 0..2 {
        let r = app
            .admin(Method::POST, "/v2alpha/sessions", Some(wrong.clone()))
            .await;
        assert_eq!(r.body["code"], 3, "{}", r.body);
    }
    let right =
        json!({"checks": {"user": {"userId": user_id}, "password": {"password": "gina-pass-1"}}});
    let r = app
        .admin(Method::POST, "/v2alpha/sessions", Some(right.clone()))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        zitadel_error(9, "SESSION-Gj4ko", "User is not active")
    );
    let user = app
        .admin(Method::GET, &format!("/admin/v1/users/{user_id}"), None)
        .await;
    assert_eq!(user.body["state"], "locked");

    let r = app
        .admin(
            Method::POST,
            &format!("/admin/v1/users/{user_id}/unlock"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["state"], "active");
    assert_eq!(r.body["failedAttempts"], 0);
    let r = app
        .admin(Method::POST, "/v2alpha/sessions", Some(right))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

#[tokio::test]
async fn a_correct_password_resets_the_count() {
    let app = TestApp::spawn_with(|c| c.lockout_threshold = 3).await;
    let user_id = app.create_user("hank", "hank-pass-1").await;
    let wrong = json!({"checks": {"user": {"userId": user_id}, "password": {"password": "bad"}}});
    let right =
        json!({"checks": {"user": {"userId": user_id}, "password": {"password": "hank-pass-1"}}});
    for _ in 0..2 {
        app.admin(Method::POST, "/v2alpha/sessions", Some(wrong.clone()))
            .await;
    }
    assert_eq!(
        app.admin(Method::POST, "/v2alpha/sessions", Some(right.clone()))
            .await
            .status,
        StatusCode::CREATED
    );
    let user = app
        .admin(Method::GET, &format!("/admin/v1/users/{user_id}"), None)
        .await;
    assert_eq!(user.body["failedAttempts"], 0);
    for _ in 0..2 {
        app.admin(Method::POST, "/v2alpha/sessions", Some(wrong.clone()))
            .await;
    }
    assert_eq!(
        app.admin(Method::POST, "/v2alpha/sessions", Some(right))
            .await
            .status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn lockout_zero_never_locks() {
    let app = TestApp::spawn_with(|c| c.lockout_threshold = 0).await;
    let user_id = app.create_user("ivy", "ivy-pass-1").await;
    let wrong = json!({"checks": {"user": {"userId": user_id}, "password": {"password": "bad"}}});
    for _ in 0..12 {
        let r = app
            .admin(Method::POST, "/v2alpha/sessions", Some(wrong.clone()))
            .await;
        assert_eq!(r.body["code"], 3);
    }
    let user = app
        .admin(Method::GET, &format!("/admin/v1/users/{user_id}"), None)
        .await;
    assert_eq!(user.body["state"], "active");
    assert_eq!(user.body["failedAttempts"], 12);
}

#[tokio::test]
async fn concurrent_wrong_passwords_are_all_counted() {
    let app = TestApp::spawn_with(|c| c.lockout_threshold = 0).await;
    let user_id = app.create_user("jack", "jack-pass-1").await;
    let wrong = json!({"checks": {"user": {"userId": user_id}, "password": {"password": "bad"}}});
    let calls = (0..16).map(|_| app.admin(Method::POST, "/v2alpha/sessions", Some(wrong.clone())));
    let replies = futures::future::join_all(calls).await;
    assert!(replies.iter().all(|r| r.body["code"] == 3));
    let user = app
        .admin(Method::GET, &format!("/admin/v1/users/{user_id}"), None)
        .await;
    assert_eq!(user.body["failedAttempts"], 16);
}

#[tokio::test]
async fn concurrent_failures_lock_at_exactly_the_threshold() {
    let app = TestApp::spawn_with(|c| c.lockout_threshold = 5).await;
    let user_id = app.create_user("kate", "kate-pass-1").await;
    let wrong = json!({"checks": {"user": {"userId": user_id}, "password": {"password": "bad"}}});
    let calls = (0..12).map(|_| app.admin(Method::POST, "/v2alpha/sessions", Some(wrong.clone())));
    futures::future::join_all(calls).await;
    let user = app
        .admin(Method::GET, &format!("/admin/v1/users/{user_id}"), None)
        .await;
    assert_eq!(user.body["state"], "locked");
    assert_eq!(user.body["failedAttempts"], 5, "counting stops once locked");
}

#[tokio::test]
async fn inactive_or_deleted_users_cannot_be_checked() {
    let app = TestApp::spawn().await;
    let user_id = app.create_user("lena", "lena-pass-1").await;
    let (id, token) = app
        .zitadel_create(ADMIN_KEY, json!({"checks": {"user": {"userId": user_id}}}))
        .await;
    let r = app
        .admin(Method::DELETE, &format!("/admin/v1/users/{user_id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app
        .admin(
            Method::PATCH,
            &format!("/v2alpha/sessions/{id}"),
            Some(
                json!({"sessionToken": token, "checks": {"password": {"password": "lena-pass-1"}}}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.body,
        zitadel_error(5, "QUERY-Dfbg2", "User could not be found")
    );
}

#[tokio::test]
async fn a_user_check_needs_one_selector() {
    let app = TestApp::spawn().await;
    let r = app
        .admin(
            Method::POST,
            "/v2alpha/sessions",
            Some(json!({"checks": {"user": {}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["code"], 3);
    assert!(
        r.body["message"].as_str().unwrap()
            == "invalid request body: body.checks.user: exactly one of userId, loginName must be set"
    );
    assert!(r.body.get("details").is_none());
}

#[tokio::test]
async fn unknown_users_cost_one_argon2_verify_like_known_ones() {
    let app = TestApp::spawn().await;
    let user_id = app.create_user("tim", "tim-pass-1").await;
    let before = app.services.hasher.verifications();
    let r = app
        .admin(
            Method::POST,
            "/v2alpha/sessions",
            Some(
                json!({"checks": {"user": {"loginName": "nobody"}, "password": {"password": "x"}}}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.services.hasher.verifications(), before + 1);
    let r = app
        .admin(
            Method::POST,
            "/v2alpha/sessions",
            Some(json!({"checks": {"user": {"userId": user_id}, "password": {"password": "x"}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.services.hasher.verifications(), before + 2);
}
