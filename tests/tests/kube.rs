//! `spin kube scaffold`: an app pushed to a real registry comes back as a SpinApp pinned by
//! the digest the push reported, valid against SpinKube's own CRD schema
//! (tests/fixtures/spinkube), with its runtime config as a Secret and the RuntimeClass of this
//! project's shim; bad input is refused before anything is written.

use serde_json::Value;
use spin_tests::registry::Registry;
use spin_tests::sandbox::Sandbox;
use spin_tests::{apps, repo_root};

/// The `openAPIV3Schema` of SpinKube's `SpinApp` v1alpha1.
fn spinapp_schema() -> Value {
    let path = repo_root().join("tests/fixtures/spinkube/core.spinkube.dev_spinapps.yaml");
    let crd: Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let version = crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "v1alpha1")
        .unwrap();
    version["schema"]["openAPIV3Schema"].clone()
}

/// Check `value` against an OpenAPI v3 structural schema, as the API server does with
/// `--validate=strict` (unknown fields are errors); every problem, by path.
fn validate(schema: &Value, value: &Value, path: &str, problems: &mut Vec<String>) {
    let mut problem = |what: String| problems.push(format!("{path}: {what}"));
    if schema["x-kubernetes-int-or-string"] == true {
        if !(value.is_i64() || value.is_string()) {
            problem(format!("{value} is neither an integer nor a string"));
        }
        return;
    }
    match schema["type"].as_str() {
        Some("object") => {
            let Some(map) = value.as_object() else {
                return problem(format!("{value} is not an object"));
            };
            for required in schema["required"].as_array().into_iter().flatten() {
                if !map.contains_key(required.as_str().unwrap()) {
                    problem(format!("`{required}` is required"));
                }
            }
            let preserve = schema["x-kubernetes-preserve-unknown-fields"] == true;
            for (key, v) in map {
                let child = format!("{path}.{key}");
                if let Some(s) = schema["properties"].get(key) {
                    validate(s, v, &child, problems);
                } else if let Some(s) = schema.get("additionalProperties") {
                    validate(s, v, &child, problems);
                } else if !preserve && schema.get("properties").is_some() {
                    problems.push(format!("{child}: unknown field"));
                }
            }
        }
        Some("array") => {
            let Some(items) = value.as_array() else {
                return problem(format!("{value} is not an array"));
            };
            if let Some(min) = schema["minItems"].as_u64()
                && (items.len() as u64) < min
            {
                problem(format!("fewer than {min} items"));
            }
            for (i, item) in items.iter().enumerate() {
                validate(&schema["items"], item, &format!("{path}[{i}]"), problems);
            }
        }
        Some("string") => {
            if !value.is_string() {
                problem(format!("{value} is not a string"));
            }
            if let Some(allowed) = schema["enum"].as_array()
                && !allowed.contains(value)
            {
                problem(format!("{value} is not one of {allowed:?}"));
            }
        }
        Some("integer") => match value.as_i64() {
            Some(n) if schema["format"] == "int32" && i32::try_from(n).is_err() => {
                problem(format!("{n} is not an int32"))
            }
            Some(_) => {}
            None => problem(format!("{value} is not an integer")),
        },
        Some("boolean") if !value.is_boolean() => problem(format!("{value} is not a boolean")),
        _ => {}
    }
}

fn problems(value: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    validate(&spinapp_schema(), value, "", &mut problems);
    problems
}

/// The documents of a YAML stream.
fn documents(yaml: &str) -> Vec<Value> {
    use serde::Deserialize;
    serde_yaml::Deserializer::from_str(yaml)
        .map(|d| Value::deserialize(d).unwrap())
        .collect()
}

#[test]
fn the_validator_catches_what_the_api_server_would_refuse() {
    let good: Value = serde_json::json!({
        "apiVersion": "core.spinkube.dev/v1alpha1", "kind": "SpinApp",
        "metadata": {"name": "a"},
        "spec": {"image": "x@sha256:00", "executor": "containerd-shim-spin", "replicas": 2}
    });
    assert_eq!(problems(&good), Vec::<String>::new());
    let mut bad = good.clone();
    bad["spec"]["replicas"] = "2".into();
    bad["spec"]["replica"] = 2.into();
    bad["spec"].as_object_mut().unwrap().remove("executor");
    bad["spec"]["variables"] = serde_json::json!([{"value": "v"}]);
    let found = problems(&bad);
    for expected in [
        ".spec.replicas: \"2\" is not an integer",
        ".spec.replica: unknown field",
        ".spec: `\"executor\"` is required",
        ".spec.variables[0]: `\"name\"` is required",
    ] {
        assert!(
            found.iter().any(|p| p == expected),
            "{expected} not in {found:?}"
        );
    }
}

