//! One component as a CNCF Wasm artifact: `application/vnd.wasm.config.v0+json` naming its
//! imports and exports, and one `application/wasm` layer.

use super::{Artifact, PackageError, PackageOptions, build_manifest, bytes_blob, fact, io, layer};
use crate::canonical::to_canonical_json;
use crate::media::*;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::Path;

/// Package one component in the CNCF Wasm artifact layout.
pub fn package_component(wasm: &Path, options: &PackageOptions) -> Result<Artifact, PackageError> {
    let f = fact(wasm, None)?;
    let bytes = std::fs::read(wasm).map_err(io(wasm))?;
    let (imports, exports) = component_world(&bytes).map_err(|e| {
        PackageError::Source(format!("{} is not a Wasm component: {e}", wasm.display()))
    })?;
    let mut config = Map::new();
    config.insert("architecture".into(), json!("wasm"));
    config.insert("os".into(), json!("wasip2"));
    config.insert("layerDigests".into(), json!([f.digest.to_string()]));
    config.insert(
        "component".into(),
        json!({ "imports": imports, "exports": exports, "target": null }),
    );
    let created = super::created::created(std::slice::from_ref(&wasm.to_path_buf()));
    if let Some(created) = &created {
        config.insert("created".into(), json!(created));
    }
    let config = bytes_blob(
        to_canonical_json(&Value::Object(config)),
        WASM_CONFIG_MEDIA_TYPE,
    );
    let layers = vec![layer(&f, WASM_COMPONENT_MEDIA_TYPE)];
    let mut annotations = BTreeMap::new();
    if let Some(created) = created {
        annotations.insert("org.opencontainers.image.created".into(), created);
    }
    annotations.extend(options.annotations.clone());
    Ok(build_manifest(config, layers, annotations))
}

/// The top-level import and export names of a component.
fn component_world(bytes: &[u8]) -> Result<(Vec<String>, Vec<String>), String> {
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    let mut depth = 0usize;
    let mut is_component = false;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| e.to_string())? {
            wasmparser::Payload::Version { encoding, .. } => {
                if depth == 0 {
                    is_component = encoding == wasmparser::Encoding::Component;
                }
                depth += 1;
            }
            wasmparser::Payload::End(_) => depth = depth.saturating_sub(1),
            wasmparser::Payload::ComponentImportSection(s) if depth == 1 => {
                for i in s {
                    imports.push(i.map_err(|e| e.to_string())?.name.name.to_string());
                }
            }
            wasmparser::Payload::ComponentExportSection(s) if depth == 1 => {
                for e in s {
                    exports.push(e.map_err(|e| e.to_string())?.name.name.to_string());
                }
            }
            _ => {}
        }
    }
    if !is_component {
        return Err("it is a core module (or not Wasm at all)".into());
    }
    Ok((imports, exports))
}
