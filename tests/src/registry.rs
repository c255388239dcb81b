//! A real distribution registry (Debian's `docker-registry`, distribution 2.8) on
//! 127.0.0.1 with its own storage: plain HTTP, or TLS (a CA made here) with htpasswd basic
//! auth. It can be killed and restarted on the same port and storage, and its access log
//! read back.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// TLS and auth material of a secure registry.
pub struct Secure {
    /// CA certificate (PEM) that signed the server certificate.
    pub ca: PathBuf,
    /// User name accepted.
    pub username: String,
    /// Its password.
    pub password: String,
}

/// The token server in front of a bearer-auth registry.
pub struct TokenServer {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl TokenServer {
    /// How many tokens it has issued.
    pub fn issued(&self) -> usize {
        self.log
            .lock()
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("issued"))
            .count()
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running registry.
pub struct Registry {
    child: Option<Child>,
    /// Its port.
    pub port: u16,
    dir: tempfile::TempDir,
    log: Arc<Mutex<String>>,
    /// Set for TLS + basic auth registries.
    pub secure: Option<Secure>,
    /// Set for bearer-token registries.
    pub token: Option<TokenServer>,
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (`ca.pem`, `ca.key`) and a server certificate it signed for 127.0.0.1
/// (`server.pem`, `server.key`), written to `d`.
pub fn server_certificate(d: &Path) {
    run(Command::new("openssl").current_dir(d).args([
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=spin test CA",
    ]));
    run(Command::new("openssl").current_dir(d).args([
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]));
    std::fs::write(
        d.join("ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    run(Command::new("openssl").current_dir(d).args([
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext",
    ]));
}

impl Registry {
    /// A plain-HTTP registry.
    pub fn start() -> Self {
        Self::new(None)
    }

    /// A TLS registry with htpasswd basic auth for `username`/`password`.
    pub fn start_secure(username: &str, password: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        server_certificate(d);
        let htpasswd = Command::new("htpasswd")
            .args(["-Bbn", username, password])
            .output()
            .expect("htpasswd (Debian apache2-utils) is needed; tests/setup.sh installs it");
        std::fs::write(d.join("htpasswd"), &htpasswd.stdout).unwrap();
        let secure = Secure {
            ca: d.join("ca.pem"),
            username: username.into(),
            password: password.into(),
        };
        Self::with_dir(dir, Some(secure), None)
    }

    fn new(secure: Option<Secure>) -> Self {
        Self::with_dir(tempfile::tempdir().unwrap(), secure, None)
    }

    /// A plain-HTTP registry using the bearer token flow: its token server accepts
    /// `username`/`password` (basic auth or password grant) and the OAuth2 refresh token
    /// `refresh_token`, and issues tokens valid for `expires_in` seconds.
    pub fn start_with_token_server(
        username: &str,
        password: &str,
        refresh_token: &str,
        expires_in: u32,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        run(Command::new("openssl").current_dir(d).args([
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "token.key",
        ]));
        run(Command::new("openssl").current_dir(d).args([
            "req",
            "-x509",
            "-new",
            "-key",
            "token.key",
            "-out",
            "token.pem",
            "-days",
            "2",
            "-subj",
            "/CN=spin test token issuer",
        ]));
        let token_port = crate::free_port();
        let python = crate::setup_cache().join("oras/bin/python");
        let mut child = Command::new(&python)
            .arg(crate::repo_root().join("tests/interop/token_server.py"))
            .args([
                token_port.to_string(),
                d.join("token.key").display().to_string(),
                d.join("token.pem").display().to_string(),
                "spin-test-issuer".into(),
                "spin-test-registry".into(),
                format!("{username}:{password}"),
                refresh_token.into(),
                expires_in.to_string(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}; run tests/setup.sh", python.display()));
        let log = Arc::new(Mutex::new(String::new()));
        crate::capture_child(&mut child, &log);
        crate::wait_for_port(token_port, "the token server", &log);
        let token = TokenServer { child, log };
        let auth = format!(
            "auth:\n  token:\n    realm: http://127.0.0.1:{token_port}/token\n    service: spin-test-registry\n    issuer: spin-test-issuer\n    rootcertbundle: {}\n",
            d.join("token.pem").display()
        );
        std::fs::write(d.join("extra.yml"), auth).unwrap();
        Self::with_dir(dir, None, Some(token))
    }

    fn with_dir(
        dir: tempfile::TempDir,
        secure: Option<Secure>,
        token: Option<TokenServer>,
    ) -> Self {
        let port = crate::free_port();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        );
        if secure.is_some() {
            let d = dir.path();
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\nauth:\n  htpasswd:\n    realm: spin-test\n    path: {}\n",
                d.join("server.pem").display(),
                d.join("server.key").display(),
                d.join("htpasswd").display()
            ));
        }
        if let Ok(extra) = std::fs::read_to_string(dir.path().join("extra.yml")) {
            config.push_str(&extra);
        }
        std::fs::write(dir.path().join("config.yml"), config).unwrap();
        let mut registry = Self {
            child: None,
            port,
            dir,
            log: Arc::new(Mutex::new(String::new())),
            secure,
            token,
        };
        registry.restart();
        registry
    }

