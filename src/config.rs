//! Command line and configuration. Every setting is a flag, a `SESSIOND_*`
//! environment variable and a key of the configuration file (`--config`);
//! the doc comments are the `--help` text. Precedence: flags, then the
//! environment, then the file, then the defaults (see [`load`]).

pub mod load;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "sessiond",
    version,
    about = "Session service speaking ZITADEL's Session API v2alpha and OAM's Session Management REST API over one store",
    after_help = "Without a command, sessiond runs the server (`serve`), with the server settings taken from the environment and the configuration file."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every command takes.
#[derive(Clone, Debug, Args)]
pub struct GlobalArgs {
    /// Configuration file (TOML): `setting = value` for any setting, named
    /// as its variable without `SESSIOND_` in lower case (`lockout_threshold
    /// = 5`). Flags and environment variables win over it.
    #[arg(long, env = "SESSIOND_CONFIG", value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,

    /// Database URL: `sqlite://FILE?mode=rwc` (embedded default) or
    /// `postgres://USER@HOST/DB`.
    #[arg(
        long,
        env = "SESSIOND_DATABASE_URL",
        default_value = "sqlite://sessiond.db?mode=rwc",
        global = true
    )]
    pub database_url: String,

    /// Log format.
    #[arg(long, env = "SESSIOND_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Log filter, in `tracing` env-filter syntax.
    #[arg(long, env = "SESSIOND_LOG", default_value = "info", global = true)]
    pub log: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default when no command is given).
    Serve(Box<ServeArgs>),
    /// Apply database migrations and exit.
    Migrate,
    /// Write the OpenAPI contract documents (YAML and JSON) into a directory.
    Openapi {
        /// Directory to write the documents into (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// List and revoke sessions.
    #[command(subcommand)]
    Session(SessionCommand),
    /// Write a consistent copy of the SQLite database into a new file
    /// (`VACUUM INTO`), safe next to a running server. On PostgreSQL use
    /// `pg_dump`.
    Backup {
        /// File to write the backup into; it must not exist yet.
        file: PathBuf,
    },
    /// Print the effective configuration (flags, environment, file and
    /// defaults) as TOML. The bootstrap admin key is not shown.
    Config,
    /// Print a shell completion script, e.g.
    /// `sessiond completions bash > /etc/bash_completion.d/sessiond`.
    Completions {
        /// Shell to write the script for.
        shell: clap_complete::Shell,
    },
}

/// `--json`: machine-readable output instead of a table.
#[derive(Clone, Copy, Debug, Default, Args)]
pub struct Output {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input.
    Add {
        /// Login name, 1 to 200 characters, unique regardless of case.
        #[arg(long)]
        login_name: String,
        /// Name to display (default: the login name).
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from standard input (required).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List users, by login name.
    List {
        /// Most users to list.
        #[arg(long, default_value_t = 1000)]
        limit: u64,
        #[command(flatten)]
        output: Output,
    },
    /// Lock a user: password checks fail until it is unlocked.
    Lock {
        /// User id or login name.
        user: String,
        #[command(flatten)]
        output: Output,
    },
    /// Unlock a user and clear its count of wrong passwords.
    Unlock {
        /// User id or login name.
        user: String,
        #[command(flatten)]
        output: Output,
    },
    /// Delete a user.
    Delete {
        /// User id or login name.
        user: String,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an API key and print its secret once.
    Create {
        /// Name of the key, to tell keys apart.
        #[arg(long)]
        name: String,
        /// Comma-separated: session.read, session.write, session.delete,
        /// user.read, user.write, key.write.
        #[arg(long, value_delimiter = ',', required = true)]
        permissions: Vec<String>,
    },
    /// List API keys, revoked ones included.
    List {
        #[command(flatten)]
        output: Output,
    },
    /// Revoke an API key. A running server stops accepting it within
    /// seconds (it caches keys briefly).
    Revoke {
        /// Key id.
        id: String,
        #[command(flatten)]
        output: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// List sessions that are not terminated, newest first.
    List {
        /// Only the sessions of this user (id or login name).
        #[arg(long, value_name = "USER")]
        user: Option<String>,
        /// Most sessions to list.
        #[arg(long, default_value_t = 1000)]
        limit: u64,
        #[command(flatten)]
        output: Output,
    },
    /// Terminate one session, or every session of a user.
    Revoke {
        /// Session id.
        #[arg(required_unless_present = "user", conflicts_with = "user")]
        id: Option<String>,
        /// Terminate every session of this user (id or login name) instead.
        #[arg(long, value_name = "USER")]
        user: Option<String>,
        #[command(flatten)]
        output: Output,
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

/// The server's options (`sessiond serve`). Other commands read them from
/// the environment and the configuration file.
#[derive(Clone, Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SESSIOND_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Maximum database connections in the pool.
    #[arg(long, env = "SESSIOND_DATABASE_MAX_CONNECTIONS", default_value_t = 8)]
    pub database_max_connections: u32,

    /// Milliseconds a query waits for a database connection before the
    /// request fails with 503; also the timeout for opening one.
    #[arg(
        long,
        env = "SESSIOND_DATABASE_ACQUIRE_TIMEOUT_MS",
        default_value_t = 1000
    )]
    pub database_acquire_timeout_ms: u64,

    /// Seconds a client has to send a request's headers (and to start its
    /// next request on a kept-alive connection) before the connection is
    /// closed.
    #[arg(
        long,
        env = "SESSIOND_HEADER_READ_TIMEOUT_SECONDS",
        default_value_t = 10
    )]
    pub header_read_timeout_seconds: u64,

