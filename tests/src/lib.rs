//! Helpers for the end-to-end tests, which drive the built `spin` binary against real
//! parts, on 127.0.0.1 only:
//!
//! - [`sandbox`]: the one user environment (home, config, caches, no keyring) and the
//!   builder for `spin` commands run as that user ([`sandbox::Run`]);
//! - [`world`]: a registry, a Sigstore instance and a user, for signing and policy tests;
//! - [`serve`]: a running `spin up` and HTTP to it; [`peers`]: an HTTP upstream,
//!   `redis-server`, slowing and hooking TCP proxies; [`postgres`]: a PostgreSQL server;
//! - [`registry`]: the distribution registry (plain, TLS + basic auth, bearer tokens) and
//!   the independent clients skopeo and oras; [`sigstore`]: the local Sigstore instance
//!   and TUF repository; [`hostile`]: the malicious registry and crafted layouts;
//! - [`apps`]: apps the tests share; below, finding the binary and built guests, and
//!   small assertions.

pub mod apps;
pub mod hostile;
pub mod mysql;
pub mod peers;
pub mod postgres;
pub mod registry;
pub mod sandbox;
pub mod serve;
pub mod sigstore;
pub mod world;

pub use peers::{Echo, HookProxy, Redis, SlowProxy, Upstream};
pub use serve::{Resp, Spin, http};

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

/// Fail unless `text` contains `needle`, showing the whole text.
#[track_caller]
pub fn assert_contains(text: &str, needle: impl AsRef<str>) {
    let needle = needle.as_ref();
    assert!(text.contains(needle), "{needle:?} is not in:\n{text}");
}

/// The repository root. `CARGO_MANIFEST_DIR` is read at run time (cargo and nextest set it
/// for tests), so a target directory shared by several checkouts serves each its own files.
pub fn repo_root() -> PathBuf {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or(env!("CARGO_MANIFEST_DIR").into());
    Path::new(&dir).parent().unwrap().to_path_buf()
}

/// The `spin` binary of the same build profile as this test.
pub fn spin_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let bin = profile_dir.join("spin");
    assert!(
        bin.is_file(),
        "{} not found: build it first with `cargo build -p spin-cli` (tests/run.sh does)",
        bin.display()
    );
    bin
}

/// A cache directory shared by all tests, so big components compile once.
pub fn test_cache() -> PathBuf {
    spin_bin().parent().unwrap().join("test-cache")
}

/// A committed test component (`tests/guests/components/<name>.wasm`).
pub fn component(name: &str) -> PathBuf {
    let p = repo_root()
        .join("tests/guests/components")
        .join(format!("{name}.wasm"));
    assert!(p.is_file(), "missing committed component {}", p.display());
    p
}

/// A component built by `tests/setup.sh` (`tests/guests/build/<name>.wasm`).
pub fn built_component(name: &str) -> PathBuf {
    let p = repo_root()
        .join("tests/guests/build")
        .join(format!("{name}.wasm"));
    assert!(
        p.is_file(),
        "{} is missing: run tests/setup.sh to build the Python and JavaScript guests",
        p.display()
    );
    p
}

/// Run `spin` to completion.
pub fn spin(args: &[&str], cwd: &Path) -> Output {
    spin_env(args, cwd, &[])
}

/// Everything `pipe` yields, collected as text by a background thread as it arrives.
pub fn capture(pipe: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let sink = Arc::new(Mutex::new(String::new()));
    capture_into(pipe, sink.clone());
    sink
}

/// Like [`capture`], appending to an existing `sink` (a log kept across restarts).
pub fn capture_into(mut pipe: impl Read + Send + 'static, writer: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            writer
                .lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
}

/// Capture `child`'s stdout and stderr, as they arrive, into `log`.
pub fn capture_child(child: &mut std::process::Child, log: &Arc<Mutex<String>>) {
    if let Some(out) = child.stdout.take() {
        capture_into(out, log.clone());
    }
    if let Some(err) = child.stderr.take() {
        capture_into(err, log.clone());
    }
}

/// A loopback port nothing listens on right now, for a server about to start.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Wait (up to ten seconds) until something listens on 127.0.0.1:`port`; `what` and its
/// `log` name the failure.
pub fn wait_for_port(port: u16, what: &str, log: &Arc<Mutex<String>>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what} did not start:\n{}",
            log.lock().unwrap()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The JSON file at `path`.
pub fn read_json(path: impl AsRef<Path>) -> serde_json::Value {
    let path = path.as_ref();
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A finished command's stdout and stderr, for assertions and messages.
pub fn output_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The digest `spin registry push` reported ("Pushed with digest sha256:…").
pub fn pushed_digest(push_output: &str) -> String {
    push_output
        .lines()
        .find_map(|l| l.strip_prefix("Pushed with digest "))
        .unwrap_or_else(|| panic!("no digest in: {push_output}"))
        .trim()
        .to_string()
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Run `spin` to completion with extra environment variables.
pub fn spin_env(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    Command::new(spin_bin())
        .args(args)
        .current_dir(cwd)
        .env("XDG_CACHE_HOME", test_cache().join("xdg"))
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run spin")
}

/// Where tests/setup.sh keeps its toolchains (`SPIN_TEST_CACHE`, or ~/.cache/spin-tests).
pub fn setup_cache() -> PathBuf {
    std::env::var_os("SPIN_TEST_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/spin-tests")
        })
}

/// `PATH` with the guest toolchains `tests/setup.sh` prepared in front: the Python venv
/// (componentize-py) and `wit-bindgen` / `wasm-tools`, as a developer would have them.
pub fn toolchain_path() -> String {
    let cache = setup_cache();
    let venv = cache.join("py/bin");
    assert!(
        venv.join("componentize-py").is_file(),
        "{} is missing: run tests/setup.sh",
        venv.display()
    );
    format!(
        "{}:{}:{}",
        venv.display(),
        cache.join("tools/bin").display(),
        std::env::var("PATH").unwrap_or_default()
    )
}
/// Write `files` (relative path → content) under a fresh temp directory.
pub fn app_dir(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    dir
}
