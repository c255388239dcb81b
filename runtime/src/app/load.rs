//! An app made ready to serve: variables resolved, key/value stores opened, components
//! compiled and pre-instantiated, files placed, routes built. Everything that can fail does
//! so here, at start-up, not on the first request.

use super::{App, RuntimeOptions, variables};
use crate::Error;
use crate::engine::{self, Limits};
use crate::files::FilesRoot;
use crate::host::base_linker;
use crate::host::kv::{ComponentKv, StoreManager};
use crate::host::outbound::{Chain, Outbound};
use crate::host::postgres::PgClients;
use crate::host::redis::RedisClients;
use crate::host::spin_v1::bindings::SpinV1HttpPre;
use crate::host::sqlite::{ComponentSqlite, Databases};
use crate::host::variables::Variables;
use crate::module::{ModulePre, wagi::WagiConfig};
use crate::output::ComponentOutput;
use crate::pool::{self, P3Handler};
use crate::redis_trigger::{RedisComponent, Subscription};
use crate::router::Router;
use crate::runtime_config::RuntimeConfig;
use crate::state::{ComponentState, ModuleState, RequestState};
use spin_app::allowed_hosts::AllowedHosts;
use spin_app::locked::{LockedApp, LockedComponent, LockedRoute};
use spin_app::manifest::HttpExecutor;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use wasmtime::Engine;
use wasmtime::component::Linker;
use wasmtime_wasi::p2::bindings::CommandPre;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p3::bindings::ServicePre;

/// A component ready to instantiate per request.
pub struct LoadedComponent {
    /// Settings shared by its requests.
    pub state: Arc<ComponentState>,
    /// How it is called.
    pub handler: Handler,
}

/// How a component serves HTTP.
pub enum Handler {
    /// A component exporting `wasi:http/incoming-handler@0.2.x`.
    Proxy(ProxyPre<RequestState>),
    /// A WASI P3 component exporting `wasi:http/handler@0.3.0`, a fresh instance per
    /// request.
    P3(ServicePre<RequestState>),
    /// The same, its instances reused.
    P3Pool(P3Handler),
    /// A component exporting Spin's unversioned `fermyon:spin/inbound-http`.
    SpinHttp(SpinV1HttpPre<RequestState>),
    /// A core module (Spin's old ABI, or WAGI).
    Module(ModulePre),
    /// A WASI command component under the WAGI executor.
    WagiComponent(CommandPre<RequestState>, WagiConfig),
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
    /// Redis subscriptions, each with the component its messages go to.
    pub redis: Vec<(Subscription, Arc<RedisComponent>)>,
    /// Key/value stores.
    pub stores: Arc<StoreManager>,
    /// The engine.
    pub engine: Engine,
    /// Limits.
    pub limits: Limits,
    /// Keeps placed files alive while serving.
    _files: Option<FilesRoot>,
}

fn unsupported(what: String) -> Error {
    Error::Unsupported(what)
}

/// The HTTP routes and Redis subscriptions of `locked`, refusing other trigger types.
fn triggers(
    locked: &LockedApp,
) -> Result<(Vec<spin_app::locked::HttpTriggerConfig>, Vec<Subscription>), Error> {
    // `must_understand` and host requirements were checked by `validate`: only local
    // service chaining is left, and it is supported.
    let app_address = locked
        .metadata
        .get("triggers")
        .and_then(|t| t.get("redis"))
        .and_then(|r| r.get("address"))
        .and_then(serde_json::Value::as_str);
    let (mut routes, mut subscriptions) = (Vec::new(), Vec::new());
    for trigger in &locked.triggers {
        match trigger.trigger_type.as_str() {
            "http" => routes.push(trigger.http_config()?),
            "redis" => {
                let c = trigger.redis_config(app_address)?;
                subscriptions.push(Subscription {
                    address: c.address,
                    channel: c.channel,
                    component: c.component,
                });
            }
            other => {
                return Err(unsupported(format!(
                    "trigger `{}` has type `{other}`; this runtime serves HTTP and Redis triggers",
                    trigger.id
                )));
            }
        }
    }
    Ok((routes, subscriptions))
}

/// `spin up --sqlite`: each statement (or `@file` of statements) run on the `default`
/// database, in order, before serving, as Spin does.
async fn run_sqlite_statements(databases: &Databases, statements: &[String]) -> Result<(), Error> {
    if statements.is_empty() {
        return Ok(());
    }
    let db = databases.get("default").expect("configured by Databases");
    for statement in statements {
        let (what, sql) = match statement.strip_prefix('@') {
            Some(file) => {
                let sql = std::fs::read_to_string(file).map_err(|e| Error::Io {
                    what: format!("reading the SQL file {file} of --sqlite"),
                    source: e,
                })?;
                (format!("{file} (--sqlite @{file})"), sql)
            }
            None => (format!("--sqlite {statement:?}"), statement.clone()),
        };
        let db = db.clone();
        tokio::task::spawn_blocking(move || db.execute_batch(&sql))
            .await
            .map_err(|e| Error::Engine(e.into()))?
            .map_err(|e| Error::Sqlite {
                what,
                reason: match e {
                    crate::host::sqlite::SqliteError::Io(m) => m,
                    other => format!("{other:?}"),
                },
            })?;
    }
    Ok(())
}

