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
            "\nsessiond created an admin API key (shown only now):\n\n    {secret}\n\nSwagger UI: http://{local}/swagger-ui/  (Authorize with this key)\n"
        );
    }
    tracing::info!(address = %local, swagger_ui = %format!("http://{local}/swagger-ui/"), "sessiond listening");

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
    let served = crate::server::run(
        listener,
        crate::api::routes(services),
        shutdown_signal(),
        options,
    )
    .await
    .context("server failed");
    purger.abort();
    access_writer.abort();
    // Accesses recorded by the last requests are written before exit.
    if let Err(err) = accesses.flush().await {
        tracing::warn!(error = ?err, "writing the last session accesses failed");
    }
    served
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
