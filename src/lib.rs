//! sessiond: a session service that speaks ZITADEL's Session API v2alpha and
//! OAM's Session Management REST API over one store.

pub mod api;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod ids;
pub mod password;
pub mod server;
pub mod service;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod version;
