//! # spin-runtime: serve locked Spin apps
//!
//! Owns running an app: one wasmtime [`Engine`](wasmtime::Engine) with the pooling
//! allocator and epoch interruption, each component compiled once (with an on-disk cache
//! of compiled code) into an `InstancePre`, a fresh `Store` and instance per request, and
//! the HTTP trigger (hyper) with Spin's routing and request headers.
//!
//! Host capabilities are one module each under `host`: key/value (SQLite built in,
//! Redis via runtime config), variables (`fermyon:spin/variables`, `wasi:config/store`),
//! outbound HTTP policed by `allowed_outbound_hosts`, and trapping stand-ins for Spin
//! interfaces not provided here.
//!
//! Limits Spin lacks are enforced per request: a wall-clock timeout (504), a memory limit
//! per instance (500 with a log line), and a request body cap (413).
//!
//! It does not parse manifests or speak the registry protocol (`spin-registry` does), and
//! it does not decide whether a registry app may run (`spin-verify` does): its registry
//! entry point, [`registry_app`], takes only a `spin_verify::gate::Verified` digest.
//!
//! ```no_run
//! # async fn demo(locked: spin_app::locked::LockedApp, opts: spin_runtime::RuntimeOptions) -> anyhow::Result<()> {
//! let server = spin_runtime::Server::start(&locked, opts).await?;
//! print!("{}", server.banner());
//! server.serve(async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```

mod app;
mod engine;
mod files;
mod host;
mod router;
pub mod runtime_config;
mod server;
mod state;
mod verified;

pub use app::RuntimeOptions;
pub use engine::Limits;
pub use router::{Route, RouteMatch, Router};
pub use server::{Reloader, Server};
pub use verified::registry_app;
