//! Debian's PostgreSQL server on a free loopback port, in a temporary data directory:
//! superuser `postgres` over the Unix socket (trust) for setting up, and user `spin`
//! (password `secret`, SCRAM) with database `spin` over TCP, as guests connect. With
//! [`Postgres::start_tls`], TLS with a certificate for 127.0.0.1 signed by a CA made here.
//!
//! PostgreSQL refuses to run as root, so under root its files belong to, and it runs as,
//! Debian's `postgres` user.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running server.
pub struct Postgres {
    child: Child,
    /// Its TCP port.
    pub port: u16,
    dir: tempfile::TempDir,
    /// The CA certificate (PEM) of a TLS server.
    pub ca: Option<String>,
}

/// The newest installed server's `bin` directory.
fn bin_dir() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<u32> = std::fs::read_dir(root)
        .expect("PostgreSQL (Debian's postgresql; tests/setup.sh installs it)")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    versions.sort();
    root.join(versions.last().expect("a PostgreSQL version").to_string())
        .join("bin")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// Wait until the server on our socket directory `d` takes connections (its port opens
/// while it still recovers), or has exited.
fn ready(bin: &Path, d: &Path, port: u16, child: &mut Child) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(30) {
        if child.try_wait().ok().flatten().is_some() {
            return false;
        }
        let up = Command::new(bin.join("pg_isready"))
            .arg("-q")
            .arg("-h")
            .arg(d)
            .args(["-p", &port.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if up {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    false
}

/// `program` run as the server's user.
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

impl Postgres {
    /// A plain-TCP server.
    pub fn start() -> Self {
        Self::new(false)
    }

    /// A server that also speaks TLS (`ssl=on`).
    pub fn start_tls() -> Self {
        Self::new(true)
    }

    fn new(tls: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let bin = bin_dir();
        std::fs::write(d.join("pw"), "postgres\n").unwrap();
        let mut settings = vec![
            "listen_addresses=127.0.0.1".to_string(),
            "fsync=off".into(),
            format!("unix_socket_directories={}", d.display()),
        ];
        let ca = tls.then(|| {
            crate::registry::server_certificate(d);
            settings.extend([
                "ssl=on".into(),
                format!("ssl_cert_file={}", d.join("server.pem").display()),
                format!("ssl_key_file={}", d.join("server.key").display()),
            ]);
            std::fs::read_to_string(d.join("ca.pem")).unwrap()
        });
        if is_root() {
            let owned = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(d)
                .status()
                .unwrap();
            assert!(owned.success());
        }
        let made = as_server_user(&bin.join("initdb"))
            .arg("-D")
            .arg(d.join("data"))
            .args([
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ])
            .arg(format!("--pwfile={}", d.join("pw").display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("initdb");
        assert!(made.success(), "initdb failed");
        // Another process may take the free port first (the server then exits): try again.
        let (child, port) = (0..5)
            .find_map(|_| {
                let port = crate::free_port();
                let mut server = as_server_user(&bin.join("postgres"));
                server
                    .arg("-D")
                    .arg(d.join("data"))
                    .arg("-p")
                    .arg(port.to_string());
                for s in &settings {
                    server.arg("-c").arg(s);
                }
                let mut child = server
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap();
                ready(&bin, d, port, &mut child).then_some((child, port))
            })
            .expect("postgres did not start on any of five ports");
        let pg = Self {
            child,
            port,
            dir,
            ca,
        };
        pg.admin("CREATE USER spin PASSWORD 'secret'");
        pg.admin("CREATE DATABASE spin OWNER spin");
        pg
    }

    /// Run SQL as the superuser over the socket, in database `spin` once it exists; the
    /// output, unaligned, without headers.
    pub fn admin(&self, sql: &str) -> String {
        let db = if sql.starts_with("CREATE USER") || sql.starts_with("CREATE DATABASE") {
            "postgres"
        } else {
            "spin"
        };
        let out = Command::new(bin_dir().join("psql"))
            .arg("-h")
            .arg(self.dir.path())
            .args(["-p", &self.port.to_string(), "-U", "postgres", "-d", db])
            .args(["-v", "ON_ERROR_STOP=1", "-At", "-c", sql])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim_end().to_string()
    }

    /// `postgres://spin:<password>@127.0.0.1:<port>/spin`, with `query` appended.
    pub fn url(&self, password: &str, query: &str) -> String {
        format!(
            "postgres://spin:{password}@127.0.0.1:{}/spin{query}",
            self.port
        )
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // `runuser` passes SIGTERM on (PostgreSQL's "smart" shutdown); kill is enough here.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if is_root() {
            let _ = Command::new("pkill")
                .args(["-KILL", "-f"])
                .arg(self.dir.path().join("data"))
                .status();
        }
    }
}
