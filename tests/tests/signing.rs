//! Signing files against a local Sigstore instance that speaks the real APIs (OIDC issuer,
//! Fulcio with embedded SCTs, Rekor v1 with SETs, inclusion proofs and signed checkpoints,
//! a TSA), checked by sigstore-python as the independent verifier; identity tokens and
//! the interactive login; keys; our verifier against tampering, the sigstore-conformance
//! bundles and a cosign-made bundle. Apps in registries: `signing_apps.rs`.

use base64::Engine;
use spin_tests::sigstore::LocalSigstore;
use spin_tests::{output_text, repo_root, sha256_hex, spin_env as run};
use std::path::Path;

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
    assert!(
        out.status.success(),
        "{}\n{}",
        output_text(&out),
        sigstore.log()
    );
    assert!(
        output_text(&out).contains("Signing as alice@example.com"),
        "{}",
        output_text(&out)
    );
    assert!(
        !output_text(&out).contains(&token),
        "the token never appears in output"
    );
    let bundle_path = dir.join("app.sigstore.json");
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&bundle_path).unwrap()).unwrap();
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
    assert!(
        output_text(&wrong_identity)
            .contains("subject alice@example.com is not mallory@example.com"),
        "{}",
        output_text(&wrong_identity)
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
    assert!(
        output_text(&out).contains("the identity token from --identity-token expired at"),
        "{}",
        output_text(&out)
    );
    assert!(!output_text(&out).contains(&expired));

    let audience = sigstore
        .token(serde_json::json!({"sub": "x", "email": "x@example.com", "aud": "not-sigstore"}));
    let out = sigstore.spin_sign_bundle(&audience, "a.txt", "a.sigstore.json", work.path());
    assert!(
        output_text(&out).contains("Sigstore accepts only `sigstore`"),
        "{}",
        output_text(&out)
    );
    assert!(!output_text(&out).contains(&audience));

    let good = sigstore.token(serde_json::json!({"sub": "x", "email": "x@example.com"}));
    sigstore.fail_fulcio_once(503);
    let out = sigstore.spin_sign_bundle(&good, "a.txt", "a.sigstore.json", work.path());
    assert!(!out.status.success());
    assert!(
        output_text(&out)
            .contains("the certificate authority (Fulcio) did not issue a signing certificate"),
        "{}",
        output_text(&out)
    );
    assert!(!output_text(&out).contains(&good));
    assert!(
        !work.path().join("a.sigstore.json").exists(),
        "no bundle is written on failure"
    );

    let (tr, sc) = (sigstore.trusted_root(), sigstore.signing_config());
    let none = run(
        &[
            "sign-bundle",
            "--trusted-root",
            tr.to_str().unwrap(),
            "--signing-config",
            sc.to_str().unwrap(),
            "a.txt",
        ],
        work.path(),
        &[("SIGSTORE_ID_TOKEN", ""), ("GITHUB_ACTIONS", "")],
    );
    assert!(
        output_text(&none).contains("no identity token for keyless signing"),
        "{}",
        output_text(&none)
    );
}

