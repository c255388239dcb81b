//! One component of a manifest (v2 shape; v1 components are rewritten into it first):
//! its source, variables, files, outbound hosts, stores and build, each checked where it
//! is written.

use super::files::{exclude_files, files};
use super::model::*;
use super::raw::{self, StrOr};
use crate::allowed_hosts::AllowedHost;
use crate::located::{LocatedError, SourceText};
use crate::template::{Template, is_kebab_id, is_snake_id};
use indexmap::IndexMap;
use toml::Spanned;

type Result<T> = std::result::Result<T, LocatedError>;

/// Validate one component (v1 components are first rewritten into the v2 shape).
pub(super) fn component(
    src: &SourceText,
    c: raw::Component,
    vars: &IndexMap<String, Variable>,
    legacy_database_access: bool,
) -> Result<Component> {
    if let Some(deps) = &c.dependencies {
        return Err(src.error(
            &deps.span(),
            "component `dependencies` are not supported by this runtime",
            "compose the component ahead of time (e.g. with `wac plug`) and remove `dependencies`",
        ));
    }
    if let Some(profile) = &c.profile {
        return Err(src.error(
            &profile.span(),
            "component `profile` tables are not supported by this runtime",
            "remove the `profile` table and set `source` directly",
        ));
    }
    let mut allowed = outbound_hosts(src, &c.allowed_outbound_hosts, vars)?;
    allowed.extend(convert_allowed_http_hosts(
        src,
        &c.allowed_http_hosts,
        legacy_database_access,
    )?);
    Ok(Component {
        source: source(src, c.source)?,
        description: c.description,
        variables: component_variables(src, c.variables, vars)?,
        environment: c.environment,
        files: files(src, c.files)?,
        exclude_files: exclude_files(src, c.exclude_files)?,
        allowed_outbound_hosts: allowed,
        key_value_stores: labels(src, c.key_value_stores, "key_value_stores")?,
        sqlite_databases: labels(src, c.sqlite_databases, "sqlite_databases")?,
        ai_models: c.ai_models,
        build: build(src, c.build, &c.tool)?,
    })
}

fn source(src: &SourceText, raw: Spanned<StrOr<raw::SourceTable>>) -> Result<ComponentSource> {
    let span = raw.span();
    match raw.into_inner() {
        StrOr::Str(path) if path.trim().is_empty() => Err(src.error(
            &span,
            "`source` is empty",
            "set `source` to the path of the component's .wasm file, relative to spin.toml",
        )),
        StrOr::Str(path) => Ok(ComponentSource::Local(path)),
        StrOr::Other(t) => match t {
            raw::SourceTable { url: Some(url), digest: Some(digest), registry: None, package: None, version: None } => {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(src.error(&span, format!("source url `{url}` is not an http(s) URL"), "use an `https://` URL"));
                }
                let digest = digest.parse().map_err(|e| src.error(&span, format!("{e}"), "copy the digest from `sha256sum` output, prefixed with `sha256:`"))?;
                Ok(ComponentSource::Remote { url, digest })
            }
            raw::SourceTable { url: Some(_), digest: None, .. } => Err(src.error(
                &span,
                "a `source` with a `url` must also have a `digest`",
                "add `digest = \"sha256:<hex>\"` so the download can be verified",
            )),
            raw::SourceTable { url: None, digest: None, registry, package: Some(package), version: Some(version) } => {
                Ok(ComponentSource::Registry { registry, package, version })
            }
            _ => Err(src.error(
                &span,
                "`source` table must be `{ url, digest }` or `{ package, version[, registry] }`",
                "use a path string, `{ url = \"https://...\", digest = \"sha256:...\" }`, or `{ package = \"ns:name\", version = \"1.0.0\" }`",
            )),
        },
    }
}

fn component_variables(
    src: &SourceText,
    raw: IndexMap<Spanned<String>, Spanned<String>>,
    vars: &IndexMap<String, Variable>,
) -> Result<IndexMap<String, String>> {
    let mut out = IndexMap::new();
    for (name, value) in raw {
        if !is_snake_id(name.get_ref()) {
            return Err(src.error(
                &name.span(),
                format!(
                    "component variable name `{}` is not lower_snake_case",
                    name.get_ref()
                ),
                "use lowercase letters, digits and single underscores, starting with a letter",
            ));
        }
        check_template(src, &value, vars)?;
        out.insert(name.into_inner(), value.into_inner());
    }
    Ok(out)
}