    /// Seconds a client has to send a request's body before it is answered
    /// with 400.
    #[arg(long, env = "SESSIOND_BODY_READ_TIMEOUT_SECONDS", default_value_t = 20)]
    pub body_read_timeout_seconds: u64,

    /// Milliseconds the server keeps serving after SIGTERM, answering with
    /// `Connection: close`, before it stops accepting.
    #[arg(long, env = "SESSIOND_SHUTDOWN_DRAIN_MS", default_value_t = 1000)]
    pub shutdown_drain_ms: u64,

    /// Name of this deployment's identity store.
    #[arg(
        long,
        env = "SESSIOND_ID_STORE_NAME",
        default_value = "UserIdentityStore"
    )]
    pub id_store_name: String,

    /// Consecutive wrong passwords after which a user is locked; 0 turns
    /// lockout off.
    #[arg(long, env = "SESSIOND_LOCKOUT_THRESHOLD", default_value_t = 10)]
    pub lockout_threshold: u32,

    /// Search limit used when a ZITADEL search gives none.
    #[arg(long, env = "SESSIOND_SEARCH_DEFAULT_LIMIT", default_value_t = 1000)]
    pub search_default_limit: u64,

    /// Largest search limit a ZITADEL search may ask for.
    #[arg(long, env = "SESSIOND_SEARCH_MAX_LIMIT", default_value_t = 1000)]
    pub search_max_limit: u64,

    /// Most sessions an OAM search or delete returns.
    #[arg(long, env = "SESSIOND_OAM_MAX_RESULTS", default_value_t = 28)]
    pub oam_max_results: u64,

    /// Lifetime of sessions created through OAM, in minutes; 0 = none.
    #[arg(
        long,
        env = "SESSIOND_OAM_SESSION_LIFETIME_MINUTES",
        default_value_t = 1440
    )]
    pub oam_session_lifetime_minutes: u64,

    /// Idle timeout of sessions created through OAM, in minutes; 0 = none.
    #[arg(long, env = "SESSIOND_OAM_IDLE_TIMEOUT_MINUTES", default_value_t = 15)]
    pub oam_idle_timeout_minutes: u64,

    /// Lifetime of sessions created through ZITADEL, in minutes; 0 = none.
    #[arg(
        long,
        env = "SESSIOND_ZITADEL_SESSION_LIFETIME_MINUTES",
        default_value_t = 0
    )]
    pub zitadel_session_lifetime_minutes: u64,

    /// Idle timeout of sessions created through ZITADEL, in minutes; 0 = none.
    #[arg(
        long,
        env = "SESSIOND_ZITADEL_IDLE_TIMEOUT_MINUTES",
        default_value_t = 0
    )]
    pub zitadel_idle_timeout_minutes: u64,

    /// Most active sessions per user; 0 = unlimited.
    #[arg(long, env = "SESSIOND_MAX_SESSIONS_PER_USER", default_value_t = 0)]
    pub max_sessions_per_user: u64,

    /// What a create beyond the per-user limit does.
    #[arg(long, env = "SESSIOND_SESSION_LIMIT_POLICY", value_enum, default_value_t = SessionLimitPolicy::Deny)]
    pub session_limit_policy: SessionLimitPolicy,

    /// Most filters in one search (ZITADEL queries, OAM attribute filters);
    /// at most the documented 20.
    #[arg(
        long,
        env = "SESSIOND_MAX_SEARCH_FILTERS",
        default_value_t = crate::domain::limits::MAX_SEARCH_FILTERS
    )]
    pub max_search_filters: usize,

    /// Most metadata keys (OAM user attributes) on one session; at most the
    /// documented 100.
    #[arg(
        long,
        env = "SESSIOND_MAX_METADATA_KEYS",
        default_value_t = crate::domain::limits::MAX_METADATA_KEYS
    )]
    pub max_metadata_keys: usize,

    /// Longest metadata key, in characters; at most the documented 200.
    #[arg(
        long,
        env = "SESSIOND_MAX_METADATA_KEY_LENGTH",
        default_value_t = crate::domain::limits::MAX_METADATA_KEY_LENGTH
    )]
    pub max_metadata_key_length: usize,

    /// Largest metadata value, in bytes; at most the documented 4096.
    #[arg(
        long,
        env = "SESSIOND_MAX_METADATA_VALUE_BYTES",
        default_value_t = crate::domain::limits::MAX_METADATA_VALUE_BYTES
    )]
    pub max_metadata_value_bytes: usize,

    /// Minutes a terminated or expired session is kept before it is purged.
    #[arg(long, env = "SESSIOND_PURGE_AFTER_MINUTES", default_value_t = 1440)]
    pub purge_after_minutes: u64,

    /// Password hashes computed at once (default: the number of cores).
    #[arg(long, env = "SESSIOND_HASH_CONCURRENCY")]
    pub hash_concurrency: Option<usize>,

    /// Password checks that may wait for a hashing slot before calls fail
    /// with 429.
    #[arg(long, env = "SESSIOND_HASH_QUEUE", default_value_t = 256)]
    pub hash_queue: usize,

    /// Secret of an admin key that exists after start-up (at least 32
    /// characters).
    #[arg(long, env = "SESSIOND_BOOTSTRAP_ADMIN_KEY", hide_env_values = true)]
    pub bootstrap_admin_key: Option<String>,

    /// Whether Swagger UI keeps the keys authorized in it across reloads.
    /// Swagger UI stores them in clear text in the browser's localStorage;
    /// set to false on shared machines.
    #[arg(
        long,
        env = "SESSIOND_SWAGGER_UI_PERSIST_AUTHORIZATION",
        default_value_t = true,
        action = clap::ArgAction::Set
    )]
    pub swagger_ui_persist_authorization: bool,

    /// PEM file with the server's certificate chain, leaf first. With
    /// `tls_key` the server speaks HTTPS only (HTTP/1.1 and HTTP/2, by
    /// ALPN) on `listen`; the files are read again on SIGHUP and when they
    /// change, and a bad new pair keeps the old one.
    #[arg(long, env = "SESSIOND_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,

    /// PEM file with the private key of `tls_cert` (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "SESSIOND_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,

    /// Address to serve `/metrics` (Prometheus) on, apart from the API
    /// (e.g. `127.0.0.1:9090`); unset or empty serves it on `listen`.
    #[arg(long, env = "SESSIOND_METRICS_LISTEN", value_name = "ADDRESS")]
    pub metrics_listen: Option<SocketAddr>,

    /// OpenTelemetry collector to export traces to over OTLP/HTTP
    /// (protobuf), e.g. `http://127.0.0.1:4318` (`/v1/traces` is added);
    /// unset or empty exports nothing.
    #[arg(long, env = "SESSIOND_OTLP_ENDPOINT", value_name = "URL")]
    pub otlp_endpoint: Option<String>,
}

