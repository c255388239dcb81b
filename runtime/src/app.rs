//! A locked app made ready to serve: variables resolved, components compiled and
//! pre-instantiated, files materialized, routes built. Everything that can fail does so
//! here, at start-up, not on the first request.

use crate::engine::{self, Limits};
use crate::files::{FilesRoot, source_path};
use crate::host::kv::{Backend, RedisStore, SqliteDb, StoreManager};
use crate::host::{base_linker, unsupported};
use crate::router::Router;
use crate::runtime_config::{KvStoreConfig, RuntimeConfig};
use crate::state::{ComponentCtx, RequestState};
use anyhow::{Context, bail};
use spin_app::Digest;
use spin_app::allowed_hosts::AllowedHosts;
use spin_app::locked::{LockedApp, LockedRoute};
use spin_app::template::Template;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use wasmtime::Engine;
use wasmtime_wasi_http::p2::bindings::ProxyPre;

/// How to run an app.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where the default key/value database and other state live (Spin: `.spin`).
    pub state_dir: PathBuf,
    /// Optional `runtime-config.toml`.
    pub runtime_config: Option<PathBuf>,
    /// Extra environment for every component (`-e KEY=VALUE`).
    pub env: Vec<(String, String)>,
    /// Values written to the `default` store at start-up (`--key-value k=v`).
    pub key_values: Vec<(String, String)>,
    /// Application variable values (`--variable k=v`); they beat `SPIN_VARIABLE_*`.
    pub variables: Vec<(String, String)>,
    /// Per-request limits.
    pub limits: Limits,
    /// Directory for compiled components; `None` disables the cache.
    pub compile_cache: Option<PathBuf>,
}

/// A component ready to instantiate per request.
pub struct LoadedComponent {
    /// Settings shared by its requests.
    pub ctx: Arc<ComponentCtx>,
    /// The pre-instantiated component.
    pub pre: ProxyPre<RequestState>,
}

/// A loaded app.
pub struct LoadedApp {
    /// App name.
    pub name: String,
    /// App version, if any.
    pub version: Option<String>,
    /// The OCI digest the app was pulled by, if any.
    pub oci_digest: Option<String>,
    /// Routes.
    pub router: Router,
    /// Components by id.
    pub components: HashMap<String, Arc<LoadedComponent>>,
    /// Key/value stores.
    pub stores: Arc<StoreManager>,
    /// The engine.
    pub engine: Engine,
    /// Limits.
    pub limits: Limits,
    /// Keeps materialized files alive while serving.
    _files: Option<FilesRoot>,
}

