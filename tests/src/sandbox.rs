//! The one sandbox for end-to-end tests: a user with a home of their own (config, caches,
//! Docker config, data, no keyring), and a builder for `spin` commands run as that user,
//! which adds the usual flags on request and, when a command does not do what the test
//! expects, reports the command, its directory, stdout and stderr.

use crate::{Spin, spin_bin};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A user with a home of their own.
pub struct Sandbox {
    home: tempfile::TempDir,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    /// A fresh user: empty home, no policy, no credentials.
    pub fn new() -> Self {
        let home = tempfile::tempdir().unwrap();
        for dir in [
            "docker",
            "config/spin",
            "cache",
            "xdg-cache",
            "data",
            "work",
        ] {
            std::fs::create_dir_all(home.path().join(dir)).unwrap();
        }
        Self { home }
    }

    /// A user whose default policy (`~/.config/spin/policy.toml`) lets every registry app
    /// run unsigned: for tests about distribution, not signatures.
    pub fn with_open_policy() -> Self {
        let s = Self::new();
        std::fs::write(
            s.config().join("policy.toml"),
            "version = 1\n[[rule]]\nname = \"distribution tests\"\nscope = \"*\"\nallow_unsigned = true\n",
        )
        .unwrap();
        s
    }

    /// The home directory.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// `~/.config/spin`.
    pub fn config(&self) -> PathBuf {
        self.home().join("config/spin")
    }

    /// The cache passed with [`Run::cache`] (`--cache-dir`).
    pub fn cache(&self) -> PathBuf {
        self.home().join("cache")
    }

    /// Docker's config directory (`DOCKER_CONFIG`).
    pub fn docker(&self) -> PathBuf {
        self.home().join("docker")
    }

    /// An empty directory to run commands in.
    pub fn work(&self) -> PathBuf {
        self.home().join("work")
    }

    /// The environment every command of this user gets.
    pub fn env(&self) -> Vec<(String, String)> {
        let h = self.home();
        let path = |p: &str| h.join(p).display().to_string();
        vec![
            ("HOME".into(), h.display().to_string()),
            ("XDG_CONFIG_HOME".into(), path("config")),
            ("XDG_CACHE_HOME".into(), path("xdg-cache")),
            ("XDG_DATA_HOME".into(), path("data")),
            ("DOCKER_CONFIG".into(), path("docker")),
            ("SPIN_DISABLE_KEYRING".into(), "1".into()),
        ]
    }

    /// `spin <args>` as this user, in [`Sandbox::work`] unless told otherwise.
    pub fn spin(&self, args: &[&str]) -> Run<'_> {
        Run {
            sandbox: self,
            args: args.iter().map(|a| a.to_string()).collect(),
            cwd: self.work(),
            env: Vec::new(),
            stdin: None,
        }
    }

    /// `spin registry push <reference> --insecure --cache-dir …` of the app in `dir`, which
    /// must work; the pushed digest.
    pub fn push(&self, dir: &Path, reference: &str) -> String {
        let out = self.spin(&["registry", "push", reference]);
        crate::pushed_digest(&out.cwd(dir).insecure().cache().ok().stdout())
    }

    /// `spin registry pull <reference> --insecure --cache-dir …`, which must work; its
    /// standard output.
    pub fn pull(&self, reference: &str) -> String {
        let out = self.spin(&["registry", "pull", reference]);
        out.insecure().cache().ok().stdout()
    }

    /// `spin registry inspect <reference> --json --insecure --cache-dir …`, which must work.
    pub fn inspect(&self, reference: &str) -> serde_json::Value {
        let out = self.spin(&["registry", "inspect", reference, "--json"]);
        serde_json::from_str(&out.insecure().cache().ok().stdout()).unwrap()
    }

    /// [`Sandbox::up`] that must work.
    pub fn serve(&self, app: impl AsRef<Path>, extra: &[&str]) -> Spin {
        let app = app.as_ref();
        self.up(app, extra)
            .unwrap_or_else(|e| panic!("spin up -f {} failed:\n{e}", app.display()))
    }

    /// `spin up -f <app> <extra>` as this user, serving on a free port.
    pub fn up(&self, app: &Path, extra: &[&str]) -> Result<Spin, String> {
        Spin::start(app, extra, &pairs(&self.env()))
    }
}

