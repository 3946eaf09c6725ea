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
/// WAL is set once, by [`enable_wal`], before the pool opens: it is stored
/// in the file, and a pool connection that set it again would need a lock
/// that the busy timeout cannot wait for, failing as "database is locked"
/// whenever the pool grows while another connection writes.
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
        enable_wal(url).await?;
        options.map_sqlx_sqlite_opts(|o| {
            o.synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
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
    Ok(db)
}

/// How long a SQLite statement waits for a lock another connection holds.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Puts the SQLite file in WAL mode, creating it if needed, on a connection
/// of its own that is closed again. A file already in WAL mode is only
/// read, so this never contends with a running node's writes; a file that
/// is not yet in WAL mode is switched, retried while another connection
/// holds the lock. A WAL left large by an earlier run is truncated.
async fn enable_wal(url: &str) -> anyhow::Result<()> {
    use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
    use sea_orm::sqlx::{ConnectOptions as _, Connection as _};
    let failed = || format!("cannot open {}", describe(url));
    let options = url
        .parse::<SqliteConnectOptions>()
        .with_context(failed)?
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .create_if_missing(true);
    let mut conn: SqliteConnection = options.connect().await.with_context(failed)?;
    let deadline = tokio::time::Instant::now() + SQLITE_BUSY_TIMEOUT;
    let result = loop {
        match switch_to_wal(&mut conn).await {
            Err(err) if is_busy(&err) && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => break other,
        }
    };
    let _ = conn.close().await;
    result.with_context(|| format!("cannot put {} in WAL mode", describe(url)))
}

async fn switch_to_wal(
    conn: &mut sea_orm::sqlx::sqlite::SqliteConnection,
) -> Result<(), sea_orm::sqlx::Error> {
    use sea_orm::sqlx::Row as _;
    // Reading the schema first makes the connection see the file's stored
    // mode, so the query form below reports it instead of the default.
    sea_orm::sqlx::query("SELECT count(*) FROM sqlite_master")
        .execute(&mut *conn)
        .await?;
    let mode: String = sea_orm::sqlx::query("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    if !mode.eq_ignore_ascii_case("wal") {
        sea_orm::sqlx::query("PRAGMA journal_mode = WAL")
            .execute(&mut *conn)
            .await?;
    }
    sea_orm::sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// SQLITE_BUSY or SQLITE_LOCKED, in any of their extended forms.
fn is_busy(err: &sea_orm::sqlx::Error) -> bool {
    match err {
        sea_orm::sqlx::Error::Database(db) => db
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .is_some_and(|code| matches!(code & 0xff, 5 | 6)),
        _ => false,
    }
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
