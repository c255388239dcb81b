//! The locked app as untrusted input: a locked app read from an OCI layout, a registry or
//! an archive is checked as strictly as a manifest before anything is written to disk or
//! run. Every problem names the field (`components[1].files[3].path`) and says what to do.

use super::{ContentRef, LockedApp, LockedAppError, LockedRoute};
use crate::Digest;
use crate::guest_path;
use crate::route::RoutePattern;
use crate::template::{Template, is_kebab_id, is_snake_id};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

/// The only component content type Spin writes.
pub const WASM_CONTENT_TYPE: &str = "application/wasm";

/// Longest id, name or key accepted (Spin's are short; this only bounds odd input).
const MAX_NAME: usize = 256;

struct Check {
    field: String,
}

impl Check {
    fn at(field: impl Into<String>) -> Self {
        Self {
            field: field.into(),
        }
    }

    fn fail<T>(&self, problem: impl Into<String>, help: &'static str) -> Result<T, LockedAppError> {
        Err(LockedAppError::Invalid {
            field: self.field.clone(),
            problem: problem.into(),
            help,
        })
    }
}

/// A component id as Spin 1.x–4.x write them: letters, digits, `-` and `_`, starting with a
/// letter or digit. Nothing that could be read as a path (`.`, `/`) is allowed.
pub fn is_component_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_NAME
        && id.starts_with(|c: char| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn printable_name(check: &Check, what: &str, name: &str) -> Result<(), LockedAppError> {
    if name.is_empty() || name.len() > MAX_NAME || name.chars().any(char::is_control) {
        return check.fail(
            format!("{what} {name:?} must be 1 to {MAX_NAME} printable characters"),
            "regenerate the locked app with `spin registry push`",
        );
    }
    Ok(())
}

fn content(check: &Check, content: &ContentRef) -> Result<(), LockedAppError> {
    if let Some(d) = &content.digest
        && d.parse::<Digest>().is_err()
    {
        return check.fail(
            format!("digest {d:?} is not `sha256:` followed by 64 lowercase hex characters"),
            "the artifact is corrupt or was not made by Spin; push it again",
        );
    }
    if let Some(source) = &content.source
        && url::Url::parse(source).is_err()
    {
        return check.fail(
            format!("source {source:?} is not a URL"),
            "the artifact is corrupt or was not made by Spin; push it again",
        );
    }
    if content.inline.is_none() && content.digest.is_none() && content.source.is_none() {
        return check.fail(
            "has no content: neither `inline`, `digest` nor `source`",
            "the artifact is corrupt or was not made by Spin; push it again",
        );
    }
    Ok(())
}

/// Check everything a locked app says before it is used.
pub fn validate(app: &LockedApp) -> Result<(), LockedAppError> {
    const UNDERSTOOD: [&str; 2] = [
        super::MUST_UNDERSTAND_HOST_REQUIREMENTS,
        super::MUST_UNDERSTAND_COMPONENT_HOST_REQUIREMENTS,
    ];
    for (i, m) in app.must_understand.iter().enumerate() {
        if !UNDERSTOOD.contains(&m.as_str()) {
            return Check::at(format!("must_understand[{i}]")).fail(
                format!("the app requires the host to understand `{m}`, which this tool does not"),
                "run it with a runtime that supports it, or rebuild the app without it",
            );
        }
    }
    for (field, feature) in app.required_host_features() {
        if feature != super::SERVICE_CHAINING {
            return Check::at(field).fail(
                format!(
                    "the app requires host feature `{feature}`, which this tool does not support (it supports `{}`)",
                    super::SERVICE_CHAINING
                ),
                "run it with a runtime that supports it, or rebuild the app without it",
            );
        }
    }
    if let Some(name) = app.metadata.get(super::NAME_KEY)
        && !name.is_string()
    {
        return Check::at("metadata.name").fail("must be a string", "fix the app's name");
    }
    let base = app.http_base();
    match RoutePattern::parse(base) {
        Ok(p) if !p.wildcard => {}
        Ok(_) => {
            return Check::at("metadata.triggers.http.base").fail(
                format!("base {base:?} ends in a wildcard"),
                "give a plain path such as \"/\"",
            );
        }
        Err(e) => return Check::at("metadata.triggers.http.base").fail(e.to_string(), e.help()),
    }
    for name in app.variables.keys() {
        if !is_snake_id(name) || name.len() > MAX_NAME {
            return Check::at(format!("variables.{name}")).fail(
                format!("variable name {name:?} is not lower_snake_case"),
                "variable names are lowercase letters, digits and `_`, starting with a letter",
            );
        }
    }

    let mut ids = HashSet::new();
    for (i, c) in app.components.iter().enumerate() {
        let at = |field: &str| Check::at(format!("components[{i}]{field}"));
        if !is_component_id(&c.id) {
            return at(".id").fail(
                format!("component id {:?} is not a valid id", c.id),
                "ids are letters, digits, `-` and `_` (Spin writes kebab-case), with no `.` or `/`",
            );
        }
        if !ids.insert(c.id.as_str()) {
            return at(".id").fail(
                format!("component id `{}` is used twice", c.id),
                "each component needs its own id",
            );
        }
        if c.source.content_type != WASM_CONTENT_TYPE {
            return at(".source.content_type").fail(
                format!(
                    "content type {:?} is not `{WASM_CONTENT_TYPE}`",
                    c.source.content_type
                ),
                "a component's source is Wasm",
            );
        }
        content(&at(".source"), &c.source.content)?;
        for (k, v) in &c.env {
            if k.is_empty() || k.len() > MAX_NAME || k.contains(['=', '\0']) || v.contains('\0') {
                return at(&format!(".env.{k}")).fail(
                    format!("environment variable {k:?} has an invalid name or value"),
                    "names are non-empty without `=`; neither may contain NUL",
                );
            }
        }
        for (k, v) in &c.config {
            let check = at(&format!(".config.{k}"));
            if !is_snake_id(k) || k.len() > MAX_NAME {
                return check.fail(
                    format!("component variable {k:?} is not lower_snake_case"),
                    "variable names are lowercase letters, digits and `_`, starting with a letter",
                );
            }
            let template = match Template::parse(v) {
                Ok(t) => t,
                Err(e) => return check.fail(e.to_string(), "fix the `{{ variable }}` template"),
            };
            if let Some(missing) = template
                .variables()
                .find(|v| !app.variables.contains_key(*v))
            {
                return check.fail(
                    format!("refers to `{missing}`, which the app does not declare"),
                    "declare it under the app's variables",
                );
            }
        }
        for key in [
            "key_value_stores",
            "allowed_outbound_hosts",
            "databases",
            "ai_models",
        ] {
            match c.metadata.get(key) {
                None => {}
                Some(Value::Array(items)) if items.iter().all(Value::is_string) => {}
                Some(_) => {
                    return at(&format!(".metadata.{key}"))
                        .fail("must be a list of strings", "regenerate the locked app");
                }
            }
        }
        for label in c.metadata_strings("key_value_stores") {
            if !(is_kebab_id(&label) || is_snake_id(&label)) {
                return at(".metadata.key_value_stores").fail(
                    format!("label {label:?} is not kebab-case or snake_case"),
                    "labels are lowercase letters, digits and `-` or `_`",
                );
            }
        }
        files(i, c)?;
    }

    let mut trigger_ids = HashSet::new();
    for (i, t) in app.triggers.iter().enumerate() {
        let at = |field: &str| Check::at(format!("triggers[{i}]{field}"));
        printable_name(&at(".id"), "trigger id", &t.id)?;
        if !trigger_ids.insert(t.id.as_str()) {
            return at(".id").fail(
                format!("trigger id {:?} is used twice", t.id),
                "each trigger needs its own id",
            );
        }
        if t.trigger_type.is_empty()
            || !t
                .trigger_type
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            return at(".trigger_type").fail(
                format!("trigger type {:?} is not a type name", t.trigger_type),
                "Spin's trigger types are lowercase names such as `http` or `redis`",
            );
        }
        if t.trigger_type != "http" {
            continue;
        }
        let config = t.http_config()?;
        if app.component(&config.component).is_none() {
            return at(".trigger_config.component").fail(
                format!(
                    "refers to component `{}`, which the app does not have",
                    config.component
                ),
                "every trigger must name one of the app's components",
            );
        }
        if let LockedRoute::Path(route) = &config.route
            && let Err(e) = RoutePattern::parse(route)
        {
            return at(".trigger_config.route").fail(e.to_string(), e.help());
        }
    }
    Ok(())
}

