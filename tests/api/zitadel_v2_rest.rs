//! ZITADEL's v2 and v2beta REST gateway routes: the same operations as the
//! RPC transports, with the REST gateway's paths, statuses and errors.
//! Every answer is also checked against the checked-in documents.

use poem::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, zitadel_error};

const LOGIN: &str = "alice@example.com";
const PASSWORD: &str = "correct horse battery staple";

async fn app() -> TestApp {
    let app = TestApp::spawn().await;
    app.create_user(LOGIN, PASSWORD).await;
    app
}

fn create_body() -> Value {
    json!({
        "checks": {"user": {"loginName": LOGIN}, "password": {"password": PASSWORD}},
        "metadata": {"k": "djE="},
        "lifetime": "300s",
        "userAgent": {"fingerprintId": "fp-1", "ip": "192.0.2.7", "header": {"x-a": {"values": ["1"]}}},
    })
}

#[tokio::test]
async fn the_whole_flow_over_the_rest_gateway_of_v2_and_v2beta() {
    let app = app().await;
    for prefix in ["/v2", "/v2beta"] {
        let created = app
            .admin(
                Method::POST,
                &format!("{prefix}/sessions"),
                Some(create_body()),
            )
            .await;
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "{prefix}: {}",
            created.body
        );
        assert_eq!(created.body["details"]["sequence"], json!("1"));
        assert_eq!(
            created.body["details"].get("creationDate").is_some(),
            prefix == "/v2",
            "{prefix}: creationDate is v2's"
        );
        let id = created.body["sessionId"].as_str().unwrap().to_string();
        let token = created.body["sessionToken"].as_str().unwrap().to_string();

        let got = app
            .admin(
                Method::GET,
                &format!("{prefix}/sessions/{id}?sessionToken={token}"),
                None,
            )
            .await;
        assert_eq!(got.status, StatusCode::OK);
        let session = &got.body["session"];
        assert_eq!(session["id"], json!(id));
        assert_eq!(session["factors"]["user"]["loginName"], json!(LOGIN));
        assert!(session["factors"]["password"]["verifiedAt"].is_string());
        assert_eq!(session["metadata"], json!({"k": "djE="}));
        assert_eq!(
            session["userAgent"],
            json!({"fingerprintId": "fp-1", "ip": "192.0.2.7", "header": {"x-a": {"values": ["1"]}}})
        );
        assert!(session["expirationDate"].is_string());

        // The body's sessionToken is ignored in v2 and v2beta.
        let set = app
            .admin(
                Method::PATCH,
                &format!("{prefix}/sessions/{id}"),
                Some(json!({"sessionToken": "stale", "metadata": {"k2": "djI="}})),
            )
            .await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.body);
        let new_token = set.body["sessionToken"].as_str().unwrap().to_string();
        assert_ne!(new_token, token);
        let got = app
            .admin(
                Method::GET,
                &format!("{prefix}/sessions/{id}?sessionToken={new_token}"),
                None,
            )
            .await;
        assert_eq!(
            got.body["session"]["metadata"],
            json!({"k": "djE=", "k2": "djI="})
        );
        assert_eq!(got.body["session"]["sequence"], json!("2"));

        let listed = app
            .admin(
                Method::POST,
                &format!("{prefix}/sessions/search"),
                Some(json!({"query": {"limit": 10}, "queries": [{"idsQuery": {"ids": [id]}}]})),
            )
            .await;
        assert_eq!(listed.status, StatusCode::OK);
        assert_eq!(listed.body["details"]["totalResult"], json!("1"));
        assert_eq!(listed.body["sessions"][0]["id"], json!(id));

        let deleted = app
            .admin(
                Method::DELETE,
                &format!("{prefix}/sessions/{id}"),
                Some(json!({"sessionToken": new_token})),
            )
            .await;
        assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
        let gone = app
            .admin(Method::GET, &format!("{prefix}/sessions/{id}"), None)
            .await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);
        assert_eq!(
            gone.body,
            zitadel_error(5, "QUERY-SFeaa", "Session does not exist")
        );
    }
}

#[tokio::test]
async fn rest_errors_are_rpc_statuses_and_write_nothing() {
    let app = app().await;
    for prefix in ["/v2", "/v2beta"] {
        let mut wrong = create_body();
        wrong["checks"]["password"]["password"] = json!("wrong");
        let r = app
            .admin(Method::POST, &format!("{prefix}/sessions"), Some(wrong))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            r.body,
            zitadel_error(3, "COMMAND-SAF3g", "Password is invalid")
        );

        let mut zero = create_body();
        zero["lifetime"] = json!("0s");
        let r = app
            .admin(Method::POST, &format!("{prefix}/sessions"), Some(zero))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            r.body,
            json!({"code": 3, "message": "lifetime: must be positive"})
        );

        let mut malformed = create_body();
        malformed["lifetime"] = json!("five minutes");
        let r = app
            .admin(Method::POST, &format!("{prefix}/sessions"), Some(malformed))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(r.body["code"], json!(3));

        let r = app
            .call(
                Method::POST,
                &format!("{prefix}/sessions/search"),
                Some("not-a-key"),
                Some(json!({})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.body, zitadel_error(16, "AUTH-7fs1e", "Token is invalid"));
        assert_eq!(r.headers["www-authenticate"], "Bearer realm=\"sessiond\"");

        let r = app
            .admin(Method::PUT, &format!("{prefix}/sessions/some-id"), None)
            .await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.headers["allow"], "GET, PATCH, DELETE");
    }
    let listed = app
        .admin(Method::POST, "/v2/sessions/search", Some(json!({})))
        .await;
    assert_eq!(
        listed.body["details"].get("totalResult"),
        None,
        "{}",
        listed.body
    );
    assert_eq!(listed.body.get("sessions"), None);
}

#[tokio::test]
async fn v2_only_queries_are_not_part_of_v2beta() {
    let app = app().await;
    let created = app
        .admin(Method::POST, "/v2/sessions", Some(create_body()))
        .await;
    let id = created.body["sessionId"].as_str().unwrap();
    let by_agent = json!({"queries": [{"userAgentQuery": {"fingerprintId": "fp-1"}}]});
    let v2 = app
        .admin(Method::POST, "/v2/sessions/search", Some(by_agent.clone()))
        .await;
    assert_eq!(v2.status, StatusCode::OK);
    assert_eq!(v2.body["sessions"][0]["id"], json!(id));
    // v2beta has no userAgentQuery: there it is an empty query, refused.
    let beta = app
        .admin(Method::POST, "/v2beta/sessions/search", Some(by_agent))
        .await;
    assert_eq!(beta.status, StatusCode::BAD_REQUEST, "{}", beta.body);
}

#[tokio::test]
async fn path_and_query_parameters_keep_their_documented_limits() {
    let app = app().await;
    for prefix in ["/v2", "/v2beta"] {
        let long = "0".repeat(201);
        for method in [Method::GET, Method::PATCH, Method::DELETE] {
            let body = (method != Method::GET).then(|| json!({}));
            let r = app
                .admin(method.clone(), &format!("{prefix}/sessions/{long}"), body)
                .await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{method} {prefix}");
            assert_eq!(
                r.body,
                json!({"code": 3, "message": "path.sessionId: must be 1 to 200 characters"})
            );
        }
        let r = app
            .admin(
                Method::GET,
                &format!("{prefix}/sessions/some-id?sessionToken={}", "t".repeat(201)),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            r.body,
            json!({"code": 3, "message": "query.sessionToken: at most 200 characters"})
        );
    }
}
