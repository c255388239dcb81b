//! `spin.toml`: parsing (v1 and v2), validation with located errors, normalization to v2.

mod component;
mod files;
mod model;
mod normalize;
mod raw;
mod v1;

pub use crate::located::{LocatedError, Location, SourceText};
pub use model::*;

use std::path::Path;

/// Read, parse and validate a manifest file.
pub fn load(path: &Path) -> Result<AppManifest, LocatedError> {
    let text = std::fs::read_to_string(path).map_err(|source| LocatedError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text)
}

/// Parse and validate manifest text; `path` is used in error locations.
pub fn parse(path: &Path, text: &str) -> Result<AppManifest, LocatedError> {
    let src = SourceText::new(path, text);
    let probe: raw::VersionProbe =
        toml::from_str(text).map_err(|e| src.from_toml(&e, normalize::V2_REFERENCE))?;
    // v1: `[[component]]` (an array) and `trigger = { type = ... }`; v2 has tables of each.
    let looks_v1 = probe.component.as_ref().is_some_and(toml::Value::is_array)
        || probe
            .trigger
            .as_ref()
            .and_then(toml::Value::as_table)
            .is_some_and(|t| t.contains_key("type"));
    let Some(version) = probe.spin_manifest_version.or(probe.spin_version) else {
        return Err(src.error(
            &(0..0),
            "missing `spin_manifest_version`",
            if looks_v1 {
                "this looks like a version 1 manifest: add `spin_manifest_version = \"1\"` as the first line"
            } else {
                "add `spin_manifest_version = 2` as the first line"
            },
        ));
    };
    match version.get_ref() {
        toml::Value::Integer(2) => {
            let raw = toml::from_str(text).map_err(|e| src.from_toml(&e, normalize::V2_REFERENCE))?;
            normalize::v2(&src, raw)
        }
        toml::Value::String(s) if s == "1" => {
            let raw = toml::from_str(text).map_err(|e| src.from_toml(&e, normalize::V1_REFERENCE))?;
            v1::v1(&src, raw)
        }
        toml::Value::String(s) if s == "2" => Err(src.error(
            &version.span(),
            "`spin_manifest_version = \"2\"` is a string",
            "write the version 2 as a number: `spin_manifest_version = 2`",
        )),
        toml::Value::Integer(1) => Err(src.error(
            &version.span(),
            "`spin_manifest_version = 1` is a number",
            "version 1 manifests use a string: `spin_manifest_version = \"1\"` (or migrate to version 2)",
        )),
        other => Err(src.error(
            &version.span(),
            format!("unsupported `spin_manifest_version` {other}"),
            "use `spin_manifest_version = 2`",
        )),
    }
}