/// Every setting, resolved. Built by [`load`] from [`GlobalArgs`] and
/// [`ServeArgs`].
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: String,
    pub database_max_connections: u32,
    pub database_acquire_timeout_ms: u64,
    pub header_read_timeout_seconds: u64,
    pub body_read_timeout_seconds: u64,
    pub shutdown_drain_ms: u64,
    pub id_store_name: String,
    pub lockout_threshold: u32,
    pub search_default_limit: u64,
    pub search_max_limit: u64,
    pub oam_max_results: u64,
    pub oam_session_lifetime_minutes: u64,
    pub oam_idle_timeout_minutes: u64,
    pub zitadel_session_lifetime_minutes: u64,
    pub zitadel_idle_timeout_minutes: u64,
    pub max_sessions_per_user: u64,
    pub session_limit_policy: SessionLimitPolicy,
    pub max_search_filters: usize,
    pub max_metadata_keys: usize,
    pub max_metadata_key_length: usize,
    pub max_metadata_value_bytes: usize,
    pub purge_after_minutes: u64,
    pub hash_concurrency: Option<usize>,
    pub hash_queue: usize,
    pub bootstrap_admin_key: Option<String>,
    pub swagger_ui_persist_authorization: bool,
    pub log_format: LogFormat,
    pub log: String,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub metrics_listen: Option<SocketAddr>,
    pub otlp_endpoint: Option<String>,
}

