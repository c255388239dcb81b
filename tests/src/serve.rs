//! A `spin up` under test, and plain HTTP to it: start it on a free loopback port, wait
//! until it serves, read what it printed.

use crate::{capture, spin_bin, test_cache};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// Send one HTTP request (redirects are returned, not followed).
pub fn http(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(120))
        .redirects(0)
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
        let stderr = capture(child.stderr.take().unwrap());
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
