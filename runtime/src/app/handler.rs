//! Choosing how a component is called: compiled (or loaded from the cache), then linked for
//! the one HTTP handler it exports (`wasi:http` 0.2 or 0.3, Spin's `inbound-http`), as a core
//! module of Spin's old ABI, or as a WAGI command; anything else is refused by name.

use super::load::{Handler, Prepare};
use crate::Error;
use crate::engine::{self, Compiled};
use crate::files::source_path;
use crate::host::spin_v1::bindings::SpinV1HttpPre;
use crate::host::unsupported;
use crate::module::{ModuleHandler, wagi::WagiConfig};
use spin_app::Digest;
use spin_app::locked::LockedComponent;
use spin_app::manifest::HttpExecutor;
use wasmtime::component::Component;
use wasmtime_wasi::p2::bindings::CommandPre;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p3::bindings::ServicePre;

impl Prepare<'_> {
    /// Compile (or load from the cache) and link the component or module for HTTP.
    pub(super) async fn handler(
        &self,
        c: &LockedComponent,
        executor: Option<&HttpExecutor>,
    ) -> Result<Handler, Error> {
        let id = &c.id;
        let compiled = self.compile(c).await?;
        let wagi = match executor {
            Some(HttpExecutor::Wagi { entrypoint, argv }) => {
                Some(WagiConfig::new(entrypoint.as_deref(), argv.as_deref()))
            }
            _ => None,
        };
        match (compiled, wagi) {
            (Compiled::Component(component), None) => self.proxy(id, &component),
            (Compiled::Component(component), Some(wagi)) => self.wagi_command(id, &component, wagi),
            (Compiled::Module(module), wagi) => {
                let handler = wagi.map_or(ModuleHandler::SpinAbi, ModuleHandler::Wagi);
                crate::module::prepare(self.module_linker, &module, handler)
                    .map(Handler::Module)
                    .map_err(|e| Error::Component {
                        component: id.clone(),
                        what: match &e {
                            crate::module::ModuleError::NotServable(what) => what.clone(),
                            crate::module::ModuleError::Link(_) => "cannot be linked".into(),
                        },
                        source: e.into(),
                        help: None,
                    })
            }
        }
    }

    /// Compile (or load from the cache) a component or module.
    pub(super) async fn compile(&self, c: &LockedComponent) -> Result<Compiled, Error> {
        let id = &c.id;
        let wasm = source_path(&c.source.content).map_err(|e| Error::Io {
            what: format!("component `{id}` source"),
            source: e,
        })?;
        let digest = match c.source.content.digest.as_deref().map(str::parse::<Digest>) {
            Some(Ok(d)) => d,
            _ => Digest::of_file(&wasm).map_err(|e| Error::Io {
                what: format!("reading {}", wasm.display()),
                source: e,
            })?,
        };
        let (engine, cache, id) = (
            self.engine.clone(),
            self.opts.compile_cache.clone(),
            id.clone(),
        );
        tokio::task::spawn_blocking(move || {
            engine::load_wasm(&engine, &id, &wasm, &digest, cache.as_deref())
        })
        .await
        .map_err(|e| Error::Engine(e.into()))?
    }

    /// A component under the WAGI executor: it must be a WASI command (`wasi:cli/run`),
    /// whose entrypoint is fixed.
    fn wagi_command(
        &self,
        id: &str,
        component: &Component,
        wagi: WagiConfig,
    ) -> Result<Handler, Error> {
        let refuse = |what: String, source: crate::BoxError| Error::Component {
            component: id.to_string(),
            what,
            source,
            help: Some(
                "remove `executor` to serve it as an HTTP component, or build it as a WASI command",
            ),
        };
        if wagi.entrypoint != WagiConfig::new(None, None).entrypoint {
            return Err(refuse(
                format!(
                    "is a component, which runs `wasi:cli/run`; the WAGI `entrypoint` {:?} applies to core modules only",
                    wagi.entrypoint
                ),
                "remove `entrypoint`".into(),
            ));
        }
        let mut linker = self.linker.clone();
        linker.allow_shadowing(true);
        unsupported::stub_unsupported_imports(&mut linker, component, self.engine)
            .map_err(|e| refuse("cannot be linked".into(), e.into()))?;
        let pre = linker.instantiate_pre(component).map_err(|e| {
            refuse(
                "imports something this runtime does not provide".into(),
                e.into(),
            )
        })?;
        CommandPre::new(pre)
            .map(|pre| Handler::WagiComponent(pre, wagi))
            .map_err(|e| {
                refuse(
                    "uses the WAGI executor but does not export `wasi:cli/run` (it is not a WASI command)".into(),
                    e.into(),
                )
            })
    }

    /// Link a component and check it exports the WASI HTTP handler.
    fn proxy(&self, id: &str, component: &Component) -> Result<Handler, Error> {
        let failed = |what: &str, help: Option<&'static str>| {
            let (component, what) = (id.to_string(), what.to_string());
            move |e: wasmtime::Error| Error::Component {
                component,
                what,
                source: e.into(),
                help,
            }
        };
        let mut linker = self.linker.clone();
        linker.allow_shadowing(true);
        let stubbed = unsupported::stub_unsupported_imports(&mut linker, component, self.engine)
            .map_err(failed("cannot be linked", None))?;
        if !stubbed.is_empty() {
            tracing::debug!(
                "component `{id}`: unsupported imports stubbed: {}",
                stubbed.join(", ")
            );
        }
        let instance_pre = linker.instantiate_pre(component).map_err(|e| {
            // `0.3.0-rc-2026-03-15` is served as 0.3.0 (see `snapshot`); other candidates
            // came and went before Spin 4.
            let rc = format!("{e:#}").contains("@0.3.0-rc-");
            failed(
                "imports something this runtime does not provide",
                rc.then_some(
                    "it was built for a WASI 0.3.0 release candidate this runtime does not serve: it serves WASI 0.2, 0.3.0 and 0.3.0-rc-2026-03-15 (Spin 4's); rebuild it with a current SDK",
                ),
            )(e)
        })?;
        // As Spin 4: the handler is chosen by what the component exports, and exporting
        // more than one is an error that names them.
        let mut handlers: Vec<(&str, Handler)> = Vec::new();
        if let Ok(pre) = ProxyPre::new(instance_pre.clone()) {
            handlers.push(("wasi:http/incoming-handler@0.2.x", Handler::Proxy(pre)));
        }
        if let Ok(pre) = ServicePre::new(instance_pre.clone()) {
            handlers.push(("wasi:http/handler@0.3.0", Handler::P3(pre)));
        }
        if let Ok(pre) = SpinV1HttpPre::new(instance_pre.clone()) {
            handlers.push(("fermyon:spin/inbound-http", Handler::SpinHttp(pre)));
        }
        if handlers.len() > 1 {
            let names: Vec<&str> = handlers.iter().map(|(n, _)| *n).collect();
            return Err(Error::Component {
                component: id.to_string(),
                what: format!(
                    "exports more than one HTTP handler: `{}`",
                    names.join("`, `")
                ),
                source: "a component must export exactly one HTTP handler".into(),
                help: Some("build it for one HTTP interface (one SDK, one world)"),
            });
        }
        handlers.pop().map(|(_, h)| h).ok_or(()).map_err(|()| {
            let exports: Vec<String> = component
                .component_type()
                .exports(self.engine)
                .map(|(name, _)| name.to_string())
                .collect();
            let exported = if exports.is_empty() {
                "nothing".to_string()
            } else {
                format!("`{}`", exports.join("`, `"))
            };
            Error::Component {
                component: id.to_string(),
                what: format!("is not an HTTP handler: it exports {exported}"),
                source: "this runtime serves components exporting `wasi:http/incoming-handler` (any 0.2.x version), `wasi:http/handler@0.3.0` or Spin's `fermyon:spin/inbound-http`, core modules of Spin's pre-component ABI (`handle-http-request`), and WASI commands under the WAGI executor".into(),
                help: Some(
                    "build it as a Spin 2+/WASI HTTP component (e.g. with a current Spin SDK), or set `executor = { type = \"wagi\" }` for a WASI command",
                ),
            }
        })
    }
}
