//! `spin up`: lock the app and serve it.

use super::args::{CacheArgs, Connection, LimitArgs, duration, key_value, size};
use anyhow::bail;
use clap::Args;
use spin_runtime::{App, Limits, RuntimeOptions, Server};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Args)]
pub struct UpArgs {
    /// spin.toml, a directory containing one, a .wasm/.wat component, an OCI layout
    /// directory, or a registry reference [default: ./spin.toml]
    #[arg(short = 'f', long = "from", alias = "file", value_name = "APP")]
    from: Option<String>,
    #[command(flatten)]
    policy: super::policy::PolicyArgs,
    /// For registry apps: how to reach the registry
    #[command(flatten)]
    connection: Connection,
    /// For registry apps and OCI layouts: what is accepted from them
    #[command(flatten)]
    limits: LimitArgs,
    /// Run `spin build` first
    #[arg(long)]
    build: bool,
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// How to serve an app: shared by `spin up` and `spin watch`.
#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Runtime configuration file (key/value stores)
    #[arg(long = "runtime-config-file", value_name = "FILE")]
    runtime_config_file: Option<PathBuf>,
    /// Directory for app state such as the default key/value store [default: .spin next to the app]
    #[arg(long = "state-dir", value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Environment variable for every component (repeatable)
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE", value_parser = key_value)]
    env: Vec<(String, String)>,
    /// Set a key in the default key/value store before serving (repeatable)
    #[arg(long = "key-value", value_name = "KEY=VALUE", value_parser = key_value)]
    key_values: Vec<(String, String)>,
    /// Run SQL on the default SQLite database before serving: a statement, or @FILE of
    /// statements (repeatable, in order)
    #[arg(long = "sqlite", value_name = "SQL|@FILE")]
    sqlite: Vec<String>,
    /// Set an application variable (repeatable); beats SPIN_VARIABLE_<NAME>
    #[arg(long = "variable", value_name = "NAME=VALUE", value_parser = key_value)]
    variables: Vec<(String, String)>,
    /// Per-request time limit, e.g. 30s, 500ms, 2m
    #[arg(long = "request-timeout", default_value = "30s", value_parser = duration)]
    request_timeout: Duration,
    /// Linear memory limit per instance, e.g. 512MiB
    #[arg(long = "max-memory", default_value = "512MiB", value_parser = size)]
    max_memory: u64,
    /// Largest accepted request body, e.g. 100MiB
    #[arg(long = "max-request-body", default_value = "100MiB", value_parser = size)]
    max_request_body: u64,
    /// Requests served at once; more get 503
    #[arg(long = "max-concurrent-requests", default_value_t = 256)]
    max_concurrent_requests: u32,
    /// WASI P3: requests one instance serves in all before it is replaced (1: a fresh
    /// instance per request)
    #[arg(long = "max-instance-reuse-count", default_value_t = 128, value_parser = clap::value_parser!(u32).range(1..))]
    max_instance_reuse_count: u32,
    /// WASI P3: requests one instance serves at once
    #[arg(long = "max-instance-concurrent-reuse-count", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..))]
    max_instance_concurrent_reuse_count: u32,
    /// WASI P3: an idle instance is dropped after this long, e.g. 1s
    #[arg(long = "idle-instance-timeout", default_value = "1s", value_parser = duration)]
    idle_instance_timeout: Duration,
    /// Where components' stdout and stderr are also appended, as <id>_stdout.txt and
    /// <id>_stderr.txt; "" for nowhere [default: logs in the state directory]
    #[arg(long = "log-dir", value_name = "DIR")]
    log_dir: Option<String>,
    /// Keep components' stdout and stderr off the terminal (the log files still get them)
    #[arg(short = 'q', long)]
    quiet: bool,
    #[command(flatten)]
    pub cache: CacheArgs,
}

impl ServeArgs {
    /// Runtime options for an app whose files live in `app_dir`.
    pub fn runtime_options(&self, app_dir: &Path) -> RuntimeOptions {
        let state_dir = self
            .state_dir
            .clone()
            .unwrap_or_else(|| app_dir.join(".spin"));
        let log_dir = match &self.log_dir {
            Some(dir) if dir.is_empty() => None,
            Some(dir) => Some(PathBuf::from(dir)),
            None => Some(state_dir.join("logs")),
        };
        RuntimeOptions {
            listen: self.listen,
            state_dir,
            log_dir,
            quiet: self.quiet,
            runtime_config: self.runtime_config_file.clone(),
            env: self.env.clone(),
            key_values: self.key_values.clone(),
            sqlite_statements: self.sqlite.clone(),
            variables: self.variables.clone(),
            limits: Limits {
                request_timeout: self.request_timeout,
                memory_bytes: usize::try_from(self.max_memory).unwrap_or(usize::MAX),
                max_request_body: self.max_request_body,
                max_concurrent_requests: self.max_concurrent_requests,
                reuse: spin_runtime::Reuse {
                    total: self.max_instance_reuse_count,
                    concurrent: self.max_instance_concurrent_reuse_count,
                    idle_timeout: self.idle_instance_timeout,
                },
            },
            compile_cache: Some(self.cache.dir().join("compiled")),
        }
    }

