//! Small operations endpoints outside the dialects.

use poem::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;

#[tokio::test]
async fn the_root_leads_to_swagger_ui() {
    let app = TestApp::spawn().await;
    let r = app.client.get("/").send().await;
    r.assert_status(StatusCode::TEMPORARY_REDIRECT);
    r.assert_header("location", "/swagger-ui/");
}

#[tokio::test]
async fn version_reports_the_crate_version_and_the_build_commit() {
    let app = TestApp::spawn().await;
    let r = app.client.get("/version").send().await;
    r.assert_status_is_ok();
    let body: Value = serde_json::from_slice(&r.0.into_body().into_bytes().await.unwrap()).unwrap();
    let commit = body["commit"].as_str().unwrap().to_string();
    assert_eq!(
        body,
        json!({"version": env!("CARGO_PKG_VERSION"), "commit": commit})
    );
    // A build from a git checkout names its commit; other builds say so.
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{commit}"
    );
}
