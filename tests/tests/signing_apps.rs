//! Signing apps in a registry (the local distribution registry and the local Sigstore
//! instance): bundles attached as referrers through the `sha256-<hex>` tag index, several
//! and concurrent signers, `spin verify` exit codes, keys, and cosign's legacy `.sig`
//! format; every bundle checked by sigstore-python.

use base64::Engine;
use spin_tests::registry::Registry;
use spin_tests::sigstore::LocalSigstore;
use spin_tests::{output_text, pushed_digest, spin_env as run};
use std::path::Path;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A one-component app (the WAT hello guest) named `name`, version 1.0.0.
fn app_manifest(name: &str) -> String {
    format!(
        "spin_manifest_version = 2\n[application]\nname = \"{name}\"\nversion = \"1.0.0\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"hello\"\n[component.hello]\nsource = {:?}\n",
        spin_tests::component("hello")
    )
}

/// What every test here needs: a registry, a Sigstore instance, a user of its own (home,
/// config and no keyring) and the app `name`.
struct World {
    registry: Registry,
    sigstore: LocalSigstore,
    home: tempfile::TempDir,
    home_str: String,
    manifest: String,
    app: tempfile::TempDir,
}

impl World {
    fn new(name: &str) -> Self {
        let home = tempfile::tempdir().unwrap();
        let manifest = app_manifest(name);
        Self {
            registry: Registry::start(),
            sigstore: LocalSigstore::start(),
            home_str: home.path().display().to_string(),
            home,
            app: spin_tests::app_dir(&[("spin.toml", manifest.as_bytes())]),
            manifest,
        }
    }

    /// The user's environment.
    fn env(&self) -> [(&'static str, &str); 3] {
        [
            ("HOME", self.home_str.as_str()),
            ("XDG_CONFIG_HOME", self.home_str.as_str()),
            ("SPIN_DISABLE_KEYRING", "1"),
        ]
    }
}

#[test]
fn apps_signed_in_a_registry_carry_every_signers_bundle_as_referrers() {
    let world = World::new("signed");
    let World {
        registry,
        sigstore,
        home,
        app,
        ..
    } = &world;
    let env = world.env();
    let (tr, sc) = (sigstore.trusted_root(), sigstore.signing_config());
    let trust = [
        "--trusted-root",
        tr.to_str().unwrap(),
        "--signing-config",
        sc.to_str().unwrap(),
    ];
    let reference = format!("{}/acme/signed:v1", registry.host());
    let cache = home.path().join("cache").display().to_string();

    let alice = sigstore.token(serde_json::json!({"sub": "alice", "email": "alice@example.com"}));
    let mut args = vec![
        "registry",
        "push",
        &reference,
        "--insecure",
        "--cache-dir",
        &cache,
        "--sign",
        "--identity-token",
        &alice,
    ];
    args.extend(trust);
    let pushed = run(&args, app.path(), &env);
    assert!(
        pushed.status.success(),
        "{}\n{}",
        output_text(&pushed),
        sigstore.log()
    );
    let out = output_text(&pushed);
    assert!(!out.contains(&alice));
    let digest = pushed_digest(&out);
    assert!(
        out.contains(&format!("Signed {}/acme/signed@{digest}", registry.host())),
        "{out}"
    );

    let bob = sigstore.token(serde_json::json!({"sub": "bob", "email": "bob@example.com"}));
    let mut args = vec!["sign", &reference, "--insecure", "--identity-token", &bob];
    args.extend(trust);
    let signed = run(&args, app.path(), &env);
    assert!(signed.status.success(), "{}", output_text(&signed));

    // Distribution 2.8 has no referrers API: the referrers live in the sha256-<hex> tag index.
    let tag = digest.replace(':', "-");
    let index: serde_json::Value = serde_json::from_slice(&registry.get(
        &format!("acme/signed/manifests/{tag}"),
        "application/vnd.oci.image.index.v1+json",
    ))
    .unwrap();
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "both signatures are attached: {index}");
    let mut verified = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        assert_eq!(
            entry["artifactType"],
            "application/vnd.dev.sigstore.bundle.v0.3+json"
        );
        let m: serde_json::Value = serde_json::from_slice(&registry.get(
            &format!(
                "acme/signed/manifests/{}",
                entry["digest"].as_str().unwrap()
            ),
            "application/vnd.oci.image.manifest.v1+json",
        ))
        .unwrap();
        assert_eq!(m["subject"]["digest"], digest.as_str());
        assert_eq!(
            m["config"]["mediaType"],
            "application/vnd.oci.empty.v1+json"
        );
        let layer = m["layers"][0]["digest"].as_str().unwrap();
        let bundle = registry.get(&format!("acme/signed/blobs/{layer}"), "*/*");
        let path = home.path().join(format!("bundle-{i}.json"));
        std::fs::write(&path, &bundle).unwrap();
        let statement: serde_json::Value = serde_json::from_slice(
            &B64.decode(serde_json::from_slice::<serde_json::Value>(&bundle).unwrap()["dsseEnvelope"]["payload"].as_str().unwrap()).unwrap(),
        )
        .unwrap();
        assert_eq!(
            statement["predicateType"],
            "https://sigstore.dev/cosign/sign/v1"
        );
        assert_eq!(
            statement["subject"][0]["digest"]["sha256"],
            digest.trim_start_matches("sha256:")
        );
        for who in ["alice@example.com", "bob@example.com"] {
            let py = sigstore.python_verify(&path, who, Path::new(&digest));
            if py.status.success() {
                verified.push(who);
                let ours =
                    sigstore.spin_verify_bundle(path.to_str().unwrap(), who, &digest, home.path());
                assert!(ours.status.success(), "{}", output_text(&ours));
            }
        }
    }
    verified.sort();
    assert_eq!(
        verified,
        ["alice@example.com", "bob@example.com"],
        "each bundle verifies for its signer only"
    );
}

