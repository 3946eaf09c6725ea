//! The HTTP surface: one module per dialect, plus the contract documents,
//! Swagger UI and health checks.

mod access_log;
pub mod admin;
pub mod auth;
pub mod body_limit;
mod contract_guard;
pub mod docs;
mod document_shape;
pub mod health;
pub mod oam;
mod outside_errors;
pub mod schema;
pub mod wire;
pub mod zitadel;

use poem::{Endpoint, EndpointExt, IntoEndpoint, Route};
use poem_openapi::OpenApiService;

use crate::service::Services;

/// Where each API surface lives.
pub const ZITADEL_PREFIX: &str = "/v2alpha";
pub const ADMIN_PREFIX: &str = "/admin/v1";
pub const OAM_PREFIX: &str = "/oam/services/rest/access/api/v1";

pub fn zitadel_service(services: Services) -> OpenApiService<zitadel::ZitadelApi, ()> {
    OpenApiService::new(
        zitadel::ZitadelApi { services },
        "Session Service",
        "2.0-alpha",
    )
    .description(include_str!("../../docs/zitadel-session-v2alpha.md"))
}

pub fn admin_service(services: Services) -> OpenApiService<admin::AdminApi, ()> {
    OpenApiService::new(admin::AdminApi { services }, "sessiond Admin API", "1.0.0")
        .description(include_str!("../../docs/admin-v1.md"))
}

pub fn oam_service(services: Services) -> OpenApiService<oam::OamApi, ()> {
    OpenApiService::new(
        oam::OamApi { services },
        "Session Management REST API for Oracle Access Manager",
        "1.0.0",
    )
    .description(include_str!("../../docs/oam-session-v1.md"))
}

/// Every contract document: its name under `openapi/`, and the YAML and JSON
/// rendered from the API types.
pub fn contract_documents(services: &Services) -> Vec<docs::Document> {
    vec![
        docs::Document::new(
            "zitadel-session-v2alpha",
            &zitadel_service(services.clone()),
        ),
        docs::Document::new("oam-session-v1", &oam_service(services.clone())),
        docs::Document::new("admin-v1", &admin_service(services.clone())),
    ]
}

/// The whole application, as the server and the tests run it.
pub fn routes(services: Services) -> impl Endpoint<Output = poem::Response> {
    let documents = contract_documents(&services);
    let guard = |name: &str| {
        let doc = documents
            .iter()
            .find(|d| d.name == name)
            .expect("document exists");
        contract_guard::ContractGuard::from_spec(&doc.json)
    };
    Route::new()
        .nest_no_strip(
            ZITADEL_PREFIX,
            zitadel_service(services.clone())
                .into_endpoint()
                .with(guard("zitadel-session-v2alpha"))
                .with(body_limit::BodyLimit)
                .catch_all_error(|err| async move { zitadel::error::from_poem(err) })
                .with(contract_guard::AllowHeader(guard(
                    "zitadel-session-v2alpha",
                ))),
        )
        .nest_no_strip(
            ADMIN_PREFIX,
            admin_service(services.clone())
                .into_endpoint()
                .with(guard("admin-v1"))
                .with(body_limit::BodyLimit)
                .catch_all_error(|err| async move { admin::error::from_poem(err) })
                .with(contract_guard::AllowHeader(guard("admin-v1"))),
        )
        .nest_no_strip(
            OAM_PREFIX,
            oam_service(services.clone())
                .into_endpoint()
                .with(guard("oam-session-v1"))
                .with(oam::LiteralPlus)
                .with(body_limit::BodyLimit)
                .catch_all_error(|err| async move { oam::error::from_poem(err) })
                .with(contract_guard::AllowHeader(guard("oam-session-v1"))),
        )
        .nest("/openapi", docs::documents_endpoint(&documents))
        .nest(
            "/swagger-ui",
            docs::swagger_ui_endpoint(
                &documents,
                services.settings.swagger_ui_persist_authorization,
            ),
        )
        .at("/healthz", health::healthz)
        .at("/readyz", health::readyz)
        .data(services)
        .with(access_log::AccessLog)
}
