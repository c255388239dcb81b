//! cosign's legacy signature format, written beside the bundle referrer with
//! `--legacy-format` for tools that read only it: under the tag `sha256-<hex>.sig`, an
//! image manifest with one layer per signature. A layer's content is the simple-signing
//! payload naming the app's digest; its annotations carry the signature, the signing
//! certificate and chain (keyless), the Rekor entry with its signed entry timestamp, and an
//! RFC 3161 timestamp when there is one. Adding a signature is confirmed as
//! `spin_registry::client::TagUpdate` describes.

use crate::{Error, Result};
use base64::Engine;
use sigstore_sign::types::Bundle;
use spin_registry::Reference;
use spin_registry::client::RegistryClient;
use spin_registry::package::{Blob, BlobData, Descriptor, ImageManifest};
use std::collections::BTreeMap;

/// Media type of a legacy signature layer.
pub const SIMPLESIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
const SIGNATURE: &str = "dev.cosignproject.cosign/signature";
const CERTIFICATE: &str = "dev.sigstore.cosign/certificate";
const CHAIN: &str = "dev.sigstore.cosign/chain";
const BUNDLE: &str = "dev.sigstore.cosign/bundle";
const TIMESTAMP: &str = "dev.sigstore.cosign/rfc3161timestamp";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The simple-signing payload for `reference` at `digest` (what a legacy signature signs).
pub fn payload(reference: &Reference, digest: &spin_app::Digest) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "critical": {
            "identity": {"docker-reference": reference.repository_url()},
            "image": {"docker-manifest-digest": digest.to_string()},
            "type": "cosign container image signature",
        },
        "optional": null,
    }))
    .expect("a JSON value serializes")
}

/// The layer annotations for a message-signature `bundle` over the payload.
pub fn annotations(bundle: &Bundle, chain_pem: &str) -> Result<BTreeMap<String, String>> {
    let json: serde_json::Value = serde_json::from_str(
        &bundle
            .to_json()
            .map_err(|e| Error::Signing(format!("cannot serialize the bundle: {e}")))?,
    )
    .map_err(|e| Error::Signing(e.to_string()))?;
    let missing =
        |what: &str| Error::Signing(format!("the bundle has no {what} for the legacy format"));
    let mut out = BTreeMap::new();
    let signature = json["messageSignature"]["signature"]
        .as_str()
        .ok_or_else(|| missing("signature"))?;
    out.insert(SIGNATURE.to_string(), signature.to_string());
    let material = &json["verificationMaterial"];
    if let Some(cert) = material["certificate"]["rawBytes"].as_str() {
        let der = B64
            .decode(cert)
            .map_err(|_| missing("readable certificate"))?;
        out.insert(
            CERTIFICATE.to_string(),
            pem::encode(&pem::Pem::new("CERTIFICATE", der)),
        );
        out.insert(CHAIN.to_string(), chain_pem.to_string());
    }
    if let Some(entry) = material["tlogEntries"].as_array().and_then(|e| e.first()) {
        let number = |v: &serde_json::Value| {
            v.as_str()
                .and_then(|s| s.parse::<i64>().ok())
                .or(v.as_i64())
        };
        let log_id = entry["logId"]["keyId"]
            .as_str()
            .and_then(|k| B64.decode(k).ok())
            .ok_or_else(|| missing("log id"))?;
        let set = serde_json::json!({
            "SignedEntryTimestamp": entry["inclusionPromise"]["signedEntryTimestamp"],
            "Payload": {
                "body": entry["canonicalizedBody"],
                "integratedTime": number(&entry["integratedTime"]).ok_or_else(|| missing("integrated time"))?,
                "logIndex": number(&entry["logIndex"]).ok_or_else(|| missing("log index"))?,
                "logID": hex::encode(log_id),
            },
        });
        out.insert(BUNDLE.to_string(), set.to_string());
    }
    if let Some(ts) = material["timestampVerificationData"]["rfc3161Timestamps"]
        .as_array()
        .and_then(|t| t.first())
        .and_then(|t| t["signedTimestamp"].as_str())
    {
        out.insert(
            TIMESTAMP.to_string(),
            serde_json::json!({"SignedRFC3161Timestamp": ts}).to_string(),
        );
    }
    Ok(out)
}

fn config_for(layers: &[Descriptor]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "architecture": "",
        "created": "0001-01-01T00:00:00Z",
        "history": [{"created": "0001-01-01T00:00:00Z"}],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| l.digest.to_string()).collect::<Vec<_>>()},
        "config": {},
    }))
    .expect("a JSON value serializes")
}

