//! WASI 0.3's release candidate `0.3.0-rc-2026-03-15` served as the final `0.3.0`.
//!
//! Spin 4.0's SDKs build components against the release candidate (Rust `spin-sdk` 6,
//! Python `spin-sdk` 4 with componentize-py 0.23), and Spin 4.1's `spin:up@4.1.0` worlds
//! import both the candidate and the final interfaces. Every type of the candidate's
//! `wasi:cli`, `clocks`, `filesystem`, `http`, `random` and `sockets` packages is the same as
//! in the final `0.3.0` that wasmtime-wasi(-http) 48 implement (the two WIT trees compare
//! equal once normalised), so the candidate needs no host code of its own: at load, the
//! component's top-level imports and exports named `…@0.3.0-rc-2026-03-15` are renamed to
//! `…@0.3.0`. When a component imports an interface under both names, the later import is
//! dropped and every use of it refers to the earlier one (structurally the same instance type,
//! which the validator checks again). Linking then type-checks every import against the host's
//! definitions, so a candidate that did differ would be refused by name, not misread.
//!
//! Only the outer component's import, export and index-referring sections are re-encoded;
//! nested modules and components are copied byte for byte.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use wasm_encoder::reencode::{Error as ReencodeError, Reencode, ReencodeComponent};
use wasmparser::{ComponentExternalKind, ComponentTypeRef, Parser, Payload};

/// The version suffix of the release candidate.
pub const CANDIDATE: &str = "@0.3.0-rc-2026-03-15";
/// The final version it is served as.
pub const FINAL: &str = "@0.3.0";

/// Why a component naming the candidate cannot be rewritten.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The binary could not be parsed or re-encoded.
    #[error("reading its WASI 0.3 release-candidate names: {0}")]
    Parse(String),
    /// Both names exported: there is no single handler to serve.
    #[error("it exports both `{candidate}` and `{final_name}`; export one of them")]
    BothExported {
        /// The candidate's name.
        candidate: String,
        /// The final name.
        final_name: String,
    },
}

/// The final name for a `wasi:` candidate name, if `name` is one.
fn final_name(name: &str) -> Option<String> {
    let base = name.strip_suffix(CANDIDATE)?;
    base.starts_with("wasi:").then(|| format!("{base}{FINAL}"))
}

/// `bytes` with candidate names made final, or borrowed unchanged when it names none.
pub fn candidate_as_final(bytes: &[u8]) -> Result<Cow<'_, [u8]>, SnapshotError> {
    let plan = Plan::of(bytes)?;
    if plan.is_empty() {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut rewriter = Rewriter { plan, depth: 0 };
    let mut component = wasm_encoder::Component::new();
    rewriter
        .parse_component(&mut component, Parser::new(0), bytes)
        .map_err(|e| SnapshotError::Parse(e.to_string()))?;
    Ok(Cow::Owned(component.finish()))
}

/// What to change at the top level.
#[derive(Default)]
struct Plan {
    /// Top-level import or export name → its new name.
    renames: BTreeMap<String, String>,
    /// Names of the instance imports dropped for an earlier one of the same final name.
    dropped_names: BTreeSet<String>,
    /// Component-instance indices of those imports → the instance used instead.
    dropped: BTreeMap<u32, u32>,
}

/// A top-level instance import, as the walk saw it.
struct Import {
    name: String,
    /// Its index in the component-instance index space.
    index: u32,
    /// The names its instance type exports, when the type is declared in this component.
    exports: Option<BTreeSet<String>>,
}

