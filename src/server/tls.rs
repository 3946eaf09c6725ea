//! Native TLS with rustls (ring provider): a certificate and key from PEM
//! files, offered with ALPN `h2` and `http/1.1` on the server's one port.
//!
//! The pair is read again on SIGHUP and when the files' contents change
//! (polled every few seconds). A new pair that cannot be used (unreadable,
//! bad PEM, key that does not fit) is reported and the old one stays in use;
//! new connections get the new pair, open ones keep theirs.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};
use tokio_rustls::TlsAcceptor;

/// How often the files are checked for new contents.
pub const POLL_INTERVAL: Duration = Duration::from_secs(5);

/// The certificate chain and key files.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    /// The files from the `tls_cert` and `tls_key` settings: none without
    /// either, an error with only one.
    pub fn from_settings(cert: Option<&Path>, key: Option<&Path>) -> anyhow::Result<Option<Self>> {
        match (cert, key) {
            (None, None) => Ok(None),
            (Some(cert), Some(key)) => Ok(Some(TlsFiles {
                cert: cert.to_owned(),
                key: key.to_owned(),
            })),
            (Some(_), None) => bail!(
                "SESSIOND_TLS_CERT (tls_cert) is set but SESSIOND_TLS_KEY (tls_key) is not: TLS needs both"
            ),
            (None, Some(_)) => bail!(
                "SESSIOND_TLS_KEY (tls_key) is set but SESSIOND_TLS_CERT (tls_cert) is not: TLS needs both"
            ),
        }
    }
}

/// The server's TLS state: the acceptor and the certificate it presents,
/// which [`Tls::reload`] replaces.
pub struct Tls {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    resolver: Arc<Resolver>,
    acceptor: TlsAcceptor,
    /// What the files held when last read, so a change is acted on (and a
    /// bad pair reported) once.
    seen: Mutex<Fingerprint>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Fingerprint {
    Contents([u8; 32]),
    Unreadable(String),
}

impl Fingerprint {
    fn of(read: &anyhow::Result<(Vec<u8>, Vec<u8>)>) -> Fingerprint {
        match read {
            Ok((cert_pem, key_pem)) => {
                let mut hash = Sha256::new();
                hash.update((cert_pem.len() as u64).to_be_bytes());
                hash.update(cert_pem);
                hash.update(key_pem);
                Fingerprint::Contents(hash.finalize().into())
            }
            Err(err) => Fingerprint::Unreadable(format!("{err:#}")),
        }
    }
}

/// Hands every handshake the current certificate.
#[derive(Debug)]
struct Resolver(RwLock<Arc<CertifiedKey>>);

impl Resolver {
    fn current(&self) -> Arc<CertifiedKey> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, key: Arc<CertifiedKey>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = key;
    }
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

impl Tls {
    /// Reads the pair; fails naming the file that cannot be read or used.
    pub fn load(files: TlsFiles) -> anyhow::Result<Arc<Tls>> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let read = read_pair(&files);
        let seen = Fingerprint::of(&read);
        let (cert_pem, key_pem) = read?;
        let key = parse_pair(&files, &cert_pem, &key_pem, &provider)?;
        let resolver = Arc::new(Resolver(RwLock::new(Arc::new(key))));
        let mut config = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .context("the TLS provider supports no protocol version")?
            .with_no_client_auth()
            .with_cert_resolver(resolver.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(Tls {
            seen: Mutex::new(seen),
            files,
            provider,
            resolver,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        }))
    }

    pub fn files(&self) -> &TlsFiles {
        &self.files
    }

    pub fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }

    /// The certificate chain new connections get, leaf first.
    pub fn certificate_chain(&self) -> Vec<CertificateDer<'static>> {
        self.resolver.current().cert.clone()
    }

    /// Reads the files again and, if they hold a usable pair, presents it
    /// from the next handshake on. On error the current pair stays.
    pub fn reload(&self) -> anyhow::Result<()> {
        self.apply(read_pair(&self.files))
    }

    /// Reloads if the files' contents differ from when they were last read.
    /// `Ok(false)`: nothing changed (or the change was already reported).
    pub fn reload_if_changed(&self) -> anyhow::Result<bool> {
        let read = read_pair(&self.files);
        if *self.seen.lock().unwrap_or_else(PoisonError::into_inner) == Fingerprint::of(&read) {
            return Ok(false);
        }
        self.apply(read).map(|()| true)
    }

    fn apply(&self, read: anyhow::Result<(Vec<u8>, Vec<u8>)>) -> anyhow::Result<()> {
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) = Fingerprint::of(&read);
        let (cert_pem, key_pem) = read?;
        let key = parse_pair(&self.files, &cert_pem, &key_pem, &self.provider)?;
        self.resolver.set(Arc::new(key));
        Ok(())
    }

    /// Reloads on SIGHUP and when the files change (checked every `poll`),
    /// logging each reload and each pair that cannot be used. The SIGHUP
    /// handler is installed before this returns.
    pub fn spawn_reloader(
        self: &Arc<Self>,
        poll: Duration,
    ) -> std::io::Result<tokio::task::JoinHandle<()>> {
        #[cfg(unix)]
        let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        let tls = self.clone();
        Ok(tokio::spawn(async move {
            let mut tick = tokio::time::interval(poll);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                #[cfg(unix)]
                let hup = hangup.recv();
                #[cfg(not(unix))]
                let hup = std::future::pending::<Option<()>>();
                tokio::select! {
                    _ = hup => tls.log_reload("SIGHUP", tls.reload().map(|()| true)),
                    _ = tick.tick() => tls.log_reload("file change", tls.reload_if_changed()),
                }
            }
        }))
    }

    fn log_reload(&self, trigger: &str, result: anyhow::Result<bool>) {
        match result {
            Ok(false) => {}
            Ok(true) => tracing::info!(
                trigger,
                cert = %self.files.cert.display(),
                "reloaded the TLS certificate"
            ),
            Err(err) => tracing::error!(
                trigger,
                error = format!("{err:#}"),
                "cannot reload the TLS certificate; keeping the current one"
            ),
        }
    }
}

fn read_pair(files: &TlsFiles) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let cert = std::fs::read(&files.cert).with_context(|| {
        format!(
            "cannot read the TLS certificate file {}",
            files.cert.display()
        )
    })?;
    let key = std::fs::read(&files.key)
        .with_context(|| format!("cannot read the TLS key file {}", files.key.display()))?;
    Ok((cert, key))
}

fn parse_pair(
    files: &TlsFiles,
    cert_pem: &[u8],
    key_pem: &[u8],
    provider: &CryptoProvider,
) -> anyhow::Result<CertifiedKey> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            anyhow!(
                "the TLS certificate file {} is not valid PEM: {e}",
                files.cert.display()
            )
        })?;
    if chain.is_empty() {
        bail!(
            "the TLS certificate file {} holds no PEM certificate (BEGIN CERTIFICATE)",
            files.cert.display()
        );
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| {
        anyhow!(
            "the TLS key file {} holds no usable PEM private key: {e}",
            files.key.display()
        )
    })?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| {
        anyhow!(
            "cannot use the key in {} with the certificate in {}: {e}",
            files.key.display(),
            files.cert.display()
        )
    })
}
