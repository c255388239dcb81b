//! Templates: the built-in ones (embedded in the binary, no network needed) and the user's
//! (`spin templates install --dir`). A template is a folder with `template.toml`
//! (description, required tools, parameters), `component.toml` (the `[[trigger.http]]` and
//! `[component.<id>]` it contributes; absent for app-only templates) and `content/` (files,
//! rendered when they are text).

mod generate;
mod values;

pub use generate::{add_component, new_app};
pub use values::{Ask, Prompter, add_defaults, read_values_file, resolve_values};

use crate::error::{Error, Result, io};
use indexmap::IndexMap;
use serde::Deserialize;
use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/templates.rs"));

/// A template parameter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    /// What to ask.
    pub prompt: String,
    /// Value used with `--accept-defaults`.
    #[serde(default)]
    pub default: Option<String>,
    /// A regex the value must match.
    #[serde(default)]
    pub pattern: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Metadata {
    description: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    requires: Vec<String>,
    #[serde(default)]
    parameters: IndexMap<String, Parameter>,
}

/// Where a template came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Shipped in the binary.
    BuiltIn,
    /// Installed by the user.
    Installed(PathBuf),
}

/// A loaded template.
#[derive(Debug, Clone)]
pub struct Template {
    /// Id used with `-t`.
    pub id: String,
    /// One line.
    pub description: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Tools the build needs on PATH.
    pub requires: Vec<String>,
    /// Parameters, in order.
    pub parameters: IndexMap<String, Parameter>,
    component: Option<String>,
    files: Vec<(String, Vec<u8>)>,
    /// Built-in or installed.
    pub origin: Origin,
}

fn parse(
    id: &str,
    metadata: &str,
    component: Option<String>,
    files: Vec<(String, Vec<u8>)>,
    origin: Origin,
) -> Result<Template> {
    let bad = |problem: String| Error::Template {
        template: id.to_string(),
        problem,
    };
    let m: Metadata =
        toml::from_str(metadata).map_err(|e| bad(format!("invalid template.toml: {e}")))?;
    for (name, p) in &m.parameters {
        if let Some(pattern) = &p.pattern {
            regex::Regex::new(pattern)
                .map_err(|e| bad(format!("parameter `{name}` has an invalid pattern: {e}")))?;
        }
    }
    Ok(Template {
        id: id.to_string(),
        description: m.description,
        tags: m.tags,
        requires: m.requires,
        parameters: m.parameters,
        component,
        files,
        origin,
    })
}

/// The templates shipped in the binary.
pub fn built_in() -> Vec<Template> {
    let mut ids: Vec<&str> = TEMPLATE_FILES.iter().map(|(id, _, _)| *id).collect();
    ids.dedup();
    ids.into_iter()
        .map(|id| {
            let file = |name: &str| {
                TEMPLATE_FILES
                    .iter()
                    .find(|(i, p, _)| *i == id && *p == name)
                    .map(|(_, _, b)| String::from_utf8_lossy(b).into_owned())
            };
            let mut files: Vec<(String, Vec<u8>)> = TEMPLATE_FILES
                .iter()
                .filter(|(i, p, _)| *i == id && p.starts_with("content/"))
                .map(|(_, p, b)| (p.trim_start_matches("content/").to_string(), b.to_vec()))
                .collect();
            if id == "http-c" {
                files.push((
                    "wasi_snapshot_preview1.reactor.wasm".into(),
                    wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER.to_vec(),
                ));
            }
            parse(id, &file("template.toml").unwrap_or_default(), file("component.toml"), files, Origin::BuiltIn)
                .expect("built-in templates are valid")
        })
        .collect()
}

fn read_dir_template(dir: &Path) -> Result<Template> {
    let id = dir
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| {
            Error::usage(
                format!("{} has no usable name", dir.display()),
                "name the template folder after the template's id",
            )
        })?
        .to_string();
    let metadata = std::fs::read_to_string(dir.join("template.toml")).map_err(io(format!(
        "{} has no readable template.toml",
        dir.display()
    )))?;
    let component = std::fs::read_to_string(dir.join("component.toml")).ok();
    let content = dir.join("content");
    let mut files = Vec::new();
    if content.is_dir() {
        for entry in walkdir::WalkDir::new(&content)
            .follow_links(true)
            .sort_by_file_name()
        {
            let entry =
                entry.map_err(|e| io(format!("reading {}", content.display()))(e.into()))?;
            if !entry.file_type().is_file() {
                continue;
            }
            let rel = entry
                .path()
                .strip_prefix(&content)
                .expect("walked below content")
                .to_string_lossy()
                .replace('\\', "/");
            let bytes = std::fs::read(entry.path())
                .map_err(io(format!("reading {}", entry.path().display())))?;
            files.push((rel, bytes));
        }
    }
    parse(
        &id,
        &metadata,
        component,
        files,
        Origin::Installed(dir.to_path_buf()),
    )
}