/// Resolve application variables: `--variable`, then `SPIN_VARIABLE_<NAME>`, then the
/// default. Every required variable without a value is reported at once.
fn resolve_app_variables(
    app: &LockedApp,
    cli: &[(String, String)],
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut values = BTreeMap::new();
    let mut missing = Vec::new();
    for (name, var) in &app.variables {
        let from_cli = cli
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone());
        let env_name = format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase());
        let value = from_cli
            .or_else(|| std::env::var(&env_name).ok())
            .or_else(|| var.default.clone());
        match value {
            Some(v) => {
                values.insert(name.clone(), v);
            }
            None => missing.push(name.clone()),
        }
    }
    if let Some((unknown, _)) = cli.iter().find(|(k, _)| !app.variables.contains_key(k)) {
        bail!(
            "--variable {unknown}=...: the app declares no variable `{unknown}`\n  help: declared variables: {}",
            app.variables.keys().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    if !missing.is_empty() {
        let list = missing
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let example = &missing[0];
        bail!(
            "required variable{} {list} {} no value\n  help: pass `--variable {example}=<value>` or set SPIN_VARIABLE_{}",
            if missing.len() > 1 { "s" } else { "" },
            if missing.len() > 1 { "have" } else { "has" },
            example.to_ascii_uppercase()
        );
    }
    Ok(values)
}

async fn build_stores(opts: &RuntimeOptions) -> anyhow::Result<StoreManager> {
    let mut stores = StoreManager::with_default(&opts.state_dir)?;
    let Some(path) = &opts.runtime_config else {
        return Ok(stores);
    };
    let config = RuntimeConfig::load(path)?;
    let mut dbs: HashMap<Option<PathBuf>, SqliteDb> = HashMap::new();
    for (label, store) in config.key_value_stores {
        match store {
            KvStoreConfig::Spin { path } => {
                let db = match (&path, dbs.get(&path)) {
                    (Some(_), Some(db)) => db.clone(),
                    _ => {
                        let db = SqliteDb::open(path.as_deref())
                            .with_context(|| format!("opening key/value store `{label}`"))?;
                        dbs.insert(path.clone(), db.clone());
                        db
                    }
                };
                let summary = match &path {
                    Some(p) => p.display().to_string(),
                    None => "in memory".to_string(),
                };
                stores.insert(&label, Backend::Sqlite(db.store(&label)), summary);
            }
            KvStoreConfig::Redis { url } => {
                let redis = RedisStore::connect(&url).await.with_context(|| {
                    format!("connecting key/value store `{label}` to {url}\n  help: check that Redis is running and the URL in the runtime config is right")
                })?;
                stores.insert(&label, Backend::Redis(redis), url);
            }
        }
    }
    Ok(stores)
}

fn render(template: &str, values: &BTreeMap<String, String>, what: &str) -> anyhow::Result<String> {
    Template::parse(template)
        .and_then(|t| t.render(values))
        .with_context(|| format!("{what} {template:?}"))
}

/// Prepare `locked` for serving.
pub async fn load(locked: &LockedApp, opts: &RuntimeOptions) -> anyhow::Result<LoadedApp> {
    // Apps from outside were checked when read; local ones are checked here too, before
    // anything is written for them.
    spin_app::locked::validate(locked)?;
    if let Some(feature) = locked.must_understand.first() {
        bail!("the app requires host feature `{feature}`, which this runtime does not support");
    }
    let mut routes = Vec::new();
    for trigger in &locked.triggers {
        if trigger.trigger_type != "http" {
            bail!(
                "trigger `{}` has type `{}`; this runtime serves only HTTP triggers",
                trigger.id,
                trigger.trigger_type
            );
        }
        let config = trigger.http_config()?;
        if locked.component(&config.component).is_none() {
            bail!(
                "trigger `{}` refers to missing component `{}`",
                trigger.id,
                config.component
            );
        }
        routes.push(config);
    }
    let app_variables = resolve_app_variables(locked, &opts.variables)?;
    let stores = Arc::new(build_stores(opts).await?);
    for (k, v) in &opts.key_values {
        stores.preset("default", k, v).await?;
    }

    let engine = engine::new_engine(&opts.limits)?;
    let linker = base_linker(&engine)?;
    let self_host = match opts.listen.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => format!("127.0.0.1:{}", opts.listen.port()),
        ip if ip.is_unspecified() => format!("[::1]:{}", opts.listen.port()),
        _ => opts.listen.to_string(),
    };
    let needs_files = locked.components.iter().any(|c| !c.files.is_empty());
    let files_root = if needs_files {
        Some(FilesRoot::create(&opts.state_dir)?)
    } else {
        None
    };

    let mut components = HashMap::new();
    for config in &routes {
        if components.contains_key(&config.component) {
            continue;
        }
        let (index, c) = locked
            .components
            .iter()
            .enumerate()
            .find(|(_, c)| c.id == config.component)
            .expect("checked above");
        let id = &c.id;
        if !c.dependencies.is_empty() {
            bail!(
                "component `{id}` has component dependencies, which this runtime does not support"
            );
        }
        if let Some(req) = c.host_requirements.keys().next() {
            bail!(
                "component `{id}` requires host feature `{req}`, which this runtime does not support"
            );
        }
        let wasm =
            source_path(&c.source.content).with_context(|| format!("component `{id}` source"))?;
        let digest = match c.source.content.digest.as_deref().map(str::parse::<Digest>) {
            Some(Ok(d)) => d,
            _ => Digest::of_file(&wasm).with_context(|| format!("reading {}", wasm.display()))?,
        };
        let component = {
            let (engine, wasm, cache) = (engine.clone(), wasm.clone(), opts.compile_cache.clone());
            tokio::task::spawn_blocking(move || {
                engine::load_component(&engine, &wasm, &digest, cache.as_deref())
            })
            .await??
        };
        let mut component_linker = linker.clone();
        component_linker.allow_shadowing(true);
        let stubbed =
            unsupported::stub_unsupported_imports(&mut component_linker, &component, &engine)?;
        if !stubbed.is_empty() {
            tracing::debug!(
                "component `{id}`: unsupported imports stubbed: {}",
                stubbed.join(", ")
            );
        }
        let instance_pre = component_linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!("component `{id}` imports something this runtime does not provide")
            })?;
        let pre = ProxyPre::new(instance_pre).map_err(anyhow::Error::from).with_context(|| {
            format!("component `{id}` does not export `wasi:http/incoming-handler@0.2.x`\n  help: build it as a Spin 2+/WASI HTTP component (e.g. with a current Spin SDK)")
        })?;

        let variables = c
            .config
            .iter()
            .map(|(k, v)| {
                Ok((
                    k.clone(),
                    render(
                        v,
                        &app_variables,
                        &format!("component `{id}` variable `{k}`"),
                    )?,
                ))
            })
            .collect::<anyhow::Result<BTreeMap<_, _>>>()?;
        let hosts = c
            .metadata_strings("allowed_outbound_hosts")
            .iter()
            .map(|h| {
                render(
                    h,
                    &app_variables,
                    &format!("component `{id}` allowed_outbound_hosts"),
                )
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let allowed_hosts = AllowedHosts::parse(&hosts).map_err(|e| {
            anyhow::anyhow!("component `{id}`: invalid allowed_outbound_hosts: {e}")
        })?;
        // `-e` beats the manifest's `environment`.
        let mut env = c.env.clone();
        env.extend(opts.env.iter().cloned());
        let env: Vec<(String, String)> = env.into_iter().collect();
        let files_dir = match &files_root {
            Some(root) if !c.files.is_empty() => Some(root.materialize(index, c)?),
            _ => None,
        };
        let ctx = ComponentCtx {
            id: id.clone(),
            key_value_stores: c.metadata_strings("key_value_stores").into_iter().collect(),
            variables,
            allowed_hosts,
            env,
            files_dir,
            self_authority: self_host.clone(),
        };
        components.insert(
            id.clone(),
            Arc::new(LoadedComponent {
                ctx: Arc::new(ctx),
                pre,
            }),
        );
    }

    let public: Vec<(&str, &str)> = routes
        .iter()
        .filter_map(|r| match &r.route {
            LockedRoute::Path(p) => Some((r.component.as_str(), p.as_str())),
            LockedRoute::Private => None,
        })
        .collect();
    let (router, duplicates) = Router::build(locked.http_base(), public)?;
    for d in duplicates {
        tracing::warn!(
            "route {} is defined twice; component `{}` replaces `{}`",
            d.route,
            d.effective,
            d.replaced
        );
    }
    if router
        .routes()
        .iter()
        .any(|r| r.based.starts_with("/.well-known/spin/"))
    {
        tracing::warn!("routes under /.well-known/spin/ are reserved and will not be reached");
    }

    Ok(LoadedApp {
        name: locked.name().to_string(),
        version: locked.metadata_str("version").map(String::from),
        oci_digest: locked
            .metadata_str(spin_app::locked::OCI_IMAGE_DIGEST_KEY)
            .map(String::from),
        router,
        components,
        stores,
        engine,
        limits: opts.limits.clone(),
        _files: files_root,
    })
}
