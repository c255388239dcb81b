//! cosign's legacy signature format: `--legacy-format` writes `.sig` layers in the
//! `sha256-<hex>.sig` tag the way cosign writes them, and each verifies as cosign reads it
//! (sigstore-python on the extracted bundle and payload).

use base64::Engine;
use spin_tests::output_text;
use spin_tests::world::World;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[test]
fn legacy_format_writes_cosign_sig_layers_that_verify_as_cosign_reads_them() {
    let world = World::new();
    let (registry, sigstore, home) = (&world.registry, &world.sigstore, world.user.home());
    let reference = world.reference("acme/legacy:v1");
    let digest = world.push("acme/legacy:v1", "legacy");
    for who in ["alice", "bob"] {
        let token =
            sigstore.token(serde_json::json!({"sub": who, "email": format!("{who}@example.com")}));
        world.sign(&reference, &token, &["--legacy-format"]);
    }

    let tag = format!("{}.sig", digest.replace(':', "-"));
    let sig: serde_json::Value = serde_json::from_slice(&registry.get(
        &format!("acme/legacy/manifests/{tag}"),
        "application/vnd.oci.image.manifest.v1+json",
    ))
    .unwrap();
    let layers = sig["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2, "one layer per signer: {sig}");
    let mut verified = Vec::new();
    let mut refusals = String::new();
    for (i, layer) in layers.iter().enumerate() {
        assert_eq!(
            layer["mediaType"],
            "application/vnd.dev.cosign.simplesigning.v1+json"
        );
        let payload = registry.get(
            &format!("acme/legacy/blobs/{}", layer["digest"].as_str().unwrap()),
            "*/*",
        );
        let p: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(
            p["critical"]["image"]["docker-manifest-digest"],
            digest.as_str()
        );
        assert_eq!(p["critical"]["type"], "cosign container image signature");
        let a = &layer["annotations"];
        for key in [
            "dev.cosignproject.cosign/signature",
            "dev.sigstore.cosign/certificate",
            "dev.sigstore.cosign/chain",
            "dev.sigstore.cosign/bundle",
        ] {
            assert!(a[key].is_string(), "{key} missing: {a}");
        }
        // Rebuild the bundle from the annotations the way cosign reads them, and let the
        // independent verifier check signature, certificate, SCT and SET over the payload.
        let set: serde_json::Value =
            serde_json::from_str(a["dev.sigstore.cosign/bundle"].as_str().unwrap()).unwrap();
        let cert_pem = a["dev.sigstore.cosign/certificate"].as_str().unwrap();
        let cert_der: String = cert_pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        use sha2::Digest;
        // The inclusion proof comes from the log, by index, as an online cosign would fetch it.
        let entry: serde_json::Value = serde_json::from_str(
            &ureq::get(&format!(
                "{}/api/v1/log/entries?logIndex={}",
                sigstore.url, set["Payload"]["logIndex"]
            ))
            .call()
            .unwrap()
            .into_string()
            .unwrap(),
        )
        .unwrap();
        let proof =
            &entry.as_object().unwrap().values().next().unwrap()["verification"]["inclusionProof"];
        let b64_hashes: Vec<String> = proof["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| B64.encode(hex::decode(h.as_str().unwrap()).unwrap()))
            .collect();
        let rebuilt = serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
            "verificationMaterial": {
                "x509CertificateChain": {"certificates": [{"rawBytes": cert_der}]},
                "tlogEntries": [{
                    "logIndex": set["Payload"]["logIndex"].to_string(),
                    "logId": {"keyId": B64.encode(hex::decode(set["Payload"]["logID"].as_str().unwrap()).unwrap())},
                    "kindVersion": {"kind": "hashedrekord", "version": "0.0.1"},
                    "integratedTime": set["Payload"]["integratedTime"].to_string(),
                    "inclusionPromise": {"signedEntryTimestamp": set["SignedEntryTimestamp"]},
                    "inclusionProof": {
                        "logIndex": proof["logIndex"].to_string(),
                        "rootHash": B64.encode(hex::decode(proof["rootHash"].as_str().unwrap()).unwrap()),
                        "treeSize": proof["treeSize"].to_string(),
                        "hashes": b64_hashes,
                        "checkpoint": {"envelope": proof["checkpoint"]},
                    },
                    "canonicalizedBody": set["Payload"]["body"],
                }],
            },
            "messageSignature": {
                "messageDigest": {"algorithm": "SHA2_256", "digest": B64.encode(sha2::Sha256::digest(&payload))},
                "signature": a["dev.cosignproject.cosign/signature"],
            },
        });
        let bundle_path = home.join(format!("legacy-{i}.json"));
        let payload_path = home.join(format!("payload-{i}.json"));
        std::fs::write(&bundle_path, serde_json::to_vec(&rebuilt).unwrap()).unwrap();
        std::fs::write(&payload_path, &payload).unwrap();
        for who in ["alice@example.com", "bob@example.com"] {
            let py = sigstore.python_verify(&bundle_path, who, &payload_path);
            if py.status.success() {
                verified.push(who);
            } else {
                refusals.push_str(&output_text(&py));
            }
        }
    }
    verified.sort();
    assert_eq!(
        verified,
        ["alice@example.com", "bob@example.com"],
        "{refusals}"
    );
    let index: serde_json::Value = serde_json::from_slice(&registry.get(
        &format!("acme/legacy/manifests/{}", digest.replace(':', "-")),
        "application/vnd.oci.image.index.v1+json",
    ))
    .unwrap();
    assert_eq!(
        index["manifests"].as_array().unwrap().len(),
        2,
        "the bundle referrers are written too"
    );
}
