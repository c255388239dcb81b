//! Kubernetes objects for Spin apps, as SpinKube runs them.
//!
//! [`scaffold`] writes a `SpinApp` (`core.spinkube.dev/v1alpha1`) for an app already pinned by
//! digest, with its replicas, executor, variables and image pull secrets, the runtime config
//! as a `Secret` it loads from, and, if asked, the `RuntimeClass` that sends its pods to this
//! project's containerd shim (handler [`RUNTIME_HANDLER`], runtime type [`RUNTIME_TYPE`]).
//! The names SpinKube's stock objects use are kept ([`RUNTIME_CLASS`], [`EXECUTOR`]), so its
//! operator and `SpinAppExecutor` work unchanged.
//!
//! Everything a user names is checked against Kubernetes' and Spin's rules before anything is
//! written; the output is YAML with every string double-quoted (no value can turn into a
//! number, a boolean or a second document).

mod yaml;

use base64::Engine as _;
use serde_json::{Value, json};

/// The `SpinApp` API.
pub const API_VERSION: &str = "core.spinkube.dev/v1alpha1";
/// The shim's runtime type in containerd's configuration.
pub const RUNTIME_TYPE: &str = "io.containerd.spin.v2";
/// The handler a `RuntimeClass` names (containerd's runtime name `spin`).
pub const RUNTIME_HANDLER: &str = "spin";
/// The `RuntimeClass` SpinKube's stock `containerd-shim-spin` executor refers to.
pub const RUNTIME_CLASS: &str = "wasmtime-spin-v2";
/// SpinKube's executor for shim-run apps.
pub const EXECUTOR: &str = "containerd-shim-spin";

/// What `spin kube scaffold` writes.
#[derive(Debug, Clone)]
pub struct Scaffold {
    /// `metadata.name` of the app (and the prefix of its Secret).
    pub name: String,
    /// The image, pinned: `registry/repository@sha256:…`.
    pub image: String,
    /// `spec.replicas`.
    pub replicas: u32,
    /// `spec.executor`.
    pub executor: String,
    /// The runtime config file's bytes, shipped as a Secret.
    pub runtime_config: Option<Vec<u8>>,
    /// Spin variables, `name = value`.
    pub variables: Vec<(String, String)>,
    /// Secrets to pull the image with.
    pub image_pull_secrets: Vec<String>,
    /// Also write the `RuntimeClass` for this project's shim.
    pub runtime_class: bool,
}

/// Why a scaffold cannot be written.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ScaffoldError {
    /// Not a DNS-1123 label (app names) or subdomain (secret names).
    #[error(
        "{what} `{name}` is not a Kubernetes name: {why}\n  help: use lowercase letters, digits and `-`, starting and ending with a letter or digit{max}"
    )]
    BadName {
        what: &'static str,
        name: String,
        why: &'static str,
        max: &'static str,
    },
    /// Not a Spin variable name.
    #[error(
        "`{0}` is not a Spin variable name\n  help: variable names are lowercase letters, digits and `_`, starting with a letter (as in spin.toml's [variables])"
    )]
    BadVariable(String),
    /// A `--variable` without `=`.
    #[error("`{0}` is not `name=value`\n  help: write --variable name=value")]
    NotAssignment(String),
    /// The image is not pinned by digest.
    #[error(
        "`{0}` is not pinned by a sha256 digest\n  help: a SpinApp must name the exact artifact: resolve the tag first"
    )]
    NotPinned(String),
    /// More replicas than `int32` holds.
    #[error("{0} replicas is more than Kubernetes accepts (2147483647)")]
    TooManyReplicas(u32),
}

/// A DNS-1123 label (`metadata.name` of a SpinApp becomes a Service's and a Deployment's):
/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
pub fn check_label(what: &'static str, name: &str) -> Result<(), ScaffoldError> {
    check_name(what, name, 63, false)
}

/// A DNS-1123 subdomain (Secret names): labels joined by `.`, at most 253 characters.
pub fn check_subdomain(what: &'static str, name: &str) -> Result<(), ScaffoldError> {
    check_name(what, name, 253, true)
}

fn check_name(what: &'static str, name: &str, max: usize, dots: bool) -> Result<(), ScaffoldError> {
    let bad = |why| ScaffoldError::BadName {
        what,
        name: name.to_string(),
        why,
        max: if max == 63 {
            ", at most 63 characters"
        } else {
            ", at most 253 characters"
        },
    };
    if name.is_empty() {
        return Err(bad("it is empty"));
    }
    if name.len() > max {
        return Err(bad("it is too long"));
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    let labels: Vec<&str> = if dots {
        name.split('.').collect()
    } else {
        vec![name]
    };
    for label in labels {
        if !label.chars().all(allowed) {
            return Err(bad(if !dots && label.contains('.') {
                "it contains `.`"
            } else {
                "it contains a character other than a-z, 0-9 and -"
            }));
        }
        let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        if !edge(label.chars().next()) || !edge(label.chars().last()) {
            return Err(bad(
                "it starts or ends with something other than a letter or digit",
            ));
        }
    }
    Ok(())
}

/// The app name SpinKube's plugin derives from an image: the repository's last segment,
/// lowercased, with every run of other characters made one `-` and cut to 63 characters.
pub fn app_name(repository: &str) -> Result<String, ScaffoldError> {
    let last = repository.rsplit('/').next().unwrap_or(repository);
    let mut name = String::new();
    for c in last.to_ascii_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else if !name.ends_with('-') && !name.is_empty() {
            name.push('-');
        }
    }
    name.truncate(63);
    let name = name.trim_end_matches('-').to_string();
    check_label("the app name", &name)?;
    Ok(name)
}