/// `env` as the borrowed pairs [`crate::spin_env`] and [`Spin::start`] take.
pub fn pairs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// A `spin` command being put together.
pub struct Run<'a> {
    sandbox: &'a Sandbox,
    args: Vec<String>,
    cwd: PathBuf,
    env: Vec<(String, String)>,
    stdin: Option<String>,
}

/// What a finished command did.
pub struct Done {
    /// Its output.
    pub output: Output,
    /// Its peak resident memory in bytes (from the kernel's accounting of the process).
    pub peak_rss: u64,
    description: String,
}

impl Done {
    /// Standard output as text.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    /// Standard output then standard error, as text.
    pub fn text(&self) -> String {
        crate::output_text(&self.output)
    }

    /// Standard error as text.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// The command, directory, exit status and both outputs, for failure messages.
    pub fn report(&self) -> String {
        format!(
            "{}\nexit: {}\n--- stdout\n{}\n--- stderr\n{}",
            self.description,
            self.output.status,
            self.stdout(),
            self.stderr()
        )
    }
}

impl Run<'_> {
    /// Run in `dir`.
    pub fn cwd(mut self, dir: &Path) -> Self {
        self.cwd = dir.to_path_buf();
        self
    }

    /// Add arguments.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// `--insecure` (plain HTTP to the registry).
    pub fn insecure(self) -> Self {
        self.args(&["--insecure"])
    }

    /// `--cache-dir <the sandbox's cache>`.
    pub fn cache(self) -> Self {
        let cache = self.sandbox.cache().display().to_string();
        self.args(&["--cache-dir", &cache])
    }

    /// An extra environment variable.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Feed `text` on standard input.
    pub fn stdin(mut self, text: &str) -> Self {
        self.stdin = Some(text.into());
        self
    }

    /// Run to completion, measuring peak memory.
    #[allow(
        clippy::zombie_processes,
        reason = "the child is reaped by wait4 in wait_measured"
    )]
    pub fn run(self) -> Done {
        use std::io::Write;
        let description = format!("spin {:?} (in {})", self.args, self.cwd.display());
        let mut cmd = Command::new(spin_bin());
        cmd.args(&self.args)
            .current_dir(&self.cwd)
            .envs(self.sandbox.env())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn spin");
        let stdout = crate::capture(child.stdout.take().unwrap());
        let stderr = crate::capture(child.stderr.take().unwrap());
        if let Some(input) = &self.stdin {
            let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
        }
        drop(child.stdin.take());
        let (status, peak_rss) = wait_measured(&child);
        // The capture threads finish once the pipes close, right after the exit.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let done =
            |s: &std::sync::Arc<std::sync::Mutex<String>>| std::sync::Arc::strong_count(s) == 1;
        while (!done(&stdout) || !done(&stderr)) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let take =
            |s: &std::sync::Arc<std::sync::Mutex<String>>| s.lock().unwrap().clone().into_bytes();
        Done {
            output: Output {
                status,
                stdout: take(&stdout),
                stderr: take(&stderr),
            },
            peak_rss,
            description,
        }
    }

    /// Run; it must succeed.
    pub fn ok(self) -> Done {
        let done = self.run();
        assert!(
            done.output.status.success(),
            "expected success:\n{}",
            done.report()
        );
        done
    }

    /// Run; it must fail.
    pub fn fails(self) -> Done {
        let done = self.run();
        assert!(
            !done.output.status.success(),
            "expected failure:\n{}",
            done.report()
        );
        done
    }

    /// Run; it must fail with each of `needles` in its standard error, which is returned.
    #[track_caller]
    pub fn fails_with(self, needles: &[&str]) -> String {
        let stderr = self.fails().stderr();
        for needle in needles {
            crate::assert_contains(&stderr, needle);
        }
        stderr
    }
}

/// Wait for `child` with `wait4`, which also reports the process's peak resident memory.
fn wait_measured(child: &std::process::Child) -> (std::process::ExitStatus, u64) {
    use std::os::unix::process::ExitStatusExt;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data, fully written by wait4 on success.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to locals; pid is our own unreaped child.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        assert_eq!(err.kind(), std::io::ErrorKind::Interrupted, "wait4: {err}");
    }
    (
        std::process::ExitStatus::from_raw(status),
        usage.ru_maxrss as u64 * 1024,
    )
}
