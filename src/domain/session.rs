use std::collections::BTreeMap;
use std::fmt;

use super::Timestamp;

/// Session metadata: key → raw bytes. ZITADEL's `metadata` and OAM's
/// `userAttributes` are both views of this map.
pub type Metadata = BTreeMap<String, Vec<u8>>;

/// Which user a check names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserSelector {
    Id(String),
    LoginName(String),
}

/// A plaintext password on its way to a check. Debug never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn new(raw: String) -> Password {
        Password(raw)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// The checks a create or update asks for. They run in a fixed order: user,
/// then password.
#[derive(Clone, Debug, Default)]
pub struct Checks {
    pub user: Option<UserSelector>,
    pub password: Option<Password>,
}

impl Checks {
    pub fn is_empty(&self) -> bool {
        self.user.is_none() && self.password.is_none()
    }
}

/// Metadata changes on update: a value overwrites its key, an empty value
/// deletes it, and keys not named stay as they are.
pub type MetadataChanges = BTreeMap<String, Vec<u8>>;

/// Where a session was created from. `ip` is OAM's `clientIp` and
/// ZITADEL's `userAgent.ip`; `user_agent` is the rest of ZITADEL's
/// `userAgent` (v2beta/v2), `None` when the caller gave none (OAM never
/// does).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientContext {
    pub ip: Option<String>,
    pub user_agent: Option<UserAgent>,
}

/// ZITADEL's `UserAgent`, less its `ip` (that is [`ClientContext::ip`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserAgent {
    /// At most [`MAX_FINGERPRINT_ID_LENGTH`] characters; searchable.
    pub fingerprint_id: Option<String>,
    /// Free text, e.g. "Chrome on Windows".
    pub description: Option<String>,
    /// Header name → values, as the client sent them.
    pub headers: BTreeMap<String, Vec<String>>,
}

/// Characters in a [`UserAgent::fingerprint_id`]; it is indexed, and index
/// entries have a size limit on PostgreSQL.
pub const MAX_FINGERPRINT_ID_LENGTH: usize = 200;

/// A requested session lifetime (ZITADEL's `lifetime`, v2beta/v2): always
/// positive. The session then expires at "now + lifetime", counted from
/// the create or update that sets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetime(chrono::Duration);

/// A lifetime of zero or less: ZITADEL answers InvalidArgument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("lifetime must be positive")]
pub struct LifetimeNotPositive;

impl Lifetime {
    pub fn new(duration: chrono::Duration) -> Result<Lifetime, LifetimeNotPositive> {
        if duration > chrono::Duration::zero() {
            Ok(Lifetime(duration))
        } else {
            Err(LifetimeNotPositive)
        }
    }

    pub fn duration(self) -> chrono::Duration {
        self.0
    }

    /// When a session given this lifetime at `now` expires, to the
    /// microsecond the store keeps; a lifetime beyond the calendar ends at
    /// its end.
    pub fn expiry_from(self, now: Timestamp) -> Timestamp {
        crate::clock::truncate(
            now.checked_add_signed(self.0)
                .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC),
        )
    }
}

impl TryFrom<chrono::Duration> for Lifetime {
    type Error = LifetimeNotPositive;

    fn try_from(duration: chrono::Duration) -> Result<Lifetime, LifetimeNotPositive> {
        Lifetime::new(duration)
    }
}

/// Rules where ZITADEL's session API versions differ. v2beta follows v2.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SessionApi {
    /// Also what the calls without a `SessionApi` parameter do.
    #[default]
    V2Alpha,
    /// Delete without a token is also allowed to the key that created the
    /// session.
    V2,
}

/// The dialect that creates a session; it picks the default lifetime and
/// idle timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionOrigin {
    Zitadel,
    Oam,
}

#[derive(Clone, Debug)]
pub struct NewSession {
    pub origin: SessionOrigin,
    pub checks: Checks,
    /// Keys with empty values are dropped on create.
    pub metadata: Metadata,
    pub client: ClientContext,
    /// An explicit expiry; used only when it is later than the default.
    pub requested_expiry: Option<Timestamp>,
    /// The identity store the caller names; it must be this deployment's.
    pub requested_id_store: Option<String>,
    pub is_impersonating: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserFactor {
    pub user_id: String,
    pub login_name: String,
    pub display_name: String,
    pub verified_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    /// Hex SHA-256 of the current session token.
    pub token_hash: String,
    pub creator_key_id: String,
    pub resource_owner: String,
    pub user: Option<UserFactor>,
    pub password_verified_at: Option<Timestamp>,
    pub metadata: Metadata,
    pub created_at: Timestamp,
    pub changed_at: Timestamp,
    /// Grows by one with every write to the session.
    pub sequence: u64,
    pub expires_at: Option<Timestamp>,
    pub idle_timeout: Option<chrono::Duration>,
    pub last_access_at: Timestamp,
    pub client: ClientContext,
    pub id_store_name: Option<String>,
    pub is_impersonating: bool,
    pub session_index: String,
    pub terminated_at: Option<Timestamp>,
}

impl Session {
    pub fn is_terminated(&self) -> bool {
        self.terminated_at.is_some()
    }

    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    pub fn is_idle(&self, now: Timestamp) -> bool {
        self.idle_timeout
            .is_some_and(|timeout| now - self.last_access_at > timeout)
    }
}

/// How a search compares a stored time with a given one (ZITADEL's
/// `TimestampQueryMethod`): `Greater` means "stored > given".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimestampComparison {
    Equals,
    Greater,
    GreaterOrEquals,
    Less,
    LessOrEquals,
}

/// A search filter on a time column: "stored `method` `at`".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimestampFilter {
    pub method: TimestampComparison,
    pub at: Timestamp,
}

/// Changes an update asks for.
#[derive(Clone, Debug, Default)]
pub struct SessionUpdate {
    pub checks: Checks,
    /// `None` leaves the metadata as it is.
    pub metadata: Option<MetadataChanges>,
    /// Resets the expiry to "now + lifetime".
    pub lifetime: Option<Lifetime>,
}

/// Filters for a session search. All given filters AND together.
#[derive(Clone, Debug, Default)]
pub struct SessionSearch {
    pub ids: Option<Vec<String>>,
    /// Set by the service when the caller may only see its own sessions.
    pub creator_key_id: Option<String>,
    /// ZITADEL's `creatorQuery`: sessions created by this key. ANDs with
    /// the service's own restriction above.
    pub creator: Option<String>,
    /// ZITADEL's `userAgentQuery`.
    pub user_agent_fingerprint_id: Option<String>,
    /// ZITADEL's `creationDateQuery`; several AND together (a range).
    pub created_at: Vec<TimestampFilter>,
    /// ZITADEL's `expirationDateQuery`; several AND together. As in
    /// ZITADEL, `Greater` and `GreaterOrEquals` also match sessions that
    /// never expire; the other methods do not.
    pub expires_at: Vec<TimestampFilter>,
    pub user_id: Option<String>,
    pub id_store_name: Option<String>,
    pub client_ip: Option<String>,
    pub is_impersonating: Option<bool>,
    /// Every pair must be present in the session's metadata.
    pub metadata: Vec<(String, Vec<u8>)>,
    pub expires_at_or_before: Option<Timestamp>,
    pub last_access_at_or_before: Option<Timestamp>,
    pub changed_at_or_before: Option<Timestamp>,
    /// When set, sessions expired at this instant do not match.
    pub live_at: Option<Timestamp>,
    pub offset: u64,
    /// `None` takes the configured default.
    pub limit: Option<u64>,
    pub ascending: bool,
}
