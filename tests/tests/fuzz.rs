//! Property tests for every parser that reads input from outside: the manifest, the
//! locked app, verification policies, runtime config, Sigstore bundles and OCI
//! references. Inputs are real files mutated (characters inserted, replaced, deleted,
//! truncated; tokens of the format's own syntax dropped in) plus arbitrary text. For each:
//! no panic, no hang (every case is a bounded parse; the run is capped in cases), and every
//! error says where: `file:line:col` for TOML, a JSON line/column or field path for JSON,
//! the input itself for references.
//!
//! `PROPTEST_CASES` raises the number of cases for a longer run.

use proptest::prelude::*;
use std::path::Path;

/// Pieces of TOML and JSON syntax (and a few hostile values) to splice into seeds.
const TOKENS: &[&str] = &[
    "[",
    "]",
    "[[",
    "]]",
    "{",
    "}",
    "=",
    ",",
    ".",
    "\"",
    "'",
    "\"\"\"",
    "\n",
    "#",
    "\\",
    ":",
    "0",
    "-1",
    "1e999",
    "99999999999999999999999",
    "true",
    "null",
    "\u{0}",
    "\u{7f}",
    "é",
    "../",
    "..",
    "/",
    "*",
    "{{",
    "}}",
    "sha256:",
    "\"x\"",
    "[]",
    "{}",
    " ",
    "\t",
    "\r\n",
    "spin_manifest_version",
    "version",
    "component",
    "route",
    "files",
    "source",
    "inline",
];

#[derive(Debug, Clone)]
enum Edit {
    Insert(f64, usize),
    Replace(f64, usize),
    Delete(f64, usize),
    Truncate(f64),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0.0..1.0, 0..TOKENS.len()).prop_map(|(p, t)| Edit::Insert(p, t)),
        (0.0..1.0, 0..TOKENS.len()).prop_map(|(p, t)| Edit::Replace(p, t)),
        (0.0..1.0, 1usize..16).prop_map(|(p, n)| Edit::Delete(p, n)),
        (0.0..1.0).prop_map(Edit::Truncate),
    ]
}

fn boundary(s: &str, at: f64) -> usize {
    let mut i = ((s.len() as f64) * at) as usize;
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i.min(s.len())
}

fn apply(seed: &str, edits: &[Edit]) -> String {
    let mut s = seed.to_string();
    for e in edits {
        match *e {
            Edit::Insert(p, t) => {
                let i = boundary(&s, p);
                s.insert_str(i, TOKENS[t]);
            }
            Edit::Replace(p, t) => {
                let i = boundary(&s, p);
                let end = s[i..].chars().next().map(|c| i + c.len_utf8()).unwrap_or(i);
                s.replace_range(i..end, TOKENS[t]);
            }
            Edit::Delete(p, n) => {
                let i = boundary(&s, p);
                let mut end = (i + n).min(s.len());
                while !s.is_char_boundary(end) {
                    end += 1;
                }
                s.replace_range(i..end, "");
            }
            Edit::Truncate(p) => {
                let i = boundary(&s, p);
                s.truncate(i);
            }
        }
    }
    s
}

/// Mutations of the seeds, and arbitrary text.
fn inputs(seeds: Vec<String>) -> impl Strategy<Value = String> {
    let n = seeds.len();
    prop_oneof![
        4 => (0..n, prop::collection::vec(edit(), 0..10))
            .prop_map(move |(i, edits)| apply(&seeds[i], &edits)),
        1 => ".{0,300}",
    ]
}

