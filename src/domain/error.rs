//! The one error vocabulary of the service layer. Each dialect translates it
//! into its own wire shape with an exhaustive match, so a new variant does not
//! compile until every dialect decides what it means.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("session does not exist")]
    SessionNotFound,
    #[error("session already terminated")]
    SessionTerminated,
    #[error("session has expired")]
    SessionExpired,
    /// The session exists and has not expired, but was idle too long.
    #[error("session timed out")]
    SessionIdle,
    #[error("session token is invalid")]
    SessionTokenInvalid,
    /// The caller's key lacks the permission the operation needs.
    #[error("permission denied")]
    PermissionDenied,
    #[error("user could not be found")]
    UserNotFound,
    /// The user is locked or inactive.
    #[error("user is not active")]
    UserNotActive,
    #[error("user change not possible")]
    UserChangeNotPossible,
    /// A password check without a user checked on the session.
    #[error("user id missing")]
    UserIdMissing,
    #[error("password is invalid")]
    PasswordInvalid,
    #[error("login name is already taken")]
    LoginNameTaken,
    #[error("api key not found")]
    KeyNotFound,
    /// The identity store named by the caller is not this deployment's.
    #[error("unknown identity store")]
    UnknownIdStore,
    /// The user already has the maximum number of active sessions.
    #[error("session limit reached for user")]
    SessionLimitReached,
    #[error("search limit exceeds the maximum of {max}")]
    SearchLimitTooLarge { max: u64 },
    /// Too many password hashes are already queued.
    #[error("too many password checks in progress")]
    HashingBusy,
    /// A request value beyond a documented limit, or beyond what the store
    /// can take (an offset above 2^63 - 1).
    #[error("{what} exceeds the maximum of {max}")]
    TooLarge { what: &'static str, max: u64 },
    /// Text with U+0000, which no backend stores (see `store::text`).
    #[error("{what} must not contain the character U+0000")]
    InvalidText { what: &'static str },
    /// The database cannot be reached (refused, reset, or no connection
    /// free within the acquire timeout).
    #[error("database unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<sea_orm::DbErr> for Error {
    fn from(err: sea_orm::DbErr) -> Self {
        if is_unreachable(&err) {
            Error::Unavailable(err.into())
        } else if is_nul_in_text(&err) {
            // The store rejects U+0000 before it reaches the database; this
            // keeps one it missed a client error.
            Error::InvalidText { what: "text" }
        } else {
            Error::Internal(err.into())
        }
    }
}

/// Whether a database error means "cannot reach the database" rather than
/// "the query failed": no connection within the acquire timeout, or the
/// connection refused, reset or closed under the query.
fn is_unreachable(err: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{DbErr, RuntimeErr};
    let sqlx = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        DbErr::Conn(_) => return true,
        _ => return false,
    };
    matches!(
        sqlx.as_ref(),
        Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed | Sqlx::Tls(_)
    )
}

/// PostgreSQL's "invalid byte sequence for encoding UTF8: 0x00"
/// (SQLSTATE 22021, character_not_in_repertoire).
fn is_nul_in_text(err: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    match err {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            match e.as_ref() {
                sea_orm::sqlx::Error::Database(db) => db.code().as_deref() == Some("22021"),
                _ => false,
            }
        }
        _ => false,
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
