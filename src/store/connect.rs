use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> anyhow::Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            anyhow::bail!("unsupported database URL scheme; use sqlite:// or postgres://")
        }
    }
}

/// Connects, tunes the backend, and applies pending migrations.
///
/// SQLite runs in WAL mode with synchronous=NORMAL and a busy timeout, so
/// readers never wait for the writer and writers queue instead of failing.
/// `search_path` (PostgreSQL only) points the pool at one schema; tests use
/// it to isolate themselves.
pub async fn connect(
    url: &str,
    max_connections: u32,
    search_path: Option<&str>,
) -> anyhow::Result<DatabaseConnection> {
    let backend = Backend::of_url(url)?;
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections.max(1))
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false);
    if let Some(schema) = search_path {
        options.set_schema_search_path(schema.to_owned());
    }
    if backend == Backend::Sqlite {
        options.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .create_if_missing(true)
                // Keeps the WAL file from staying large after a burst.
                .pragma("journal_size_limit", "67108864")
        });
    }
    let db = Database::connect(options)
        .await
        .context("cannot connect to the database")?;
    Migrator::up(&db, None)
        .await
        .context("cannot apply database migrations")?;
    if backend == Backend::Sqlite {
        db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await
            .context("cannot checkpoint the SQLite WAL")?;
    }
    Ok(db)
}
