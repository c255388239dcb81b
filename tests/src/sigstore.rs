//! The local Sigstore instance (`tests/interop/sigstore_local.py`: OIDC issuer, Fulcio,
//! Rekor v1 with a CT log key) on 127.0.0.1, and sigstore-python, the independent
//! verifier, both from the venv `tests/setup.sh` makes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};

/// A running local Sigstore instance.
pub struct LocalSigstore {
    child: Child,
    /// `http://127.0.0.1:<port>`: the OIDC issuer, Fulcio and Rekor all live here.
    pub url: String,
    dir: tempfile::TempDir,
    stderr: Arc<Mutex<String>>,
}

fn venv_bin(name: &str) -> PathBuf {
    let bin = crate::setup_cache().join("sigstore/bin").join(name);
    assert!(
        bin.is_file(),
        "{} is missing: run tests/setup.sh",
        bin.display()
    );
    bin
}

impl LocalSigstore {
    /// Start it and wait until its trust files are written.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(venv_bin("python"))
            .arg(crate::repo_root().join("tests/interop/sigstore_local.py"))
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the local Sigstore instance");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let stderr = crate::capture(child.stderr.take().unwrap());
        let info: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("local Sigstore did not start ({e}): {line:?}"));
        Self {
            child,
            url: info["url"].as_str().unwrap().to_string(),
            dir,
            stderr,
        }
    }

    /// `trusted_root.json`.
    pub fn trusted_root(&self) -> PathBuf {
        self.dir.path().join("trusted_root.json")
    }

    /// `signing_config.json`.
    pub fn signing_config(&self) -> PathBuf {
        self.dir.path().join("signing_config.json")
    }

    /// `signing_config_v2.json`: the same instance with its Rekor v2 log.
    pub fn signing_config_v2(&self) -> PathBuf {
        self.dir.path().join("signing_config_v2.json")
    }

    /// `trust_config.json` (trusted root + signing config, for sigstore-python).
    pub fn trust_config(&self) -> PathBuf {
        self.dir.path().join("trust_config.json")
    }

    /// What the instance logged (refused requests).
    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// An ID token from the issuer with these claims (`sub`, `email`, `aud`,
    /// `expires_in`, `iat`).
    pub fn token(&self, claims: serde_json::Value) -> String {
        let body = ureq::post(&format!("{}/token", self.url))
            .send_string(&claims.to_string())
            .expect("token endpoint")
            .into_string()
            .unwrap();
        let resp: serde_json::Value = serde_json::from_str(&body).unwrap();
        resp["id_token"].as_str().unwrap().to_string()
    }

    /// Fail unless `out` (of a command that used this instance) succeeded, showing its
    /// output and the instance's log.
    #[track_caller]
    pub fn assert_ok(&self, out: &Output) {
        let text = crate::output_text(out);
        assert!(out.status.success(), "{text}\n{}", self.log());
    }

    /// `spin sign-bundle` keylessly with `token` against this instance.
    pub fn spin_sign_bundle(&self, token: &str, input: &str, bundle: &str, cwd: &Path) -> Output {
        self.spin_sign_bundle_with(
            token,
            input,
            bundle,
            cwd,
            &self.trusted_root(),
            &self.signing_config(),
        )
    }

    /// `spin sign-bundle` keylessly with `token`, trusting these files.
    pub fn spin_sign_bundle_with(
        &self,
        token: &str,
        input: &str,
        bundle: &str,
        cwd: &Path,
        trusted_root: &Path,
        signing_config: &Path,
    ) -> Output {
        let token = ["--identity-token", token];
        sign_bundle(
            &token,
            input,
            bundle,
            cwd,
            trusted_root,
            signing_config,
            &[],
        )
    }

    /// `spin sign-bundle` of `input` into `bundle` with no `--identity-token`: the token
    /// comes from `env` (ambient CI credentials), or there is none.
    pub fn spin_sign_bundle_ambient(
        &self,
        input: &str,
        bundle: &str,
        cwd: &Path,
        env: &[(&str, &str)],
    ) -> Output {
        let (tr, sc) = (self.trusted_root(), self.signing_config());
        sign_bundle(&[], input, bundle, cwd, &tr, &sc, env)
    }

    /// `spin verify-bundle` for `identity` issued by this instance's OIDC issuer.
    pub fn spin_verify_bundle(
        &self,
        bundle: &str,
        identity: &str,
        input: &str,
        cwd: &Path,
    ) -> Output {
        let tr = self.trusted_root();
        crate::spin_env(
            &[
                "verify-bundle",
                "--bundle",
                bundle,
                "--certificate-identity",
                identity,
                "--certificate-oidc-issuer",
                &self.url,
                "--trusted-root",
                tr.to_str().unwrap(),
                input,
            ],
            cwd,
            &[],
        )
    }

    /// sigstore-python verifies `bundle` for `file` (or `sha256:<hex>`), offline, as
    /// `identity` from this instance's issuer.
    pub fn python_verify(&self, bundle: &Path, identity: &str, file: &Path) -> Output {
        sigstore_python(&[
            "--trust-config",
            self.trust_config().to_str().unwrap(),
            "verify",
            "identity",
            "--offline",
            "--bundle",
            bundle.to_str().unwrap(),
            "--cert-identity",
            identity,
            "--cert-oidc-issuer",
            &self.url,
            file.to_str().unwrap(),
        ])
    }

    /// Make the next Fulcio request fail with `status`.
    pub fn fail_fulcio_once(&self, status: u16) {
        ureq::post(&format!("{}/admin/fail-fulcio", self.url))
            .send_string(&serde_json::json!({ "status": status }).to_string())
            .expect("admin endpoint");
    }
}