/// Where the app itself answers, for relative-URL (self) requests.
fn self_authority(opts: &RuntimeOptions) -> String {
    match opts.listen.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => format!("127.0.0.1:{}", opts.listen.port()),
        ip if ip.is_unspecified() => format!("[::1]:{}", opts.listen.port()),
        _ => opts.listen.to_string(),
    }
}

/// Prepare `app` for serving.
/// `chain` is where its components' chained requests go (the caller points it at the
/// loaded app).
pub async fn load(
    app: &App,
    opts: &RuntimeOptions,
    chain: Arc<dyn Chain>,
) -> Result<LoadedApp, Error> {
    let locked = &app.locked;
    // Apps from outside were checked when read; local ones are checked here too, before
    // anything is written for them.
    spin_app::locked::validate(locked)?;
    let (routes, subscriptions) = triggers(locked)?;
    let app_variables = variables::resolve(&locked.variables, &opts.variables, |name| {
        std::env::var(name).ok()
    })?;
    let runtime_config = match opts.runtime_config.as_deref() {
        Some(path) => Some(RuntimeConfig::load(path)?),
        None => None,
    };
    let stores = Arc::new(
        StoreManager::configure(&opts.state_dir, runtime_config.as_ref(), &opts.key_values).await?,
    );
    let databases = Arc::new(Databases::configure(
        &opts.state_dir,
        runtime_config
            .as_ref()
            .map_or(&[][..], |c| &c.sqlite_databases),
    ));
    run_sqlite_statements(&databases, &opts.sqlite_statements).await?;
    let engine = engine::new_engine(&opts.limits)?;
    let linker = base_linker(&engine).map_err(|e| Error::Engine(e.into()))?;
    let module_linker = crate::module::base_linker(&engine).map_err(|e| Error::Engine(e.into()))?;
    let files_root = match locked.components.iter().any(|c| !c.files.is_empty()) {
        true => Some(FilesRoot::create(&opts.state_dir)?),
        false => None,
    };
    let prepare = Prepare {
        engine: &engine,
        linker: &linker,
        module_linker: &module_linker,
        opts,
        app_variables: &app_variables,
        files: files_root.as_ref(),
        self_authority: self_authority(opts),
        chain,
        stores: stores.clone(),
        databases: databases.clone(),
        redis: Arc::default(),
        postgres: Arc::default(),
    };
    // Each component's settings once, however many triggers use it.
    let mut states: HashMap<String, Arc<ComponentState>> = HashMap::new();
    let mut state_of = |id: &str| -> Result<(Arc<ComponentState>, &LockedComponent), Error> {
        let (index, c) = locked
            .components
            .iter()
            .enumerate()
            .find(|(_, c)| c.id == id)
            .expect("validated: every trigger names a component");
        if let Some(state) = states.get(id) {
            return Ok((state.clone(), c));
        }
        let state = Arc::new(prepare.state(index, c)?);
        states.insert(id.to_string(), state.clone());
        Ok((state, c))
    };
    let mut components = HashMap::new();
    for config in &routes {
        if components.contains_key(&config.component) {
            continue;
        }
        let (state, c) = state_of(&config.component)?;
        let loaded = prepare
            .component(c, state, config.executor.as_ref())
            .await?;
        components.insert(c.id.clone(), Arc::new(loaded));
    }
    let mut redis_components: HashMap<String, Arc<RedisComponent>> = HashMap::new();
    let mut redis = Vec::new();
    for mut sub in subscriptions {
        // Address and channel may use `{{ variable }}`, as in Spin.
        let render =
            |what, text: &str| variables::render(&sub.component, what, text, &app_variables);
        sub.address = render("the Redis trigger's `address`", &sub.address)?;
        sub.channel = render("the Redis trigger's `channel`", &sub.channel)?;
        let component = match redis_components.get(&sub.component) {
            Some(component) => component.clone(),
            None => {
                let (state, c) = state_of(&sub.component)?;
                let component = Arc::new(prepare.redis_component(c, state).await?);
                redis_components.insert(sub.component.clone(), component.clone());
                component
            }
        };
        redis.push((sub, component));
    }

    let public: Vec<(&str, &str)> = routes
        .iter()
        .filter_map(|r| match &r.route {
            LockedRoute::Path(p) => Some((r.component.as_str(), p.as_str())),
            LockedRoute::Private => None,
        })
        .collect();
    let (router, duplicates) =
        Router::build(locked.http_base(), public).map_err(|e| unsupported(e.to_string()))?;
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
        redis,
        stores,
        engine,
        limits: opts.limits.clone(),
        _files: files_root,
    })
}

