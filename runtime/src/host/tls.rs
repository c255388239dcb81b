//! TLS client settings shared by the outbound capabilities (PostgreSQL, MQTT, Redis): rustls
//! with the ring provider, verifying servers against the system's roots (which
//! `SSL_CERT_FILE` and `SSL_CERT_DIR` replace, as for OpenSSL) or only against a CA a guest
//! gave.

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::sync::{Arc, OnceLock};

/// Make ring the process-wide provider, for libraries that build their own rustls settings
/// (the Redis client); the first to install one wins, and any verifies the same way.
pub fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The certificates of a PEM text (at least one), or why there are none.
pub fn parse_ca(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("invalid root certificate: {e}"))?;
    if certs.is_empty() {
        return Err("invalid root certificate: no PEM CERTIFICATE block".into());
    }
    Ok(certs)
}

/// The system's roots, loaded once; an unreadable store is an error, not a panic.
fn system_roots() -> Result<Arc<rustls::RootCertStore>, String> {
    static ROOTS: OnceLock<Result<Arc<rustls::RootCertStore>, String>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            let mut roots = rustls::RootCertStore::empty();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                let why = found.errors.first().map(ToString::to_string);
                return Err(format!(
                    "no trusted root certificates could be loaded{}",
                    why.map(|w| format!(": {w}")).unwrap_or_default()
                ));
            }
            Ok(Arc::new(roots))
        })
        .clone()
}

/// Client settings that verify servers against `ca` (PEM) when given, else the system's roots.
pub fn client_config(ca: Option<&str>) -> Result<Arc<rustls::ClientConfig>, String> {
    let roots = match ca {
        Some(pem) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in parse_ca(pem)? {
                roots
                    .add(cert)
                    .map_err(|e| format!("invalid root certificate: {e}"))?;
            }
            Arc::new(roots)
        }
        None => system_roots()?,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
