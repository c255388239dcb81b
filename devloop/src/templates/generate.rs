//! Writing what a template makes: a new app (`spin new`), or a component added to an
//! existing app (`spin add`), the manifest edited without touching its existing bytes.

use super::Template;
use crate::error::{Error, Result, io};
use crate::render::{kebab_case, render};
use std::collections::BTreeMap;
use std::path::Path;

fn write_files(template: &Template, dir: &Path, values: &BTreeMap<String, String>) -> Result<()> {
    for (rel, bytes) in &template.files {
        let dest = dir.join(render(rel, values));
        let written = dest
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| match std::str::from_utf8(bytes) {
                Ok(text) => std::fs::write(&dest, render(text, values)),
                Err(_) => std::fs::write(&dest, bytes),
            });
        written.map_err(io(format!("writing {}", dest.display())))?;
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
pub fn new_app(template: &Template, values: &BTreeMap<String, String>, dest: &Path) -> Result<()> {
    let name = &values["project-name"];
    if std::fs::read_dir(dest).is_ok_and(|mut d| d.next().is_some()) {
        return Err(Error::usage(
            format!("{} already exists and is not empty", dest.display()),
            "choose another name or remove it",
        ));
    }
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let write = io(format!("creating {}", dest.display()));
    std::fs::create_dir_all(parent).map_err(io(format!("creating {}", parent.display())))?;
    let staging = tempfile::Builder::new()
        .prefix(".spin-new-")
        .tempdir_in(parent)
        .map_err(io(format!("creating a directory in {}", parent.display())))?;
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
    spin_app::manifest::parse(&manifest_path, &manifest).map_err(|e| Error::Template {
        template: template.id.clone(),
        problem: format!("it produced an invalid spin.toml: {e}"),
    })?;
    let staged = staging.keep();
    std::fs::write(&manifest_path, &manifest)
        .and_then(|()| match dest.exists() {
            true => std::fs::remove_dir(dest),
            false => Ok(()),
        })
        .and_then(|()| std::fs::rename(&staged, dest))
        .map_err(write)?;
    Ok(())
}

/// `spin add`: put the template's files in `<app>/<name>/` and append its trigger and
/// component to the manifest, leaving every existing byte of the manifest as it was.
pub fn add_component(
    template: &Template,
    values: &BTreeMap<String, String>,
    manifest_path: &Path,
) -> Result<String> {
    let name = kebab_case(&values["project-name"]);
    let Some(snippet) = component_snippet(template, values, Some(&name)) else {
        return Err(Error::usage(
            format!("template `{}` creates whole apps only", template.id),
            "use it with `spin new`",
        ));
    };
    let text = std::fs::read_to_string(manifest_path)
        .map_err(io(format!("cannot read {}", manifest_path.display())))?;
    let existing = spin_app::manifest::parse(manifest_path, &text)?;
    let version = text.parse::<toml_edit::DocumentMut>().ok().and_then(|doc| {
        doc.get("spin_manifest_version")
            .and_then(|v| v.as_integer())
    });
    if version != Some(2) {
        return Err(Error::usage(
            format!("{} is a version 1 manifest", manifest_path.display()),
            "`spin add` edits version 2 manifests",
        ));
    }
    if existing.components.contains_key(&name) {
        return Err(Error::usage(
            format!("the app already has a component `{name}`"),
            "choose another name",
        ));
    }
    let app_dir = manifest_path.parent().unwrap_or(Path::new("."));
    let dir = app_dir.join(&name);
    if dir.exists() {
        return Err(Error::usage(
            format!("{} already exists", dir.display()),
            "choose another name",
        ));
    }
    let mut updated = text.clone();
    if !updated.ends_with('\n') {
        updated.push('\n');
    }
    updated.push('\n');
    updated.push_str(&snippet);
    spin_app::manifest::parse(manifest_path, &updated).map_err(|e| Error::Template {
        template: template.id.clone(),
        problem: format!("adding `{name}` would make the manifest invalid: {e}"),
    })?;
    write_files(template, &dir, values)?;
    use std::os::unix::fs::PermissionsExt;
    let write = io(format!("writing {}", manifest_path.display()));
    let mode = std::fs::metadata(manifest_path)
        .map_err(io(format!("reading {}", manifest_path.display())))?
        .permissions()
        .mode();
    spin_app::fsutil::write_atomic_with(
        manifest_path,
        updated.as_bytes(),
        spin_app::fsutil::WriteOptions {
            mode: Some(mode & 0o7777),
            no_clobber: false,
        },
    )
    .map_err(write)?;
    Ok(name)
}