/// A component's files: each guest path usable, and no two at one path (or one where the
/// other needs a directory).
fn files(index: usize, c: &super::LockedComponent) -> Result<(), LockedAppError> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (j, f) in c.files.iter().enumerate() {
        let check = Check::at(format!("components[{index}].files[{j}]"));
        content(&check, &f.content)?;
        let path_check = Check::at(format!("components[{index}].files[{j}].path"));
        let normal = match guest_path::normalize(&f.path) {
            Ok(p) => p,
            Err(e) => {
                return path_check.fail(
                    e.to_string(),
                    "file paths are relative to the component's root, without `..`",
                );
            }
        };
        if let Some(first) = seen.insert(normal.clone(), j) {
            return path_check.fail(
                format!(
                    "{:?} is the same path as files[{first}] ({:?}), both {normal}",
                    f.path, c.files[first].path
                ),
                "each file needs its own path; the artifact is corrupt or crafted",
            );
        }
    }
    for (path, &j) in &seen {
        let ancestors = path.match_indices('/').map(|(i, _)| &path[..i]);
        if let Some(file) = ancestors
            .filter(|a| !a.is_empty())
            .find(|a| seen.contains_key(*a))
        {
            return Check::at(format!("components[{index}].files[{j}].path")).fail(
                format!(
                    "{path} needs {file} to be a directory, but files[{}] is a file there",
                    seen[file]
                ),
                "each file needs its own path; the artifact is corrupt or crafted",
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(component: &str) -> Result<LockedApp, LockedAppError> {
        let json = format!(
            r#"{{"spin_lock_version": 1,
              "variables": {{"who": {{"default": "x"}}}},
              "triggers": [{{"id": "t", "trigger_type": "http", "trigger_config": {{"component": "c", "route": "/..."}}}}],
              "components": [{component}]}}"#
        );
        LockedApp::from_json(json.as_bytes())
    }

    const SOURCE: &str = r#""source": {"content_type": "application/wasm", "digest": "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}"#;

    #[test]
    fn a_good_app_passes() {
        let c = format!(
            r#"{{"id": "c", {SOURCE}, "files": [{{"inline": "aGk", "path": "/a.txt"}}, {{"inline": "aGk", "path": "b/c.txt"}}], "config": {{"greeting": "hi {{{{ who }}}}"}}}}"#
        );
        app(&c).unwrap();
    }

    #[test]
    fn each_problem_names_its_field() {
        let file = |path: &str| format!(r#"{{"inline": "aGk", "path": {path:?}}}"#);
        let cases = [
            (format!(r#"{{"id": "../../x", {SOURCE}}}"#), "components[0].id"),
            (format!(r#"{{"id": "/abs/dir", {SOURCE}}}"#), "components[0].id"),
            (format!(r#"{{"id": "a.b", {SOURCE}}}"#), "components[0].id"),
            (format!(r#"{{"id": "", {SOURCE}}}"#), "components[0].id"),
            (
                r#"{"id": "c", "source": {"content_type": "text/html", "inline": "aGk"}}"#.to_string(),
                "components[0].source.content_type",
            ),
            (
                r#"{"id": "c", "source": {"content_type": "application/wasm", "digest": "sha256:abc"}}"#.to_string(),
                "components[0].source",
            ),
            (
                r#"{"id": "c", "source": {"content_type": "application/wasm"}}"#.to_string(),
                "components[0].source",
            ),
            (format!(r#"{{"id": "c", {SOURCE}, "files": [{}]}}"#, file("/../etc/passwd")), "components[0].files[0].path"),
            (format!(r#"{{"id": "c", {SOURCE}, "files": [{}]}}"#, file("/")), "components[0].files[0].path"),
            (
                format!(r#"{{"id": "c", {SOURCE}, "files": [{}, {}]}}"#, file("/x"), file("/./x")),
                "components[0].files[1].path",
            ),
            (
                format!(r#"{{"id": "c", {SOURCE}, "files": [{}, {}]}}"#, file("/x"), file("//x/")),
                "components[0].files[1].path",
            ),
            (
                format!(r#"{{"id": "c", {SOURCE}, "files": [{}, {}]}}"#, file("/x"), file("/x/y")),
                "components[0].files[1].path",
            ),
            (format!(r#"{{"id": "c", {SOURCE}, "config": {{"Bad": "x"}}}}"#), "components[0].config.Bad"),
            (format!(r#"{{"id": "c", {SOURCE}, "config": {{"k": "{{{{ nope }}}}"}}}}"#), "components[0].config.k"),
            (format!(r#"{{"id": "c", {SOURCE}, "env": {{"A=B": "x"}}}}"#), "components[0].env.A=B"),
            (
                format!(r#"{{"id": "c", {SOURCE}, "metadata": {{"key_value_stores": ["../x"]}}}}"#),
                "components[0].metadata.key_value_stores",
            ),
            (
                format!(r#"{{"id": "c", {SOURCE}}}, {{"id": "c", {SOURCE}}}"#),
                "components[1].id",
            ),
        ];
        for (component, field) in cases {
            let err = app(&component).expect_err(&component).to_string();
            assert!(
                err.starts_with(&format!("{field}: ")),
                "{component}\n=> {err}"
            );
            assert!(err.contains("help:"), "{err}");
        }
    }

    #[test]
    fn triggers_are_checked() {
        let base = |triggers: &str| {
            format!(
                r#"{{"spin_lock_version": 1, "triggers": [{triggers}], "components": [{{"id": "c", {SOURCE}}}]}}"#
            )
        };
        for (triggers, field) in [
            (
                r#"{"id": "t", "trigger_type": "http", "trigger_config": {"component": "nope", "route": "/"}}"#,
                "triggers[0].trigger_config.component",
            ),
            (
                r#"{"id": "t", "trigger_type": "http", "trigger_config": {"component": "c", "route": "/.../x"}}"#,
                "triggers[0].trigger_config.route",
            ),
            (
                r#"{"id": "", "trigger_type": "http", "trigger_config": {"component": "c", "route": "/"}}"#,
                "triggers[0].id",
            ),
            (
                r#"{"id": "t", "trigger_type": "Http Trigger", "trigger_config": {}}"#,
                "triggers[0].trigger_type",
            ),
            (
                r#"{"id": "t", "trigger_type": "http", "trigger_config": {"component": "c", "route": "/"}}, {"id": "t", "trigger_type": "http", "trigger_config": {"component": "c", "route": "/a"}}"#,
                "triggers[1].id",
            ),
        ] {
            let err = LockedApp::from_json(base(triggers).as_bytes())
                .expect_err(triggers)
                .to_string();
            assert!(
                err.starts_with(&format!("{field}: ")),
                "{triggers}\n=> {err}"
            );
        }
    }

    #[test]
    fn spin_1_ids_with_underscores_are_accepted() {
        assert!(is_component_id("hello_world"));
        assert!(is_component_id("Hello-1"));
        assert!(!is_component_id("-x"));
        assert!(!is_component_id("x/y"));
        assert!(!is_component_id(".."));
    }
}
