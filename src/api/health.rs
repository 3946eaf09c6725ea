use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{IntoResponse, Response, handler};

use crate::service::Services;

/// Liveness: the process answers.
#[handler]
pub fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

/// Readiness: the database answers within 900 ms, so a probe with a 1 s
/// timeout sees 503 rather than its own timeout.
#[handler]
pub async fn readyz(services: Data<&Services>) -> Response {
    if services
        .store
        .ping(std::time::Duration::from_millis(900))
        .await
    {
        Json(serde_json::json!({"status": "ok"})).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"status": "database unavailable"})),
        )
            .into_response()
    }
}
