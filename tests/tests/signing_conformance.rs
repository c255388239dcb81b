//! The sigstore-conformance suite's bundles: each verifies, or fails for the reason the
//! suite gives, through the same policy engine `spin verify` uses.

use spin_tests::{output_text, repo_root, sha256_hex, spin_env as run};

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