/// Parse a template and check that it refers only to declared application variables.
fn check_template(
    src: &SourceText,
    value: &Spanned<String>,
    vars: &IndexMap<String, Variable>,
) -> Result<Template> {
    let template = Template::parse(value.get_ref()).map_err(|e| {
        src.error(
            &value.span(),
            format!("invalid template: {e}"),
            "write variable references as `{{ variable_name }}`",
        )
    })?;
    if let Some(var) = template.variables().find(|v| !vars.contains_key(*v)) {
        return Err(src.error(
            &value.span(),
            format!("`{{{{ {var} }}}}` refers to an application variable that is not declared"),
            format!("declare it under [variables], e.g. `{var} = {{ default = \"...\" }}` or `{var} = {{ required = true }}`"),
        ));
    }
    Ok(template)
}

fn outbound_hosts(
    src: &SourceText,
    raw: &[Spanned<String>],
    vars: &IndexMap<String, Variable>,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for host in raw {
        let template = check_template(src, host, vars)?;
        if template.is_literal() {
            AllowedHost::parse(host.get_ref()).map_err(|e| {
                src.error(
                    &host.span(),
                    format!("invalid `allowed_outbound_hosts` entry: {e}"),
                    "see https://spinframework.dev/v3/http-outbound#granting-http-permissions-to-components",
                )
            })?;
        }
        out.push(host.get_ref().clone());
    }
    Ok(out)
}

/// Spin's conversion of the deprecated `allowed_http_hosts` list.
pub(super) fn convert_allowed_http_hosts(
    src: &SourceText,
    raw: &[Spanned<String>],
    allow_database_access: bool,
) -> Result<Vec<String>> {
    let mut out: Vec<String> = if allow_database_access {
        ["redis://*:*", "mysql://*:*", "postgres://*:*"]
            .map(String::from)
            .to_vec()
    } else {
        Vec::new()
    };
    if raw.iter().any(|h| h.get_ref() == "insecure:allow-all") {
        out.extend(["http://*:*", "https://*:*", "http://self"].map(String::from));
        return Ok(out);
    }
    for host in raw {
        let text = host.get_ref().trim();
        let as_url = if text.contains("//") {
            text.to_string()
        } else {
            format!("http://{text}")
        };
        let parsed = url::Url::parse(&as_url).ok().filter(|u| {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some() && u.path().len() <= 1
        });
        let Some(url) = parsed else {
            return Err(src.error(
                &host.span(),
                format!("invalid `allowed_http_hosts` entry {text:?}"),
                "use `host[:port]` here, or better, move to `allowed_outbound_hosts = [\"https://host\"]`",
            ));
        };
        let host = url.host_str().unwrap_or_default();
        if host == "self" {
            out.push("http://self".into());
            continue;
        }
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        out.push(format!("http://{host}{port}"));
        out.push(format!("https://{host}{port}"));
    }
    Ok(out)
}

fn labels(src: &SourceText, raw: Vec<Spanned<String>>, field: &str) -> Result<Vec<String>> {
    raw.into_iter()
        .map(|l| {
            if is_kebab_id(l.get_ref()) || is_snake_id(l.get_ref()) {
                Ok(l.into_inner())
            } else {
                Err(src.error(
                    &l.span(),
                    format!("`{field}` label {:?} is not kebab-case or snake_case", l.get_ref()),
                    "use lowercase letters, digits and `-` or `_`, starting with a letter (e.g. \"default\")",
                ))
            }
        })
        .collect()
}

fn build(
    src: &SourceText,
    raw: Option<Spanned<raw::Build>>,
    tool: &IndexMap<String, toml::Table>,
) -> Result<Option<BuildConfig>> {
    let Some(b) = raw else { return Ok(None) };
    let b = b.into_inner();
    let span = b.command.span();
    let commands = match b.command.into_inner() {
        StrOr::Str(c) => vec![c],
        StrOr::Other(list) => list,
    };
    if commands.is_empty() || commands.iter().any(|c| c.trim().is_empty()) {
        return Err(src.error(
            &span,
            "build `command` is empty",
            "give the command that builds the component, e.g. `command = \"make\"`",
        ));
    }
    let requires = tool
        .get("spin-build")
        .and_then(|t| t.get("requires"))
        .and_then(|r| r.as_array())
        .map(|tools| {
            tools
                .iter()
                .filter_map(|t| t.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    Ok(Some(BuildConfig {
        commands,
        workdir: b.workdir,
        watch: b.watch,
        requires,
    }))
}
