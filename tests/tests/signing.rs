//! Keyless signing of files against a local Sigstore instance that speaks the real APIs
//! (OIDC issuer, Fulcio with embedded SCTs, Rekor v1 with SETs, inclusion proofs and
//! signed checkpoints), checked by sigstore-python as the independent verifier; our
//! verifier against tampering and against the sigstore-conformance bundles.

use base64::Engine;
use spin_tests::sigstore::{LocalSigstore, sigstore_python};
use spin_tests::{repo_root, spin_env};
use std::path::Path;
use std::process::Output;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn run(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    spin_env(args, cwd, env)
}

fn sign(sigstore: &LocalSigstore, token: &str, input: &str, bundle: &str, cwd: &Path) -> Output {
    let (tr, sc) = (sigstore.trusted_root(), sigstore.signing_config());
    run(
        &[
            "sign-bundle",
            "--identity-token",
            token,
            "--bundle",
            bundle,
            "--trusted-root",
            tr.to_str().unwrap(),
            "--signing-config",
            sc.to_str().unwrap(),
            input,
        ],
        cwd,
        &[],
    )
}

fn verify(
    sigstore: &LocalSigstore,
    bundle: &str,
    identity: &str,
    input: &str,
    cwd: &Path,
) -> Output {
    let tr = sigstore.trusted_root();
    run(
        &[
            "verify-bundle",
            "--bundle",
            bundle,
            "--certificate-identity",
            identity,
            "--certificate-oidc-issuer",
            &sigstore.url,
            "--trusted-root",
            tr.to_str().unwrap(),
            input,
        ],
        cwd,
        &[],
    )
}