/// Templates installed in `user_dir`.
pub fn installed(user_dir: &Path) -> Result<Vec<Template>> {
    let Ok(entries) = std::fs::read_dir(user_dir) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let p = e.path();
        if p.join("template.toml").is_file() {
            out.push(read_dir_template(&p)?);
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// Built-in and installed templates (an installed one replaces a built-in of the same id).
pub fn all(user_dir: &Path) -> Result<Vec<Template>> {
    let mut all = built_in();
    for t in installed(user_dir)? {
        all.retain(|b| b.id != t.id);
        all.push(t);
    }
    all.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(all)
}

/// Find a template by id, or say which exist.
pub fn find(user_dir: &Path, id: &str) -> Result<Template> {
    let all = all(user_dir)?;
    all.iter().find(|t| t.id == id).cloned().ok_or_else(|| {
        Error::usage(
            format!("there is no template `{id}`"),
            format!(
                "choose one of: {} (see `spin templates list`)",
                all.iter()
                    .map(|t| t.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })
}

/// Copy every template folder under `from` into `user_dir`; returns the ids installed.
pub fn install(from: &Path, user_dir: &Path) -> Result<Vec<String>> {
    let mut sources = Vec::new();
    if from.join("template.toml").is_file() {
        sources.push(from.to_path_buf());
    } else {
        for e in std::fs::read_dir(from).map_err(io(format!("cannot read {}", from.display())))? {
            let p = e
                .map_err(io(format!("cannot read {}", from.display())))?
                .path();
            if p.join("template.toml").is_file() {
                sources.push(p);
            }
        }
    }
    if sources.is_empty() {
        return Err(Error::usage(
            format!("{} contains no templates", from.display()),
            "a template is a folder with a template.toml (and optionally component.toml and content/)",
        ));
    }
    let mut ids = Vec::new();
    for src in sources {
        let t = read_dir_template(&src)?;
        let dest = user_dir.join(&t.id);
        let staging = user_dir.join(format!(".{}.installing", t.id));
        let _ = std::fs::remove_dir_all(&staging);
        copy_dir(&src, &staging)?;
        let _ = std::fs::remove_dir_all(&dest);
        std::fs::rename(&staging, &dest).map_err(io(format!("installing {}", dest.display())))?;
        ids.push(t.id);
    }
    Ok(ids)
}

fn copy_dir(src: &Path, dest: &Path) -> Result<()> {
    for entry in walkdir::WalkDir::new(src).follow_links(true) {
        let entry = entry.map_err(|e| io(format!("reading {}", src.display()))(e.into()))?;
        let target = dest.join(entry.path().strip_prefix(src).expect("walked below src"));
        let copied = if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target)
        } else {
            std::fs::copy(entry.path(), &target).map(drop)
        };
        copied.map_err(io(format!("copying to {}", target.display())))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn every_built_in_template_makes_a_manifest_that_loads() {
        for t in built_in() {
            let dir = tempfile::tempdir().unwrap();
            let values = resolve_values(
                &t,
                "my-app",
                &BTreeMap::new(),
                &BTreeMap::new(),
                Ask::Defaults,
            )
            .unwrap();
            let dest = dir.path().join("my-app");
            new_app(&t, &values, &dest).unwrap();
            let m = spin_app::manifest::load(&dest.join("spin.toml")).unwrap();
            assert_eq!(m.name, "my-app", "{}", t.id);
            assert!(dest.join(".gitignore").is_file(), "{}", t.id);
        }
        let ids: Vec<String> = built_in().into_iter().map(|t| t.id).collect();
        assert_eq!(
            ids,
            [
                "http-c",
                "http-empty",
                "http-js",
                "http-py",
                "http-py-p2",
                "http-rust",
                "http-ts",
                "static-fileserver"
            ]
        );
    }

    #[test]
    fn add_keeps_the_manifest_bytes_and_adds_a_component() {
        let dir = tempfile::tempdir().unwrap();
        let original = "# My app, hand written.\nspin_manifest_version = 2\n\n[application]\nname = \"app\"   # aligned comment\n\n[[trigger.http]]\nroute = \"/a\"\ncomponent = \"a\"\n\n[component.a]\nsource = \"a.wasm\"  # keep me\n";
        let path = dir.path().join("spin.toml");
        std::fs::write(&path, original).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .unwrap();
        let t = built_in().into_iter().find(|t| t.id == "http-py").unwrap();
        let values = resolve_values(
            &t,
            "Good Bye",
            &BTreeMap::new(),
            &add_defaults(&t, "Good Bye"),
            Ask::Defaults,
        )
        .unwrap();
        assert_eq!(values["http-path"], "/good-bye/...");
        add_component(&t, &values, &path).unwrap();
        let after = std::fs::read_to_string(&path).unwrap();
        assert!(after.starts_with(original), "{after}");
        let mode = |p: &Path| {
            std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(p).unwrap().permissions())
                & 0o777
        };
        assert_eq!(mode(&path), 0o644, "the manifest keeps its permissions");
        let m = spin_app::manifest::load(&path).unwrap();
        let c = &m.components["good-bye"];
        assert_eq!(
            c.build.as_ref().unwrap().workdir.as_deref(),
            Some("good-bye")
        );
        assert!(dir.path().join("good-bye/app.py").is_file());
        assert!(
            add_component(&t, &values, &path)
                .unwrap_err()
                .to_string()
                .contains("already has a component")
        );
    }
}
