//! Templates: the built-in ones (embedded in the binary, no network needed) and the user's
//! (`spin templates install --dir`). A template is a folder with `template.toml`
//! (description, required tools, parameters), `component.toml` (the `[[trigger.http]]` and
//! `[component.<id>]` it contributes; absent for app-only templates) and `content/` (files,
//! rendered when they are text).

use crate::render::{kebab_case, render};
use anyhow::{Context, bail};
use indexmap::IndexMap;
use serde::Deserialize;
use std::collections::BTreeMap;
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
) -> anyhow::Result<Template> {
    let m: Metadata = toml::from_str(metadata)
        .with_context(|| format!("template `{id}`: invalid template.toml"))?;
    for (name, p) in &m.parameters {
        if let Some(pattern) = &p.pattern {
            regex::Regex::new(pattern).with_context(|| {
                format!("template `{id}`: parameter `{name}` has an invalid pattern")
            })?;
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

fn read_dir_template(dir: &Path) -> anyhow::Result<Template> {
    let id = dir
        .file_name()
        .and_then(|n| n.to_str())
        .context("template folder has no name")?
        .to_string();
    let metadata = std::fs::read_to_string(dir.join("template.toml"))
        .with_context(|| format!("{} has no template.toml", dir.display()))?;
    let component = std::fs::read_to_string(dir.join("component.toml")).ok();
    let mut files = Vec::new();
    let content = dir.join("content");
    let mut stack = vec![content.clone()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(&content)?
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push((rel, std::fs::read(&p)?));
            }
        }
    }
    files.sort();
    parse(
        &id,
        &metadata,
        component,
        files,
        Origin::Installed(dir.to_path_buf()),
    )
}

/// Templates installed in `user_dir`.
pub fn installed(user_dir: &Path) -> anyhow::Result<Vec<Template>> {
    let Ok(entries) = std::fs::read_dir(user_dir) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for e in entries {
        let p = e?.path();
        if p.join("template.toml").is_file() {
            out.push(read_dir_template(&p)?);
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// Built-in and installed templates (an installed one replaces a built-in of the same id).
pub fn all(user_dir: &Path) -> anyhow::Result<Vec<Template>> {
    let mut all = built_in();
    for t in installed(user_dir)? {
        all.retain(|b| b.id != t.id);
        all.push(t);
    }
    all.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(all)
}

/// Find a template by id, or say which exist.
pub fn find(user_dir: &Path, id: &str) -> anyhow::Result<Template> {
    let all = all(user_dir)?;
    all.iter().find(|t| t.id == id).cloned().ok_or_else(|| {
        anyhow::anyhow!(
            "there is no template `{id}`\n  help: choose one of: {} (see `spin templates list`)",
            all.iter()
                .map(|t| t.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// Copy every template folder under `from` into `user_dir`; returns the ids installed.
pub fn install(from: &Path, user_dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut sources = Vec::new();
    if from.join("template.toml").is_file() {
        sources.push(from.to_path_buf());
    } else {
        for e in
            std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
        {
            let p = e?.path();
            if p.join("template.toml").is_file() {
                sources.push(p);
            }
        }
    }
    if sources.is_empty() {
        bail!(
            "{} contains no templates (folders with a template.toml)",
            from.display()
        );
    }
    let mut ids = Vec::new();
    for src in sources {
        let t = read_dir_template(&src)?;
        let dest = user_dir.join(&t.id);
        let staging = user_dir.join(format!(".{}.installing", t.id));
        let _ = std::fs::remove_dir_all(&staging);
        copy_dir(&src, &staging)?;
        let _ = std::fs::remove_dir_all(&dest);
        std::fs::rename(&staging, &dest)?;
        ids.push(t.id);
    }
    Ok(ids)
}

fn copy_dir(src: &Path, dest: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dest)?;
    for e in std::fs::read_dir(src)? {
        let p = e?.path();
        let target = dest.join(p.file_name().unwrap_or_default());
        if p.is_dir() {
            copy_dir(&p, &target)?;
        } else {
            std::fs::copy(&p, &target)?;
        }
    }
    Ok(())
}

/// Asks for one parameter: given its name, the parameter and the default an empty answer
/// takes, returns the answer.
pub type Prompter<'a> = &'a mut dyn FnMut(&str, &Parameter, Option<&str>) -> anyhow::Result<String>;

/// How to get parameter values that were not given with `-v`.
pub enum Ask<'a> {
    /// Use defaults; a parameter without one is an error.
    Defaults,
    /// Ask (on a terminal): called with the parameter's name, the parameter, and the
    /// default an empty answer takes.
    Prompt(Prompter<'a>),
}

/// Parameter values from a `--values-file`: a TOML table of `name = "value"` (other
/// scalar types are taken as their TOML text).
pub fn read_values_file(path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(table
        .into_iter()
        .map(|(k, v)| match v {
            toml::Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect())
}

/// Defaults that differ for `spin add`: an added component's route defaults to
/// `/<name>/...`, so it does not shadow the app's catch-all route.
pub fn add_defaults(template: &Template, name: &str) -> BTreeMap<String, String> {
    let mut defaults = BTreeMap::new();
    if template.parameters.contains_key("http-path") {
        defaults.insert(
            "http-path".to_string(),
            format!("/{}/...", kebab_case(name)),
        );
    }
    defaults
}

/// Settle every parameter's value: given, else default/prompt; checked against patterns.
pub fn resolve_values(
    template: &Template,
    name: &str,
    given: &BTreeMap<String, String>,
    defaults_override: &BTreeMap<String, String>,
    mut ask: Ask<'_>,
) -> anyhow::Result<BTreeMap<String, String>> {
    if let Some(unknown) = given.keys().find(|k| !template.parameters.contains_key(*k)) {
        bail!(
            "template `{}` has no parameter `{unknown}`\n  help: its parameters are: {}",
            template.id,
            template
                .parameters
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let mut values = BTreeMap::from([("project-name".to_string(), name.to_string())]);
    for (pname, p) in &template.parameters {
        let default = defaults_override
            .get(pname)
            .cloned()
            .or_else(|| p.default.clone());
        let value = match (given.get(pname), &mut ask, default) {
            (Some(v), _, _) => v.clone(),
            (None, Ask::Defaults, Some(d)) => d,
            (None, Ask::Defaults, None) => {
                bail!("parameter `{pname}` has no default\n  help: pass -v {pname}=<value>")
            }
            (None, Ask::Prompt(f), d) => {
                let answer = f(pname, p, d.as_deref())?;
                if answer.is_empty() {
                    d.unwrap_or_default()
                } else {
                    answer
                }
            }
        };
        if let Some(pattern) = &p.pattern
            && !regex::Regex::new(pattern)?.is_match(&value)
        {
            bail!("parameter `{pname}` = {value:?} does not match {pattern}");
        }
        values.insert(pname.clone(), value);
    }
    Ok(values)
}

fn write_files(
    template: &Template,
    dir: &Path,
    values: &BTreeMap<String, String>,
) -> anyhow::Result<()> {
    for (rel, bytes) in &template.files {
        let dest = dir.join(render(rel, values));
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => std::fs::write(&dest, render(text, values))?,
            Err(_) => std::fs::write(&dest, bytes)?,
        }
    }
    Ok(())
}

fn component_snippet(
    template: &Template,
    values: &BTreeMap<String, String>,
    subdir: Option<&str>,
) -> Option<String> {
    let mut values = values.clone();
    values.insert(
        "dir".into(),
        subdir.map(|d| format!("{d}/")).unwrap_or_default(),
    );
    values.insert(
        "workdir".into(),
        subdir
            .map(|d| format!("workdir = \"{d}\"\n"))
            .unwrap_or_default(),
    );
    template.component.as_ref().map(|c| render(c, &values))
}

/// `spin new`: create `dest` with a v2 spin.toml and the template's files.
pub fn new_app(
    template: &Template,
    values: &BTreeMap<String, String>,
    dest: &Path,
) -> anyhow::Result<()> {
    let name = &values["project-name"];
    if dest.exists() && std::fs::read_dir(dest)?.next().is_some() {
        bail!(
            "{} already exists and is not empty\n  help: choose another name or remove it",
            dest.display()
        );
    }
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let staging = tempfile::Builder::new()
        .prefix(".spin-new-")
        .tempdir_in(parent)?;
    write_files(template, staging.path(), values)?;
    let description = values
        .get("project-description")
        .cloned()
        .unwrap_or_default();
    let mut manifest = format!(
        "spin_manifest_version = 2\n\n[application]\nname = \"{}\"\nversion = \"0.1.0\"\nauthors = []\ndescription = {}\n",
        kebab_case(name),
        toml_edit::Value::from(description)
    );
    if let Some(snippet) = component_snippet(template, values, None) {
        manifest.push('\n');
        manifest.push_str(&snippet);
    }
    let manifest_path = staging.path().join("spin.toml");
    std::fs::write(&manifest_path, &manifest)?;
    spin_app::manifest::parse(&manifest_path, &manifest).map_err(|e| {
        anyhow::anyhow!(
            "template `{}` produced an invalid spin.toml: {e}",
            template.id
        )
    })?;
    let staged = staging.keep();
    if dest.exists() {
        std::fs::remove_dir(dest)?;
    }
    std::fs::rename(&staged, dest)?;
    Ok(())
}

/// `spin add`: put the template's files in `<app>/<name>/` and append its trigger and
/// component to the manifest, leaving every existing byte of the manifest as it was.
pub fn add_component(
    template: &Template,
    values: &BTreeMap<String, String>,
    manifest_path: &Path,
) -> anyhow::Result<String> {
    let name = kebab_case(&values["project-name"]);
    let Some(snippet) = component_snippet(template, values, Some(&name)) else {
        bail!(
            "template `{}` creates whole apps only; use it with `spin new`",
            template.id
        );
    };
    let text = std::fs::read_to_string(manifest_path)
        .with_context(|| format!("cannot read {}", manifest_path.display()))?;
    let existing = spin_app::manifest::parse(manifest_path, &text)?;
    let doc: toml_edit::DocumentMut = text.parse()?;
    if doc
        .get("spin_manifest_version")
        .and_then(|v| v.as_integer())
        != Some(2)
    {
        bail!(
            "{} is a version 1 manifest; `spin add` edits version 2 manifests",
            manifest_path.display()
        );
    }
    if existing.components.contains_key(&name) {
        bail!("the app already has a component `{name}`\n  help: choose another name");
    }
    let app_dir = manifest_path.parent().unwrap_or(Path::new("."));
    let dir = app_dir.join(&name);
    if dir.exists() {
        bail!(
            "{} already exists\n  help: choose another name",
            dir.display()
        );
    }
    let mut updated = text.clone();
    if !updated.ends_with('\n') {
        updated.push('\n');
    }
    updated.push('\n');
    updated.push_str(&snippet);
    updated
        .parse::<toml_edit::DocumentMut>()
        .context("the added section does not merge with the manifest")?;
    spin_app::manifest::parse(manifest_path, &updated)
        .map_err(|e| anyhow::anyhow!("adding `{name}` would make the manifest invalid: {e}"))?;
    write_files(template, &dir, values)?;
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(manifest_path)?.permissions().mode();
    spin_app::fsutil::write_atomic_with(
        manifest_path,
        updated.as_bytes(),
        spin_app::fsutil::WriteOptions {
            mode: Some(mode & 0o7777),
        },
    )?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

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