impl Drop for LocalSigstore {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run sigstore-python (`sigstore ARGS…`).
pub fn sigstore_python(args: &[&str]) -> Output {
    Command::new(venv_bin("sigstore"))
        .args(args)
        .output()
        .expect("run sigstore-python")
}

/// A TUF repository (`tests/interop/tuf_repo.py`) publishing a local instance's trust
/// material on 127.0.0.1.
pub struct TufRepo {
    child: Child,
    /// Its base URL.
    pub url: String,
    /// The bootstrap `root.json` a client trusts.
    pub root: PathBuf,
    _dir: tempfile::TempDir,
}

impl TufRepo {
    /// Publish `sigstore`'s trusted root and signing config; with `tamper`, the served
    /// trusted root differs from what the targets metadata signed.
    pub fn start(sigstore: &LocalSigstore, tamper: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(venv_bin("python"));
        cmd.arg(crate::repo_root().join("tests/interop/tuf_repo.py"))
            .arg("--dir")
            .arg(dir.path())
            .arg("--trusted-root")
            .arg(sigstore.trusted_root())
            .arg("--signing-config")
            .arg(sigstore.signing_config())
            .stdout(Stdio::piped());
        if tamper {
            cmd.arg("--tamper");
        }
        let mut child = cmd.spawn().expect("start the TUF repository");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let info: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("TUF repository did not start ({e}): {line:?}"));
        Self {
            child,
            url: info["url"].as_str().unwrap().to_string(),
            root: PathBuf::from(info["root"].as_str().unwrap()),
            _dir: dir,
        }
    }
}

impl Drop for TufRepo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `spin sign-bundle <token> --bundle B --trusted-root R --signing-config C INPUT`.
fn sign_bundle(
    token: &[&str],
    input: &str,
    bundle: &str,
    cwd: &Path,
    trusted_root: &Path,
    signing_config: &Path,
    env: &[(&str, &str)],
) -> Output {
    let mut args = vec!["sign-bundle"];
    args.extend(token);
    args.extend(["--bundle", bundle]);
    args.extend(["--trusted-root", trusted_root.to_str().unwrap()]);
    args.extend(["--signing-config", signing_config.to_str().unwrap(), input]);
    crate::spin_env(&args, cwd, env)
}