/// `name=value` of a `--variable` flag, the name checked as Spin checks `[variables]`.
pub fn parse_variable(text: &str) -> Result<(String, String), ScaffoldError> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| ScaffoldError::NotAssignment(text.to_string()))?;
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        return Err(ScaffoldError::BadVariable(name.to_string()));
    }
    Ok((name.to_string(), value.to_string()))
}

/// The objects for `s`, as one YAML stream.
pub fn scaffold(s: &Scaffold) -> Result<String, ScaffoldError> {
    check_label("the app name", &s.name)?;
    check_label("the executor", &s.executor)?;
    let pinned = s
        .image
        .rsplit_once("@sha256:")
        .is_some_and(|(_, hex)| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    if !pinned {
        return Err(ScaffoldError::NotPinned(s.image.clone()));
    }
    let replicas =
        i32::try_from(s.replicas).map_err(|_| ScaffoldError::TooManyReplicas(s.replicas))?;
    for secret in &s.image_pull_secrets {
        check_subdomain("the image pull secret", secret)?;
    }
    for (name, _) in &s.variables {
        parse_variable(&format!("{name}="))?;
    }
    let secret_name = format!("{}-runtime-config", s.name);
    let mut spec = json!({
        "image": s.image,
        "executor": s.executor,
        "replicas": replicas,
    });
    if !s.variables.is_empty() {
        spec["variables"] = s
            .variables
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect();
    }
    if !s.image_pull_secrets.is_empty() {
        spec["imagePullSecrets"] = s
            .image_pull_secrets
            .iter()
            .map(|name| json!({"name": name}))
            .collect();
    }
    if s.runtime_config.is_some() {
        check_subdomain("the runtime config secret", &secret_name)?;
        spec["runtimeConfig"] = json!({"loadFromSecret": secret_name});
    }
    let mut documents = vec![json!({
        "apiVersion": API_VERSION,
        "kind": "SpinApp",
        "metadata": {"name": s.name},
        "spec": spec,
    })];
    if let Some(config) = &s.runtime_config {
        documents.push(json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": secret_name},
            "type": "Opaque",
            "data": {
                "runtime-config.toml": base64::engine::general_purpose::STANDARD.encode(config),
            },
        }));
    }
    if s.runtime_class {
        documents.push(runtime_class());
    }
    Ok(documents
        .iter()
        .map(yaml::document)
        .collect::<Vec<_>>()
        .join(""))
}

/// The `RuntimeClass` that runs pods with this project's shim.
pub fn runtime_class() -> Value {
    json!({
        "apiVersion": "node.k8s.io/v1",
        "kind": "RuntimeClass",
        "metadata": {"name": RUNTIME_CLASS},
        "handler": RUNTIME_HANDLER,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> Scaffold {
        Scaffold {
            name: "hello".into(),
            image: format!("ghcr.io/acme/hello@sha256:{}", "ab".repeat(32)),
            replicas: 2,
            executor: EXECUTOR.into(),
            runtime_config: None,
            variables: vec![],
            image_pull_secrets: vec![],
            runtime_class: false,
        }
    }

    #[test]
    fn names_follow_kubernetes_rules() {
        assert_eq!(app_name("acme/Hello_World.app").unwrap(), "hello-world-app");
        assert_eq!(app_name("x/-a-").unwrap(), "a");
        assert!(app_name("x/___").is_err());
        assert!(check_label("n", "a.b").is_err());
        assert!(check_subdomain("n", "a.b").is_ok());
        assert!(check_subdomain("n", "a..b").is_err());
        assert!(check_label("n", &"a".repeat(64)).is_err());
        assert!(check_label("n", "-a").is_err());
    }

    #[test]
    fn variables_are_checked_as_spin_checks_them() {
        assert_eq!(
            parse_variable("api_key=a=b").unwrap(),
            ("api_key".into(), "a=b".into())
        );
        assert!(matches!(
            parse_variable("API_KEY=x"),
            Err(ScaffoldError::BadVariable(_))
        ));
        assert!(matches!(
            parse_variable("x"),
            Err(ScaffoldError::NotAssignment(_))
        ));
    }

    #[test]
    fn only_pinned_images_are_scaffolded() {
        let mut s = app();
        s.image = "ghcr.io/acme/hello:v1".into();
        assert!(matches!(scaffold(&s), Err(ScaffoldError::NotPinned(_))));
        let out = scaffold(&app()).unwrap();
        assert!(
            out.starts_with("---\napiVersion: \"core.spinkube.dev/v1alpha1\"\n"),
            "{out}"
        );
        assert!(out.contains("  replicas: 2\n"), "{out}");
    }
}