#[test]
fn scaffold_pins_the_pushed_digest_and_fits_spinkubes_schema() {
    let registry = Registry::start();
    let user = Sandbox::new();
    let app = apps::two_component_app();
    let reference = format!("{}/acme/hello_app:v1", registry.host());
    let digest = user.push(app.path(), &reference);
    std::fs::write(
        user.work().join("rc.toml"),
        "[key_value_store.default]\ntype = \"spin\"\n",
    )
    .unwrap();
    let out = user
        .spin(&[
            "kube",
            "scaffold",
            "--from",
            &reference,
            "--replicas",
            "3",
            "--variable",
            "greeting=hi: there",
            "--variable",
            "api_key=true",
            "--image-pull-secret",
            "regcred",
            "--runtime-config-file",
            "rc.toml",
            "--runtime-class",
        ])
        .insecure()
        .ok()
        .stdout();
    let docs = documents(&out);
    assert_eq!(docs.len(), 3, "{out}");
    let spinapp = &docs[0];
    assert_eq!(problems(spinapp), Vec::<String>::new(), "{out}");
    assert_eq!(spinapp["kind"], "SpinApp");
    assert_eq!(spinapp["metadata"]["name"], "hello-app");
    let image = format!("{}/acme/hello_app@{digest}", registry.host());
    assert_eq!(spinapp["spec"]["image"], image.as_str());
    assert_eq!(spinapp["spec"]["replicas"], 3);
    assert_eq!(spinapp["spec"]["executor"], "containerd-shim-spin");
    assert_eq!(
        spinapp["spec"]["variables"],
        serde_json::json!([{"name": "greeting", "value": "hi: there"}, {"name": "api_key", "value": "true"}])
    );
    assert_eq!(
        spinapp["spec"]["imagePullSecrets"],
        serde_json::json!([{"name": "regcred"}])
    );
    assert!(
        spinapp["spec"].get("volumes").is_none(),
        "the fixture elides volumes' schema"
    );
    let secret = &docs[1];
    assert_eq!(
        spinapp["spec"]["runtimeConfig"]["loadFromSecret"],
        secret["metadata"]["name"]
    );
    assert_eq!(
        (secret["kind"].as_str(), secret["type"].as_str()),
        (Some("Secret"), Some("Opaque"))
    );
    use base64::Engine as _;
    let config = base64::engine::general_purpose::STANDARD
        .decode(secret["data"]["runtime-config.toml"].as_str().unwrap())
        .unwrap();
    assert_eq!(config, std::fs::read(user.work().join("rc.toml")).unwrap());
    assert_eq!(
        docs[2],
        serde_json::json!({"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass",
            "metadata": {"name": "wasmtime-spin-v2"}, "handler": "spin"})
    );

    // A reference already pinned needs no registry; --out writes the file.
    let pinned = format!("{}/acme/hello_app@{digest}", registry.host());
    drop(registry);
    user.spin(&[
        "kube", "scaffold", "--from", &pinned, "--name", "web", "--out", "app.yaml",
    ])
    .ok();
    let docs = documents(&std::fs::read_to_string(user.work().join("app.yaml")).unwrap());
    assert_eq!(docs.len(), 1);
    assert_eq!(problems(&docs[0]), Vec::<String>::new());
    assert_eq!(
        (
            docs[0]["metadata"]["name"].as_str(),
            docs[0]["spec"]["replicas"].as_i64()
        ),
        (Some("web"), Some(2))
    );
}

#[test]
fn bad_input_is_refused_before_the_registry_is_asked() {
    let user = Sandbox::new();
    let pinned = format!("127.0.0.1:1/acme/app@sha256:{}", "ab".repeat(32));
    for (args, needle) in [
        (
            vec!["--variable", "API_KEY=x"],
            "`API_KEY` is not a Spin variable name",
        ),
        (
            vec!["--variable", "novalue"],
            "`novalue` is not `name=value`",
        ),
        (
            vec!["--name", "My.App"],
            "`My.App` is not a Kubernetes name",
        ),
        (
            vec!["--image-pull-secret", "Reg_Cred"],
            "`Reg_Cred` is not a Kubernetes name",
        ),
        (
            vec!["--runtime-config-file", "missing.toml"],
            "reading the runtime config",
        ),
    ] {
        let mut all = vec!["kube", "scaffold", "--from", &pinned];
        all.extend(args);
        user.spin(&all).fails_with(&[needle]);
    }
    std::fs::write(user.work().join("bad.toml"), "[key_value_store.default\n").unwrap();
    user.spin(&["kube", "scaffold", "--from", &pinned, "-c", "bad.toml"])
        .fails_with(&["bad.toml is not valid TOML"]);
    // A tag the registry does not have: the resolution's error, nothing written.
    let registry = Registry::start();
    let missing = format!("{}/acme/nothing:v1", registry.host());
    user.spin(&["kube", "scaffold", "--from", &missing, "-o", "out.yaml"])
        .insecure()
        .fails();
    assert!(!user.work().join("out.yaml").exists());
}