fn python_verify(sigstore: &LocalSigstore, bundle: &Path, identity: &str, file: &Path) -> Output {
    sigstore_python(&[
        "--trust-config",
        sigstore.trust_config().to_str().unwrap(),
        "verify",
        "identity",
        "--offline",
        "--bundle",
        bundle.to_str().unwrap(),
        "--cert-identity",
        identity,
        "--cert-oidc-issuer",
        &sigstore.url,
        file.to_str().unwrap(),
    ])
}

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

    let out = sign(&sigstore, &token, "app.txt", "app.sigstore.json", dir);
    assert!(out.status.success(), "{}\n{}", text(&out), sigstore.log());
    assert!(
        text(&out).contains("Signing as alice@example.com"),
        "{}",
        text(&out)
    );
    assert!(
        !text(&out).contains(&token),
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
    let py = python_verify(&sigstore, &bundle_path, "alice@example.com", &artifact);
    assert!(py.status.success(), "sigstore-python: {}", text(&py));
    assert!(
        !python_verify(&sigstore, &bundle_path, "mallory@example.com", &artifact)
            .status
            .success()
    );
    let other = dir.join("other.txt");
    std::fs::write(&other, b"the artifact!\n").unwrap();
    assert!(
        !python_verify(&sigstore, &bundle_path, "alice@example.com", &other)
            .status
            .success()
    );

    // Our verifier: the file, its digest; not another identity, issuer or file.
    let ok = verify(
        &sigstore,
        "app.sigstore.json",
        "alice@example.com",
        "app.txt",
        dir,
    );
    assert!(ok.status.success(), "{}", text(&ok));
    let digest = format!("sha256:{}", sha256_hex(&std::fs::read(&artifact).unwrap()));
    let by_digest = verify(
        &sigstore,
        "app.sigstore.json",
        "alice@example.com",
        &digest,
        dir,
    );
    assert!(by_digest.status.success(), "{}", text(&by_digest));
    let wrong_identity = verify(
        &sigstore,
        "app.sigstore.json",
        "mallory@example.com",
        "app.txt",
        dir,
    );
    assert!(
        text(&wrong_identity).contains("identity mismatch"),
        "{}",
        text(&wrong_identity)
    );
    let wrong_file = verify(
        &sigstore,
        "app.sigstore.json",
        "alice@example.com",
        "other.txt",
        dir,
    );
    assert!(!wrong_file.status.success(), "{}", text(&wrong_file));

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
        let out = verify(
            &sigstore,
            "bad.sigstore.json",
            "alice@example.com",
            "app.txt",
            dir,
        );
        assert!(
            !out.status.success(),
            "{pointer}[{at}] changed and still verified"
        );
        assert!(
            text(&out).contains("verification failed")
                || text(&out).contains("not a valid Sigstore bundle"),
            "{pointer}: {}",
            text(&out)
        );
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[test]
fn a_signed_digest_verifies_for_the_file_with_sigstore_python() {
    let sigstore = LocalSigstore::start();
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("big.bin");
    std::fs::write(&file, vec![7u8; 100_000]).unwrap();
    let digest = format!("sha256:{}", sha256_hex(&std::fs::read(&file).unwrap()));
    let token = sigstore.token(serde_json::json!({"sub": "bob", "email": "bob@example.com"}));
    let out = sign(
        &sigstore,
        &token,
        &digest,
        "digest.sigstore.json",
        work.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let py = python_verify(
        &sigstore,
        &work.path().join("digest.sigstore.json"),
        "bob@example.com",
        &file,
    );
    assert!(py.status.success(), "{}", text(&py));
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
    let out = sign(&sigstore, &expired, "a.txt", "a.sigstore.json", work.path());
    assert!(!out.status.success());
    assert!(
        text(&out).contains("the identity token from --identity-token expired at"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains(&expired));

    let audience = sigstore
        .token(serde_json::json!({"sub": "x", "email": "x@example.com", "aud": "not-sigstore"}));
    let out = sign(
        &sigstore,
        &audience,
        "a.txt",
        "a.sigstore.json",
        work.path(),
    );
    assert!(
        text(&out).contains("Sigstore accepts only `sigstore`"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains(&audience));

    let good = sigstore.token(serde_json::json!({"sub": "x", "email": "x@example.com"}));
    sigstore.fail_fulcio_once(503);
    let out = sign(&sigstore, &good, "a.txt", "a.sigstore.json", work.path());
    assert!(!out.status.success());
    assert!(
        text(&out)
            .contains("the certificate authority (Fulcio) did not issue a signing certificate"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains(&good));
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
        text(&none).contains("no identity token for keyless signing"),
        "{}",
        text(&none)
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
    assert!(out.status.success(), "{}\n{}", text(&out), sigstore.log());
    assert!(
        text(&out).contains("token from the CI's ambient OIDC credentials"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains("local-actions-request-token"));
    let identity = "repo:acme/app:ref:refs/heads/main";
    let py = python_verify(
        &sigstore,
        &work.path().join("a.sigstore.json"),
        identity,
        &work.path().join("a.txt"),
    );
    assert!(py.status.success(), "{}", text(&py));
}

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
            if out.status.success() != should_pass {
                wrong.push(format!(
                    "{name} ({}): expected {}, got: {}",
                    if input.starts_with("sha256:") {
                        "digest"
                    } else {
                        "file"
                    },
                    if should_pass { "success" } else { "failure" },
                    text(&out).trim()
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

/// GET from the test registry (plain HTTP, no auth), as an independent reader.
fn registry_get(host: &str, path: &str, accept: &str) -> Vec<u8> {
    let resp = ureq::get(&format!("http://{host}/v2/{path}"))
        .set("Accept", accept)
        .call()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut body).unwrap();
    body
}

#[test]
fn apps_signed_in_a_registry_carry_every_signers_bundle_as_referrers() {
    use spin_tests::registry::Registry;
    let registry = Registry::start();
    let sigstore = LocalSigstore::start();
    let home = tempfile::tempdir().unwrap();
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"signed\"\nversion = \"1.0.0\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"hello\"\n[component.hello]\nsource = {:?}\n",
        spin_tests::component("hello")
    );
    let app = spin_tests::app_dir(&[("spin.toml", manifest.as_bytes())]);
    let home_str = home.path().display().to_string();
    let env = [
        ("HOME", home_str.as_str()),
        ("XDG_CONFIG_HOME", home_str.as_str()),
        ("SPIN_DISABLE_KEYRING", "1"),
    ];
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
        text(&pushed),
        sigstore.log()
    );
    let out = text(&pushed);
    assert!(!out.contains(&alice));
    let digest = out
        .lines()
        .find_map(|l| l.strip_prefix("Pushed with digest "))
        .expect("digest")
        .trim()
        .to_string();
    assert!(
        out.contains(&format!("Signed {}/acme/signed@{digest}", registry.host())),
        "{out}"
    );

    let bob = sigstore.token(serde_json::json!({"sub": "bob", "email": "bob@example.com"}));
    let mut args = vec!["sign", &reference, "--insecure", "--identity-token", &bob];
    args.extend(trust);
    let signed = run(&args, app.path(), &env);
    assert!(signed.status.success(), "{}", text(&signed));

    // Distribution 2.8 has no referrers API: the referrers live in the sha256-<hex> tag index.
    let tag = digest.replace(':', "-");
    let index: serde_json::Value = serde_json::from_slice(&registry_get(
        &registry.host(),
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
        let m: serde_json::Value = serde_json::from_slice(&registry_get(
            &registry.host(),
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
        let bundle = registry_get(
            &registry.host(),
            &format!("acme/signed/blobs/{layer}"),
            "*/*",
        );
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
            let py = python_verify(&sigstore, &path, who, Path::new(&digest));
            if py.status.success() {
                verified.push(who);
                let ours = verify(&sigstore, path.to_str().unwrap(), who, &digest, home.path());
                assert!(ours.status.success(), "{}", text(&ours));
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
    assert!(made.status.success(), "{}", text(&made));
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
    assert!(text(&again).contains("already exists"), "{}", text(&again));

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
        text(&signed),
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
    assert!(ok.status.success(), "{}", text(&ok));
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
    assert!(signed.status.success(), "{}", text(&signed));
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
    assert!(text(&wrong).contains("wrong password"), "{}", text(&wrong));

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
    assert!(offline.status.success(), "{}", text(&offline));
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
    assert!(lax.status.success(), "{}", text(&lax));
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
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(!check("someone@else.com", digest).status.success());
    let other = format!("sha256:{}", "0".repeat(64));
    let wrong = check("cody@soyland.com", &other);
    assert!(
        text(&wrong).contains("verification failed"),
        "{}",
        text(&wrong)
    );
}

#[test]
fn on_a_terminal_without_a_token_the_user_logs_in_interactively() {
    use std::io::{BufRead, Write};
    let sigstore = LocalSigstore::start();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("a.txt"), b"signed after logging in").unwrap();
    let command = format!(
        "{} sign-bundle --oauth-force-oob --bundle a.sigstore.json --trusted-root {} --signing-config {} a.txt",
        spin_tests::spin_bin().display(),
        sigstore.trusted_root().display(),
        sigstore.signing_config().display()
    );
    // `script` gives the command a terminal; its input is what the "user" types.
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(work.path())
        .env("SIGSTORE_ID_TOKEN", "")
        .env("GITHUB_ACTIONS", "")
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
    let mut output = String::new();
    let url = loop {
        let line = seen
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no login URL:\n{output}"));
        output.push_str(&line);
        output.push('\n');
        if let Some(start) = line.find(&format!("{}/auth?", sigstore.url)) {
            break line[start..].trim().to_string();
        }
    };
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    let page = ureq::get(&url).call().unwrap().into_string().unwrap();
    let code = page
        .trim()
        .strip_prefix("Login code: ")
        .expect("a code")
        .to_string();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{code}").unwrap();
    let status = child.wait().unwrap();
    while let Ok(line) = seen.recv_timeout(std::time::Duration::from_millis(200)) {
        output.push_str(&line);
        output.push('\n');
    }
    assert!(status.success(), "{output}\n{}", sigstore.log());
    assert!(output.contains("Signing as dev@example.com"), "{output}");
    let py = python_verify(
        &sigstore,
        &work.path().join("a.sigstore.json"),
        "dev@example.com",
        &work.path().join("a.txt"),
    );
    assert!(py.status.success(), "{}", text(&py));
}

#[test]
fn legacy_format_writes_cosign_sig_layers_that_verify_as_cosign_reads_them() {
    use spin_tests::registry::Registry;
    let registry = Registry::start();
    let sigstore = LocalSigstore::start();
    let home = tempfile::tempdir().unwrap();
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"legacy\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"hello\"\n[component.hello]\nsource = {:?}\n",
        spin_tests::component("hello")
    );
    let app = spin_tests::app_dir(&[("spin.toml", manifest.as_bytes())]);
    let home_str = home.path().display().to_string();
    let env = [
        ("HOME", home_str.as_str()),
        ("XDG_CONFIG_HOME", home_str.as_str()),
        ("SPIN_DISABLE_KEYRING", "1"),
    ];
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
    let digest = text(&pushed)
        .lines()
        .find_map(|l| l.strip_prefix("Pushed with digest "))
        .expect("digest")
        .trim()
        .to_string();
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
        assert!(out.status.success(), "{}\n{}", text(&out), sigstore.log());
    }

    let tag = format!("{}.sig", digest.replace(':', "-"));
    let sig: serde_json::Value = serde_json::from_slice(&registry_get(
        &registry.host(),
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
        let payload = registry_get(
            &registry.host(),
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
            let py = python_verify(&sigstore, &bundle_path, who, &payload_path);
            if py.status.success() {
                verified.push(who);
            } else {
                refusals.push_str(&text(&py));
            }
        }
    }
    verified.sort();
    assert_eq!(
        verified,
        ["alice@example.com", "bob@example.com"],
        "{refusals}"
    );
    let index: serde_json::Value = serde_json::from_slice(&registry_get(
        &registry.host(),
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
