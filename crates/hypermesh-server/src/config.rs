//! The `--web-config` file: TLS and basic auth, in exporter-toolkit's web-config format.
//!
//! ```yaml
//! tls_server_config:
//!   cert_file: server.crt      # PEM chain; relative paths are relative to this file
//!   key_file: server.key       # PEM private key
//!   min_version: TLS12         # TLS12 (default) or TLS13
//!   client_auth_type: RequireAndVerifyClientCert   # or NoClientCert (default)
//!   client_ca_file: ca.crt     # required with RequireAndVerifyClientCert
//! basic_auth_users:
//!   prometheus: $2y$10$...     # bcrypt hash (htpasswd -nBC 10 "" | tr -d ':\n')
//! ```
//!
//! Everything is checked when the file is loaded (unknown keys, unreadable or mismatched
//! certificate and key, malformed hashes, bcrypt costs above
//! [`MAX_BCRYPT_COST`](crate::auth::MAX_BCRYPT_COST)), so the server refuses to start on a bad
//! config instead of failing on the first connection. A private key file that users other than
//! its owner may read is accepted (Kubernetes mounts secrets 0644 unless told otherwise) but
//! reported in [`WebConfig::warnings`], which `hypermesh serve` prints at start. Options
//! exporter-toolkit has and this server does not (cipher suites, curve preferences, HTTP
//! headers) are refused as unknown keys rather than silently ignored.

use crate::auth::MAX_BCRYPT_COST;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A web config that was loaded and validated.
#[derive(Clone, Default)]
pub struct WebConfig {
    /// TLS settings; plain HTTP when `None`.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Users and their bcrypt hashes; no authentication when empty.
    pub basic_auth_users: BTreeMap<String, String>,
    /// What is allowed but unsafe (a private key readable by others), one sentence each.
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebConfig")
            .field("tls", &self.tls.is_some())
            .field("basic_auth_users", &self.basic_auth_users.keys().collect::<Vec<_>>())
            .field("warnings", &self.warnings)
            .finish()
    }
}

/// Why a web config was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file (or a file it names) could not be read.
    #[error("{path}: {source}")]
    Io {
        /// File concerned.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid YAML of the expected shape.
    #[error("{path}: {message}")]
    Syntax {
        /// The config file.
        path: PathBuf,
        /// Parser message, with line and column.
        message: String,
    },
    /// A value is wrong.
    #[error("{path}: {message}")]
    Invalid {
        /// The config file, or the certificate/key file concerned.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    tls_server_config: Option<RawTls>,
    #[serde(default)]
    basic_auth_users: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    cert_file: PathBuf,
    key_file: PathBuf,
    min_version: Option<String>,
    client_auth_type: Option<String>,
    client_ca_file: Option<PathBuf>,
}

impl WebConfig {
    /// Reads and validates a web config file.
    pub fn load(path: &Path) -> Result<WebConfig, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Io { path: path.into(), source })?;
        let base = path.parent().unwrap_or(Path::new("."));
        WebConfig::parse(&text, path, base)
    }

    /// Validates config text; `path` names it in errors, relative file names resolve under `base`.
    pub fn parse(text: &str, path: &Path, base: &Path) -> Result<WebConfig, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid { path: path.into(), message };
        // An empty file is a valid config that turns nothing on.
        let raw: Option<RawConfig> = serde_norway::from_str(text)
            .map_err(|e| ConfigError::Syntax { path: path.into(), message: e.to_string() })?;
        let Some(raw) = raw else { return Ok(WebConfig::default()) };
        for (user, hash) in &raw.basic_auth_users {
            if user.is_empty() || user.contains(':') {
                return Err(invalid(format!("basic_auth_users: invalid user name {user:?}")));
            }
            let parts = hash.parse::<bcrypt::HashParts>().map_err(|e| {
                invalid(format!(
                    "basic_auth_users: {user}: not a bcrypt hash ({e}); make one with htpasswd -nBC 10"
                ))
            })?;
            if parts.get_cost() > MAX_BCRYPT_COST {
                return Err(invalid(format!(
                    "basic_auth_users: {user}: bcrypt cost {} is above the maximum of {MAX_BCRYPT_COST} \
                     (each check would take {}x as long as at cost 10); make one with htpasswd -nBC 10",
                    parts.get_cost(),
                    1u64 << (parts.get_cost().saturating_sub(10)).min(63)
                )));
            }
        }
        let mut warnings = Vec::new();
        let tls = raw.tls_server_config.map(|t| tls_config(t, path, base, &mut warnings)).transpose()?;
        Ok(WebConfig { tls: tls.map(Arc::new), basic_auth_users: raw.basic_auth_users, warnings })
    }
}