    /// How to lock manifests.
    pub fn lock_options(&self) -> spin_app::lock::LockOptions {
        spin_app::lock::LockOptions {
            download_cache: self.cache.dir().join("wasm"),
        }
    }
}

/// What `-f` named.
enum Source {
    Manifest(PathBuf),
    Component(PathBuf),
    Layout(PathBuf),
    Registry(spin_registry::Reference),
}

fn resolve(from: Option<&str>) -> anyhow::Result<Source> {
    let Some(from) = from else {
        return Ok(Source::Manifest(super::manifest_path(None)?));
    };
    let path = Path::new(from);
    if spin_registry::layout::is_layout(path) {
        return Ok(Source::Layout(path.to_path_buf()));
    }
    if path.exists() {
        return Ok(match path.extension().and_then(|e| e.to_str()) {
            Some("wasm") | Some("wat") => Source::Component(path.to_path_buf()),
            _ => Source::Manifest(super::manifest_path(Some(path))?),
        });
    }
    match from.parse::<spin_registry::Reference>() {
        Ok(r) if from.contains('/') || from.contains(':') => Ok(Source::Registry(r)),
        _ => bail!(
            "{from} does not exist and is not a registry reference\n  help: give a path to spin.toml, a directory, a .wasm file, or a reference like ghcr.io/acme/app:v1"
        ),
    }
}

/// `spin up -f MANIFEST EXTRA…`, for `spin build --up -- EXTRA…`.
pub fn args_for(manifest: &Path, extra: &[String]) -> anyhow::Result<UpArgs> {
    #[derive(clap::Parser)]
    #[command(name = "spin up")]
    struct Up {
        #[command(flatten)]
        up: UpArgs,
    }
    let argv = [
        "spin up".into(),
        "-f".into(),
        manifest.display().to_string(),
    ]
    .into_iter()
    .chain(extra.iter().cloned());
    Ok(<Up as clap::Parser>::try_parse_from(argv)?.up)
}

/// Serve until Ctrl-C.
pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    let source = super::registry::SourceArgs {
        connection: args.connection.clone(),
        cache: args.serve.cache.clone(),
        limits: args.limits.clone(),
    };
    let (app, app_dir) = match resolve(args.from.as_deref())? {
        Source::Manifest(path) => {
            if args.build {
                super::build_components(&path, &[])?;
            }
            let manifest = spin_app::manifest::load(&path)?;
            let app = App::from_manifest(&manifest, &path, &args.serve.lock_options()).await?;
            (app, parent(&path))
        }
        _ if args.build => bail!(
            "--build works only with an app's spin.toml\n  help: run `spin build` in the app's folder, or drop --build"
        ),
        Source::Component(path) => (App::from_component(&path)?, parent(&path)),
        Source::Layout(dir) => {
            let store = source.cache.store(source.limits.limits())?;
            (App::from_layout(&dir, None, &store)?, dir)
        }
        Source::Registry(reference) => {
            let client = source.connection.client(&[reference.registry()])?;
            let verified = super::policy::gate(&args.policy, &client, &reference).await?;
            let app = App::verified(
                &verified,
                &client,
                &source.cache.store(source.limits.limits())?,
                &source.cache.locations(),
                std::sync::Arc::new(crate::progress::Reporter::new()),
            )
            .await?;
            eprintln!("Running {}", verified.reference());
            (app, std::env::current_dir()?)
        }
    };
    let options = args.serve.runtime_options(&app_dir);
    let server = Server::start(&app, options).await?;
    print!("{}", server.banner());
    use std::io::Write;
    let _ = std::io::stdout().flush();
    server.serve(shutdown_signal()).await;
    eprintln!("Shut down.");
    Ok(())
}

fn parent(path: &Path) -> PathBuf {
    path.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_flag_defaults_are_the_runtime_defaults() {
        #[derive(clap::Parser)]
        struct Flags {
            #[command(flatten)]
            serve: ServeArgs,
        }
        let flags = <Flags as clap::Parser>::parse_from(["spin"]);
        let options = flags.serve.runtime_options(Path::new("."));
        assert_eq!(options.limits, Limits::default());
    }
}
