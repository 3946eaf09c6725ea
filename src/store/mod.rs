//! The store: every database query lives here, as named functions that take
//! and return domain types. sea-orm models stop at this module's boundary.

mod connect;
pub mod instance;
pub mod keys;
pub mod sessions;
pub mod users;

pub use connect::{Backend, connect};

use sea_orm::DatabaseConnection;

/// Reads go to `reader`, writes to `writer`. On SQLite the writer is a pool
/// of one connection: SQLite admits one writer at a time, and queueing
/// writes in the pool is fair and fast, where several writer connections
/// would contend through SQLite's sleeping busy handler. On PostgreSQL both
/// are the same pool.
#[derive(Clone)]
pub struct Store {
    pub(crate) reader: DatabaseConnection,
    pub(crate) writer: DatabaseConnection,
}

impl Store {
    /// A store over one pool for reads and writes.
    pub fn new(db: DatabaseConnection) -> Store {
        Store {
            reader: db.clone(),
            writer: db,
        }
    }

    /// Connects (and migrates) with the pools the backend wants.
    pub async fn open(
        url: &str,
        max_connections: u32,
        search_path: Option<&str>,
    ) -> anyhow::Result<Store> {
        match Backend::of_url(url)? {
            Backend::Sqlite => {
                let writer = connect(url, 1, search_path).await?;
                let reader = connect(url, max_connections, search_path).await?;
                Ok(Store { reader, writer })
            }
            Backend::Postgres => Ok(Store::new(
                connect(url, max_connections, search_path).await?,
            )),
        }
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.writer
    }

    /// Readiness: the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        self.reader.ping().await.is_ok()
    }
}

/// Microseconds since the epoch, the stored form of every time.
pub(crate) fn micros(t: crate::domain::Timestamp) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn time(micros: i64) -> crate::domain::Timestamp {
    crate::clock::from_micros(micros)
}
