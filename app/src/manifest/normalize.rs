//! Raw manifest (v1 or v2) → validated [`AppManifest`]. Every check here reports the file,
//! line and column of the offending value and says how to fix it.

use super::component::component;
use super::model::*;
use super::raw::{self, StrOr};
use crate::located::{LocatedError, SourceText};
use crate::route::RoutePattern;
use crate::template::{is_kebab_id, is_snake_id};
use indexmap::IndexMap;
use std::collections::{HashMap, HashSet};
use toml::Spanned;

pub(super) const V2_REFERENCE: &str = "https://spinframework.dev/v3/manifest-reference";
pub(super) const V1_REFERENCE: &str = "https://spinframework.dev/v2/manifest-reference-v1";

type Result<T> = std::result::Result<T, LocatedError>;

/// Validate and normalize a v2 manifest.
pub(super) fn v2(src: &SourceText, raw: raw::V2) -> Result<AppManifest> {
    let application = raw.application.into_inner();
    let name = non_empty_name(src, application.name)?;
    if let Some(target) = application.targets.first() {
        tracing::debug!("ignoring deployment targets such as {target}");
    }
    let mut trigger_global_configs = IndexMap::new();
    for (kind, table) in application.trigger {
        check_trigger_type(src, &kind)?;
        let known = if kind.get_ref() == "http" {
            "base"
        } else {
            "address"
        };
        if let Some(key) = table.keys().find(|k| k.as_str() != known) {
            return Err(src.error(
                &kind.span(),
                format!("unknown field `{key}` in [application.trigger.{}]", kind.get_ref()),
                format!("the only application-level setting of this trigger type is `{known}`; remove the others"),
            ));
        }
        trigger_global_configs.insert(kind.into_inner(), table);
    }

    let variables = variables(src, raw.variables)?;

    let mut components = IndexMap::new();
    for (id, raw_component) in raw.component {
        check_component_id(src, &id)?;
        let c = component(src, raw_component.into_inner(), &variables, false)?;
        components.insert(id.into_inner(), c);
    }

    // Trigger ids first (inline component ids are derived from them), as Spin does.
    let mut ids = TriggerIds {
        taken: raw
            .trigger
            .http
            .iter()
            .filter_map(|t| t.get_ref().id.clone())
            .chain(
                raw.trigger
                    .redis
                    .iter()
                    .filter_map(|t| t.get_ref().id.clone()),
            )
            .collect(),
        counters: HashMap::new(),
        inline_counter: 1,
    };
    let mut http_triggers = Vec::new();
    for trigger in raw.trigger.http {
        let span = trigger.span();
        let t = trigger.into_inner();
        let (id, component) = ids.resolve(
            src,
            "http",
            span,
            t.id,
            t.component,
            &mut components,
            &variables,
        )?;
        if let Some(components) = &t.components {
            return Err(src.error(
                &components.span(),
                "trigger `components` (middleware) is not supported by this runtime",
                "remove `components` from this trigger",
            ));
        }
        http_triggers.push(HttpTrigger {
            id,
            component,
            route: route(src, t.route)?,
            executor: executor(src, t.executor)?,
        });
    }
    let mut redis_triggers = Vec::new();
    for trigger in raw.trigger.redis {
        let span = trigger.span();
        let t = trigger.into_inner();
        let (id, component) = ids.resolve(
            src,
            "redis",
            span,
            t.id,
            t.component,
            &mut components,
            &variables,
        )?;
        if t.channel.get_ref().is_empty() {
            return Err(src.error(
                &t.channel.span(),
                "the Redis channel is empty",
                "name the channel to subscribe to, e.g. `channel = \"messages\"`",
            ));
        }
        redis_triggers.push(RedisTrigger {
            id,
            component,
            channel: t.channel.into_inner(),
            address: t.address,
        });
    }

    let manifest = AppManifest {
        name,
        version: application.version,
        description: application.description,
        authors: application.authors,
        trigger_global_configs,
        variables,
        http_triggers,
        redis_triggers,
        components,
    };
    Ok(manifest)
}

/// Trigger ids as Spin makes them: given, else `<component>-<type>-trigger`, else
/// `<type>-trigger<n>`; and ids for inline components.
struct TriggerIds {
    taken: HashSet<String>,
    counters: HashMap<&'static str, usize>,
    inline_counter: usize,
}

