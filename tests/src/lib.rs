//! Helpers for the end-to-end tests: find the built `spin` binary, run `spin up` on a free
//! loopback port and talk HTTP to it, and start real local peers (an HTTP upstream, a
//! `redis-server`, the distribution registry). Only 127.0.0.1 is ever used.

pub mod registry;
pub mod sandbox;
pub mod sigstore;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
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

/// An HTTP response.
#[derive(Debug, Clone)]
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// Header pairs, names lowercase.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Resp {
    /// The body as UTF-8 text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Send one HTTP request.
pub fn http(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(120))
        .build();
    let mut req = agent.request(method, url);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let result = if body.is_empty() && matches!(method, "GET" | "HEAD" | "DELETE") {
        req.call()
    } else {
        req.send_bytes(body)
    };
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url} failed: {e}"),
    };
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .map(|n| {
            let v = resp.header(&n).unwrap_or_default().to_string();
            (n.to_ascii_lowercase(), v)
        })
        .collect();
    let mut body = Vec::new();
    resp.into_reader()
        .read_to_end(&mut body)
        .expect("read body");
    Resp {
        status,
        headers,
        body,
    }
}

/// A running `spin up`.
pub struct Spin {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    stderr: Arc<Mutex<String>>,
    stdout: Arc<Mutex<String>>,
    /// What `spin up` printed on stdout before and including the route list.
    pub banner: String,
}

impl Spin {
    /// Start `spin up -f <app> <extra...>` and wait until it serves.
    pub fn up(app: &Path, extra: &[&str]) -> Self {
        Self::start(app, extra, &[]).unwrap_or_else(|e| panic!("spin up failed:\n{e}"))
    }

    /// Like [`Spin::up`], with extra environment variables; an error carries stderr.
    pub fn start(app: &Path, extra: &[&str], env: &[(&str, &str)]) -> Result<Self, String> {
        Self::start_command("up", app, extra, env)
    }

    /// `spin <command> -f <app> <extra...>` for a command that serves (`up`, `watch`);
    /// waits until it serves. An error carries stdout and stderr.
    pub fn start_command(
        command: &str,
        app: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Self, String> {
        let mut cmd = Command::new(spin_bin());
        cmd.arg(command)
            .arg("-f")
            .arg(app)
            .args(["--listen", "127.0.0.1:0"]);
        if !extra.contains(&"--cache-dir") {
            cmd.arg("--cache-dir").arg(test_cache());
        }
        cmd.args(extra)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn spin up");
        let stderr = crate::capture(child.stderr.take().unwrap());
        let stdout = Arc::new(Mutex::new(String::new()));
        {
            let pipe = child.stdout.take().unwrap();
            let sink = stdout.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    let mut out = sink.lock().unwrap();
                    out.push_str(&line);
                    out.push('\n');
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(180);
        let base = loop {
            let out = stdout.lock().unwrap().clone();
            if let Some(line) = out.lines().find(|l| l.starts_with("Serving "))
                && out.contains("Available Routes")
            {
                break line.trim_start_matches("Serving ").trim().to_string();
            }
            if Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
                let _ = child.kill();
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(100));
                return Err(format!(
                    "{}{}",
                    stdout.lock().unwrap(),
                    stderr.lock().unwrap()
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        // The banner is written in one go; let the reader drain the rest of it.
        std::thread::sleep(Duration::from_millis(50));
        let banner = stdout.lock().unwrap().clone();
        Ok(Self {
            child,
            base,
            stderr,
            stdout,
            banner,
        })
    }

    /// The process id of `spin`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `base + path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// GET a path.
    pub fn get(&self, path: &str) -> Resp {
        http("GET", &self.url(path), &[], b"")
    }

    /// Any request to a path.
    pub fn request(&self, method: &str, path: &str, body: &[u8]) -> Resp {
        http(method, &self.url(path), &[], body)
    }

    /// Everything written to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Everything written to stdout so far (the banner included).
    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// Wait until stderr contains `needle`.
    pub fn wait_for_log(&self, needle: &str) -> bool {
        self.wait_until(Duration::from_secs(10), || self.stderr().contains(needle))
    }

    /// Wait until stdout contains `needle` `times` times.
    pub fn wait_for_output(&self, needle: &str, times: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, || self.stdout().matches(needle).count() >= times)
    }

    fn wait_until(&self, timeout: Duration, done: impl Fn() -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if done() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Send SIGINT (Ctrl-C) and wait for the process to exit.
    pub fn interrupt(&mut self) -> ExitStatus {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        self.child.wait().expect("wait for spin")
    }
}

impl Drop for Spin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.1 server on 127.0.0.1 that answers every request with
/// `200 upstream saw <METHOD> <path>` and counts what it served.
pub struct Upstream {
    /// Port it listens on.
    pub port: u16,
    hits: Arc<AtomicUsize>,
}

impl Upstream {
    /// Start it on a free port.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let counter = counter.clone();
                std::thread::spawn(move || serve_one(stream, &counter));
            }
        });
        Self { port, hits }
    }

