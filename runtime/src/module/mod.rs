//! Core WebAssembly modules (`wasm32-wasip1`), as Spin runs them:
//!
//! - modules built with wit-bindgen 0.5 or later carry a `component-type` custom section:
//!   they are made components at load time ([`componentize`], with `wit-component` and the
//!   WASI preview 1 reactor adapter) and then served like any component;
//! - modules of Spin's pre-component ABI (wit-bindgen 0.2: export `handle-http-request`,
//!   `canonical_abi_realloc`) run on wasmtime's core API with WASI preview 1; the ABI is
//!   [`abi`], the inbound call [`inbound`], their Spin imports [`imports`] (databases:
//!   [`redis`], [`rdbms`], [`sqlite`]);
//! - WASI commands under the WAGI executor ([`wagi`]): CGI over stdin/stdout.
//!
//! The result of either path is compiled once and cached by the module's digest, like a
//! component, so a warm start skips both the conversion and Cranelift.

pub mod abi;
mod imports;
pub mod inbound;
mod rdbms;
mod redis;
mod sqlite;
pub mod wagi;

use crate::state::ModuleState;
use wasmtime::{Engine, InstancePre, Linker, Module};

/// The custom section wit-bindgen ≥ 0.5 writes (`component-type`, `component-type:…`).
const COMPONENT_TYPE_SECTION: &str = "component-type";

/// What a Wasm binary is, as far as running it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A component (or not Wasm at all: the component parser says what is wrong).
    Component,
    /// A core module with component type information: componentize, then a component.
    BindgenModule,
    /// Any other core module: Spin's old ABI or a WASI command.
    Module,
}

/// Tell by the header (and, for modules, the custom sections).
pub fn kind(bytes: &[u8]) -> Kind {
    if !wasmparser::Parser::is_core_wasm(bytes) {
        return Kind::Component;
    }
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload {
            Ok(wasmparser::Payload::CustomSection(s))
                if s.name().starts_with(COMPONENT_TYPE_SECTION) =>
            {
                return Kind::BindgenModule;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    Kind::Module
}

/// A component from a wit-bindgen ≥ 0.5 module, adapted to WASI preview 2 with the reactor
/// adapter (as Spin does for the modules its 2.x and 3.x SDKs build).
pub fn componentize(module: &[u8]) -> Result<Vec<u8>, String> {
    let adapter = wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER;
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(module)
        .and_then(|e| e.adapter("wasi_snapshot_preview1", adapter))
        .and_then(|mut e| e.encode())
        .map_err(|e| format!("{e:#}"))
}

/// How a core module serves HTTP.
#[derive(Debug, Clone)]
pub enum ModuleHandler {
    /// Spin's pre-component ABI (`handle-http-request`).
    SpinAbi,
    /// The WAGI executor.
    Wagi(wagi::WagiConfig),
}

/// A core module ready to instantiate per request.
pub struct ModulePre {
    /// How it serves.
    pub handler: ModuleHandler,
    /// The linked module.
    pub pre: InstancePre<ModuleState>,
}

/// The linker every module starts from: WASI preview 1 and the Spin imports.
pub fn base_linker(engine: &Engine) -> wasmtime::Result<Linker<ModuleState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p1::add_to_linker_async(&mut linker, |s: &mut ModuleState| &mut s.wasi)?;
    imports::add_to_linker(&mut linker)?;
    Ok(linker)
}

fn exported_functions(module: &Module) -> Vec<String> {
    module
        .exports()
        .filter(|e| e.ty().func().is_some())
        .map(|e| e.name().to_string())
        .collect()
}

/// Why a module cannot serve as configured.
#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    /// It exports nothing the handler can call.
    #[error("{0}")]
    NotServable(String),
    /// Linking failed.
    #[error("{0}")]
    Link(wasmtime::Error),
}

/// Link `module` for `handler`: the Spin imports (a trap saying so for a database import of
/// an older SDK's signature), and traps (with the import's name) for any other import.
pub fn prepare(
    linker: &Linker<ModuleState>,
    module: &Module,
    handler: ModuleHandler,
) -> Result<ModulePre, ModuleError> {
    let exports = exported_functions(module);
    let has = |name: &str| exports.iter().any(|e| e == name);
    match &handler {
        ModuleHandler::SpinAbi if !(has("handle-http-request") && has("canonical_abi_realloc")) => {
            let listed = if exports.is_empty() {
                "no functions".to_string()
            } else {
                format!("`{}`", exports.join("`, `"))
            };
            let hint = if has("_start") {
                "; it looks like a WASI command: set `executor = { type = \"wagi\" }` on its trigger to run it as CGI"
            } else {
                ""
            };
            return Err(ModuleError::NotServable(format!(
                "is a core module exporting {listed}, not Spin's HTTP handler (`handle-http-request` with `canonical_abi_realloc`, from Spin SDKs before 2.0){hint}"
            )));
        }
        ModuleHandler::Wagi(config) if !has(&config.entrypoint) => {
            return Err(ModuleError::NotServable(format!(
                "is configured for the WAGI executor but exports no function `{}` (it exports `{}`)",
                config.entrypoint,
                exports.join("`, `")
            )));
        }
        _ => {}
    }
    let mut linker = linker.clone();
    linker.allow_shadowing(true);
    imports::replace_older_signatures(&mut linker, module).map_err(ModuleError::Link)?;
    linker
        .define_unknown_imports_as_traps(module)
        .map_err(ModuleError::Link)?;
    let pre = linker.instantiate_pre(module).map_err(ModuleError::Link)?;
    Ok(ModulePre { handler, pre })
}

/// Exit status 0 from `proc_exit` is success, as Spin treats it.
pub fn exited_ok(e: &wasmtime::Error) -> bool {
    matches!(
        e.downcast_ref::<wasmtime_wasi::I32Exit>(),
        Some(wasmtime_wasi::I32Exit(0))
    )
}
