//! The services around signing: the interactive login on a terminal, trust material
//! refreshed over TUF, and a Rekor v2 log chosen from the signing config.

use spin_tests::sigstore::LocalSigstore;
use spin_tests::{assert_contains, output_text, spin_env as run};
use std::path::Path;

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
            assert_contains(url, "code_challenge_method=S256");
            let page = ureq::get(url).call().unwrap().into_string().unwrap();
            Some(
                page.trim()
                    .strip_prefix("Login code: ")
                    .expect("a code")
                    .to_string(),
            )
        },
    );
    assert_contains(&out, "Signing as dev@example.com (issuer");
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
    assert_contains(&out, "Opening browser for authentication");
    assert_contains(&out, "Signing as dev@example.com (issuer");
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
    assert_contains(&out, "No browser here: to sign in, visit");
    assert_contains(&out, "Signing as dev@example.com (issuer");
    verified("device.json");
}

#[test]
fn trust_material_refreshes_over_tuf_and_tampered_targets_are_refused() {
    use spin_tests::sigstore::TufRepo;
    let sigstore = LocalSigstore::start();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(dir.join("a.txt"), b"signed with refreshed trust").unwrap();

    // `spin sigstore update-trust-root` from `repo` into `output`.
    let update = |repo: &TufRepo, output: &str, env: &[(&str, &str)]| {
        let (url, root) = (repo.url.as_str(), repo.root.to_str().unwrap());
        let args = [
            "sigstore",
            "update-trust-root",
            "--tuf-url",
            url,
            "--tuf-root",
            root,
            "--output",
            output,
        ];
        run(&args, dir, env)
    };
    let repo = TufRepo::start(&sigstore, false);
    let out = update(&repo, "trust", &[]);
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
    let out = update(&repo, public_good.to_str().unwrap(), &cache_env);
    assert!(out.status.success(), "{}", output_text(&out));
    let ok = verify_default();
    assert!(ok.status.success(), "{}", output_text(&ok));

    let evil = TufRepo::start(&sigstore, true);
    let out = update(&evil, "evil", &[]);
    assert!(!out.status.success(), "{}", output_text(&out));
    assert_contains(
        &output_text(&out),
        "refreshing the trust material over TUF failed",
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
    sigstore.assert_ok(&out);
    let bundle = spin_tests::read_json(dir.join("a.sigstore.json"));
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
    sigstore.assert_ok(&out);
    let bundle = spin_tests::read_json(dir.join("k.sigstore.json"));
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
