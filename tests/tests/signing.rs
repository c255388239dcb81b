//! Signing files against a local Sigstore instance that speaks the real APIs (OIDC issuer,
//! Fulcio with embedded SCTs, Rekor v1 with SETs, inclusion proofs and signed checkpoints,
//! a TSA), checked by sigstore-python as the independent verifier; identity tokens (CI
//! ambient credentials included); our verifier against tampering.
//! Elsewhere: the conformance bundles (`signing_conformance.rs`), keys and cosign-made
//! bundles (`signing_keys.rs`), login/TUF/Rekor v2 (`signing_services.rs`), apps in
//! registries (`signing_apps.rs`).

use base64::Engine;
use spin_tests::sigstore::LocalSigstore;
use spin_tests::{assert_contains, output_text, sha256_hex};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Decode the base64 field at `pointer`, flip one byte at `at` (from the end when
/// negative), and write the bundle back.
fn flip(bundle: &serde_json::Value, pointer: &str, at: isize) -> serde_json::Value {
    let mut b = bundle.clone();
    let field = b
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer}"));
    let mut bytes = B64.decode(field.as_str().unwrap()).unwrap();
    let i = if at < 0 {
        bytes.len() - at.unsigned_abs()
    } else {
        at as usize
    };
    bytes[i] ^= 0x01;
    *field = serde_json::Value::String(B64.encode(bytes));
    b
}

