//! Version 1 manifests (`spin_manifest_version = "1"`), converted to the v2 model exactly as
//! Spin converts them: ids made kebab-case, one trigger per component, the app's `base`
//! kept, `allowed_http_hosts` turned into outbound rules.

use super::component::component;
use super::model::*;
use super::normalize::{executor, non_empty_name, route, variables};
use super::raw;
use crate::located::{LocatedError, SourceText};
use crate::template::is_kebab_id;
use indexmap::IndexMap;

type Result<T> = std::result::Result<T, LocatedError>;

/// Validate and convert a v1 manifest to the v2 model, as Spin does.
pub(super) fn v1(src: &SourceText, raw: raw::V1) -> Result<AppManifest> {
    let name = non_empty_name(src, raw.name)?;
    let trigger_span = raw.trigger.span();
    let trigger = raw.trigger.into_inner();
    let redis = match trigger.kind.get_ref().as_str() {
        "http" => false,
        "redis" => true,
        other => {
            return Err(src.error(
                &trigger.kind.span(),
                format!("trigger type `{other}` is not supported"),
                "this runtime runs HTTP and Redis apps: use `trigger = { type = \"http\" }` or `{ type = \"redis\", address = \"redis://...\" }`",
            ));
        }
    };
    let mut global = toml::Table::new();
    if let Some(base) = trigger.base {
        global.insert("base".into(), base.into());
    }
    match (redis, trigger.address) {
        (true, Some(address)) => {
            global.insert("address".into(), address.into());
        }
        (true, None) => {
            return Err(src.error(
                &trigger_span,
                "a Redis app's trigger has no `address`",
                "write `trigger = { type = \"redis\", address = \"redis://host:6379\" }`",
            ));
        }
        _ => {}
    }
    let kind = if redis { "redis" } else { "http" };
    let trigger_global_configs = IndexMap::from([(kind.to_string(), global)]);
    let variables = variables(src, raw.variables)?;

    let mut components = IndexMap::new();
    let mut http_triggers = Vec::new();
    let mut redis_triggers = Vec::new();
    for raw_component in raw.component {
        let c = raw_component.into_inner();
        let id = {
            let given = c.id.get_ref();
            let fixed = if is_kebab_id(given) {
                given.clone()
            } else {
                given.replace('_', "-").to_lowercase()
            };
            if !is_kebab_id(&fixed) {
                return Err(src.error(
                    &c.id.span(),
                    format!("component id `{given}` is not valid"),
                    "use lowercase letters, digits and single hyphens, starting with a letter (e.g. `hello-world`)",
                ));
            }
            fixed
        };
        if components.contains_key(&id) {
            return Err(src.error(
                &c.id.span(),
                format!("component id `{id}` is used twice"),
                "give each [[component]] a unique id",
            ));
        }
        let trigger_span = c.trigger.span();
        let trigger = c.trigger.into_inner();
        let missing = |field: &str, example: &str| {
            src.error(
                &trigger_span,
                format!("component `{id}` has no trigger `{field}`"),
                format!("add `{field} = {example}` to its `trigger`"),
            )
        };
        if redis {
            let channel = trigger
                .channel
                .ok_or_else(|| missing("channel", "\"messages\""))?;
            redis_triggers.push(RedisTrigger {
                id: format!("trigger-{id}"),
                component: id.clone(),
                channel: channel.into_inner(),
                address: None,
            });
        } else {
            let route_spec = trigger.route.ok_or_else(|| missing("route", "\"/...\""))?;
            http_triggers.push(HttpTrigger {
                id: format!("trigger-{id}"),
                component: id.clone(),
                route: route(src, route_spec)?,
                executor: executor(src, trigger.executor)?,
            });
        }
        // Before `allowed_outbound_hosts` existed, components could reach any database.
        let legacy_database_access = c.allowed_outbound_hosts.is_none();
        let as_v2 = raw::Component {
            source: c.source,
            description: c.description,
            variables: c.config,
            environment: c.environment,
            files: c.files,
            exclude_files: c.exclude_files,
            allowed_http_hosts: c.allowed_http_hosts,
            allowed_outbound_hosts: c.allowed_outbound_hosts.unwrap_or_default(),
            key_value_stores: c.key_value_stores,
            sqlite_databases: c.sqlite_databases,
            ai_models: c.ai_models,
            build: c.build,
            tool: IndexMap::new(),
            dependencies_inherit_configuration: false,
            dependencies: None,
            profile: None,
            targets: None,
        };
        components.insert(
            id,
            component(src, as_v2, &variables, legacy_database_access)?,
        );
    }
    Ok(AppManifest {
        name,
        version: raw.version,
        description: raw.description,
        authors: raw.authors,
        trigger_global_configs,
        variables,
        http_triggers,
        redis_triggers,
        components,
    })
}
