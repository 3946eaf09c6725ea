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

/// How long a query waits for a connection (and a new connection for the
/// database to answer) before it fails as unavailable.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

/// Where a URL points, for messages: `PostgreSQL at db.example.com:5432`,
/// `SQLite database ./sessiond.db`. Never the password.
pub fn describe(url: &str) -> String {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let file = rest.trim_start_matches("//");
        let file = file.split('?').next().unwrap_or_default();
        return format!("SQLite database {file}");
    }
    match url::Url::parse(url) {
        Ok(parsed) => format!(
            "PostgreSQL at {}:{}",
            parsed.host_str().unwrap_or("localhost"),
            parsed.port().unwrap_or(5432)
        ),
        Err(_) => "the database (unparsable URL)".to_owned(),
    }
}

/// Connects with the default acquire timeout; see [`connect_with`].
pub async fn connect(
    url: &str,
    max_connections: u32,
    search_path: Option<&str>,
) -> anyhow::Result<DatabaseConnection> {
    connect_with(url, max_connections, search_path, DEFAULT_ACQUIRE_TIMEOUT).await
}

/// Connects, tunes the backend, and applies pending migrations.
///
/// SQLite runs in WAL mode with synchronous=NORMAL and a busy timeout, so
/// readers never wait for the writer and writers queue instead of failing.
/// `search_path` (PostgreSQL only) points the pool at one schema; tests use
/// it to isolate themselves.
/// A database that cannot be reached fails within `acquire_timeout`, here
/// and for every later query, so callers answer "unavailable" quickly
/// instead of queueing behind a dead server.
pub async fn connect_with(
    url: &str,
    max_connections: u32,
    search_path: Option<&str>,
    acquire_timeout: Duration,
) -> anyhow::Result<DatabaseConnection> {
    let backend = Backend::of_url(url)?;
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections.max(1))
        .min_connections(1)
        .connect_timeout(acquire_timeout)
        .acquire_timeout(acquire_timeout)
        .sqlx_logging(false);
    // sqlx times every connection acquire and reports it as a trace event,
    // which `telemetry::metrics::AcquireTimer` turns into the pool's wait
    // histogram; nothing is logged.
    options
        .map_sqlx_postgres_pool_opts(|o| o.acquire_time_level(log::LevelFilter::Trace))
        .map_sqlx_sqlite_pool_opts(|o| o.acquire_time_level(log::LevelFilter::Trace));
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
        .with_context(|| format!("cannot connect to {}", describe(url)))?;
    migrate(&db, url).await?;
    if backend == Backend::Sqlite {
        db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await
            .with_context(|| format!("cannot write to {}", describe(url)))?;
    }
    Ok(db)
}

/// Applies pending migrations, if there are any. A database that is up to
/// date is left alone and nothing is logged, so the second pool that
/// SQLite opens (and every restart) does not log the migrations again.
async fn migrate(db: &DatabaseConnection, url: &str) -> anyhow::Result<()> {
    let failed = || format!("cannot apply database migrations to {}", describe(url));
    let pending = Migrator::get_pending_migrations(db)
        .await
        .with_context(failed)?;
    if pending.is_empty() {
        return Ok(());
    }
    Migrator::up(db, None).await.with_context(failed)?;
    tracing::info!(
        database = %describe(url),
        applied = pending.len(),
        "database migrations applied"
    );
    Ok(())
}

/// Fails unless the SQLite database takes writes: a read-only file or
/// mount would otherwise start, report ready, and fail every write. Needs a
/// pool of one connection, so both statements run on the same connection.
pub async fn ensure_writable(db: &DatabaseConnection, url: &str) -> anyhow::Result<()> {
    let not_writable = || format!("{} is not writable", describe(url));
    db.execute_unprepared("BEGIN IMMEDIATE")
        .await
        .with_context(not_writable)?;
    // A read-only connection takes the lock; only a real write fails.
    let probe = db
        .execute_unprepared("CREATE TABLE sessiond_write_probe (x INTEGER)")
        .await;
    db.execute_unprepared("ROLLBACK")
        .await
        .with_context(not_writable)?;
    probe.with_context(not_writable)?;
    Ok(())
}
