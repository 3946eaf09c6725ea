//! Assembly: connect, migrate, provision keys, bind, serve.

use std::sync::Arc;

use anyhow::Context;

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::password::PasswordHasher;
use crate::service::{Services, Settings};
use crate::store::Store;

/// Builds the services over a connected, migrated store.
pub async fn services(
    config: &Config,
    store: Store,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Services> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let hasher = PasswordHasher::new(
        argon2::Params::default(),
        config.hash_concurrency.unwrap_or(cores),
        config.hash_queue,
    )?;
    let instance_id = store
        .instance_id(clock.now())
        .await
        .context("cannot read the instance id")?;
    Ok(Services::new(
        store,
        Arc::new(hasher),
        clock,
        Settings::from_config(config)?,
        instance_id,
    ))
}

/// Services with no database, for rendering the contract documents.
pub fn offline_services(config: &Config) -> anyhow::Result<Services> {
    let hasher = PasswordHasher::new(argon2::Params::default(), 1, 0)?;
    Ok(Services::new(
        Store::new(Default::default()),
        Arc::new(hasher),
        Arc::new(SystemClock),
        Settings::from_config(config)?,
        String::new(),
    ))
}

pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    Store::open_with(
        &config.database_url,
        config.database_max_connections,
        None,
        std::time::Duration::from_millis(config.database_acquire_timeout_ms.max(1)),
    )
    .await
}

/// Runs the server until SIGINT or SIGTERM, then drains in-flight requests.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    // The TLS files are checked before anything else starts.
    let tls = crate::server::tls::TlsFiles::from_settings(
        config.tls_cert.as_deref(),
        config.tls_key.as_deref(),
    )?
    .map(crate::server::tls::Tls::load)
    .transpose()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let traces = start_tracing(&config)?;
    crate::telemetry::metrics::handle();
    let store = open_store(&config).await?;
    let services = services(&config, store, Arc::new(SystemClock)).await?;
    let new_admin_secret = services
        .auth
        .bootstrap(config.bootstrap_admin_key.as_deref())
        .await?;

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let local = listener.local_addr().unwrap_or(config.listen);
    if let Some(secret) = new_admin_secret {
        // Printed once, on stderr, never logged.
        eprintln!(
            "\nsessiond created an admin API key (shown only now):\n\n    {secret}\n\nSwagger UI: {scheme}://{local}/swagger-ui/  (Authorize with this key)\n"
        );
    }
    tracing::info!(address = %local, tls = tls.is_some(), swagger_ui = %format!("{scheme}://{local}/swagger-ui/"), "sessiond listening");

    let purger = tokio::spawn(purge_periodically(
        services.clone(),
        chrono::Duration::minutes(
            i64::try_from(config.purge_after_minutes).unwrap_or(i64::MAX / 60_000),
        ),
    ));
    let access_writer = tokio::spawn(
        services
            .accesses
            .clone()
            .flush_periodically(ACCESS_FLUSH_INTERVAL),
    );
    let accesses = services.accesses.clone();
    let options = crate::server::ServerOptions {
        header_read_timeout: std::time::Duration::from_secs(
            config.header_read_timeout_seconds.max(1),
        ),
        drain: std::time::Duration::from_millis(config.shutdown_drain_ms),
        grace: std::time::Duration::from_secs(10),
    };
    let metrics_server = match config.metrics_listen {
        Some(address) => Some(serve_metrics(address, services.store.clone(), options).await?),
        None => None,
    };
    let routes = crate::api::routes_with(services, config.metrics_listen.is_none());
    let served = match tls {
        None => crate::server::run(listener, routes, shutdown_signal(), options).await,
        Some(tls) => {
            let reloader = tls
                .spawn_reloader(crate::server::tls::POLL_INTERVAL)
                .context("cannot watch for SIGHUP")?;
            let served =
                crate::server::run_tls(listener, routes, shutdown_signal(), options, tls).await;
            reloader.abort();
            served
        }
    }
    .context("server failed");
    purger.abort();
    access_writer.abort();
    if let Some(metrics_server) = metrics_server {
        metrics_server.abort();
    }
    if let Some(traces) = traces {
        traces.shutdown().await;
    }
    // Accesses recorded by the last requests are written before exit.
    if let Err(err) = accesses.flush().await {
        tracing::warn!(error = ?err, "writing the last session accesses failed");
    }
    served
}

/// Starts exporting traces when an OTLP endpoint is set. The collector is
/// not contacted here: one that is down only fails exports, later.
fn start_tracing(config: &Config) -> anyhow::Result<Option<crate::telemetry::otlp::Exporter>> {
    match config.otlp_endpoint.as_deref().map(str::trim) {
        Some(endpoint) if !endpoint.is_empty() => {
            Ok(Some(crate::telemetry::otlp::enable(endpoint)?))
        }
        _ => Ok(None),
    }
}

/// Serves `/metrics` alone on `address`, until the returned task is
/// aborted.
async fn serve_metrics(
    address: std::net::SocketAddr,
    store: Store,
    options: crate::server::ServerOptions,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address} for metrics"))?;
    let local = listener.local_addr().unwrap_or(address);
    tracing::info!(address = %local, "serving /metrics");
    let app = poem::Route::new().at("/metrics", crate::telemetry::metrics::endpoint(store, true));
    Ok(tokio::spawn(async move {
        if let Err(err) = crate::server::run(listener, app, std::future::pending(), options).await {
            tracing::warn!(error = %err, "the metrics server failed");
        }
    }))
}

/// How often recorded token uses are written to the store: the longest
/// another node may see a session's last access late.
const ACCESS_FLUSH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Purges ended sessions every five minutes. Every node may run it; the
/// deletes are idempotent.
async fn purge_periodically(services: Services, retention: chrono::Duration) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(300));
    loop {
        tick.tick().await;
        match services.sessions.purge_ended(retention).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sessions = n, "purged ended sessions"),
            Err(err) => tracing::warn!(error = ?err, "purging ended sessions failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
