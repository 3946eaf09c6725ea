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
pub mod panics;
pub mod rpc;
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
    let v2alpha = docs::Document::new(
        "zitadel-session-v2alpha",
        &zitadel_service(services.clone()),
    );
    // The v2 documents share v2alpha's REST error schemas.
    let rendered: serde_json::Value =
        serde_json::from_str(&v2alpha.json).expect("a rendered document is JSON");
    let errors: serde_json::Map<String, serde_json::Value> = rendered["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .iter()
        .filter(|(name, _)| matches!(name.as_str(), "rpcStatus" | "zitadelv1ErrorDetail"))
        .map(|(name, schema)| (name.clone(), schema.clone()))
        .collect();
    assert_eq!(errors.len(), 2, "v2alpha's error schemas");
    vec![
        v2alpha,
        docs::Document::from_value(
            "zitadel-session-v2",
            rpc::openapi::document(&rpc::openapi::V2, &errors),
        ),
        docs::Document::from_value(
            "zitadel-session-v2beta",
            rpc::openapi::document(&rpc::openapi::V2BETA, &errors),
        ),
        docs::Document::new("oam-session-v1", &oam_service(services.clone())),
        docs::Document::new("admin-v1", &admin_service(services.clone())),
    ]
}

/// API answers carry session tokens, key secrets and session state; no
/// cache on the way may keep them.
fn no_store() -> poem::middleware::SetHeader {
    poem::middleware::SetHeader::new().overriding(poem::http::header::CACHE_CONTROL, "no-store")
}

/// ZITADEL's REST gateway routes of one version, with the ZITADEL
/// dialect's guards.
fn zitadel_gateway<V: rpc::gateway::GatewayVersion>(
    core: &std::sync::Arc<rpc::session_service::SessionRpc>,
    services: &Services,
    guard: contract_guard::ContractGuard,
) -> impl Endpoint<Output = poem::Response> + use<V> {
    rpc::gateway::routes::<V>(core.clone())
        .with(access_log::RouteTemplate)
        .with(panics::catch(zitadel::error::panicked))
        .with(guard.clone())
        .with(body_limit::BodyLimit {
            read_timeout: services.settings.body_read_timeout,
        })
        .catch_all_error(|err| async move { zitadel::error::from_poem(err) })
        .with(contract_guard::AllowHeader(guard))
        .with(no_store())
}

/// The whole application, as the server and the tests run it, with
/// `/metrics`.
pub fn routes(services: Services) -> impl Endpoint<Output = poem::Response> {
    routes_with(services, true)
}

/// The application; `/metrics` only with `metrics` (off when the metrics
/// have an address of their own).
pub fn routes_with(services: Services, metrics: bool) -> impl Endpoint<Output = poem::Response> {
    crate::telemetry::metrics::handle();
    let documents = contract_documents(&services);
    let core = rpc::core(services.clone());
    let guard = |name: &str| {
        let doc = documents
            .iter()
            .find(|d| d.name == name)
            .expect("document exists");
        contract_guard::ContractGuard::from_spec(&doc.json)
    };
    let rest = Route::new()
        .nest_no_strip(
            ZITADEL_PREFIX,
            zitadel_service(services.clone())
                .into_endpoint()
                .with(access_log::RouteTemplate)
                .with(panics::catch(zitadel::error::panicked))
                .with(guard("zitadel-session-v2alpha"))
                .with(body_limit::BodyLimit {
                    read_timeout: services.settings.body_read_timeout,
                })
                .catch_all_error(|err| async move { zitadel::error::from_poem(err) })
                .with(contract_guard::AllowHeader(guard(
                    "zitadel-session-v2alpha",
                )))
                .with(no_store()),
        )
        .nest_no_strip(
            "/v2",
            zitadel_gateway::<rpc::gateway::V2>(&core, &services, guard("zitadel-session-v2")),
        )
        .nest_no_strip(
            "/v2beta",
            zitadel_gateway::<rpc::gateway::V2beta>(
                &core,
                &services,
                guard("zitadel-session-v2beta"),
            ),
        )
        .nest_no_strip(
            ADMIN_PREFIX,
            admin_service(services.clone())
                .into_endpoint()
                .with(access_log::RouteTemplate)
                .with(panics::catch(admin::error::panicked))
                .with(guard("admin-v1"))
                .with(body_limit::BodyLimit {
                    read_timeout: services.settings.body_read_timeout,
                })
                .catch_all_error(|err| async move { admin::error::from_poem(err) })
                .with(contract_guard::AllowHeader(guard("admin-v1")))
                .with(no_store()),
        )
        .nest_no_strip(
            OAM_PREFIX,
            oam_service(services.clone())
                .into_endpoint()
                .with(access_log::RouteTemplate)
                .with(panics::catch(oam::error::panicked))
                .with(guard("oam-session-v1"))
                .with(oam::LiteralPlus)
                .with(body_limit::BodyLimit {
                    read_timeout: services.settings.body_read_timeout,
                })
                .catch_all_error(|err| async move { oam::error::from_poem(err) })
                .with(contract_guard::AllowHeader(guard("oam-session-v1")))
                .with(no_store()),
        )
        .nest("/openapi", docs::documents_endpoint(&documents))
        .nest(
            "/swagger-ui",
            docs::swagger_ui_endpoint(
                &documents,
                services.settings.swagger_ui_persist_authorization,
            ),
        )
        .at(
            "/metrics",
            crate::telemetry::metrics::endpoint(services.store.clone(), metrics),
        )
        .at("/healthz", health::healthz)
        .at("/readyz", health::readyz)
        .at(
            "/",
            poem::get(poem::endpoint::make_sync(|_| {
                poem::web::Redirect::temporary("/swagger-ui/")
            })),
        )
        .at(
            "/version",
            poem::get(poem::endpoint::make_sync(|_| {
                poem::web::Json(crate::version::current())
            })),
        )
        .with(outside_errors::ByPrefix(vec![
            (ZITADEL_PREFIX, zitadel::error::from_poem),
            ("/v2", zitadel::error::from_poem),
            ("/v2beta", zitadel::error::from_poem),
            (ADMIN_PREFIX, admin::error::from_poem),
            (OAM_PREFIX, oam::error::from_poem),
        ]))
        .data(services.clone());
    rpc::Split {
        rpc: rpc::endpoint(core, &documents),
        rest,
    }
    .with(access_log::AccessLog::new(&documents))
}