#[test]
fn github_actions_ambient_credentials_sign_as_the_workflow() {
    let sigstore = LocalSigstore::start();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("a.txt"), b"from CI").unwrap();
    let (tr, sc) = (sigstore.trusted_root(), sigstore.signing_config());
    let url = format!("{}/actions-token", sigstore.url);
    let out = run(
        &[
            "sign-bundle",
            "--bundle",
            "a.sigstore.json",
            "--trusted-root",
            tr.to_str().unwrap(),
            "--signing-config",
            sc.to_str().unwrap(),
            "a.txt",
        ],
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
    assert!(
        out.status.success(),
        "{}\n{}",
        output_text(&out),
        sigstore.log()
    );
    assert!(
        output_text(&out).contains("token from the CI's ambient OIDC credentials"),
        "{}",
        output_text(&out)
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

/// Each `_fail` case of the conformance suite, and the words of our error that show it was
/// rejected for the reason its README states.
const FAIL_REASONS: &[(&str, &str)] = &[
    (
        "bundle-empty-certificate-chain_fail",
        "certificate chain is empty",
    ),
    ("bundle-invalid-base64-signature_fail", "invalid base64"),
    ("bundle-malformed-json_fail", "EOF while parsing"),
    ("bundle-negative-log-index_fail", "negative log index"),
    (
        "bundle-with-root-cert_fail",
        "contains a self-signed root certificate",
    ),
    (
        "checkpoint-bad-keyhint_fail",
        "No matching Rekor key found for checkpoint",
    ),
    (
        "dsse-invalid-sig_fail",
        "DSSE signature verification failed",
    ),
    ("dsse-mismatch-envelope_fail", "DSSE payload hash mismatch"),
    (
        "dsse-mismatch-sig_fail",
        "DSSE signature in bundle does not match",
    ),
    (
        "inclusion-proof-corrupted-hash_fail",
        "inclusion proof verification failed: root hash mismatch",
    ),
    // The modified entry no longer matches what the log's SET signed.
    ("incorrect-public-key_fail", "SET verification failed"),
    // The integrated time falls outside the certificate's validity.
    ("integrated-time-in-future_fail", "CertExpired"),
    ("intoto-log-entry-mismatch_fail", "malformed log entry"),
    (
        "intoto-missing-inclusion-proof_fail",
        "must have an inclusion proof",
    ),
    (
        "intoto-set-outside-signing-cert-validity_fail",
        "CertExpired",
    ),
    (
        "invalid-checkpoint-signature_fail",
        "No valid Rekor signature found on checkpoint",
    ),
    ("invalid-ct-key_fail", "SCT signature verification failed"),
    (
        "managed-key-no-key_fail",
        "bundle has no signing certificate",
    ),
    (
        "message-digest-mismatch_fail",
        "does not match artifact hash",
    ),
    (
        "rekor2-checkpoint-missing-log-signature_fail",
        "no signatures found",
    ),
    (
        "rekor2-checkpoint-missing-root-hash_fail",
        "missing root hash",
    ),
    ("rekor2-checkpoint-missing-size_fail", "invalid tree size"),
    (
        "rekor2-dsse-invalid-sig_fail",
        "DSSE signature verification failed",
    ),
    (
        "rekor2-dsse-mismatch-envelope_fail",
        "artifact hash mismatch for hashedrekord entry",
    ),
    (
        "rekor2-dsse-mismatch-sig_fail",
        "DSSE signature in bundle does not match signature in Rekor entry",
    ),
    (
        "rekor2-no-inclusion-proof_fail",
        "must have an inclusion proof",
    ),
    ("rekor2-no-timestamp_fail", "requires RFC3161 timestamp"),
    (
        "rekor2-timestamp-outside-trust-root-tsa-validity_fail",
        "outside the validity period of the authority",
    ),
    (
        "rekor2-timestamp-payload-mismatch_fail",
        "Timestamp message hash mismatch",
    ),
    (
        "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
        "does not match any trusted TSA certificate",
    ),
    (
        "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail",
        "does not match any trusted TSA certificate",
    ),
    // The timestamp is valid, but outside the certificate's lifetime.
    ("rekor2-timestamp-with-incorrect-time_fail", "CertExpired"),
    ("signature-mismatch_fail", "signature verification failed"),
    (
        "trust-root-tlog-missing-validity-start_fail",
        "missing field `start`",
    ),
    (
        "wrong-hashedrekord-artifact_fail",
        "artifact hash mismatch for hashedrekord entry",
    ),
    (
        "wrong-hashedrekord-cert-and-sig_fail",
        "certificate in bundle does not match certificate in Rekor entry",
    ),
    (
        "wrong-hashedrekord-entry_fail",
        "artifact hash mismatch for hashedrekord entry",
    ),
];

#[test]
fn sigstore_conformance_bundles_verify_or_fail_as_the_suite_says() {
    let cases = repo_root().join("tests/fixtures/sigstore-conformance/bundle-verify");
    let default_identity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&cases)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    entries.sort();
    let mut wrong = Vec::new();
    for case in entries {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let read = |f: &str| {
            std::fs::read_to_string(case.join(f))
                .ok()
                .map(|s| s.trim().to_string())
        };
        let artifact = if case.join("artifact").is_file() {
            case.join("artifact")
        } else {
            cases.join("a.txt")
        };
        let digest = format!("sha256:{}", sha256_hex(&std::fs::read(&artifact).unwrap()));
        for input in [artifact.to_str().unwrap().to_string(), digest] {
            let mut args: Vec<String> = vec![
                "verify-bundle".into(),
                "--bundle".into(),
                case.join("bundle.sigstore.json").display().to_string(),
            ];
            if case.join("key.pub").is_file() {
                args.extend(["--key".into(), case.join("key.pub").display().to_string()]);
            } else {
                args.extend([
                    "--certificate-identity".into(),
                    read("identity").unwrap_or(default_identity.into()),
                ]);
                args.extend([
                    "--certificate-oidc-issuer".into(),
                    read("issuer").unwrap_or("https://token.actions.githubusercontent.com".into()),
                ]);
            }
            if case.join("trusted_root.json").is_file() {
                args.extend([
                    "--trusted-root".into(),
                    case.join("trusted_root.json").display().to_string(),
                ]);
            }
            args.push(input.clone());
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = run(&args, &case, &[]);
            let should_pass = !name.ends_with("_fail");
            let reason = FAIL_REASONS
                .iter()
                .find(|(c, _)| *c == name)
                .map(|(_, r)| *r);
            if !should_pass && !out.status.success() {
                match reason {
                    Some(r) if output_text(&out).contains(r) => {}
                    Some(r) => wrong.push(format!(
                        "{name} ({input}): rejected, but not for its reason ({r:?}): {}",
                        output_text(&out).trim()
                    )),
                    None => wrong.push(format!(
                        "{name}: a new _fail case; add the reason its README states to FAIL_REASONS"
                    )),
                }
            }
            if out.status.success() != should_pass {
                wrong.push(format!(
                    "{name} ({}): expected {}, got: {}",
                    if input.starts_with("sha256:") {
                        "digest"
                    } else {
                        "file"
                    },
                    if should_pass { "success" } else { "failure" },
                    output_text(&out).trim()
                ));
            }
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} checks ran");
    assert!(
        wrong.is_empty(),
        "{} of {checked} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

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

    let made = run(
        &[
            "signing",
            "generate-key-pair",
            "--output-key-prefix",
            "release",
        ],
        dir,
        &pw,
    );
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
    let again = run(
        &[
            "signing",
            "generate-key-pair",
            "--output-key-prefix",
            "release",
        ],
        dir,
        &pw,
    );
    assert!(
        output_text(&again).contains("already exists"),
        "{}",
        output_text(&again)
    );

    // Signed with the key and recorded in the transparency log.
    let signed = run(
        &[
            "sign-bundle",
            "--key",
            "release.key",
            "--bundle",
            "a.sigstore.json",
            "--trusted-root",
            tr,
            "--signing-config",
            sc,
            "a.txt",
        ],
        dir,
        &pw,
    );
    assert!(
        signed.status.success(),
        "{}\n{}",
        output_text(&signed),
        sigstore.log()
    );
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("a.sigstore.json")).unwrap()).unwrap();
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
    let signed = run(
        &[
            "sign-bundle",
            "--key",
            plain.to_str().unwrap(),
            "--bundle",
            "c.sigstore.json",
            "--trusted-root",
            tr,
            "--signing-config",
            sc,
            "a.txt",
        ],
        dir,
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
    let wrong = run(
        &[
            "sign-bundle",
            "--key",
            encrypted.to_str().unwrap(),
            "--trusted-root",
            tr,
            "--signing-config",
            sc,
            "a.txt",
        ],
        dir,
        &[("COSIGN_PASSWORD", "nope")],
    );
    assert!(
        output_text(&wrong).contains("wrong password"),
        "{}",
        output_text(&wrong)
    );

    // Air-gapped: no log entry but a timestamp from the site's own TSA; verifiers accept
    // it only when told to.
    let offline = run(
        &[
            "sign-bundle",
            "--key",
            "release.key",
            "--tlog-upload=false",
            "--bundle",
            "d.sigstore.json",
            "--trusted-root",
            tr,
            "--signing-config",
            sc,
            "a.txt",
        ],
        dir,
        &pw,
    );
    assert!(offline.status.success(), "{}", output_text(&offline));
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("d.sigstore.json")).unwrap()).unwrap();
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
    assert!(
        output_text(&wrong).contains("verification failed"),
        "{}",
        output_text(&wrong)
    );
}