    /// Requests served so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn serve_one(stream: TcpStream, hits: &AtomicUsize) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            content_length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; content_length];
    let _ = reader.read_exact(&mut body);
    hits.fetch_add(1, Ordering::SeqCst);
    let mut parts = request_line.split_whitespace();
    let text = format!(
        "upstream saw {} {}",
        parts.next().unwrap_or(""),
        parts.next().unwrap_or("")
    );
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
        text.len(),
        text
    );
}

/// A `redis-server` (Debian package) on a free loopback port, killed on drop.
pub struct Redis {
    child: Child,
    /// Its port.
    pub port: u16,
}

impl Redis {
    /// Start it and wait until it accepts connections.
    pub fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server not found: install the Debian package (tests/setup.sh does)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, port }
    }

    /// Run one command with the RESP protocol and return the raw reply.
    pub fn command(&self, args: &[&[u8]]) -> Vec<u8> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            req.extend(format!("${}\r\n", a.len()).as_bytes());
            req.extend_from_slice(a);
            req.extend(b"\r\n");
        }
        s.write_all(&req).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = vec![0u8; 1 << 20];
        let n = s.read(&mut buf).unwrap();
        buf.truncate(n);
        buf
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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

/// A TCP proxy on 127.0.0.1 that forwards to `target_port` at a limited rate in each
/// direction, so a transfer takes long enough to be interrupted on purpose.
pub struct SlowProxy {
    /// Port it listens on.
    pub port: u16,
}

impl SlowProxy {
    /// Forward to `127.0.0.1:target_port` at about `bytes_per_sec` each way.
    pub fn start(target_port: u16, bytes_per_sec: usize) -> Self {
        Self {
            port: proxy(target_port, Some(bytes_per_sec), None),
        }
    }
}

/// Something to do while a request is in flight.
type Hook = Box<dyn FnOnce() + Send>;

/// A TCP proxy on 127.0.0.1 to `target_port` that runs a hook once, after the first request
/// containing `needle` has reached the server and before its response reaches the client:
/// for changing the world between two steps of one `spin` command (moving a tag after it
/// was resolved, say).
pub struct HookProxy {
    /// Port it listens on.
    pub port: u16,
}

impl HookProxy {
    /// Forward to `127.0.0.1:target_port`, running `hook` as described.
    pub fn start(target_port: u16, needle: &str, hook: impl FnOnce() + Send + 'static) -> Self {
        Self {
            port: proxy(
                target_port,
                None,
                Some((needle.as_bytes().to_vec(), Box::new(hook))),
            ),
        }
    }
}

struct HookState {
    needle: Vec<u8>,
    hook: Option<Hook>,
    armed: bool,
}

fn proxy(target_port: u16, bytes_per_sec: Option<usize>, hook: Option<(Vec<u8>, Hook)>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let state = hook.map(|(needle, hook)| {
        Arc::new(Mutex::new(HookState {
            needle,
            hook: Some(hook),
            armed: false,
        }))
    });
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(upstream) = TcpStream::connect(("127.0.0.1", target_port)) else {
                continue;
            };
            let pairs = [
                (
                    client.try_clone().unwrap(),
                    upstream.try_clone().unwrap(),
                    true,
                ),
                (upstream, client, false),
            ];
            for (mut from, mut to, to_server) in pairs {
                let state = state.clone();
                std::thread::spawn(move || {
                    let chunk = 16 * 1024;
                    let pause =
                        bytes_per_sec.map(|r| Duration::from_secs_f64(chunk as f64 / r as f64));
                    let mut buf = vec![0u8; chunk];
                    loop {
                        let n = match from.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        if let Some(state) = &state {
                            let mut s = state.lock().unwrap();
                            if to_server {
                                if buf[..n].windows(s.needle.len()).any(|w| w == s.needle) {
                                    s.armed = true;
                                }
                            } else if s.armed
                                && let Some(hook) = s.hook.take()
                            {
                                drop(s);
                                hook();
                            }
                        }
                        if to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        if let Some(p) = pause {
                            std::thread::sleep(p);
                        }
                    }
                    let _ = to.shutdown(std::net::Shutdown::Both);
                    let _ = from.shutdown(std::net::Shutdown::Both);
                });
            }
        }
    });
    port
}
