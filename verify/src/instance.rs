//! Which Sigstore instance to trust and sign with: the public-good instance (trusted root
//! and signing config embedded in the binary, so verification works offline), staging, or
//! a custom instance from the Sigstore client files `trusted_root.json` and
//! `signing_config.json` (as written by `cosign`/`sigstore-python` tooling and by private
//! Sigstore deployments).

use crate::{Error, Result, io};
use sigstore_sign::reqwest;
use sigstore_sign::trust_root::{SigningConfig, SigstoreInstance, TrustedRoot};
use sigstore_sign::{SigningContext, SigningServices};
use std::path::Path;

/// File names of refreshed trust material.
pub const TRUSTED_ROOT_FILE: &str = "trusted_root.json";
/// See [`TRUSTED_ROOT_FILE`].
pub const SIGNING_CONFIG_FILE: &str = "signing_config.json";

/// Where to refresh trust material from over TUF.
#[derive(Debug, Clone)]
pub enum TufSource<'a> {
    /// The public-good (or staging) repository, with the TUF root embedded in the binary.
    Embedded {
        /// Staging instead of public-good.
        staging: bool,
    },
    /// Another repository, bootstrapped from a TUF `root.json` the user trusts.
    Custom {
        /// The repository's base URL.
        url: &'a str,
        /// Its trusted `root.json`.
        root: &'a Path,
    },
}

/// Fetch the current trusted root and signing config over TUF (verifying the whole TUF
/// metadata chain) and write them into `out_dir` atomically; `tuf_cache` keeps each
/// repository's TUF metadata between runs, in a folder of its own (never shared, so one
/// repository's cached metadata cannot stand in for another's).
pub async fn update_trust_root(
    source: TufSource<'_>,
    out_dir: &Path,
    tuf_cache: &Path,
) -> Result<()> {
    use sigstore_sign::trust_root::TufConfig;
    let (config, cache_name) = match source {
        TufSource::Embedded { staging: true } => (TufConfig::staging(), "staging".to_string()),
        TufSource::Embedded { staging: false } => {
            (TufConfig::production(), "public-good".to_string())
        }
        TufSource::Custom { url, root } => (
            TufConfig::custom_from_file(url, root).map_err(io(root))?,
            url.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect(),
        ),
    };
    let client = sigstore_sign::trust_root::reqwest::Client::builder()
        .user_agent(concat!("spin/", env!("CARGO_PKG_VERSION")))
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .map_err(|e| Error::Trust(format!("cannot set up HTTP: {e}")))?;
    let config = config
        .with_cache_dir(tuf_cache.join(cache_name))
        .with_http_client(client);
    let (root, signing) = sigstore_sign::trust_root::fetch_trust_material(config).await.map_err(|e| {
        Error::Trust(format!(
            "refreshing the trust material over TUF failed: {e}\n  help: check the repository URL and root.json; nothing was changed"
        ))
    })?;
    std::fs::create_dir_all(out_dir).map_err(io(out_dir))?;
    for (file, text) in [
        (TRUSTED_ROOT_FILE, pretty(&root)?),
        (SIGNING_CONFIG_FILE, pretty(&signing)?),
    ] {
        let path = out_dir.join(file);
        spin_app::fsutil::write_atomic(&path, text.as_bytes()).map_err(io(&path))?;
    }
    Ok(())
}

fn pretty(value: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string_pretty(value)
        .map_err(|e| Error::Trust(format!("cannot encode trust material: {e}")))
}

/// Trust material plus, for signing, the services to use.
pub struct Instance {
    /// Certificate authorities, transparency logs, CT logs and timestamp authorities.
    pub trusted_root: TrustedRoot,
    trusted_root_json: String,
    signing_config: Option<SigningConfig>,
}

/// Where the trust material comes from.
#[derive(Debug, Clone, Default)]
pub struct Source<'a> {
    /// A `trusted_root.json` to use instead of the embedded one.
    pub trusted_root: Option<&'a Path>,
    /// A `signing_config.json` naming the Fulcio, Rekor and TSA endpoints.
    pub signing_config: Option<&'a Path>,
    /// Use the public-good staging instance.
    pub staging: bool,
    /// Where `spin sigstore update-trust-root` keeps refreshed material for the public-good
    /// or staging instance; used instead of the embedded copy when it is there.
    pub refreshed: Option<&'a Path>,
}

/// Where `spin sigstore update-trust-root` keeps the refreshed public-good (or staging)
/// material under the user's Sigstore cache `cache`.
pub fn refreshed_dir(cache: &Path, staging: bool) -> std::path::PathBuf {
    cache.join(if staging { "staging" } else { "public-good" })
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(io(path))
}