/// What preparing each component needs.
pub(super) struct Prepare<'a> {
    pub(super) engine: &'a Engine,
    pub(super) linker: &'a Linker<RequestState>,
    pub(super) module_linker: &'a wasmtime::Linker<ModuleState>,
    pub(super) opts: &'a RuntimeOptions,
    pub(super) app_variables: &'a BTreeMap<String, String>,
    pub(super) files: Option<&'a FilesRoot>,
    pub(super) self_authority: String,
    pub(super) chain: Arc<dyn Chain>,
    pub(super) stores: Arc<StoreManager>,
    pub(super) databases: Arc<Databases>,
    pub(super) redis: Arc<RedisClients>,
    pub(super) postgres: Arc<PgClients>,
}

impl Prepare<'_> {
    /// A component for the HTTP trigger.
    async fn component(
        &self,
        c: &LockedComponent,
        state: Arc<ComponentState>,
        executor: Option<&HttpExecutor>,
    ) -> Result<LoadedComponent, Error> {
        let handler = match self.handler(c, executor).await? {
            Handler::P3(pre) if self.opts.limits.reuse.total > 1 => Handler::P3Pool(pool::handler(
                self.engine,
                pre,
                state.clone(),
                self.stores.clone(),
                &self.opts.limits,
            )),
            other => other,
        };
        Ok(LoadedComponent { state, handler })
    }

    /// A component for the Redis trigger.
    async fn redis_component(
        &self,
        c: &LockedComponent,
        state: Arc<ComponentState>,
    ) -> Result<RedisComponent, Error> {
        match self.compile(c).await? {
            crate::engine::Compiled::Component(component) => {
                crate::redis_trigger::prepare(self.engine, self.linker, &component, state)
            }
            crate::engine::Compiled::Module(_) => Err(Error::Component {
                component: c.id.clone(),
                what: "is a core module; the Redis trigger calls components".into(),
                source: "Spin's Redis trigger calls `fermyon:spin/inbound-redis` or `spin:redis/inbound-redis`".into(),
                help: Some("build it with a Spin SDK for the redis-trigger world"),
            }),
        }
    }

    /// A component's settings, shared by every trigger that uses it.
    fn state(&self, index: usize, c: &LockedComponent) -> Result<ComponentState, Error> {
        let id = &c.id;
        if !c.dependencies.is_empty() {
            return Err(unsupported(format!(
                "component `{id}` has component dependencies, which this runtime does not support"
            )));
        }
        let variables = c
            .config
            .iter()
            .map(|(k, v)| {
                let value =
                    variables::render(id, &format!("variable `{k}`"), v, self.app_variables)?;
                Ok((k.clone(), value))
            })
            .collect::<Result<BTreeMap<_, _>, Error>>()?;
        let hosts = c
            .metadata_strings("allowed_outbound_hosts")
            .iter()
            .map(|h| variables::render(id, "allowed_outbound_hosts", h, self.app_variables))
            .collect::<Result<Vec<_>, Error>>()?;
        let allowed_hosts = AllowedHosts::parse(&hosts).map_err(|e| Error::Template {
            component: id.clone(),
            what: "allowed_outbound_hosts".into(),
            reason: e.to_string(),
        })?;
        // `-e` beats the manifest's `environment`.
        let mut env = c.env.clone();
        env.extend(self.opts.env.iter().cloned());
        let files_dir = match self.files {
            Some(root) if !c.files.is_empty() => Some(root.materialize(index, c)?),
            _ => None,
        };
        let output = ComponentOutput::open(id, self.opts.log_dir.as_deref(), self.opts.quiet)
            .map_err(|e| Error::Io {
                what: format!(
                    "opening the log files of component `{id}` in {}",
                    self.opts
                        .log_dir
                        .as_deref()
                        .unwrap_or(std::path::Path::new("."))
                        .display()
                ),
                source: e,
            })?;
        let state = ComponentState {
            output,
            id: id.clone(),
            env: env.into_iter().collect(),
            files_dir,
            kv: Arc::new(ComponentKv {
                component: id.clone(),
                labels: c.metadata_strings("key_value_stores").into_iter().collect(),
            }),
            variables: Arc::new(Variables {
                component: id.clone(),
                values: variables,
            }),
            sqlite: Arc::new(ComponentSqlite {
                component: id.clone(),
                labels: c.metadata_strings("databases").into_iter().collect(),
                databases: self.databases.clone(),
            }),
            redis: self.redis.clone(),
            postgres: self.postgres.clone(),
            outbound: Arc::new(Outbound {
                component: id.clone(),
                allowed_hosts,
                self_authority: self.self_authority.clone(),
                chain: self.chain.clone(),
            }),
        };
        Ok(state)
    }
}
