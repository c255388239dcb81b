//! Template parameter values: given with `-v` or a values file, else defaults or prompts,
//! each checked against the parameter's pattern.

use super::{Parameter, Template};
use crate::error::{Error, Result, io};
use crate::render::kebab_case;
use std::collections::BTreeMap;
use std::path::Path;

/// Asks for one parameter: given its name, the parameter and the default an empty answer
/// takes, returns the answer.
pub type Prompter<'a> =
    &'a mut dyn FnMut(&str, &Parameter, Option<&str>) -> std::io::Result<String>;

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
pub fn read_values_file(path: &Path) -> Result<BTreeMap<String, String>> {
    let text =
        std::fs::read_to_string(path).map_err(io(format!("cannot read {}", path.display())))?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        Error::usage(
            format!("{}: {}", path.display(), e.message()),
            "write the values file as TOML: name = \"value\" lines",
        )
    })?;
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
) -> Result<BTreeMap<String, String>> {
    if let Some(unknown) = given.keys().find(|k| !template.parameters.contains_key(*k)) {
        return Err(Error::usage(
            format!("template `{}` has no parameter `{unknown}`", template.id),
            format!(
                "its parameters are: {}",
                template
                    .parameters
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
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
                return Err(Error::usage(
                    format!("parameter `{pname}` has no default"),
                    format!("pass -v {pname}=<value>"),
                ));
            }
            (None, Ask::Prompt(f), d) => {
                let answer = f(pname, p, d.as_deref()).map_err(io("reading an answer"))?;
                if answer.is_empty() {
                    d.unwrap_or_default()
                } else {
                    answer
                }
            }
        };
        if let Some(pattern) = &p.pattern
            && !regex::Regex::new(pattern).is_ok_and(|r| r.is_match(&value))
        {
            return Err(Error::Usage {
                problem: format!("parameter `{pname}` = {value:?} does not match {pattern}"),
                help: None,
            });
        }
        values.insert(pname.clone(), value);
    }
    Ok(values)
}
