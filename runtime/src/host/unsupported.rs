//! Spin platform interfaces this runtime does not provide yet (LLM, OpenTelemetry, ...).
//! SDK-built components import them even when they never call
//! them, so they are linked to stand-ins: a function that returns `result<_, error>`
//! returns the interface's own error (its `other(string)` case, else the first case with a
//! message, else `access-denied`) naming the call, so the guest can handle it; any other
//! function traps with that message. Spin 4's `async func`s get concurrent stand-ins.

use wasmtime::Engine;
use wasmtime::component::types::{ComponentFunc, ComponentItem, Type};
use wasmtime::component::{Component, Linker, ResourceType, Val};

/// Interfaces implemented for real, by name and major version (the bare name for Spin 1.x's
/// unversioned ones): key-value, variables, SQLite, outbound Redis, MQTT, MySQL and
/// PostgreSQL of Spin 2 to 4, and config, key-value, http, redis, postgres, mysql and
/// sqlite of Spin 1.x SDKs.
const IMPLEMENTED: &[&str] = &[
    "fermyon:spin/config",
    "fermyon:spin/http",
    "fermyon:spin/http-types",
    "fermyon:spin/key-value",
    "fermyon:spin/redis",
    "fermyon:spin/redis-types",
    "fermyon:spin/postgres",
    "fermyon:spin/mysql",
    "fermyon:spin/rdbms-types",
    "fermyon:spin/sqlite",
    "fermyon:spin/key-value@2",
    "fermyon:spin/variables@2",
    "fermyon:spin/sqlite@2",
    "fermyon:spin/redis@2",
    "fermyon:spin/mqtt@2",
    "fermyon:spin/mysql@2",
    "spin:key-value/key-value@3",
    "spin:variables/variables@3",
    "spin:sqlite/sqlite@3",
    "spin:redis/redis@3",
    "spin:mqtt/mqtt@3",
    "spin:mysql/mysql@3",
    "fermyon:spin/postgres@2",
    "spin:postgres/postgres@3",
    "spin:postgres/postgres@4",
];

/// Marker type for stubbed resources.
struct Unsupported;

fn is_spin_platform(name: &str) -> bool {
    name.starts_with("fermyon:spin/") || name.starts_with("spin:")
}

/// `name` without its version's minor and patch (`a:b/c@2.0.0` → `a:b/c@2`), as semver
/// linking matches it.
fn major(name: &str) -> String {
    match name.split_once('@') {
        Some((base, version)) => {
            format!("{base}@{}", version.split('.').next().unwrap_or(version))
        }
        None => name.to_string(),
    }
}

/// The error value a stand-in returns for `func`, if its result is `result<_, error>` with
/// a case that can carry the news.
fn error_value(func: &ComponentFunc, message: &str) -> Option<Val> {
    let mut results = func.results();
    let (Some(Type::Result(result)), None) = (results.next(), results.next()) else {
        return None;
    };
    let error = match result.err()? {
        Type::Variant(variant) => {
            let cases: Vec<_> = variant
                .cases()
                .map(|c| (c.name.to_string(), c.ty))
                .collect();
            let with_message = |(name, ty): &(String, Option<Type>)| {
                matches!(ty, Some(Type::String)).then(|| {
                    Val::Variant(name.clone(), Some(Box::new(Val::String(message.into()))))
                })
            };
            cases
                .iter()
                .find(|(name, _)| name == "other")
                .and_then(with_message)
                .or_else(|| cases.iter().find_map(with_message))
                .or_else(|| {
                    cases
                        .iter()
                        .any(|(name, ty)| name == "access-denied" && ty.is_none())
                        .then(|| Val::Variant("access-denied".into(), None))
                })?
        }
        Type::Enum(e) => e
            .names()
            .any(|n| n == "access-denied")
            .then(|| Val::Enum("access-denied".into()))?,
        _ => return None,
    };
    Some(Val::Result(Err(Some(Box::new(error)))))
}

/// Define stand-ins in `linker` for every Spin platform interface `component` imports that
/// is not implemented. Returns the stubbed interface names.
pub fn stub_unsupported_imports<T: 'static>(
    linker: &mut Linker<T>,
    component: &Component,
    engine: &Engine,
) -> wasmtime::Result<Vec<String>> {
    let mut stubbed = Vec::new();
    for (name, item) in component.component_type().imports(engine) {
        if !is_spin_platform(name) || IMPLEMENTED.contains(&major(name).as_str()) {
            continue;
        }
        let ComponentItem::ComponentInstance(instance) = item.ty else {
            continue;
        };
        let mut inst = linker.instance(name)?;
        for (export, item) in instance.exports(engine) {
            match item.ty {
                ComponentItem::ComponentFunc(func) => {
                    let message = format!(
                        "`{name}#{export}` is not supported by this runtime yet (see the README for the interfaces it provides)"
                    );
                    let answer = error_value(&func, &message);
                    let respond = move |results: &mut [Val]| match (&answer, results) {
                        (Some(answer), [slot]) => {
                            tracing::warn!("{message}");
                            *slot = answer.clone();
                            Ok(())
                        }
                        _ => Err(wasmtime::format_err!("{message}")),
                    };
                    if func.async_() {
                        inst.func_new_concurrent(export, move |_, _, _, results| {
                            let outcome = respond(results);
                            Box::pin(async move { outcome })
                        })?;
                    } else {
                        inst.func_new(export, move |_, _, _, results| respond(results))?;
                    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implemented_interfaces_are_matched_by_major_version() {
        let implemented = |name: &str| IMPLEMENTED.contains(&major(name).as_str());
        assert!(implemented("fermyon:spin/sqlite@2.0.0"));
        assert!(implemented("spin:sqlite/sqlite@3.0.0"));
        assert!(implemented("spin:sqlite/sqlite@3.1.0"));
        assert!(implemented("fermyon:spin/key-value"));
        assert!(implemented("fermyon:spin/sqlite"));
        assert!(implemented("fermyon:spin/postgres"));
        assert!(implemented("fermyon:spin/redis"));
        assert!(!implemented("fermyon:spin/llm"));
        assert!(implemented("spin:postgres/postgres@4.2.0"));
    }
}
