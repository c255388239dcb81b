//! Debian's MariaDB for the tests: a server per test in a temporary directory.

use crate::{free_port, wait_for_port};
use std::process::{Child, Command, Stdio};

/// `mariadbd` on a free loopback port with database `spin`, user `spin`, password `secret`.
pub struct MariaDb {
    child: Child,
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    dir: tempfile::TempDir,
}

impl MariaDb {
    /// Bootstrap and start a server; ready when this returns.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        // A temporary directory of its own: servers bootstrapping at once in the shared /tmp
        // remove each other's temporary tables.
        let tmp = dir.path().join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        let installed = Command::new("mariadb-install-db")
            .args([
                "--no-defaults",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--user=root",
            ])
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--tmpdir={}", tmp.display()))
            .output()
            .expect("mariadb-install-db (Debian's mariadb-server; tests/setup.sh installs it)");
        assert!(
            installed.status.success(),
            "mariadb-install-db: {}{}",
            String::from_utf8_lossy(&installed.stdout),
            String::from_utf8_lossy(&installed.stderr)
        );
        let port = free_port();
        let socket = dir.path().join("sock");
        let child = Command::new("mariadbd")
            .args([
                "--no-defaults",
                "--user=root",
                "--bind-address=127.0.0.1",
                "--skip-name-resolve",
            ])
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--tmpdir={}", tmp.display()))
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--port={port}"))
            .arg(format!("--pid-file={}", dir.path().join("pid").display()))
            .arg(format!(
                "--log-error={}",
                dir.path().join("err.log").display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for_port(port, "mariadbd", &Default::default());
        let db = Self { child, port, dir };
        db.root("CREATE DATABASE spin; CREATE USER 'spin'@'%' IDENTIFIED BY 'secret'; GRANT ALL ON spin.* TO 'spin'@'%';");
        db
    }

    /// Run SQL as root over the socket.
    pub fn root(&self, sql: &str) -> String {
        let out = Command::new("mariadb")
            .args(["--no-defaults", "-uroot", "-N", "-B"])
            .arg(format!("--socket={}", self.socket().display()))
            .args(["-e", sql])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The server's Unix socket.
    pub fn socket(&self) -> std::path::PathBuf {
        self.dir.path().join("sock")
    }

    /// `mysql://spin:<password>@127.0.0.1:<port>/spin`.
    pub fn url(&self, password: &str) -> String {
        format!("mysql://spin:{password}@127.0.0.1:{}/spin", self.port)
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
