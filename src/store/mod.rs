//! The store: every database query lives here, as named functions that take
//! and return domain types. sea-orm models stop at this module's boundary.

mod connect;
pub mod instance;
pub mod keys;
pub mod sessions;
mod text;
pub mod users;

pub use connect::{Backend, DEFAULT_ACQUIRE_TIMEOUT, connect, connect_with, describe};

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

    /// Connects (and migrates) with the pools the backend wants and the
    /// default acquire timeout.
    pub async fn open(
        url: &str,
        max_connections: u32,
        search_path: Option<&str>,
    ) -> anyhow::Result<Store> {
        Store::open_with(url, max_connections, search_path, DEFAULT_ACQUIRE_TIMEOUT).await
    }

    /// The same, with the given acquire timeout.
    pub async fn open_with(
        url: &str,
        max_connections: u32,
        search_path: Option<&str>,
        acquire_timeout: std::time::Duration,
    ) -> anyhow::Result<Store> {
        match Backend::of_url(url)? {
            Backend::Sqlite => {
                let writer = connect_with(url, 1, search_path, acquire_timeout).await?;
                connect::ensure_writable(&writer, url).await?;
                let reader =
                    connect_with(url, max_connections, search_path, acquire_timeout).await?;
                Ok(Store { reader, writer })
            }
            Backend::Postgres => Ok(Store::new(
                connect_with(url, max_connections, search_path, acquire_timeout).await?,
            )),
        }
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.writer
    }

    /// Readiness: the database answers a trivial query within `within`.
    pub async fn ping(&self, within: std::time::Duration) -> bool {
        matches!(
            tokio::time::timeout(within, self.reader.ping()).await,
            Ok(Ok(()))
        )
    }
}

/// Microseconds since the epoch, the stored form of every time.
pub(crate) fn micros(t: crate::domain::Timestamp) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn time(micros: i64) -> crate::domain::Timestamp {
    crate::clock::from_micros(micros)
}
