//! # spin-runtime: serve Spin apps
//!
//! Owns running an app: one wasmtime [`Engine`](wasmtime::Engine) with the pooling
//! allocator and epoch interruption, each component compiled once (with an on-disk cache
//! of compiled code keyed by digest and engine) into an `InstancePre`, a fresh `Store` and
//! instance per request, and the HTTP trigger.
//!
//! - [`App`]: what may run: local content the user pointed at, or a registry app made only
//!   from a `spin_verify::gate::Verified` decision (the gate, in types);
//! - `app`: loading (variables, stores, components, files, routes), all failures at start-up;
//! - `engine`: the engine and the compiled-code cache; `module`: core modules (converted to
//!   components when built with wit-bindgen 0.5+, otherwise Spin's pre-component ABI or
//!   WAGI on wasmtime's core API with WASI preview 1);
//! - `http`: the trigger: [`Server`] (accept loop, graceful shutdown, hot reload through
//!   [`Reloader`]), Spin's request headers, the body limit, guest runs and their outcomes,
//!   local service chaining; `spin_http`: Spin's own request/response shapes;
//! - `host`: one module per capability (key/value over pluggable backends, variables,
//!   policed outbound HTTP, trapping stand-ins) and adapters for each interface version
//!   (WASI, `fermyon:spin@2.0.0`, Spin's unversioned interfaces), each reaching request
//!   state through a view trait; `state`: per-component and per-request state; `output`:
//!   components' stdout and stderr;
//! - [`router`]: Spin's routing; [`runtime_config`]: `runtime-config.toml`.
//!
//! Limits Spin lacks are enforced per request: a wall-clock timeout (504), a memory limit
//! per instance (500 with a log line), and a request body cap (413).
//!
//! It does not parse manifests (`spin-app` does), speak the registry protocol
//! (`spin-registry`), or decide whether a registry app may run (`spin-verify`).
//!
//! ```no_run
//! # async fn demo(opts: spin_runtime::RuntimeOptions) -> Result<(), spin_runtime::Error> {
//! let app = spin_runtime::App::from_component("hello.wasm".as_ref())?;
//! let server = spin_runtime::Server::start(&app, opts).await?;
//! print!("{}", server.banner());
//! server.serve(async { let _ = tokio::signal::ctrl_c().await; }).await;
//! # Ok(()) }
//! ```

mod app;
mod engine;
mod error;
mod files;
mod host;
mod http;
mod module;
mod output;
mod pool;
mod redis_trigger;
pub mod router;
pub mod runtime_config;
mod snapshot;
mod spin_http;
mod state;

pub use app::{App, RuntimeOptions};
pub use engine::{Limits, Reuse};
pub use error::{BoxError, Error};
pub use files::FilesError;
pub use http::{Reloader, Server};
pub use router::{Route, RouteMatch, Router};