impl Instance {
    /// Load the instance `source` describes.
    pub fn load(source: &Source<'_>) -> Result<Self> {
        let embedded = if source.staging {
            SigstoreInstance::Staging
        } else {
            SigstoreInstance::PublicGood
        };
        let refreshed = source
            .refreshed
            .filter(|dir| source.trusted_root.is_none() && dir.join(TRUSTED_ROOT_FILE).is_file());
        let refreshed_root = refreshed.map(|dir| dir.join(TRUSTED_ROOT_FILE));
        let refreshed_config = refreshed
            .map(|dir| dir.join(SIGNING_CONFIG_FILE))
            .filter(|p| source.signing_config.is_none() && p.is_file());
        let source = Source {
            trusted_root: source.trusted_root.or(refreshed_root.as_deref()),
            signing_config: source.signing_config.or(refreshed_config.as_deref()),
            ..source.clone()
        };
        let trusted_root_json = match source.trusted_root {
            Some(path) => read(path)?,
            None => embedded.embedded_trusted_root_json().to_string(),
        };
        let trusted_root = match source.trusted_root {
            Some(path) => TrustedRoot::from_json(&trusted_root_json).map_err(|e| {
                Error::Trust(format!(
                    "{}: not a usable Sigstore trusted root: {e}\n  help: pass the instance's trusted_root.json (media type application/vnd.dev.sigstore.trustedroot+json)",
                    path.display()
                ))
            })?,
            None => embedded
                .embedded_trusted_root()
                .map_err(|e| Error::Trust(format!("the embedded trusted root does not load: {e}")))?,
        };
        let signing_config = match source.signing_config {
            Some(path) => Some(SigningConfig::from_json(&read(path)?).map_err(|e| {
                Error::Trust(format!(
                    "{}: not a usable Sigstore signing config: {e}\n  help: pass the instance's signing_config.json (media type application/vnd.dev.sigstore.signingconfig.v0.2+json)",
                    path.display()
                ))
            })?),
            None if source.trusted_root.is_some() => None,
            None => Some(
                SigningConfig::from_json(if source.staging {
                    sigstore_sign::trust_root::SIGSTORE_STAGING_SIGNING_CONFIG
                } else {
                    sigstore_sign::trust_root::SIGSTORE_PRODUCTION_SIGNING_CONFIG
                })
                .map_err(|e| Error::Trust(format!("the embedded signing config does not load: {e}")))?,
            ),
        };
        Ok(Self {
            trusted_root,
            trusted_root_json,
            signing_config,
        })
    }

    /// The Fulcio, Rekor and TSA endpoints the signing config selects.
    pub fn services(&self) -> Result<SigningServices> {
        let Some(config) = &self.signing_config else {
            return Err(Error::Trust(
                "a custom trusted root was given without a signing config, so it is not known where to sign\n  help: pass --signing-config signing_config.json as well".into(),
            ));
        };
        SigningServices::from_signing_config(config)
            .map_err(|e| Error::Trust(format!("the signing config cannot be used: {e}")))
    }

    /// The context for keyless signing with this instance's services.
    pub fn signing_context(&self) -> Result<SigningContext> {
        Ok(SigningContext::new(self.services()?).with_http_client(self.http_client()?))
    }

    /// The HTTP client for the instance's services.
    pub fn http_client(&self) -> Result<reqwest::Client> {
        reqwest::Client::builder()
            .user_agent(concat!("spin/", env!("CARGO_PKG_VERSION")))
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| Error::Signing(format!("cannot set up HTTP: {e}")))
    }

    /// The certificate chain (PEM, leaf-most first) of the instance's current certificate
    /// authority, as cosign's legacy format records it beside each signature.
    pub fn ca_chain_pem(&self) -> String {
        use base64::Engine;
        let root: serde_json::Value =
            serde_json::from_str(&self.trusted_root_json).unwrap_or_default();
        let cas = root["certificateAuthorities"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let current = cas
            .iter()
            .rev()
            .find(|ca| ca["validFor"]["end"].is_null())
            .or(cas.last());
        current
            .and_then(|ca| ca["certChain"]["certificates"].as_array())
            .map(|certs| {
                certs
                    .iter()
                    .filter_map(|c| c["rawBytes"].as_str())
                    .filter_map(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                    .map(|der| pem::encode(&pem::Pem::new("CERTIFICATE", der)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The OIDC provider for interactive logins, from the signing config.
    pub fn oidc_url(&self) -> Option<String> {
        let config = self.signing_config.as_ref()?;
        SigningServices::from_signing_config(config)
            .ok()?
            .oidc_url()
            .map(String::from)
    }

    /// A verifier that trusts this instance's material.
    pub fn verifier(&self) -> Result<sigstore_verify::Verifier> {
        sigstore_verify::Verifier::new(&self.trusted_root)
            .map_err(|e| Error::Trust(format!("the trusted root cannot be used to verify: {e}")))
    }
}
