//! The session model shared by every dialect. Nothing here knows about HTTP,
//! JSON or the database.

pub mod error;
pub mod key;
pub mod limits;
pub mod session;
pub mod user;

pub use error::Error;
pub use key::{ApiKey, Permission, Principal};
pub use limits::Limits;
pub use session::{
    Checks, ClientContext, Lifetime, LifetimeNotPositive, MAX_FINGERPRINT_ID_LENGTH, Metadata,
    MetadataChanges, NewSession, Session, SessionApi, SessionOrigin, SessionSearch, SessionUpdate,
    TimestampComparison, TimestampFilter, UserAgent, UserFactor, UserSelector,
};
pub use user::{LoginName, NewUser, User, UserState};

/// A point in time, UTC, with microsecond precision as stored.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