/// Add a signature layer (`payload` with `annotations`) to `sha256-<hex>.sig` of `digest`.
pub async fn append(
    client: &RegistryClient,
    reference: &Reference,
    digest: &spin_app::Digest,
    payload: Vec<u8>,
    annotations: BTreeMap<String, String>,
) -> Result<()> {
    let tag = format!("{}.sig", spin_registry::client::tag_for(digest));
    let layer = Descriptor {
        media_type: SIMPLESIGNING_MEDIA_TYPE.into(),
        digest: spin_app::Digest::of_bytes(&payload),
        size: payload.len() as u64,
        annotations: Some(annotations),
        artifact_type: None,
    };
    client.prepare_push(reference).await?;
    push_blob(client, reference, SIMPLESIGNING_MEDIA_TYPE, payload).await?;
    let mut update = spin_registry::client::TagUpdate::default();
    loop {
        let mut layers = match client.fetch_tag(reference, &tag).await? {
            Some(bytes) => {
                serde_json::from_slice::<ImageManifest>(&bytes)
                    .map_err(|e| {
                        Error::Signing(format!(
                            "{}:{tag} is not an image manifest: {e}",
                            reference.repository_url()
                        ))
                    })?
                    .layers
            }
            None => Vec::new(),
        };
        let present = layers.contains(&layer);
        if update
            .observe(present)
            .await
            .map_err(|e| Error::Signing(format!("{}:{tag}: {e}", reference.repository_url())))?
        {
            return Ok(());
        }
        if present {
            continue;
        }
        layers.push(layer.clone());
        let config = config_for(&layers);
        let config_desc = push_blob(
            client,
            reference,
            spin_registry::media::IMAGE_CONFIG_MEDIA_TYPE,
            config,
        )
        .await?;
        let manifest = ImageManifest {
            schema_version: 2,
            media_type: Some(spin_registry::media::MANIFEST_MEDIA_TYPE.into()),
            artifact_type: None,
            config: config_desc,
            layers,
            subject: None,
            annotations: None,
        };
        let bytes = serde_json::to_vec(&manifest).map_err(|e| Error::Signing(e.to_string()))?;
        client
            .push_manifest(
                reference,
                &tag,
                &bytes,
                spin_registry::media::MANIFEST_MEDIA_TYPE,
            )
            .await?;
    }
}

async fn push_blob(
    client: &RegistryClient,
    reference: &Reference,
    media_type: &str,
    data: Vec<u8>,
) -> Result<Descriptor> {
    let descriptor = Descriptor {
        media_type: media_type.into(),
        digest: spin_app::Digest::of_bytes(&data),
        size: data.len() as u64,
        annotations: None,
        artifact_type: None,
    };
    if !client.blob_exists(reference, &descriptor.digest).await? {
        let blob = Blob {
            descriptor: descriptor.clone(),
            data: BlobData::Bytes(data),
        };
        client
            .push_blob(reference, &blob, std::sync::Arc::new(|_| {}))
            .await?;
    }
    Ok(descriptor)
}

/// The Sigstore bundle (v0.1, as cosign reads legacy signatures) that a `.sig` layer's
/// annotations describe: signature over `payload`, certificate and chain (or none, for a
/// key signature), the Rekor entry with its signed entry timestamp, and an RFC 3161
/// timestamp when there is one.
pub fn bundle_from_layer(
    annotations: &BTreeMap<String, String>,
    payload: &[u8],
) -> std::result::Result<Bundle, String> {
    use sha2::Digest as _;
    let signature = annotations
        .get(SIGNATURE)
        .ok_or("the layer has no dev.cosignproject.cosign/signature annotation")?;
    let mut material = serde_json::Map::new();
    match annotations.get(CERTIFICATE) {
        Some(pem_text) => {
            let certs: Vec<serde_json::Value> = pem::parse_many(pem_text)
                .map_err(|e| format!("the certificate annotation is not PEM: {e}"))?
                .into_iter()
                .map(|p| serde_json::json!({"rawBytes": B64.encode(p.contents())}))
                .collect();
            let leaf = certs.first().ok_or("the certificate annotation is empty")?;
            material.insert(
                "x509CertificateChain".into(),
                serde_json::json!({"certificates": [leaf]}),
            );
        }
        None => {
            material.insert("publicKey".into(), serde_json::json!({"hint": ""}));
        }
    }
    let mut entries = Vec::new();
    if let Some(set) = annotations.get(BUNDLE) {
        let set: serde_json::Value = serde_json::from_str(set)
            .map_err(|e| format!("the bundle annotation is not JSON: {e}"))?;
        let p = &set["Payload"];
        let log_id = p["logID"]
            .as_str()
            .and_then(|h| hex::decode(h).ok())
            .ok_or("the bundle annotation has no hex logID")?;
        let body = p["body"]
            .as_str()
            .ok_or("the bundle annotation has no body")?;
        let kind: serde_json::Value = B64
            .decode(body)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or("the Rekor entry body is not base64 JSON")?;
        entries.push(serde_json::json!({
            "logIndex": p["logIndex"].to_string(),
            "logId": {"keyId": B64.encode(log_id)},
            "kindVersion": {"kind": kind["kind"], "version": kind["apiVersion"]},
            "integratedTime": p["integratedTime"].to_string(),
            "inclusionPromise": {"signedEntryTimestamp": set["SignedEntryTimestamp"]},
            "canonicalizedBody": body,
        }));
    }
    material.insert("tlogEntries".into(), serde_json::Value::Array(entries));
    if let Some(ts) = annotations.get(TIMESTAMP) {
        let ts: serde_json::Value = serde_json::from_str(ts)
            .map_err(|e| format!("the timestamp annotation is not JSON: {e}"))?;
        material.insert(
            "timestampVerificationData".into(),
            serde_json::json!({"rfc3161Timestamps": [{"signedTimestamp": ts["SignedRFC3161Timestamp"]}]}),
        );
    }
    let bundle = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
        "verificationMaterial": material,
        "messageSignature": {
            "messageDigest": {"algorithm": "SHA2_256", "digest": B64.encode(sha2::Sha256::digest(payload))},
            "signature": signature,
        },
    });
    Bundle::from_json(&bundle.to_string()).map_err(|e| format!("not a usable signature: {e}"))
}
