//! Real local peers for the runtime's outbound capabilities, all on 127.0.0.1: an HTTP
//! upstream, TCP and UDP echo servers, a `redis-server`, and TCP proxies that slow a link down or change the world
//! in the middle of a request.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

/// A TCP and a UDP echo server on the same free loopback port: each answers `echo:` and
/// what it got (a line; a datagram), and counts the peers it answered.
pub struct Echo {
    /// Port both listen on.
    pub port: u16,
    hits: Arc<AtomicUsize>,
}

impl Echo {
    /// Start both.
    pub fn start() -> Self {
        let (tcp, udp) = loop {
            let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = tcp.local_addr().unwrap().port();
            if let Ok(udp) = std::net::UdpSocket::bind(("127.0.0.1", port)) {
                break (tcp, udp);
            }
        };
        let port = tcp.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        std::thread::spawn(move || {
            for stream in tcp.incoming().flatten() {
                counter.fetch_add(1, Ordering::SeqCst);
                let mut line = String::new();
                let _ = BufReader::new(&stream).read_line(&mut line);
                let _ = (&stream).write_all(format!("echo:{line}").as_bytes());
            }
        });
        let counter = hits.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            while let Ok((n, from)) = udp.recv_from(&mut buf) {
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = udp.send_to(&[b"echo:", &buf[..n]].concat(), from);
            }
        });
        Self { port, hits }
    }

    /// Connections and datagrams answered so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
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
        let port = crate::free_port();
        Self {
            child: Self::spawn(port),
            port,
        }
    }

    /// Stop it and start a fresh one (empty) on the same port.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = Self::spawn(self.port);
    }

    fn spawn(port: u16) -> Child {
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
        crate::wait_for_port(port, "redis-server", &Default::default());
        child
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
