//! Command line and configuration. Every setting is a flag and a `SESSIOND_*`
//! environment variable; the doc comments are the `--help` text.

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "sessiond",
    version,
    about = "Session service speaking ZITADEL's Session API v2alpha and OAM's Session Management REST API over one store"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Write the OpenAPI contract documents (YAML and JSON) into a directory.
    Openapi {
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input.
    Add {
        #[arg(long)]
        login_name: String,
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from standard input (required).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an API key and print its secret once.
    Create {
        #[arg(long)]
        name: String,
        /// Comma-separated: session.read, session.write, session.delete,
        /// user.read, user.write, key.write.
        #[arg(long, value_delimiter = ',', required = true)]
        permissions: Vec<String>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SessionLimitPolicy {
    /// A create beyond the limit fails.
    Deny,
    /// A create beyond the limit terminates the user's oldest active session.
    EvictOldest,
}

#[derive(Clone, Debug, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(
        long,
        env = "SESSIOND_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: SocketAddr,

    /// Database URL: `sqlite://FILE?mode=rwc` (embedded default) or
    /// `postgres://USER@HOST/DB`.
    #[arg(
        long,
        env = "SESSIOND_DATABASE_URL",
        default_value = "sqlite://sessiond.db?mode=rwc",
        global = true
    )]
    pub database_url: String,

    /// Maximum database connections in the pool.
    #[arg(
        long,
        env = "SESSIOND_DATABASE_MAX_CONNECTIONS",
        default_value_t = 8,
        global = true
    )]
    pub database_max_connections: u32,

    /// Milliseconds a query waits for a database connection before the
    /// request fails with 503; also the timeout for opening one.
    #[arg(
        long,
        env = "SESSIOND_DATABASE_ACQUIRE_TIMEOUT_MS",
        default_value_t = 1000,
        global = true
    )]
    pub database_acquire_timeout_ms: u64,

    /// Seconds a client has to send a request's headers (and to start its
    /// next request on a kept-alive connection) before the connection is
    /// closed.
    #[arg(
        long,
        env = "SESSIOND_HEADER_READ_TIMEOUT_SECONDS",
        default_value_t = 10,
        global = true
    )]
    pub header_read_timeout_seconds: u64,

    /// Seconds a client has to send a request's body before it is answered
    /// with 400.
    #[arg(
        long,
        env = "SESSIOND_BODY_READ_TIMEOUT_SECONDS",
        default_value_t = 20,
        global = true
    )]
    pub body_read_timeout_seconds: u64,

    /// Milliseconds the server keeps serving after SIGTERM, answering with
    /// `Connection: close`, before it stops accepting.
    #[arg(
        long,
        env = "SESSIOND_SHUTDOWN_DRAIN_MS",
        default_value_t = 1000,
        global = true
    )]
    pub shutdown_drain_ms: u64,

    /// Name of this deployment's identity store.
    #[arg(
        long,
        env = "SESSIOND_ID_STORE_NAME",
        default_value = "UserIdentityStore",
        global = true
    )]
    pub id_store_name: String,

    /// Consecutive wrong passwords after which a user is locked; 0 turns
    /// lockout off.
    #[arg(
        long,
        env = "SESSIOND_LOCKOUT_THRESHOLD",
        default_value_t = 10,
        global = true
    )]
    pub lockout_threshold: u32,

    /// Search limit used when a ZITADEL search gives none.
    #[arg(
        long,
        env = "SESSIOND_SEARCH_DEFAULT_LIMIT",
        default_value_t = 1000,
        global = true
    )]
    pub search_default_limit: u64,

    /// Largest search limit a ZITADEL search may ask for.
    #[arg(
        long,
        env = "SESSIOND_SEARCH_MAX_LIMIT",
        default_value_t = 1000,
        global = true
    )]
    pub search_max_limit: u64,

    /// Most sessions an OAM search or delete returns.
    #[arg(
        long,
        env = "SESSIOND_OAM_MAX_RESULTS",
        default_value_t = 28,
        global = true
    )]
    pub oam_max_results: u64,

    /// Lifetime of sessions created through OAM, in minutes; 0 = none.
    #[arg(
        long,
        env = "SESSIOND_OAM_SESSION_LIFETIME_MINUTES",
        default_value_t = 1440,
        global = true
    )]
    pub oam_session_lifetime_minutes: u64,

    /// Idle timeout of sessions created through OAM, in minutes; 0 = none.
    #[arg(
        long,
        env = "SESSIOND_OAM_IDLE_TIMEOUT_MINUTES",
        default_value_t = 15,
        global = true
    )]
    pub oam_idle_timeout_minutes: u64,

    /// Lifetime of sessions created through ZITADEL, in minutes; 0 = none.
    #[arg(
        long,
        env = "SESSIOND_ZITADEL_SESSION_LIFETIME_MINUTES",
        default_value_t = 0,
        global = true
    )]
    pub zitadel_session_lifetime_minutes: u64,

    /// Idle timeout of sessions created through ZITADEL, in minutes; 0 = none.
    #[arg(
        long,
        env = "SESSIOND_ZITADEL_IDLE_TIMEOUT_MINUTES",
        default_value_t = 0,
        global = true
    )]
    pub zitadel_idle_timeout_minutes: u64,

    /// Most active sessions per user; 0 = unlimited.
    #[arg(
        long,
        env = "SESSIOND_MAX_SESSIONS_PER_USER",
        default_value_t = 0,
        global = true
    )]
    pub max_sessions_per_user: u64,

    /// What a create beyond the per-user limit does.
    #[arg(long, env = "SESSIOND_SESSION_LIMIT_POLICY", value_enum, default_value_t = SessionLimitPolicy::Deny, global = true)]
    pub session_limit_policy: SessionLimitPolicy,

    /// Most filters in one search (ZITADEL queries, OAM attribute filters);
    /// at most the documented 20.
    #[arg(
        long,
        env = "SESSIOND_MAX_SEARCH_FILTERS",
        default_value_t = crate::domain::limits::MAX_SEARCH_FILTERS,
        global = true
    )]
    pub max_search_filters: usize,

    /// Most metadata keys (OAM user attributes) on one session; at most the
    /// documented 100.
    #[arg(
        long,
        env = "SESSIOND_MAX_METADATA_KEYS",
        default_value_t = crate::domain::limits::MAX_METADATA_KEYS,
        global = true
    )]
    pub max_metadata_keys: usize,

    /// Longest metadata key, in characters; at most the documented 200.
    #[arg(
        long,
        env = "SESSIOND_MAX_METADATA_KEY_LENGTH",
        default_value_t = crate::domain::limits::MAX_METADATA_KEY_LENGTH,
        global = true
    )]
    pub max_metadata_key_length: usize,

    /// Largest metadata value, in bytes; at most the documented 4096.
    #[arg(
        long,
        env = "SESSIOND_MAX_METADATA_VALUE_BYTES",
        default_value_t = crate::domain::limits::MAX_METADATA_VALUE_BYTES,
        global = true
    )]
    pub max_metadata_value_bytes: usize,

    /// Minutes a terminated or expired session is kept before it is purged.
    #[arg(
        long,
        env = "SESSIOND_PURGE_AFTER_MINUTES",
        default_value_t = 1440,
        global = true
    )]
    pub purge_after_minutes: u64,

    /// Password hashes computed at once (default: the number of cores).
    #[arg(long, env = "SESSIOND_HASH_CONCURRENCY", global = true)]
    pub hash_concurrency: Option<usize>,

    /// Password checks that may wait for a hashing slot before calls fail
    /// with 429.
    #[arg(
        long,
        env = "SESSIOND_HASH_QUEUE",
        default_value_t = 256,
        global = true
    )]
    pub hash_queue: usize,

    /// Secret of an admin key that exists after start-up (at least 32
    /// characters).
    #[arg(
        long,
        env = "SESSIOND_BOOTSTRAP_ADMIN_KEY",
        hide_env_values = true,
        global = true
    )]
    pub bootstrap_admin_key: Option<String>,

    /// Whether Swagger UI keeps the keys authorized in it across reloads.
    /// Swagger UI stores them in clear text in the browser's localStorage;
    /// set to false on shared machines.
    #[arg(
        long,
        env = "SESSIOND_SWAGGER_UI_PERSIST_AUTHORIZATION",
        default_value_t = true,
        action = clap::ArgAction::Set,
        global = true
    )]
    pub swagger_ui_persist_authorization: bool,

    /// Log format.
    #[arg(long, env = "SESSIOND_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Log filter, in `tracing` env-filter syntax.
    #[arg(long, env = "SESSIOND_LOG", default_value = "info", global = true)]
    pub log: String,
}

impl Config {
    /// Settings for tests: the given database, defaults everywhere else.
    pub fn for_tests(database_url: &str) -> Config {
        let mut cli = Cli::parse_from(["sessiond"]);
        cli.config.database_url = database_url.to_owned();
        cli.config.bootstrap_admin_key = None;
        cli.config.listen = "127.0.0.1:0".parse().expect("valid address");
        cli.config
    }
}
