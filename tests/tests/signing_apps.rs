//! Signing apps in a registry (the local distribution registry and the local Sigstore
//! instance): bundles attached as referrers through the `sha256-<hex>` tag index, several
//! and concurrent signers, `spin verify` exit codes, keys, a Rekor v2 log; every bundle
//! checked by sigstore-python. cosign's legacy `.sig` format: `signing_legacy.rs`.

use base64::Engine;
use spin_tests::world::{World, app, key_pair};
use spin_tests::{assert_contains, output_text, pushed_digest};
use std::path::{Path, PathBuf};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// `spin registry push --sign` of the app `name` to `reference` with `token`, trusting
/// `(trusted_root, signing_config)`: what it printed.
fn push_signed(
    world: &World,
    reference: &str,
    name: &str,
    token: &str,
    (tr, sc): &(PathBuf, PathBuf),
) -> String {
    let app = app(name);
    let push = [
        "registry",
        "push",
        reference,
        "--sign",
        "--identity-token",
        token,
    ];
    let trust = ["--trusted-root", tr.to_str().unwrap()];
    let pushed = world.user.spin(&push).args(&trust).cwd(app.path());
    let pushed = pushed.args(&["--signing-config", sc.to_str().unwrap()]);
    pushed.insecure().cache().ok().text()
}

#[test]
fn apps_signed_in_a_registry_carry_every_signers_bundle_as_referrers() {
    let world = World::new();
    let (registry, sigstore, home) = (&world.registry, &world.sigstore, world.user.home());
    let reference = world.reference("acme/signed:v1");
    let alice = sigstore.token(serde_json::json!({"sub": "alice", "email": "alice@example.com"}));
    let trust = (sigstore.trusted_root(), sigstore.signing_config());
    let out = push_signed(&world, &reference, "signed", &alice, &trust);
    assert!(!out.contains(&alice));
    let digest = pushed_digest(&out);
    assert_contains(
        &out,
        format!("Signed {}/acme/signed@{digest}", registry.host()),
    );
    let bob = sigstore.token(serde_json::json!({"sub": "bob", "email": "bob@example.com"}));
    world.sign(&reference, &bob, &[]);

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
        let path = home.join(format!("bundle-{i}.json"));
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
                let ours = sigstore.spin_verify_bundle(path.to_str().unwrap(), who, &digest, home);
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
fn concurrent_signers_keys_and_spin_verify_exit_codes() {
    let world = World::new();
    let (registry, sigstore, home) = (&world.registry, &world.sigstore, world.user.home());
    let (tr, sc) = (sigstore.trusted_root(), sigstore.signing_config());
    let (tr, sc) = (tr.to_str().unwrap(), sc.to_str().unwrap());
    let reference = world.reference("acme/gated:v1");
    let digest = world.push("acme/gated:v1", "gated");

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
                .envs(world.env())
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
        world.spin(&[
            "verify",
            reference,
            "--insecure",
            "--certificate-identity",
            who,
            "--certificate-oidc-issuer",
            &sigstore.url,
            "--trusted-root",
            tr,
        ])
    };
    let ok = spin_verify("erin@example.com", &reference);
    assert_eq!(ok.status.code(), Some(0), "{}", output_text(&ok));
    assert_contains(
        &output_text(&ok),
        format!("ALLOW {}/acme/gated@{digest}", registry.host()),
    );
    let denied = spin_verify("mallory@example.com", &reference);
    assert_eq!(denied.status.code(), Some(1), "{}", output_text(&denied));
    // The trace lists all four signers, none of them the one required, and the fix.
    let trace = output_text(&denied);
    assert_contains(&trace, "DENY");
    assert_contains(&trace, "signature 4 (");
    for who in ["carol", "dave", "erin", "frank"] {
        assert_contains(&trace, format!("{who}@example.com (issuer"));
    }
    assert_contains(
        &trace,
        "subject erin@example.com is not mallory@example.com",
    );
    assert_contains(&trace, "fix: ");

    let unsigned_ref = world.publish("acme/gated:unsigned", "gated-unsigned");
    let unsigned = spin_verify("alice@example.com", &unsigned_ref);
    assert_eq!(
        unsigned.status.code(),
        Some(1),
        "{}",
        output_text(&unsigned)
    );
    assert_contains(&output_text(&unsigned), "has no signatures");
    let missing = spin_verify(
        "alice@example.com",
        &format!("{}/acme/nothing:here", registry.host()),
    );
    assert_eq!(missing.status.code(), Some(2), "{}", output_text(&missing));

    // Signed with a key: `spin verify --key` accepts it, and refuses the key for an app
    // signed only keylessly.
    let (key, public) = key_pair(home, "ci");
    world.sign_with_key(&unsigned_ref, &key, &[]);
    let by_key_of = |reference: &str| {
        world.spin(&[
            "verify",
            reference,
            "--insecure",
            "--key",
            public.to_str().unwrap(),
            "--trusted-root",
            tr,
        ])
    };
    let by_key = by_key_of(&unsigned_ref);
    assert_eq!(by_key.status.code(), Some(0), "{}", output_text(&by_key));
    let wrong_key = by_key_of(&reference);
    assert_eq!(
        wrong_key.status.code(),
        Some(1),
        "{}",
        output_text(&wrong_key)
    );
}

#[test]
fn an_app_signed_through_a_rekor_v2_log_verifies() {
    let world = World::new();
    let reference = world.reference("acme/v2:v1");
    let (registry, sigstore, home) = (&world.registry, &world.sigstore, world.user.home());
    // The signing config lists a Rekor v2 log (and a TSA, since v2 entries carry no time).
    let trust = (sigstore.trusted_root(), sigstore.signing_config_v2());
    let token = sigstore.token(serde_json::json!({"sub": "v2", "email": "v2@example.com"}));
    let digest = pushed_digest(&push_signed(&world, &reference, "v2", &token, &trust));
    let tr = trust.0.to_str().unwrap();
    let ok = world.spin(&[
        "verify",
        &reference,
        "--insecure",
        "--certificate-identity",
        "v2@example.com",
        "--certificate-oidc-issuer",
        &sigstore.url,
        "--trusted-root",
        tr,
    ]);
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
    let path = home.join("v2.json");
    std::fs::write(&path, &bundle).unwrap();
    let py = sigstore.python_verify(&path, "v2@example.com", Path::new(&digest));
    assert!(py.status.success(), "{}", output_text(&py));
}