#[test]
fn legacy_format_writes_cosign_sig_layers_that_verify_as_cosign_reads_them() {
    let world = World::new("legacy");
    let World {
        registry,
        sigstore,
        home,
        app,
        ..
    } = &world;
    let env = world.env();
    let (tr, sc) = (sigstore.trusted_root(), sigstore.signing_config());
    let reference = format!("{}/acme/legacy:v1", registry.host());
    let cache = home.path().join("cache").display().to_string();
    let pushed = run(
        &[
            "registry",
            "push",
            &reference,
            "--insecure",
            "--cache-dir",
            &cache,
        ],
        app.path(),
        &env,
    );
    let digest = pushed_digest(&output_text(&pushed));
    for who in ["alice", "bob"] {
        let token =
            sigstore.token(serde_json::json!({"sub": who, "email": format!("{who}@example.com")}));
        let out = run(
            &[
                "sign",
                &reference,
                "--insecure",
                "--legacy-format",
                "--identity-token",
                &token,
                "--trusted-root",
                tr.to_str().unwrap(),
                "--signing-config",
                sc.to_str().unwrap(),
            ],
            app.path(),
            &env,
        );
        assert!(
            out.status.success(),
            "{}\n{}",
            output_text(&out),
            sigstore.log()
        );
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
        let bundle_path = home.path().join(format!("legacy-{i}.json"));
        let payload_path = home.path().join(format!("payload-{i}.json"));
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

#[test]
fn concurrent_signers_keys_and_spin_verify_exit_codes() {
    let world = World::new("gated");
    let World {
        registry,
        sigstore,
        home,
        app,
        manifest,
        ..
    } = &world;
    let env = world.env();
    let (tr, sc) = (sigstore.trusted_root(), sigstore.signing_config());
    let (tr, sc) = (tr.to_str().unwrap(), sc.to_str().unwrap());
    let reference = format!("{}/acme/gated:v1", registry.host());
    let cache = home.path().join("cache").display().to_string();
    let pushed = run(
        &[
            "registry",
            "push",
            &reference,
            "--insecure",
            "--cache-dir",
            &cache,
        ],
        app.path(),
        &env,
    );
    assert!(pushed.status.success(), "{}", output_text(&pushed));
    let digest = pushed_digest(&output_text(&pushed));

    // Four signers at once: the read-modify-write of the tag index loses none of them.
    let signers: Vec<_> = ["carol", "dave", "erin", "frank"]
        .iter()
        .map(|who| {
            let token = sigstore
                .token(serde_json::json!({"sub": who, "email": format!("{who}@example.com")}));
            std::process::Command::new(spin_tests::spin_bin())
                .args([
                    "sign",
                    &reference,
                    "--insecure",
                    "--identity-token",
                    &token,
                    "--trusted-root",
                    tr,
                    "--signing-config",
                    sc,
                ])
                .envs(env)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in signers {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", output_text(&out));
    }
    let tag = digest.replace(':', "-");
    let index: serde_json::Value = serde_json::from_slice(&registry.get(
        &format!("acme/gated/manifests/{tag}"),
        "application/vnd.oci.image.index.v1+json",
    ))
    .unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 4, "{index}");

    // `spin verify`: 0 when a signature verifies for the identity, 1 when none does, 2 on errors.
    let spin_verify = |who: &str, reference: &str| {
        run(
            &[
                "verify",
                reference,
                "--insecure",
                "--certificate-identity",
                who,
                "--certificate-oidc-issuer",
                &sigstore.url,
                "--trusted-root",
                tr,
            ],
            app.path(),
            &env,
        )
    };
    let ok = spin_verify("erin@example.com", &reference);
    assert_eq!(ok.status.code(), Some(0), "{}", output_text(&ok));
    assert!(
        output_text(&ok).contains(&format!("ALLOW {}/acme/gated@{digest}", registry.host())),
        "{}",
        output_text(&ok)
    );
    let denied = spin_verify("mallory@example.com", &reference);
    assert_eq!(denied.status.code(), Some(1), "{}", output_text(&denied));
    // The trace lists all four signers, none of them the one required, and the fix.
    let trace = output_text(&denied);
    assert!(
        trace.contains("DENY") && trace.contains("signature 4 ("),
        "{trace}"
    );
    for who in ["carol", "dave", "erin", "frank"] {
        assert!(
            trace.contains(&format!("{who}@example.com (issuer")),
            "{trace}"
        );
    }
    assert!(
        trace.contains("subject erin@example.com is not mallory@example.com"),
        "{trace}"
    );
    assert!(trace.contains("fix: "), "{trace}");

    let other =
        spin_tests::app_dir(&[("spin.toml", manifest.replace("1.0.0", "2.0.0").as_bytes())]);
    let unsigned_ref = format!("{}/acme/gated:unsigned", registry.host());
    let pushed = run(
        &[
            "registry",
            "push",
            &unsigned_ref,
            "--insecure",
            "--cache-dir",
            &cache,
        ],
        other.path(),
        &env,
    );
    assert!(pushed.status.success(), "{}", output_text(&pushed));
    let unsigned = spin_verify("alice@example.com", &unsigned_ref);
    assert_eq!(
        unsigned.status.code(),
        Some(1),
        "{}",
        output_text(&unsigned)
    );
    assert!(
        output_text(&unsigned).contains("has no signatures"),
        "{}",
        output_text(&unsigned)
    );
    let missing = spin_verify(
        "alice@example.com",
        &format!("{}/acme/nothing:here", registry.host()),
    );
    assert_eq!(missing.status.code(), Some(2), "{}", output_text(&missing));

    // Signed with a key: `spin verify --key` accepts it, and refuses the key for an app
    // signed only keylessly.
    let mut env_pw = env.to_vec();
    env_pw.push(("COSIGN_PASSWORD", "pw"));
    let made = run(
        &["signing", "generate-key-pair", "--output-key-prefix", "ci"],
        home.path(),
        &env_pw,
    );
    assert!(made.status.success(), "{}", output_text(&made));
    let key = home.path().join("ci.key").display().to_string();
    let public = home.path().join("ci.pub").display().to_string();
    let signed = run(
        &[
            "sign",
            &unsigned_ref,
            "--insecure",
            "--key",
            &key,
            "--trusted-root",
            tr,
            "--signing-config",
            sc,
        ],
        app.path(),
        &env_pw,
    );
    assert!(
        signed.status.success(),
        "{}\n{}",
        output_text(&signed),
        sigstore.log()
    );
    let by_key = run(
        &[
            "verify",
            &unsigned_ref,
            "--insecure",
            "--key",
            &public,
            "--trusted-root",
            tr,
        ],
        app.path(),
        &env,
    );
    assert_eq!(by_key.status.code(), Some(0), "{}", output_text(&by_key));
    let wrong_key = run(
        &[
            "verify",
            &reference,
            "--insecure",
            "--key",
            &public,
            "--trusted-root",
            tr,
        ],
        app.path(),
        &env,
    );
    assert_eq!(
        wrong_key.status.code(),
        Some(1),
        "{}",
        output_text(&wrong_key)
    );
}

#[test]
fn an_app_signed_through_a_rekor_v2_log_verifies() {
    let world = World::new("v2");
    let World {
        registry,
        sigstore,
        home,
        app,
        ..
    } = &world;
    let env = world.env();
    let (tr, sc) = (sigstore.trusted_root(), sigstore.signing_config_v2());
    let (tr, sc) = (tr.to_str().unwrap(), sc.to_str().unwrap());
    let reference = format!("{}/acme/v2:v1", registry.host());
    let cache = home.path().join("cache").display().to_string();
    let token = sigstore.token(serde_json::json!({"sub": "v2", "email": "v2@example.com"}));
    let pushed = run(
        &[
            "registry",
            "push",
            &reference,
            "--insecure",
            "--cache-dir",
            &cache,
            "--sign",
            "--identity-token",
            &token,
            "--trusted-root",
            tr,
            "--signing-config",
            sc,
        ],
        app.path(),
        &env,
    );
    assert!(
        pushed.status.success(),
        "{}\n{}",
        output_text(&pushed),
        sigstore.log()
    );
    let digest = pushed_digest(&output_text(&pushed));
    let ok = run(
        &[
            "verify",
            &reference,
            "--insecure",
            "--certificate-identity",
            "v2@example.com",
            "--certificate-oidc-issuer",
            &sigstore.url,
            "--trusted-root",
            tr,
        ],
        app.path(),
        &env,
    );
    assert_eq!(ok.status.code(), Some(0), "{}", output_text(&ok));
    let index: serde_json::Value = serde_json::from_slice(&registry.get(
        &format!("acme/v2/manifests/{}", digest.replace(':', "-")),
        "application/vnd.oci.image.index.v1+json",
    ))
    .unwrap();
    let referrer = index["manifests"][0]["digest"].as_str().unwrap();
    let m: serde_json::Value = serde_json::from_slice(&registry.get(
        &format!("acme/v2/manifests/{referrer}"),
        "application/vnd.oci.image.manifest.v1+json",
    ))
    .unwrap();
    let bundle = registry.get(
        &format!(
            "acme/v2/blobs/{}",
            m["layers"][0]["digest"].as_str().unwrap()
        ),
        "*/*",
    );
    let b: serde_json::Value = serde_json::from_slice(&bundle).unwrap();
    assert!(
        b["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["version"]
            .as_str()
            .unwrap()
            .ends_with(".2"),
        "{b}"
    );
    let path = home.path().join("v2.json");
    std::fs::write(&path, &bundle).unwrap();
    let py = sigstore.python_verify(&path, "v2@example.com", Path::new(&digest));
    assert!(py.status.success(), "{}", output_text(&py));
}
