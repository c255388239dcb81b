//! `spin doctor`: look a project over before the user hits a problem, and say how to fix
//! each one: manifest errors, build tools that are not installed, component files that do
//! not exist (yet), routes that can never be reached, required variables with no value.

use crate::build::{install_hint, missing_tools};
use spin_app::manifest::{ComponentSource, HttpRoute};
use std::path::Path;

/// How bad a finding is: errors stop `spin build` or `spin up`; warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The app will not build or run.
    Error,
    /// The app runs, but not as the author probably meant.
    Warning,
}

/// One problem and its fix.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, and where.
    pub problem: String,
    /// What to do.
    pub fix: String,
}

fn finding(severity: Severity, problem: String, fix: impl Into<String>) -> Finding {
    Finding {
        severity,
        problem,
        fix: fix.into(),
    }
}

/// Check the project whose manifest is `manifest_path`.
pub fn check(manifest_path: &Path) -> Vec<Finding> {
    let manifest = match spin_app::manifest::load(manifest_path) {
        Ok(m) => m,
        Err(e) => {
            return vec![finding(
                Severity::Error,
                format!("the manifest does not load: {e}"),
                "fix the manifest at the place named above, then run `spin doctor` again",
            )];
        }
    };
    let mut out = Vec::new();
    let app_dir = manifest_path.parent().unwrap_or(Path::new("."));

    for problem in spin_app::lock::check_files(&manifest, manifest_path) {
        let text = problem.to_string();
        let (problem, fix) = text
            .split_once("\n  help: ")
            .map(|(p, f)| (p.to_string(), f.to_string()))
            .unwrap_or((text.clone(), "fix the `files` entry in spin.toml".into()));
        out.push(finding(Severity::Error, problem, fix));
    }

    for (component, tool) in missing_tools(&manifest, &[]) {
        out.push(finding(
            Severity::Error,
            format!(
                "component `{component}` builds with `{tool}`, which is not installed (not on PATH)"
            ),
            install_hint(&tool)
                .map(|h| format!("install it: {h}"))
                .unwrap_or_else(|| format!("install `{tool}` or put it on PATH")),
        ));
    }

    for (id, c) in &manifest.components {
        let ComponentSource::Local(source) = &c.source else {
            continue;
        };
        if app_dir.join(source).is_file() {
            continue;
        }
        let fix = if c.build.is_some() {
            format!("build it: `spin build -c {id}` (or `spin build` for every component)")
        } else {
            format!(
                "correct `source` in [component.{id}], or copy the file to {}",
                app_dir.join(source).display()
            )
        };
        out.push(finding(
            Severity::Error,
            format!("component `{id}`: its source {source} does not exist"),
            fix,
        ));
    }

    let base = manifest
        .trigger_global_configs
        .get("http")
        .and_then(|t| t.get("base"))
        .and_then(|b| b.as_str())
        .unwrap_or("/");
    let routes: Vec<(&str, &str)> = manifest
        .http_triggers
        .iter()
        .filter_map(|t| match &t.route {
            HttpRoute::Path(p) => Some((t.component.as_str(), p.as_str())),
            HttpRoute::Private => None,
        })
        .collect();
    let (router, duplicates) = match spin_runtime::Router::build(base, routes) {
        Ok(built) => built,
        // The manifest validator has checked every route; only the v1 base can be off.
        Err(e) => {
            out.push(finding(
                Severity::Error,
                e.to_string(),
                e.help().to_string(),
            ));
            return out;
        }
    };
    for d in duplicates {
        out.push(finding(
            Severity::Warning,
            format!("route {} is given to both `{}` and `{}`; `{}` (the later trigger) gets every request, `{}` none", d.route, d.replaced, d.effective, d.effective, d.replaced),
            format!("give `{}` another route, or remove one of the two triggers", d.replaced),
        ));
    }
    for (winner, hidden) in router.shadowed() {
        out.push(finding(
            Severity::Warning,
            format!(
                "route {} (`{}`) has the same shape as {} (`{}`), which comes first and gets every request it could match",
                hidden.raw, hidden.component, winner.raw, winner.component
            ),
            format!("give `{}` a route with a different fixed segment, e.g. {}/…", hidden.component, winner.raw.trim_end_matches("/...")),
        ));
    }

    for (name, v) in &manifest.variables {
        let env = format!("SPIN_VARIABLE_{}", name.to_uppercase());
        if v.required && std::env::var_os(&env).is_none() {
            out.push(finding(
                Severity::Warning,
                format!("variable `{name}` is required and has no value here; `spin up` will refuse to start"),
                format!("pass `--variable {name}=…` to spin up, or set {env}"),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Write `manifest` (and `b.wasm`) into a fresh folder and check it.
    fn check_manifest(manifest: &str) -> Vec<Finding> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spin.toml");
        std::fs::write(&path, manifest).unwrap();
        std::fs::write(dir.path().join("b.wasm"), b"\0asm").unwrap();
        check(&path)
    }

    #[test]
    fn reports_missing_tools_files_and_shadowed_routes() {
        let mut manifest = String::from(
            "spin_manifest_version = 2\n[application]\nname = \"doc\"\n[variables]\ntoken = { required = true }\n",
        );
        for (route, component) in [
            ("/users/:id", "a"),
            ("/users/:name", "b"),
            ("/same", "a"),
            ("/same", "b"),
        ] {
            manifest +=
                &format!("[[trigger.http]]\nroute = \"{route}\"\ncomponent = \"{component}\"\n");
        }
        manifest += "[component.a]\nsource = \"a.wasm\"\n[component.a.build]\ncommand = \"no-such-compiler-xyz build\"\n[component.b]\nsource = \"b.wasm\"\n";
        let problems: Vec<String> = check_manifest(&manifest)
            .into_iter()
            .map(|f| format!("{:?}: {} => {}", f.severity, f.problem, f.fix))
            .collect();
        let all = problems.join("\n");
        assert_eq!(problems.len(), 5, "{all}");
        for expected in [
            "Error: component `a` builds with `no-such-compiler-xyz`",
            "Error: component `a`: its source a.wasm does not exist => build it: `spin build -c a`",
            "route /same is given to both `a` and `b`",
            "route /users/:name (`b`) has the same shape as /users/:id (`a`)",
            "variable `token` is required",
        ] {
            assert!(
                all.contains(expected),
                "{expected:?} is missing from:\n{all}"
            );
        }
    }

    #[test]
    fn a_broken_manifest_is_one_located_error() {
        let findings =
            check_manifest("spin_manifest_version = 2\n[application]\nname = \"x\"\nbogus = 1\n");
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0].problem.contains("spin.toml:4:1"),
            "{}",
            findings[0].problem
        );
    }
}