fn read(path: &str) -> String {
    std::fs::read_to_string(spin_tests::repo_root().join(path)).unwrap()
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(300),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// `name:line:col: ` at the start of the message.
fn located(message: &str, name: &str) -> bool {
    let Some(rest) = message.strip_prefix(&format!("{name}:")) else {
        return false;
    };
    let mut parts = rest.splitn(3, ':');
    let (Some(line), Some(col)) = (parts.next(), parts.next()) else {
        return false;
    };
    !line.is_empty()
        && !col.is_empty()
        && line.bytes().all(|b| b.is_ascii_digit())
        && col.bytes().all(|b| b.is_ascii_digit())
}

fn manifest_seeds() -> Vec<String> {
    vec![
        read("examples/hello/spin.toml"),
        "spin_manifest_version = \"1\"\nname = \"v1\"\ntrigger = { type = \"http\", base = \"/\" }\n[[component]]\nid = \"hello\"\nsource = \"a.wasm\"\nfiles = [\"static/*\", { source = \"a\", destination = \"/b\" }]\nallowed_http_hosts = [\"example.com\"]\n[component.trigger]\nroute = \"/hello/...\"\n".into(),
        "spin_manifest_version = 2\n[application]\nname = \"x\"\n[variables]\nwho = { default = \"w\" }\n[[trigger.http]]\nroute = { private = true }\ncomponent = { source = \"i.wasm\" }\n[component.a]\nsource = { url = \"https://example.com/a.wasm\", digest = \"sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\" }\nallowed_outbound_hosts = [\"https://{{ who }}.example.com:8080\", \"*://*.x.io:*\"]\nkey_value_stores = [\"default\"]\n[component.a.variables]\nk = \"{{ who }}\"\n[component.a.build]\ncommand = \"make\"\nwatch = [\"src/**/*\"]\n".into(),
    ]
}

fn policy_seeds() -> Vec<String> {
    [
        "policies/github-release.toml",
        "policies/github-org.toml",
        "policies/two-of-three-maintainers.toml",
        "policies/audit-rollout.toml",
    ]
    .iter()
    .map(|p| read(p))
    .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn manifests(text in inputs(manifest_seeds())) {
        if let Err(e) = spin_app::manifest::parse(Path::new("spin.toml"), &text) {
            let message = e.to_string();
            prop_assert!(located(&message, "spin.toml"), "{message}\n--- input\n{text}");
            prop_assert!(message.contains("help:"), "{message}");
        }
    }

    #[test]
    fn policies(text in inputs(policy_seeds())) {
        if let Err(e) = spin_verify::policy::parse::parse(Path::new("policy.toml"), &text) {
            let message = e.to_string();
            prop_assert!(located(&message, "policy.toml"), "{message}\n--- input\n{text}");
        }
    }

    #[test]
    fn runtime_configs(text in inputs(vec![
        "[key_value_store.default]\ntype = \"spin\"\npath = \"data/kv.db\"\n\n[key_value_store.cache]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379\"\n".into(),
    ])) {
        if let Err(e) = spin_runtime::runtime_config::RuntimeConfig::parse(Path::new("runtime-config.toml"), &text) {
            let message = e.to_string();
            prop_assert!(located(&message, "runtime-config.toml"), "{message}\n--- input\n{text}");
        }
    }

    #[test]
    fn locked_apps(text in inputs(vec![
        r#"{"spin_lock_version": 1, "metadata": {"name": "a", "triggers": {"http": {"base": "/"}}}, "variables": {"who": {"default": "w"}}, "triggers": [{"id": "t", "trigger_type": "http", "trigger_config": {"component": "c", "route": "/..."}}], "components": [{"id": "c", "metadata": {"key_value_stores": ["default"]}, "source": {"content_type": "application/wasm", "digest": "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}, "env": {"A": "b"}, "files": [{"inline": "aGk", "path": "/a.txt"}, {"digest": "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", "path": "/b/c"}], "config": {"k": "{{ who }}"}}]}"#.into(),
    ])) {
        if let Err(e) = spin_app::locked::LockedApp::from_json(text.as_bytes()) {
            let message = e.to_string();
            let json_located = message.contains(" at line ") && message.contains(" column ");
            let field_located = ["components[", "triggers[", "metadata.", "variables."]
                .iter()
                .any(|f| message.starts_with(f));
            let trigger = message.starts_with("trigger `");
            prop_assert!(json_located || field_located || trigger, "{message}\n--- input\n{text}");
        }
    }

    #[test]
    fn sigstore_bundles(text in inputs(vec![
        read("tests/fixtures/sigstore-conformance/bundle-verify/happy-path-v0.3/bundle.sigstore.json"),
        read("tests/fixtures/sigstore-conformance/bundle-verify/happy-path-v0.1/bundle.sigstore.json"),
    ])) {
        if let Err(message) = spin_verify::bundle::parse_bundle(&text) {
            prop_assert!(!message.trim().is_empty());
            if message.starts_with("JSON error") {
                prop_assert!(message.contains(" at line ") || message.contains("EOF"), "{message}");
            }
        }
    }

    #[test]
    fn oci_references(text in inputs(vec![
        "ghcr.io/acme/app:v1".into(),
        "127.0.0.1:5000/a/b__c/d-e.f:1.0@sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824".into(),
        "[::1]:5000/app".into(),
        "docker.io/library/app".into(),
    ])) {
        match text.parse::<spin_registry::Reference>() {
            Ok(r) => {
                // What parses prints back to something that parses to the same thing, and
                // never carries characters a URL would read as a query or fragment.
                let again: spin_registry::Reference = r.to_string().parse().unwrap();
                prop_assert_eq!(&again, &r);
                prop_assert!(!r.registry().contains(['?', '#', '/', '@']), "{}", r);
            }
            Err(e) => {
                let message = e.to_string();
                prop_assert!(message.contains(&format!("`{}`", text.trim())) || message.contains("invalid reference"), "{message}");
                prop_assert!(message.contains("help:"), "{message}");
            }
        }
    }
}