impl Config {
    pub fn new(global: GlobalArgs, serve: ServeArgs) -> Config {
        let GlobalArgs {
            config: _,
            database_url,
            log_format,
            log,
        } = global;
        let ServeArgs {
            listen,
            database_max_connections,
            database_acquire_timeout_ms,
            header_read_timeout_seconds,
            body_read_timeout_seconds,
            shutdown_drain_ms,
            id_store_name,
            lockout_threshold,
            search_default_limit,
            search_max_limit,
            oam_max_results,
            oam_session_lifetime_minutes,
            oam_idle_timeout_minutes,
            zitadel_session_lifetime_minutes,
            zitadel_idle_timeout_minutes,
            max_sessions_per_user,
            session_limit_policy,
            max_search_filters,
            max_metadata_keys,
            max_metadata_key_length,
            max_metadata_value_bytes,
            purge_after_minutes,
            hash_concurrency,
            hash_queue,
            bootstrap_admin_key,
            swagger_ui_persist_authorization,
            tls_cert,
            tls_key,
            metrics_listen,
            otlp_endpoint,
        } = serve;
        Config {
            listen,
            database_url,
            database_max_connections,
            database_acquire_timeout_ms,
            header_read_timeout_seconds,
            body_read_timeout_seconds,
            shutdown_drain_ms,
            id_store_name,
            lockout_threshold,
            search_default_limit,
            search_max_limit,
            oam_max_results,
            oam_session_lifetime_minutes,
            oam_idle_timeout_minutes,
            zitadel_session_lifetime_minutes,
            zitadel_idle_timeout_minutes,
            max_sessions_per_user,
            session_limit_policy,
            max_search_filters,
            max_metadata_keys,
            max_metadata_key_length,
            max_metadata_value_bytes,
            purge_after_minutes,
            hash_concurrency,
            hash_queue,
            bootstrap_admin_key,
            swagger_ui_persist_authorization,
            log_format,
            log,
            tls_cert,
            tls_key,
            metrics_listen,
            otlp_endpoint,
        }
    }

    /// Settings for tests: the given database, the environment's settings
    /// (no configuration file), defaults everywhere else.
    pub fn for_tests(database_url: &str) -> Config {
        let mut config = load::without_file();
        config.database_url = database_url.to_owned();
        config.bootstrap_admin_key = None;
        config.listen = "127.0.0.1:0".parse().expect("valid address");
        config
    }
}
