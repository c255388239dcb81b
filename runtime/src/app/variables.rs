//! Application variables: `--variable`, then `SPIN_VARIABLE_<NAME>`, then the default;
//! and the templates (component variables, outbound rules) that use them.

use crate::Error;
use spin_app::locked::LockedVariable;
use spin_app::template::Template;
use std::collections::BTreeMap;

/// Resolve every application variable; every required one without a value is reported at
/// once. `env` looks up `SPIN_VARIABLE_<NAME>`.
pub fn resolve(
    declared: &BTreeMap<String, LockedVariable>,
    cli: &[(String, String)],
    env: impl Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>, Error> {
    if let Some((unknown, _)) = cli.iter().find(|(k, _)| !declared.contains_key(k)) {
        return Err(Error::UnknownVariable {
            name: unknown.clone(),
            declared: declared.keys().cloned().collect(),
        });
    }
    let mut values = BTreeMap::new();
    let mut missing = Vec::new();
    for (name, var) in declared {
        let from_cli = cli
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone());
        let value = from_cli
            .or_else(|| env(&format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase())))
            .or_else(|| var.default.clone());
        match value {
            Some(v) => {
                values.insert(name.clone(), v);
            }
            None => missing.push(name.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(Error::MissingVariables { names: missing });
    }
    Ok(values)
}

/// Expand `template` (a component's setting `what`) with the app's variables.
pub fn render(
    component: &str,
    what: &str,
    template: &str,
    values: &BTreeMap<String, String>,
) -> Result<String, Error> {
    Template::parse(template)
        .and_then(|t| t.render(values))
        .map_err(|e| Error::Template {
            component: component.to_string(),
            what: format!("{what} {template:?}"),
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(vars: &[(&str, Option<&str>)]) -> BTreeMap<String, LockedVariable> {
        vars.iter()
            .map(|(n, d)| {
                (
                    n.to_string(),
                    LockedVariable {
                        description: None,
                        default: d.map(String::from),
                        secret: false,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn command_line_beats_environment_beats_default() {
        let vars = declared(&[
            ("a", Some("default")),
            ("b", Some("default")),
            ("c", Some("default")),
        ]);
        let cli = [("a".to_string(), "cli".to_string())];
        let env =
            |k: &str| matches!(k, "SPIN_VARIABLE_A" | "SPIN_VARIABLE_B").then(|| "env".to_string());
        let values = resolve(&vars, &cli, env).unwrap();
        assert_eq!(
            values.into_iter().collect::<Vec<_>>(),
            [
                ("a".into(), "cli".into()),
                ("b".into(), "env".into()),
                ("c".into(), "default".into())
            ]
        );
    }

    #[test]
    fn every_missing_variable_is_named_and_unknown_ones_are_refused() {
        let vars = declared(&[("x", None), ("y", None), ("z", Some("d"))]);
        let err = resolve(&vars, &[], |_| None).unwrap_err();
        assert_eq!(err.to_string(), "required variables `x`, `y` have no value");
        assert_eq!(
            err.help().unwrap(),
            "pass `--variable x=<value>` or set SPIN_VARIABLE_X"
        );
        let err = resolve(&vars, &[("w".into(), "1".into())], |_| None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--variable w=...: the app declares no variable `w`"
        );
        assert_eq!(err.help().unwrap(), "declared variables: x, y, z");
    }

    #[test]
    fn templates_render_or_say_why_not() {
        let values = BTreeMap::from([("who".to_string(), "you".to_string())]);
        assert_eq!(
            render("c", "variable `g`", "hi {{ who }}", &values).unwrap(),
            "hi you"
        );
        let err = render("c", "variable `g`", "hi {{ nobody }}", &values).unwrap_err();
        assert_eq!(
            err.to_string(),
            "component `c`: variable `g` \"hi {{ nobody }}\": variable `nobody` has no value"
        );
    }
}