fn tls_config(
    raw: RawTls,
    path: &Path,
    base: &Path,
    warnings: &mut Vec<String>,
) -> Result<rustls::ServerConfig, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid { path: path.into(), message };
    let versions: &[&rustls::SupportedProtocolVersion] = match raw.min_version.as_deref() {
        None | Some("TLS12") => &[&rustls::version::TLS13, &rustls::version::TLS12],
        Some("TLS13") => &[&rustls::version::TLS13],
        Some(other) => {
            return Err(invalid(format!(
                "tls_server_config: min_version {other:?} is not supported; use TLS12 or TLS13"
            )));
        }
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| invalid(format!("tls_server_config: {e}")))?;
    let builder = match (raw.client_auth_type.as_deref(), raw.client_ca_file) {
        (None | Some("NoClientCert"), None) => builder.with_no_client_auth(),
        (Some("RequireAndVerifyClientCert"), Some(ca)) => {
            let ca = base.join(ca);
            let mut roots = rustls::RootCertStore::empty();
            for cert in read_certs(&ca)? {
                roots
                    .add(cert)
                    .map_err(|e| ConfigError::Invalid { path: ca.clone(), message: e.to_string() })?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| ConfigError::Invalid { path: ca.clone(), message: e.to_string() })?;
            builder.with_client_cert_verifier(verifier)
        }
        (Some("RequireAndVerifyClientCert"), None) => {
            return Err(invalid("tls_server_config: RequireAndVerifyClientCert needs client_ca_file".into()));
        }
        (None | Some("NoClientCert"), Some(_)) => {
            return Err(invalid(
                "tls_server_config: client_ca_file given without client_auth_type: RequireAndVerifyClientCert".into(),
            ));
        }
        (Some(other), _) => {
            return Err(invalid(format!(
                "tls_server_config: client_auth_type {other:?} is not supported; use NoClientCert or RequireAndVerifyClientCert"
            )));
        }
    };
    let cert_path = base.join(&raw.cert_file);
    let key_path = base.join(&raw.key_file);
    let certs = read_certs(&cert_path)?;
    warnings.extend(key_exposure(&key_path));
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| ConfigError::Invalid {
        path: key_path.clone(),
        message: format!("no usable private key: {e}"),
    })?;
    let mut config = builder.with_single_cert(certs, key).map_err(|e| ConfigError::Invalid {
        path: key_path,
        message: format!("certificate and key do not go together: {e}"),
    })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// A warning when users other than the key file's owner may read it (mode bits of the file a
/// symlink points to, as Kubernetes secret volumes are symlinks).
fn key_exposure(key_path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(key_path).ok()?.permissions().mode() & 0o777;
    let who = match (mode & 0o044 != 0, mode & 0o004 != 0) {
        (_, true) => "every user of this host",
        (true, false) => "its group",
        (false, false) => return None,
    };
    Some(format!(
        "{}: private key is readable by {who} (mode {mode:04o}); restrict it with chmod 600 \
         (Kubernetes: defaultMode: 0400 on the secret volume)",
        key_path.display()
    ))
}

/// Every certificate of a PEM file; an error when there is none.
fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid { path: path.into(), message };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| invalid(format!("cannot read certificates: {e}")))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("bad PEM: {e}")))?;
    if certs.is_empty() {
        return Err(invalid("no CERTIFICATE block found".into()));
    }
    Ok(certs)
}