/// Run `spin ARGS` on a terminal (`script`) with no token in the environment; `user` sees
/// each output line and may answer with a line to type. Returns the output once it exits.
fn on_a_terminal(
    dir: &Path,
    args: &str,
    env: &[(&str, &str)],
    user: impl Fn(&str) -> Option<String>,
) -> String {
    use std::io::{BufRead, Write};
    let command = format!("{} {args}", spin_tests::spin_bin().display());
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir)
        .env("SIGSTORE_ID_TOKEN", "")
        .env("GITHUB_ACTIONS", "")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, seen) = std::sync::mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines.send(line);
        }
    });
    let mut stdin = child.stdin.take().unwrap();
    let mut output = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        match seen.recv_timeout(std::time::Duration::from_millis(100)) {
            Ok(line) => {
                if let Some(answer) = user(&line) {
                    writeln!(stdin, "{answer}").unwrap();
                }
                output.push_str(&line);
                output.push('\n');
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                assert!(std::time::Instant::now() < deadline, "no end:\n{output}");
            }
        }
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "{output}");
    output
}

#[test]
fn on_a_terminal_without_a_token_the_user_logs_in_interactively() {
    let sigstore = LocalSigstore::start();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(dir.join("a.txt"), b"signed after logging in").unwrap();
    let trust = format!(
        "--trusted-root {} --signing-config {} a.txt",
        sigstore.trusted_root().display(),
        sigstore.signing_config().display()
    );
    let auth = format!("{}/auth?", sigstore.url);
    let verified = |bundle: &str| {
        let py = sigstore.python_verify(&dir.join(bundle), "dev@example.com", &dir.join("a.txt"));
        assert!(py.status.success(), "{bundle}: {}", output_text(&py));
    };

    // --oauth-force-oob: a URL to open anywhere; the page shows a code the user pastes.
    let out = on_a_terminal(
        dir,
        &format!("sign-bundle --oauth-force-oob --bundle oob.json {trust}"),
        &[],
        |line| {
            let start = line.find(&auth)?;
            let url = line[start..].trim();
            assert!(url.contains("code_challenge_method=S256"), "{url}");
            let page = ureq::get(url).call().unwrap().into_string().unwrap();
            Some(
                page.trim()
                    .strip_prefix("Login code: ")
                    .expect("a code")
                    .to_string(),
            )
        },
    );
    assert!(out.contains("Signing as dev@example.com (issuer"), "{out}");
    verified("oob.json");

    // A desktop: `xdg-open` opens the login page in a real browser (Debian's Chromium,
    // headless, from tests/setup.sh), which follows the redirect to the CLI's localhost
    // callback with the code.
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let browser = bin.join("xdg-open");
    let profile = dir.join("chromium-profile");
    std::fs::write(
        &browser,
        format!(
            "#!/bin/sh\n(chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync --user-data-dir={} --dump-dom \"$1\") >/dev/null 2>&1 &\nexit 0\n",
            profile.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &browser,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = on_a_terminal(
        dir,
        &format!("sign-bundle --bundle browser.json {trust}"),
        &[("DISPLAY", ":0"), ("PATH", &path)],
        |_| None,
    );
    assert!(out.contains("Opening browser for authentication"), "{out}");
    assert!(out.contains("Signing as dev@example.com (issuer"), "{out}");
    verified("browser.json");

    // No desktop (SSH, containers): the device flow; the user approves the code elsewhere.
    let out = on_a_terminal(
        dir,
        &format!("sign-bundle --bundle device.json {trust}"),
        &[],
        |line| {
            let start = line.find("(or open ")? + "(or open ".len();
            let url = line[start..].trim().trim_end_matches(')');
            ureq::get(url).call().unwrap();
            None
        },
    );
    assert!(out.contains("No browser here: to sign in, visit"), "{out}");
    assert!(out.contains("Signing as dev@example.com (issuer"), "{out}");
    verified("device.json");
}

#[test]
fn trust_material_refreshes_over_tuf_and_tampered_targets_are_refused() {
    use spin_tests::sigstore::TufRepo;
    let sigstore = LocalSigstore::start();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(dir.join("a.txt"), b"signed with refreshed trust").unwrap();

    let repo = TufRepo::start(&sigstore, false);
    let root = repo.root.to_str().unwrap();
    let out = run(
        &[
            "sigstore",
            "update-trust-root",
            "--tuf-url",
            &repo.url,
            "--tuf-root",
            root,
            "--output",
            "trust",
        ],
        dir,
        &[],
    );
    assert!(out.status.success(), "{}", output_text(&out));
    let (tr, sc) = (
        dir.join("trust/trusted_root.json"),
        dir.join("trust/signing_config.json"),
    );
    let token = sigstore.token(serde_json::json!({"sub": "t", "email": "tuf@example.com"}));
    let signed = sigstore.spin_sign_bundle_with(&token, "a.txt", "a.sigstore.json", dir, &tr, &sc);
    assert!(signed.status.success(), "{}", output_text(&signed));
    let py = sigstore.python_verify(
        &dir.join("a.sigstore.json"),
        "tuf@example.com",
        &dir.join("a.txt"),
    );
    assert!(py.status.success(), "{}", output_text(&py));

    // Refreshed material in the cache replaces the embedded copy: here the "public-good"
    // cache holds the local instance's material, so a bundle it signed verifies without
    // --trusted-root (and did not before).
    let xdg = dir.join("xdg").display().to_string();
    let cache_env = [("XDG_CACHE_HOME", xdg.as_str())];
    let verify_default = || {
        run(
            &[
                "verify-bundle",
                "--bundle",
                "a.sigstore.json",
                "--certificate-identity",
                "tuf@example.com",
                "--certificate-oidc-issuer",
                &sigstore.url,
                "a.txt",
            ],
            dir,
            &cache_env,
        )
    };
    assert!(
        !verify_default().status.success(),
        "the embedded public-good root does not trust the local instance"
    );
    let public_good = dir.join("xdg/spin/sigstore/public-good");
    let out = run(
        &[
            "sigstore",
            "update-trust-root",
            "--tuf-url",
            &repo.url,
            "--tuf-root",
            root,
            "--output",
            public_good.to_str().unwrap(),
        ],
        dir,
        &cache_env,
    );
    assert!(out.status.success(), "{}", output_text(&out));
    let ok = verify_default();
    assert!(ok.status.success(), "{}", output_text(&ok));

    let evil = TufRepo::start(&sigstore, true);
    let out = run(
        &[
            "sigstore",
            "update-trust-root",
            "--tuf-url",
            &evil.url,
            "--tuf-root",
            evil.root.to_str().unwrap(),
            "--output",
            "evil",
        ],
        dir,
        &[],
    );
    assert!(!out.status.success(), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("refreshing the trust material over TUF failed"),
        "{}",
        output_text(&out)
    );
    assert!(
        !dir.join("evil/trusted_root.json").exists(),
        "nothing is written from a tampered repository"
    );
}

#[test]
fn a_rekor_v2_log_is_used_when_the_signing_config_lists_it() {
    let sigstore = LocalSigstore::start();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(dir.join("a.txt"), b"logged in Rekor v2").unwrap();
    let token = sigstore.token(serde_json::json!({"sub": "v2", "email": "v2@example.com"}));
    let (tr, sc) = (sigstore.trusted_root(), sigstore.signing_config_v2());
    let out = sigstore.spin_sign_bundle_with(&token, "a.txt", "a.sigstore.json", dir, &tr, &sc);
    assert!(
        out.status.success(),
        "{}\n{}",
        output_text(&out),
        sigstore.log()
    );
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("a.sigstore.json")).unwrap()).unwrap();
    let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(entry["kindVersion"]["version"], "0.0.2", "{bundle}");
    assert!(
        entry["inclusionPromise"].is_null(),
        "v2 entries carry no signed entry timestamp"
    );
    assert_eq!(
        bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "time comes from the TSA"
    );
    let py = sigstore.python_verify(
        &dir.join("a.sigstore.json"),
        "v2@example.com",
        &dir.join("a.txt"),
    );
    assert!(py.status.success(), "{}", output_text(&py));
    let ours = sigstore.spin_verify_bundle("a.sigstore.json", "v2@example.com", "a.txt", dir);
    assert!(ours.status.success(), "{}", output_text(&ours));
    std::fs::write(dir.join("b.txt"), b"logged in Rekor v3").unwrap();
    assert!(
        !sigstore
            .spin_verify_bundle("a.sigstore.json", "v2@example.com", "b.txt", dir)
            .status
            .success()
    );
    // With a key: a hashedrekord 0.0.2 entry with the public key, plus a TSA timestamp.
    let pw = [("COSIGN_PASSWORD", "pw")];
    assert!(
        run(
            &["signing", "generate-key-pair", "--output-key-prefix", "k"],
            dir,
            &pw
        )
        .status
        .success()
    );
    let out = run(
        &[
            "sign-bundle",
            "--key",
            "k.key",
            "--bundle",
            "k.sigstore.json",
            "--trusted-root",
            tr.to_str().unwrap(),
            "--signing-config",
            sc.to_str().unwrap(),
            "a.txt",
        ],
        dir,
        &pw,
    );
    assert!(
        out.status.success(),
        "{}\n{}",
        output_text(&out),
        sigstore.log()
    );
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("k.sigstore.json")).unwrap()).unwrap();
    assert_eq!(
        bundle["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["version"], "0.0.2",
        "{bundle}"
    );
    let ok = run(
        &[
            "verify-bundle",
            "--key",
            "k.pub",
            "--bundle",
            "k.sigstore.json",
            "--trusted-root",
            tr.to_str().unwrap(),
            "a.txt",
        ],
        dir,
        &[],
    );
    assert!(ok.status.success(), "{}", output_text(&ok));
}
