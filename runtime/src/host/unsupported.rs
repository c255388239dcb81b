//! Spin platform interfaces this runtime does not provide (Redis, PostgreSQL, MySQL,
//! SQLite, LLM, MQTT, ...). SDK-built components import them even when they never call
//! them, so they are linked to functions that trap with a message naming the call.

use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker, ResourceType};

/// Interfaces implemented for real (by name without version): the 2.0.0 key-value and
/// variables, and the unversioned config, key-value and http of Spin 1.x SDKs.
const IMPLEMENTED: &[&str] = &[
    "fermyon:spin/key-value",
    "fermyon:spin/variables",
    "fermyon:spin/config",
    "fermyon:spin/http",
    "fermyon:spin/http-types",
];

/// Marker type for stubbed resources.
struct Unsupported;

fn is_spin_platform(name: &str) -> bool {
    name.starts_with("fermyon:spin/") || name.starts_with("spin:")
}

fn unversioned(name: &str) -> &str {
    name.split('@').next().unwrap_or(name)
}

/// Define trapping stand-ins in `linker` for every Spin platform interface `component`
/// imports that is not implemented. Returns the stubbed interface names.
pub fn stub_unsupported_imports<T: 'static>(
    linker: &mut Linker<T>,
    component: &Component,
    engine: &Engine,
) -> wasmtime::Result<Vec<String>> {
    let mut stubbed = Vec::new();
    for (name, item) in component.component_type().imports(engine) {
        if !is_spin_platform(name) || IMPLEMENTED.contains(&unversioned(name)) {
            continue;
        }
        let ComponentItem::ComponentInstance(instance) = item.ty else {
            continue;
        };
        let mut inst = linker.instance(name)?;
        for (export, item) in instance.exports(engine) {
            match item.ty {
                ComponentItem::ComponentFunc(_) => {
                    let what = format!("{name}#{export}");
                    inst.func_new(export, move |_, _, _, _| {
                        wasmtime::bail!("`{what}` is not supported by this runtime (only key-value, variables and outbound HTTP are)")
                    })?;
                }
                ComponentItem::Resource(_) => {
                    inst.resource(export, ResourceType::host::<Unsupported>(), |_, _| Ok(()))?;
                }
                _ => {}
            }
        }
        stubbed.push(name.to_string());
    }
    Ok(stubbed)
}
