//! Sigstore bundles as data: what is signed ([`Input`]: a file or a bare digest), reading a
//! bundle (leniently for line-wrapped base64, as Go and Python clients accept; strictly for
//! chains, which never carry a root), and writing one.

use crate::{Error, Result, io};
use sha2::Digest as _;
use sigstore_verify::types::Bundle;
use std::path::{Path, PathBuf};

/// What is signed or verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file's bytes.
    File(PathBuf),
    /// Only a SHA-256 digest, written `sha256:<64 hex digits>`.
    Digest([u8; 32]),
}

impl Input {
    /// `sha256:<hex>` is a digest; anything else is a path.
    pub fn parse(arg: &str) -> Result<Self> {
        let Some(hex_digest) = arg.strip_prefix("sha256:") else {
            return Ok(Self::File(PathBuf::from(arg)));
        };
        let bytes = hex::decode(hex_digest)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok());
        bytes.map(Self::Digest).ok_or_else(|| {
            Error::Input(format!(
                "{arg:?} is not a SHA-256 digest\n  help: write sha256: followed by 64 hex digits, or give a file path"
            ))
        })
    }

    /// The SHA-256 of the input (reading the file if it is one).
    pub fn sha256(&self) -> Result<[u8; 32]> {
        match self {
            Self::Digest(d) => Ok(*d),
            Self::File(path) => {
                let mut file = std::fs::File::open(path).map_err(io(path))?;
                let mut hasher = sha2::Sha256::new();
                std::io::copy(&mut file, &mut hasher).map_err(io(path))?;
                Ok(hasher.finalize().into())
            }
        }
    }
}

/// Read a bundle file.
pub fn read_bundle(path: &Path) -> Result<Bundle> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    parse_bundle(&text).map_err(|e| {
        Error::Verification(format!(
            "{} is not a valid Sigstore bundle: {e}\n  help: pass the .sigstore.json file the signer wrote",
            path.display()
        ))
    })
}

/// Base64 fields of a bundle: line breaks in them are dropped before parsing, as the
/// protobuf JSON readers of other Sigstore clients do (`base64` wraps at 76 columns).
const BASE64_FIELDS: &[&str] = &[
    "rawBytes",
    "signedTimestamp",
    "signature",
    "sig",
    "payload",
    "canonicalizedBody",
    "signedEntryTimestamp",
    "digest",
    "keyId",
    "rootHash",
    "hashes",
];

fn unwrap_base64(v: &mut serde_json::Value, in_field: bool) {
    match v {
        serde_json::Value::String(s) if in_field && s.contains(['\n', '\r']) => {
            s.retain(|c| c != '\n' && c != '\r');
        }
        serde_json::Value::Array(items) => {
            items.iter_mut().for_each(|i| unwrap_base64(i, in_field))
        }
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                unwrap_base64(v, BASE64_FIELDS.contains(&k.as_str()));
            }
        }
        _ => {}
    }
}

/// Parse a bundle's JSON, and refuse a certificate chain that is empty or carries a
/// self-signed (root) certificate: trust anchors come from the trusted root, never from
/// the bundle.
pub fn parse_bundle(text: &str) -> std::result::Result<Bundle, String> {
    let mut json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("JSON error: {e}"))?;
    unwrap_base64(&mut json, false);
    if let Some(chain) =
        json["verificationMaterial"]["x509CertificateChain"]["certificates"].as_array()
    {
        if chain.is_empty() {
            return Err("its certificate chain is empty".into());
        }
        for cert in chain {
            let der = cert["rawBytes"]
                .as_str()
                .and_then(|b| {
                    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b).ok()
                })
                .ok_or("a certificate in its chain is not base64")?;
            use x509_cert::der::Decode;
            let cert = x509_cert::Certificate::from_der(&der)
                .map_err(|e| format!("a certificate in its chain is not X.509: {e}"))?;
            if cert.tbs_certificate.subject == cert.tbs_certificate.issuer {
                return Err("its certificate chain contains a self-signed root certificate; roots come from the trusted root, not the bundle".into());
            }
        }
    }
    Bundle::from_json(&json.to_string()).map_err(|e| e.to_string())
}

/// Write `bundle` as pretty JSON to `path`, atomically.
pub fn write_bundle(bundle: &Bundle, path: &Path) -> Result<()> {
    let json = bundle
        .to_json_pretty()
        .map_err(|e| Error::Signing(format!("cannot serialize the bundle: {e}")))?;
    spin_app::fsutil::write_atomic(path, json.as_bytes()).map_err(io(path))
}
