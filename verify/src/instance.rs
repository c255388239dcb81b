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

    /// The context for keyless signing with this instance's services.
    pub fn signing_context(&self) -> Result<SigningContext> {
        let Some(config) = &self.signing_config else {
            return Err(Error::Trust(
                "a custom trusted root was given without a signing config, so it is not known where to sign\n  help: pass --signing-config signing_config.json as well".into(),
            ));
        };
        let services = SigningServices::from_signing_config(config)
            .map_err(|e| Error::Trust(format!("the signing config cannot be used: {e}")))?;
        Ok(SigningContext::new(services).with_http_client(self.http_client()?))
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