impl Plan {
    /// Walk the top level once: number the component-type and component-instance index
    /// spaces (every definition, import, alias and export of that sort adds to its space, in
    /// order), then pair each candidate import with the final import of the same interface.
    fn of(bytes: &[u8]) -> Result<Plan, SnapshotError> {
        let err = |e: wasmparser::BinaryReaderError| SnapshotError::Parse(e.to_string());
        let (mut types, mut instances) = (0u32, 0u32);
        // Component type index → the export names of an instance type declared here.
        let mut instance_types: BTreeMap<u32, BTreeSet<String>> = BTreeMap::new();
        let mut imports: Vec<Import> = Vec::new();
        let mut exports: Vec<String> = Vec::new();
        let mut parser = Parser::new(0);
        let mut rest = bytes;
        loop {
            let (consumed, payload) = match parser.parse(rest, true).map_err(err)? {
                wasmparser::Chunk::Parsed { consumed, payload } => (consumed, payload),
                wasmparser::Chunk::NeedMoreData(_) => unreachable!("the whole binary is given"),
            };
            rest = &rest[consumed..];
            match payload {
                Payload::ComponentTypeSection(section) => {
                    for ty in section {
                        if let wasmparser::ComponentType::Instance(decls) = ty.map_err(err)? {
                            let names = decls.iter().filter_map(|d| match d {
                                wasmparser::InstanceTypeDeclaration::Export { name, .. } => {
                                    Some(name.name.to_string())
                                }
                                _ => None,
                            });
                            instance_types.insert(types, names.collect());
                        }
                        types += 1;
                    }
                }
                Payload::ComponentImportSection(section) => {
                    for import in section {
                        let import = import.map_err(err)?;
                        match import.ty {
                            ComponentTypeRef::Type(_) => types += 1,
                            ComponentTypeRef::Instance(ty) => {
                                imports.push(Import {
                                    name: import.name.name.to_string(),
                                    index: instances,
                                    exports: instance_types.get(&ty).cloned(),
                                });
                                instances += 1;
                            }
                            _ => {}
                        }
                    }
                }
                Payload::ComponentInstanceSection(section) => instances += section.count(),
                Payload::ComponentAliasSection(section) => {
                    for alias in section {
                        match alias.map_err(err)? {
                            wasmparser::ComponentAlias::InstanceExport { kind, .. } => match kind {
                                ComponentExternalKind::Instance => instances += 1,
                                ComponentExternalKind::Type => types += 1,
                                _ => {}
                            },
                            wasmparser::ComponentAlias::Outer {
                                kind: wasmparser::ComponentOuterAliasKind::Type,
                                ..
                            } => types += 1,
                            _ => {}
                        }
                    }
                }
                Payload::ComponentExportSection(section) => {
                    for export in section {
                        let export = export.map_err(err)?;
                        exports.push(export.name.name.to_string());
                        match export.kind {
                            ComponentExternalKind::Instance => instances += 1,
                            ComponentExternalKind::Type => types += 1,
                            _ => {}
                        }
                    }
                }
                Payload::ModuleSection {
                    unchecked_range, ..
                }
                | Payload::ComponentSection {
                    unchecked_range, ..
                } => {
                    // Nested: numbered on their own; step over them.
                    rest = &rest[unchecked_range.len()..];
                }
                Payload::End(_) => break,
                _ => {}
            }
        }
        let mut plan = Plan::default();
        plan.pair(&imports);
        for name in &exports {
            if let Some(target) = final_name(name) {
                if exports.contains(&target) {
                    return Err(SnapshotError::BothExported {
                        candidate: name.clone(),
                        final_name: target,
                    });
                }
                plan.renames.insert(name.clone(), target);
            }
        }
        Ok(plan)
    }

