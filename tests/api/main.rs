//! Integration tests: one binary, every test on its own database.
//! Run against PostgreSQL with `TEST_DATABASE_URL=postgres://…`.

mod admin;
mod concurrency;
mod contract;
mod cross_dialect;
mod e2e;
mod faults;
mod fuzz;
mod helpers;
mod oam_sessions;
mod observability;
mod ops_endpoints;
mod proto_contract;
mod response_contract;
mod rpc_transports;
mod server;
mod session_model_v2;
mod storage;
mod store_queries;
mod tls;
mod zitadel_checks;
mod zitadel_sessions;
mod zitadel_v2_rest;
