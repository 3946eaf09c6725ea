//! The store: every database query lives here, as named functions that take
//! and return domain types. sea-orm models stop at this module's boundary.

mod connect;
pub mod instance;
pub mod keys;
pub mod sessions;
pub mod users;

pub use connect::{Backend, connect};

use sea_orm::DatabaseConnection;

#[derive(Clone)]
pub struct Store {
    pub(crate) db: DatabaseConnection,
}

impl Store {
    pub fn new(db: DatabaseConnection) -> Store {
        Store { db }
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Readiness: the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        self.db.ping().await.is_ok()
    }
}

/// Microseconds since the epoch, the stored form of every time.
pub(crate) fn micros(t: crate::domain::Timestamp) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn time(micros: i64) -> crate::domain::Timestamp {
    crate::clock::from_micros(micros)
}