    /// Give each candidate import its final name; where the final one is imported too, keep
    /// one of the two: the one whose type exports everything the other's does (the
    /// candidate's `wasi:cli/exit` lacks `exit-with-code`, unstable then), else the earlier.
    fn pair(&mut self, imports: &[Import]) {
        for import in imports {
            let Some(target) = final_name(&import.name) else {
                continue;
            };
            let Some(other) = imports.iter().find(|i| i.name == target) else {
                self.renames.insert(import.name.clone(), target);
                continue;
            };
            let covers = |a: &Import, b: &Import| match (&a.exports, &b.exports) {
                (Some(a), Some(b)) => a.is_superset(b),
                _ => false,
            };
            let (earlier, later) = if import.index < other.index {
                (import, other)
            } else {
                (other, import)
            };
            let (kept, dropped) = if covers(later, earlier) && !covers(earlier, later) {
                (later, earlier)
            } else {
                (earlier, later)
            };
            self.dropped.insert(dropped.index, kept.index);
            self.dropped_names.insert(dropped.name.clone());
            if kept.name != target {
                self.renames.insert(kept.name.clone(), target);
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.renames.is_empty() && self.dropped.is_empty()
    }

    /// The new index of component instance `index` at the top level.
    fn instance(&self, index: u32) -> u32 {
        let index = self.dropped.get(&index).copied().unwrap_or(index);
        let below = self.dropped.range(..index).count() as u32;
        index - below
    }

    fn rename<'a>(&'a self, name: &'a str) -> &'a str {
        self.renames.get(name).map(String::as_str).unwrap_or(name)
    }
}

struct Rewriter {
    plan: Plan,
    /// 0 at the outer component; type declarations have index spaces of their own.
    depth: u32,
}

impl Reencode for Rewriter {
    type Error = std::convert::Infallible;
}

impl ReencodeComponent for Rewriter {
    fn component_instance_index(&mut self, index: u32) -> u32 {
        if self.depth == 0 {
            self.plan.instance(index)
        } else {
            index
        }
    }

    fn push_depth(&mut self) {
        self.depth += 1;
    }

    fn pop_depth(&mut self) {
        self.depth -= 1;
    }

    fn parse_component_submodule(
        &mut self,
        component: &mut wasm_encoder::Component,
        _parser: Parser,
        module: &[u8],
    ) -> Result<(), ReencodeError<Self::Error>> {
        component.section(&wasm_encoder::RawSection {
            id: wasm_encoder::ComponentSectionId::CoreModule as u8,
            data: module,
        });
        Ok(())
    }

    fn parse_component_subcomponent(
        &mut self,
        component: &mut wasm_encoder::Component,
        _parser: Parser,
        subcomponent: &[u8],
        _whole: &[u8],
    ) -> Result<(), ReencodeError<Self::Error>> {
        component.section(&wasm_encoder::RawSection {
            id: wasm_encoder::ComponentSectionId::Component as u8,
            data: subcomponent,
        });
        Ok(())
    }

    fn parse_component_import_section(
        &mut self,
        imports: &mut wasm_encoder::ComponentImportSection,
        section: wasmparser::ComponentImportSectionReader<'_>,
    ) -> Result<(), ReencodeError<Self::Error>> {
        for import in section {
            let import = import?;
            if self.plan.dropped_names.contains(import.name.name) {
                continue;
            }
            let ty = self.component_type_ref(import.ty)?;
            let mut name = import.name;
            name.name = self.plan.rename(import.name.name);
            imports.import(name, ty);
        }
        Ok(())
    }

    fn parse_component_export(
        &mut self,
        exports: &mut wasm_encoder::ComponentExportSection,
        export: wasmparser::ComponentExport<'_>,
    ) -> Result<(), ReencodeError<Self::Error>> {
        let index = self.component_external_index(export.kind, export.index);
        let ty = export.ty.map(|t| self.component_type_ref(t)).transpose()?;
        let mut name = export.name;
        name.name = self.plan.rename(export.name.name);
        exports.export(name, export.kind.into(), index, ty);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(wat: &str) -> Result<Vec<u8>, SnapshotError> {
        let bytes = wat::parse_str(wat).unwrap();
        candidate_as_final(&bytes).map(|b| b.into_owned())
    }

    /// Validates and lists the top-level imports and exports.
    fn names(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(bytes)
            .expect("the rewritten component validates");
        let (mut imports, mut exports) = (Vec::new(), Vec::new());
        for payload in Parser::new(0).parse_all(bytes) {
            match payload.unwrap() {
                Payload::ComponentImportSection(s) => {
                    imports.extend(s.into_iter().map(|i| i.unwrap().name.name.to_string()))
                }
                Payload::ComponentExportSection(s) => {
                    exports.extend(s.into_iter().map(|e| e.unwrap().name.name.to_string()))
                }
                _ => {}
            }
        }
        (imports, exports)
    }

    #[test]
    fn a_component_without_candidate_names_is_left_as_it_is() {
        let bytes = wat::parse_str(
            r#"(component (import "wasi:random/random@0.3.0"
                 (instance (export "get-random-u64" (func (result u64))))))"#,
        )
        .unwrap();
        assert!(matches!(candidate_as_final(&bytes), Ok(Cow::Borrowed(_))));
    }

    #[test]
    fn candidate_imports_and_exports_take_the_final_names() {
        let out = rewrite(
            r#"(component
                 (import "wasi:random/random@0.3.0-rc-2026-03-15" (instance $r
                   (export "get-random-u64" (func (result u64)))))
                 (alias export $r "get-random-u64" (func $f))
                 (instance $h (export "get" (func $f)))
                 (export "wasi:http/handler@0.3.0-rc-2026-03-15" (instance $h))
                 (export "spin:x/y@0.3.0-rc-2026-03-15" (instance $h)))"#,
        )
        .unwrap();
        let (imports, exports) = names(&out);
        assert_eq!(imports, ["wasi:random/random@0.3.0"]);
        // Only `wasi:` packages are candidates of WASI.
        assert_eq!(
            exports,
            ["wasi:http/handler@0.3.0", "spin:x/y@0.3.0-rc-2026-03-15"]
        );
    }

