//! Key-based signing: keys we generate and keys cosign made, air-gapped bundles, and a
//! bundle cosign made for an image digest.

use spin_tests::sigstore::LocalSigstore;
use spin_tests::{assert_contains, output_text, repo_root, spin_env as run};

#[test]
fn key_based_signing_with_generated_and_cosign_made_keys_and_air_gapped_bundles() {
    let sigstore = LocalSigstore::start();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(dir.join("a.txt"), b"signed with a key\n").unwrap();
    std::fs::write(dir.join("b.txt"), b"something else\n").unwrap();
    let (tr, sc) = (sigstore.trusted_root(), sigstore.signing_config());
    let (tr, sc) = (tr.to_str().unwrap(), sc.to_str().unwrap());
    let pw = [("COSIGN_PASSWORD", "correct horse")];

    let generate = || {
        run(
            &[
                "signing",
                "generate-key-pair",
                "--output-key-prefix",
                "release",
            ],
            dir,
            &pw,
        )
    };
    let made = generate();
    assert!(made.status.success(), "{}", output_text(&made));
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.join("release.key"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(
        mode & 0o777,
        0o600,
        "the private key is readable by its owner only"
    );
    let again = generate();
    assert_contains(&output_text(&again), "already exists");

    // `sign-bundle --key KEY EXTRA… a.txt` against the local instance.
    let sign = |key: &str, extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec!["sign-bundle", "--key", key];
        args.extend(extra);
        args.extend(["--trusted-root", tr, "--signing-config", sc, "a.txt"]);
        run(&args, dir, env)
    };
    // Signed with the key and recorded in the transparency log.
    let signed = sign("release.key", &["--bundle", "a.sigstore.json"], &pw);
    sigstore.assert_ok(&signed);
    let bundle = spin_tests::read_json(dir.join("a.sigstore.json"));
    assert!(
        bundle["verificationMaterial"]["publicKey"]["hint"].is_string(),
        "{bundle}"
    );
    assert_eq!(
        bundle["verificationMaterial"]["tlogEntries"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let verify_key = |key: &str, file: &str, bundle: &str, extra: &[&str]| {
        let mut args = vec![
            "verify-bundle",
            "--key",
            key,
            "--bundle",
            bundle,
            "--trusted-root",
            tr,
        ];
        args.extend(extra);
        args.push(file);
        run(&args, dir, &[])
    };
    let ok = verify_key("release.pub", "a.txt", "a.sigstore.json", &[]);
    assert!(ok.status.success(), "{}", output_text(&ok));
    assert!(
        !verify_key("release.pub", "b.txt", "a.sigstore.json", &[])
            .status
            .success(),
        "another file"
    );

    // A key cosign wrote (PKCS#8) signs too; another key does not verify the first bundle.
    let fixtures = repo_root().join("tests/fixtures/cosign-format/keys");
    let plain = fixtures.join("ecdsa_private.key");
    let public = std::process::Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&plain)
        .output()
        .unwrap();
    std::fs::write(dir.join("cosign.pub"), &public.stdout).unwrap();
    let signed = sign(
        plain.to_str().unwrap(),
        &["--bundle", "c.sigstore.json"],
        &[],
    );
    assert!(signed.status.success(), "{}", output_text(&signed));
    assert!(
        verify_key("cosign.pub", "a.txt", "c.sigstore.json", &[])
            .status
            .success()
    );
    assert!(
        !verify_key("cosign.pub", "a.txt", "a.sigstore.json", &[])
            .status
            .success(),
        "wrong key"
    );
    let encrypted = fixtures.join("ecdsa_encrypted_private.key");
    let wrong = sign(
        encrypted.to_str().unwrap(),
        &[],
        &[("COSIGN_PASSWORD", "nope")],
    );
    assert_contains(&output_text(&wrong), "wrong password");

    // Air-gapped: no log entry but a timestamp from the site's own TSA; verifiers accept
    // it only when told to.
    let offline = sign(
        "release.key",
        &["--tlog-upload=false", "--bundle", "d.sigstore.json"],
        &pw,
    );
    assert!(offline.status.success(), "{}", output_text(&offline));
    let bundle = spin_tests::read_json(dir.join("d.sigstore.json"));
    assert!(
        bundle["verificationMaterial"]["tlogEntries"]
            .as_array()
            .is_none_or(|e| e.is_empty()),
        "{bundle}"
    );
    assert_eq!(
        bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let strict = verify_key("release.pub", "a.txt", "d.sigstore.json", &[]);
    assert!(
        !strict.status.success(),
        "a bundle without a log entry needs --insecure-ignore-tlog"
    );
    let lax = verify_key(
        "release.pub",
        "a.txt",
        "d.sigstore.json",
        &["--insecure-ignore-tlog"],
    );
    assert!(lax.status.success(), "{}", output_text(&lax));
}

#[test]
fn a_bundle_cosign_made_verifies_against_the_image_digest() {
    let fixtures = repo_root().join("tests/fixtures/cosign-format");
    let bundle = fixtures.join("oci-attestation.sigstore.json");
    let root = fixtures.join("trusted_root_pgi.json");
    let digest = "sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4";
    let check = |identity: &str, input: &str| {
        run(
            &[
                "verify-bundle",
                "--bundle",
                bundle.to_str().unwrap(),
                "--certificate-identity",
                identity,
                "--certificate-oidc-issuer",
                "https://github.com/login/oauth",
                "--trusted-root",
                root.to_str().unwrap(),
                input,
            ],
            &fixtures,
            &[],
        )
    };
    let ok = check("cody@soyland.com", digest);
    assert!(ok.status.success(), "{}", output_text(&ok));
    assert!(!check("someone@else.com", digest).status.success());
    let other = format!("sha256:{}", "0".repeat(64));
    let wrong = check("cody@soyland.com", &other);
    assert_contains(&output_text(&wrong), "verification failed");
}