#[test]
fn signed_files_verify_with_sigstore_python_and_spin_and_tampering_is_caught() {
    let sigstore = LocalSigstore::start();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let artifact = dir.join("app.txt");
    std::fs::write(&artifact, b"the artifact\n").unwrap();
    let token = sigstore.token(serde_json::json!({"sub": "alice", "email": "alice@example.com"}));

    let out = sigstore.spin_sign_bundle(&token, "app.txt", "app.sigstore.json", dir);
    sigstore.assert_ok(&out);
    assert_contains(&output_text(&out), "Signing as alice@example.com");
    assert!(
        !output_text(&out).contains(&token),
        "the token never appears in output"
    );
    let bundle_path = dir.join("app.sigstore.json");
    let bundle = spin_tests::read_json(&bundle_path);
    assert_eq!(
        bundle["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );

    // The independent verifier accepts it, and refuses another identity or another file.
    let py = sigstore.python_verify(&bundle_path, "alice@example.com", &artifact);
    assert!(py.status.success(), "sigstore-python: {}", output_text(&py));
    assert!(
        !sigstore
            .python_verify(&bundle_path, "mallory@example.com", &artifact)
            .status
            .success()
    );
    let other = dir.join("other.txt");
    std::fs::write(&other, b"the artifact!\n").unwrap();
    assert!(
        !sigstore
            .python_verify(&bundle_path, "alice@example.com", &other)
            .status
            .success()
    );

    // Our verifier: the file, its digest; not another identity, issuer or file.
    let ok = sigstore.spin_verify_bundle("app.sigstore.json", "alice@example.com", "app.txt", dir);
    assert!(ok.status.success(), "{}", output_text(&ok));
    let digest = format!("sha256:{}", sha256_hex(&std::fs::read(&artifact).unwrap()));
    let by_digest =
        sigstore.spin_verify_bundle("app.sigstore.json", "alice@example.com", &digest, dir);
    assert!(by_digest.status.success(), "{}", output_text(&by_digest));
    let wrong_identity =
        sigstore.spin_verify_bundle("app.sigstore.json", "mallory@example.com", "app.txt", dir);
    assert!(!wrong_identity.status.success());
    assert_contains(
        &output_text(&wrong_identity),
        "subject alice@example.com is not mallory@example.com",
    );
    let wrong_file =
        sigstore.spin_verify_bundle("app.sigstore.json", "alice@example.com", "other.txt", dir);
    assert!(!wrong_file.status.success(), "{}", output_text(&wrong_file));

    // One byte changed anywhere that matters: the signature, the certificate, the log
    // entry's body, its inclusion proof, its signed entry timestamp.
    let tampered = [
        ("/messageSignature/signature", 10),
        ("/verificationMaterial/certificate/rawBytes", -5),
        ("/verificationMaterial/certificate/rawBytes", 200),
        ("/verificationMaterial/tlogEntries/0/canonicalizedBody", 40),
        (
            "/verificationMaterial/tlogEntries/0/inclusionPromise/signedEntryTimestamp",
            -3,
        ),
        (
            "/verificationMaterial/tlogEntries/0/inclusionProof/rootHash",
            0,
        ),
    ];
    for (pointer, at) in tampered {
        let bad = flip(&bundle, pointer, at);
        std::fs::write(
            dir.join("bad.sigstore.json"),
            serde_json::to_vec(&bad).unwrap(),
        )
        .unwrap();
        let out =
            sigstore.spin_verify_bundle("bad.sigstore.json", "alice@example.com", "app.txt", dir);
        assert!(
            !out.status.success(),
            "{pointer}[{at}] changed and still verified"
        );
        assert!(
            output_text(&out).contains("verification failed")
                || output_text(&out).contains("not a valid Sigstore bundle"),
            "{pointer}: {}",
            output_text(&out)
        );
    }
}

#[test]
fn a_signed_digest_verifies_for_the_file_with_sigstore_python() {
    let sigstore = LocalSigstore::start();
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("big.bin");
    std::fs::write(&file, vec![7u8; 100_000]).unwrap();
    let digest = format!("sha256:{}", sha256_hex(&std::fs::read(&file).unwrap()));
    let token = sigstore.token(serde_json::json!({"sub": "bob", "email": "bob@example.com"}));
    let out = sigstore.spin_sign_bundle(&token, &digest, "digest.sigstore.json", work.path());
    assert!(out.status.success(), "{}", output_text(&out));
    let py = sigstore.python_verify(
        &work.path().join("digest.sigstore.json"),
        "bob@example.com",
        &file,
    );
    assert!(py.status.success(), "{}", output_text(&py));
}

#[test]
fn token_problems_and_service_failures_are_clear_and_never_echo_the_token() {
    let sigstore = LocalSigstore::start();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("a.txt"), b"a").unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();

    let expired = sigstore.token(serde_json::json!({"sub": "x", "email": "x@example.com", "iat": now - 900, "expires_in": 300}));
    let out = sigstore.spin_sign_bundle(&expired, "a.txt", "a.sigstore.json", work.path());
    assert!(!out.status.success());
    assert_contains(
        &output_text(&out),
        "the identity token from --identity-token expired at",
    );
    assert!(!output_text(&out).contains(&expired));

    let audience = sigstore
        .token(serde_json::json!({"sub": "x", "email": "x@example.com", "aud": "not-sigstore"}));
    let out = sigstore.spin_sign_bundle(&audience, "a.txt", "a.sigstore.json", work.path());
    assert_contains(&output_text(&out), "Sigstore accepts only `sigstore`");
    assert!(!output_text(&out).contains(&audience));

    let good = sigstore.token(serde_json::json!({"sub": "x", "email": "x@example.com"}));
    sigstore.fail_fulcio_once(503);
    let out = sigstore.spin_sign_bundle(&good, "a.txt", "a.sigstore.json", work.path());
    assert!(!out.status.success());
    assert_contains(
        &output_text(&out),
        "the certificate authority (Fulcio) did not issue a signing certificate",
    );
    assert!(!output_text(&out).contains(&good));
    assert!(
        !work.path().join("a.sigstore.json").exists(),
        "no bundle is written on failure"
    );

    let none = sigstore.spin_sign_bundle_ambient(
        "a.txt",
        "a.sigstore.json",
        work.path(),
        &[("SIGSTORE_ID_TOKEN", ""), ("GITHUB_ACTIONS", "")],
    );
    assert_contains(&output_text(&none), "no identity token for keyless signing");
}

#[test]
fn github_actions_ambient_credentials_sign_as_the_workflow() {
    let sigstore = LocalSigstore::start();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("a.txt"), b"from CI").unwrap();
    let url = format!("{}/actions-token", sigstore.url);
    let out = sigstore.spin_sign_bundle_ambient(
        "a.txt",
        "a.sigstore.json",
        work.path(),
        &[
            ("GITHUB_ACTIONS", "true"),
            ("ACTIONS_ID_TOKEN_REQUEST_URL", &url),
            (
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                "local-actions-request-token",
            ),
            ("SIGSTORE_ID_TOKEN", ""),
        ],
    );
    sigstore.assert_ok(&out);
    assert_contains(
        &output_text(&out),
        "token from the CI's ambient OIDC credentials",
    );
    assert!(!output_text(&out).contains("local-actions-request-token"));
    let identity = "repo:acme/app:ref:refs/heads/main";
    let py = sigstore.python_verify(
        &work.path().join("a.sigstore.json"),
        identity,
        &work.path().join("a.txt"),
    );
    assert!(py.status.success(), "{}", output_text(&py));
}