    /// spin:up@4.1.0 imports both; the import whose type exports more is kept (the
    /// candidate's `wasi:cli/exit` lacks `exit-with-code`), and later instance indices shift.
    #[test]
    fn a_pair_of_candidate_and_final_imports_becomes_one() {
        let out = rewrite(
            r#"(component
                 (import "wasi:cli/exit@0.3.0-rc-2026-03-15" (instance $rc
                   (export "exit" (func (param "ok" bool)))))
                 (import "wasi:cli/exit@0.3.0" (instance $final
                   (export "exit" (func (param "ok" bool)))
                   (export "exit-with-code" (func (param "code" u8)))))
                 (import "wasi:random/random@0.3.0-rc-2026-03-15" (instance $r
                   (export "get-random-u64" (func (result u64)))))
                 (import "wasi:random/random@0.3.0" (instance $r2
                   (export "get-random-u64" (func (result u64)))))
                 (import "x:y/z" (instance $z (export "f" (func))))
                 (alias export $rc "exit" (func $a))
                 (alias export $final "exit-with-code" (func $b))
                 (alias export $r2 "get-random-u64" (func $c))
                 (alias export $z "f" (func $d))
                 (export "a" (func $a))
                 (export "b" (func $b))
                 (export "c" (func $c))
                 (export "d" (func $d)))"#,
        )
        .unwrap();
        // Validation proves the kept `exit` import has `exit-with-code` (export `b`).
        let (imports, _) = names(&out);
        assert_eq!(
            imports,
            ["wasi:cli/exit@0.3.0", "wasi:random/random@0.3.0", "x:y/z"]
        );
    }

    /// Untrusted bytes: every truncation of a component naming the candidate is an error
    /// (or, cut before the names, left alone for the validator), never a panic.
    #[test]
    fn a_truncated_component_is_an_error_not_a_panic() {
        let bytes = wat::parse_str(
            r#"(component
                 (import "wasi:cli/exit@0.3.0-rc-2026-03-15" (instance $rc
                   (export "exit" (func (param "ok" bool)))))
                 (import "wasi:cli/exit@0.3.0" (instance (export "exit" (func (param "ok" bool)))))
                 (alias export $rc "exit" (func $a))
                 (export "a" (func $a)))"#,
        )
        .unwrap();
        for end in 8..bytes.len() {
            let _ = candidate_as_final(&bytes[..end]);
        }
        assert!(matches!(
            candidate_as_final(&bytes[..bytes.len() - 3]),
            Err(SnapshotError::Parse(_))
        ));
    }

    #[test]
    fn exporting_both_names_is_an_error_naming_them() {
        let err = rewrite(
            r#"(component
                 (instance $h)
                 (export "wasi:http/handler@0.3.0-rc-2026-03-15" (instance $h))
                 (export "wasi:http/handler@0.3.0" (instance $h)))"#,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "it exports both `wasi:http/handler@0.3.0-rc-2026-03-15` and `wasi:http/handler@0.3.0`; export one of them"
        );
    }
}