impl TriggerIds {
    /// The trigger's id and its component's id (an inline component is added).
    #[allow(clippy::too_many_arguments)]
    fn resolve(
        &mut self,
        src: &SourceText,
        kind: &'static str,
        span: std::ops::Range<usize>,
        id: Option<String>,
        spec: Option<Spanned<StrOr<Box<raw::Component>>>>,
        components: &mut IndexMap<String, Component>,
        variables: &IndexMap<String, Variable>,
    ) -> Result<(String, String)> {
        let Some(spec) = spec else {
            return Err(src.error(
                &span,
                format!("this [[trigger.{kind}]] has no `component`"),
                "add `component = \"<component-id>\"` naming a [component.<id>] table",
            ));
        };
        let id = match id.filter(|id| !id.is_empty()) {
            Some(id) => id,
            None => {
                let natural = match spec.get_ref() {
                    StrOr::Str(component) => Some(format!("{component}-{kind}-trigger")),
                    StrOr::Other(_) => None,
                };
                match natural.filter(|n| !self.taken.contains(n)) {
                    Some(n) => n,
                    None => loop {
                        let counter = self.counters.entry(kind).or_insert(1);
                        let candidate = format!("{kind}-trigger{counter}");
                        *counter += 1;
                        if !self.taken.contains(&candidate) {
                            break candidate;
                        }
                    },
                }
            }
        };
        self.taken.insert(id.clone());
        let spec_span = spec.span();
        let component = match spec.into_inner() {
            StrOr::Str(reference) => {
                if !components.contains_key(&reference) {
                    let known: Vec<_> = components.keys().map(String::as_str).collect();
                    return Err(src.error(
                        &spec_span,
                        format!("trigger refers to component `{reference}`, which is not defined"),
                        format!(
                            "add a [component.{reference}] table, or use one of: {}",
                            if known.is_empty() {
                                "(no components defined)".to_string()
                            } else {
                                known.join(", ")
                            }
                        ),
                    ));
                }
                reference
            }
            StrOr::Other(inline) => {
                let natural = format!("{id}-component");
                let inline_id = if is_kebab_id(&natural) && !components.contains_key(&natural) {
                    natural
                } else {
                    loop {
                        let candidate = format!("inline-component{}", self.inline_counter);
                        self.inline_counter += 1;
                        if !components.contains_key(&candidate) {
                            break candidate;
                        }
                    }
                };
                let c = component(src, *inline, variables, false)?;
                components.insert(inline_id.clone(), c);
                inline_id
            }
        };
        Ok((id, component))
    }
}

pub(super) fn non_empty_name(src: &SourceText, name: Spanned<String>) -> Result<String> {
    if name.get_ref().trim().is_empty() {
        return Err(src.error(
            &name.span(),
            "the application name is empty",
            "give the application a name, e.g. `name = \"my-app\"`",
        ));
    }
    Ok(name.into_inner())
}

pub(super) fn check_trigger_type(src: &SourceText, kind: &Spanned<String>) -> Result<()> {
    if !matches!(kind.get_ref().as_str(), "http" | "redis") {
        return Err(src.error(
            &kind.span(),
            format!("trigger type `{}` is not supported", kind.get_ref()),
            "this runtime runs HTTP and Redis triggers: use [[trigger.http]] or [[trigger.redis]]",
        ));
    }
    Ok(())
}

pub(super) fn check_component_id(src: &SourceText, id: &Spanned<String>) -> Result<()> {
    if !is_kebab_id(id.get_ref()) {
        let suggestion = id.get_ref().replace('_', "-").to_lowercase();
        return Err(src.error(
            &id.span(),
            format!("component id `{}` is not kebab-case", id.get_ref()),
            format!(
                "use lowercase letters, digits and single hyphens, starting with a letter{}",
                if is_kebab_id(&suggestion) {
                    format!(" (e.g. `{suggestion}`)")
                } else {
                    String::new()
                }
            ),
        ));
    }
    Ok(())
}

pub(super) fn variables(
    src: &SourceText,
    raw: IndexMap<Spanned<String>, Spanned<raw::Variable>>,
) -> Result<IndexMap<String, Variable>> {
    let mut out = IndexMap::new();
    for (name, var) in raw {
        if !is_snake_id(name.get_ref()) {
            return Err(src.error(
                &name.span(),
                format!("variable name `{}` is not lower_snake_case", name.get_ref()),
                "use lowercase letters, digits and single underscores, starting with a letter (e.g. `api_key`)",
            ));
        }
        let span = var.span();
        let v = var.into_inner();
        if v.required == v.default.is_some() {
            let message = if v.required {
                format!(
                    "variable `{}` is `required` and also has a `default`",
                    name.get_ref()
                )
            } else {
                format!(
                    "variable `{}` has neither a `default` nor `required = true`",
                    name.get_ref()
                )
            };
            return Err(src.error(
                &span,
                message,
                "give exactly one of `default = \"...\"` or `required = true`",
            ));
        }
        out.insert(
            name.into_inner(),
            Variable {
                description: v.description,
                default: v.default,
                required: v.required,
                secret: v.secret,
            },
        );
    }
    Ok(out)
}

pub(super) fn route(src: &SourceText, raw: Spanned<StrOr<raw::PrivateRoute>>) -> Result<HttpRoute> {
    let span = raw.span();
    match raw.into_inner() {
        StrOr::Other(raw::PrivateRoute { private: true }) => Ok(HttpRoute::Private),
        StrOr::Other(raw::PrivateRoute { private: false }) => Err(src.error(
            &span,
            "`route = { private = false }` is not meaningful",
            "write a route pattern such as \"/hello\", or `{ private = true }`",
        )),
        StrOr::Str(route) => {
            if let Err(e) = RoutePattern::parse(&route) {
                return Err(src.error(&span, e.to_string(), e.help()));
            }
            Ok(HttpRoute::Path(route))
        }
    }
}

pub(super) fn executor(
    src: &SourceText,
    raw: Option<Spanned<raw::Executor>>,
) -> Result<Option<HttpExecutor>> {
    let Some(e) = raw else { return Ok(None) };
    let span = e.span();
    let e = e.into_inner();
    match e.kind.as_str() {
        "spin" => Ok(Some(HttpExecutor::Spin)),
        "wagi" => Ok(Some(HttpExecutor::Wagi {
            entrypoint: e.entrypoint,
            argv: e.argv,
        })),
        other => Err(src.error(
            &span,
            format!("executor type `{other}` is not supported"),
            "use `{ type = \"spin\" }` (the default) or `{ type = \"wagi\" }`",
        )),
    }
}
