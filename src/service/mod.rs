//! The session rules, shared by every dialect. The service speaks only in
//! domain types; dialects translate to and from it.

mod access;
mod admin;
mod auth;
mod checks;
mod sessions;

pub use access::AccessRecorder;
pub use admin::{Admin, cli_principal as admin_cli_principal};
pub use auth::{Authenticator, KeyCache};
pub use sessions::{Created, Details, Sessions, Updated};

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::{Config, SessionLimitPolicy};
use crate::domain::SessionOrigin;
use crate::password::PasswordHasher;
use crate::store::Store;

/// Session rules that come from configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    pub id_store_name: String,
    pub lockout_threshold: u32,
    pub search_default_limit: u64,
    pub search_max_limit: u64,
    pub oam_max_results: u64,
    pub oam_lifetime: Option<chrono::Duration>,
    pub oam_idle_timeout: Option<chrono::Duration>,
    pub zitadel_lifetime: Option<chrono::Duration>,
    pub zitadel_idle_timeout: Option<chrono::Duration>,
    pub max_sessions_per_user: u64,
    pub session_limit_policy: SessionLimitPolicy,
    /// Whether Swagger UI keeps authorized keys in the browser's storage.
    pub swagger_ui_persist_authorization: bool,
    pub limits: crate::domain::Limits,
    /// How long a request body may take to arrive.
    pub body_read_timeout: std::time::Duration,
}

fn minutes(m: u64) -> Option<chrono::Duration> {
    (m > 0).then(|| chrono::Duration::minutes(i64::try_from(m).unwrap_or(i64::MAX / 120_000)))
}

impl Settings {
    /// Settings from configuration; fails on a limit above its documented
    /// ceiling.
    pub fn from_config(c: &Config) -> anyhow::Result<Settings> {
        let limits = crate::domain::Limits::new(
            c.max_search_filters,
            c.max_metadata_keys,
            c.max_metadata_key_length,
            c.max_metadata_value_bytes,
        )
        .map_err(anyhow::Error::msg)?;
        Ok(Settings {
            id_store_name: c.id_store_name.clone(),
            lockout_threshold: c.lockout_threshold,
            search_default_limit: c.search_default_limit,
            search_max_limit: c.search_max_limit,
            oam_max_results: c.oam_max_results,
            oam_lifetime: minutes(c.oam_session_lifetime_minutes),
            oam_idle_timeout: minutes(c.oam_idle_timeout_minutes),
            zitadel_lifetime: minutes(c.zitadel_session_lifetime_minutes),
            zitadel_idle_timeout: minutes(c.zitadel_idle_timeout_minutes),
            max_sessions_per_user: c.max_sessions_per_user,
            session_limit_policy: c.session_limit_policy,
            swagger_ui_persist_authorization: c.swagger_ui_persist_authorization,
            limits,
            body_read_timeout: std::time::Duration::from_secs(c.body_read_timeout_seconds.max(1)),
        })
    }

    pub fn lifetime(&self, origin: SessionOrigin) -> Option<chrono::Duration> {
        match origin {
            SessionOrigin::Zitadel => self.zitadel_lifetime,
            SessionOrigin::Oam => self.oam_lifetime,
        }
    }

    pub fn idle_timeout(&self, origin: SessionOrigin) -> Option<chrono::Duration> {
        match origin {
            SessionOrigin::Zitadel => self.zitadel_idle_timeout,
            SessionOrigin::Oam => self.oam_idle_timeout,
        }
    }
}

/// Everything a request handler needs, cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub sessions: Arc<Sessions>,
    pub admin: Arc<Admin>,
    pub auth: Arc<Authenticator>,
    pub store: Store,
    pub settings: Arc<Settings>,
    pub hasher: Arc<PasswordHasher>,
    /// Token uses not yet written; flushed by the server's background task.
    pub accesses: Arc<AccessRecorder>,
}

impl Services {
    pub fn new(
        store: Store,
        hasher: Arc<PasswordHasher>,
        clock: Arc<dyn Clock>,
        settings: Settings,
        instance_id: String,
    ) -> Services {
        let settings = Arc::new(settings);
        let keys = Arc::new(KeyCache::default());
        let accesses = Arc::new(AccessRecorder::new(store.clone()));
        Services {
            sessions: Arc::new(Sessions::new(
                store.clone(),
                hasher.clone(),
                clock.clone(),
                settings.clone(),
                accesses.clone(),
                instance_id,
            )),
            admin: Arc::new(Admin::new(
                store.clone(),
                hasher.clone(),
                clock.clone(),
                settings.clone(),
                keys.clone(),
            )),
            auth: Arc::new(Authenticator::new(store.clone(), clock, keys)),
            store,
            settings,
            hasher,
            accesses,
        }
    }
}