    /// Start (again) on the same port and storage.
    pub fn restart(&mut self) {
        self.kill();
        let mut child = Command::new("docker-registry")
            .arg("serve")
            .arg(self.dir.path().join("config.yml"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("docker-registry (Debian package) is needed; tests/setup.sh installs it");
        crate::capture_child(&mut child, &self.log);
        crate::wait_for_port(self.port, "docker-registry", &self.log);
        self.child = Some(child);
    }

    /// Stop it abruptly.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// `127.0.0.1:<port>`.
    /// GET `/v2/<path>` directly (plain HTTP, no auth), as an independent reader.
    pub fn get(&self, path: &str, accept: &str) -> Vec<u8> {
        let resp = ureq::get(&format!("http://{}/v2/{path}", self.host()))
            .set("Accept", accept)
            .call()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut resp.into_reader(), &mut body).unwrap();
        body
    }

    /// Upload `data` as a blob of `repo` (monolithic upload), as an independent writer;
    /// its digest.
    pub fn put_blob(&self, repo: &str, data: &[u8]) -> String {
        let digest = format!("sha256:{}", crate::sha256_hex(data));
        let base = format!("http://{}", self.host());
        let started = ureq::post(&format!("{base}/v2/{repo}/blobs/uploads/"))
            .call()
            .unwrap_or_else(|e| panic!("start upload to {repo}: {e}"));
        let location = started
            .header("Location")
            .expect("upload location")
            .to_string();
        let url = if location.starts_with("http") {
            location
        } else {
            format!("{base}{location}")
        };
        let sep = if url.contains('?') { '&' } else { '?' };
        ureq::put(&format!("{url}{sep}digest={digest}"))
            .set("Content-Type", "application/octet-stream")
            .send_bytes(data)
            .unwrap_or_else(|e| panic!("finish upload to {repo}: {e}"));
        digest
    }

    /// PUT a manifest of `media_type` under `reference` (a tag or digest) of `repo`.
    pub fn put_manifest(&self, repo: &str, reference: &str, media_type: &str, body: &[u8]) {
        ureq::put(&format!(
            "http://{}/v2/{repo}/manifests/{reference}",
            self.host()
        ))
        .set("Content-Type", media_type)
        .send_bytes(body)
        .unwrap_or_else(|e| panic!("PUT manifest {repo}:{reference}: {e}"));
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Everything it logged so far (including the access log).
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Requests that started or continued a blob upload, in the access log.
    pub fn upload_requests(&self) -> usize {
        self.log()
            .lines()
            .filter(|l| {
                l.contains("/blobs/uploads/")
                    && (l.contains("\"POST ") || l.contains("\"PATCH ") || l.contains("\"PUT "))
            })
            .count()
    }

    /// Where the registry keeps a blob's bytes on disk.
    pub fn blob_data(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// The storage directory.
    pub fn storage(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Debian's `skopeo`, as an independent registry client.
pub fn skopeo(args: &[&str]) -> std::process::Output {
    Command::new("skopeo")
        .args(args)
        .output()
        .expect("skopeo (Debian package) is needed; tests/setup.sh installs it")
}

/// The manifest skopeo reads for `reference` on a plain-HTTP registry, byte for byte.
pub fn skopeo_raw_manifest(reference: &str) -> Vec<u8> {
    let url = format!("docker://{reference}");
    let out = skopeo(&["inspect", "--tls-verify=false", "--raw", &url]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "skopeo inspect {reference}: {err}");
    out.stdout
}

/// The `oras` Python client from tests/setup.sh: run a command of tests/interop/oras_client.py.
pub fn oras(args: &[&str]) -> std::process::Output {
    let python = crate::setup_cache().join("oras/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run tests/setup.sh",
        python.display()
    );
    let script = crate::repo_root().join("tests/interop/oras_client.py");
    Command::new(python)
        .arg(script)
        .args(args)
        .output()
        .expect("run oras client")
}
