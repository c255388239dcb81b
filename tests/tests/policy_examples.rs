//! The shipped example policies, on the local registry and Sigstore instance: each lints
//! clean, matches the JSON Schema, and decides as its comments say.

use spin_tests::world::*;
use spin_tests::{assert_contains, output_text, repo_root};
use std::path::{Path, PathBuf};

/// An example policy rewritten for the local world: scopes on this registry (the
/// example's host replaced), trust material of the local instance, keys as given.
fn localize(example: &Path, world: &World, key: Option<&Path>) -> PathBuf {
    let text = std::fs::read_to_string(example).unwrap();
    let mut doc: toml::Table = text.parse().unwrap();
    let host = world.registry.host();
    for rule in doc["rule"].as_array_mut().unwrap() {
        let rule = rule.as_table_mut().unwrap();
        let local = |s: &str| {
            if s == "*" {
                s.to_string()
            } else {
                format!("{host}/{}", s.split_once('/').unwrap().1)
            }
        };
        let scope = match &rule["scope"] {
            toml::Value::String(s) => toml::Value::String(local(s)),
            toml::Value::Array(a) => toml::Value::Array(
                a.iter()
                    .map(|s| local(s.as_str().unwrap()).into())
                    .collect(),
            ),
            other => panic!("scope {other}"),
        };
        rule.insert("scope".into(), scope);
        rule.remove("trust");
        rule.insert(
            "trusted_root".into(),
            world.sigstore.trusted_root().display().to_string().into(),
        );
        for a in rule.get_mut("authority").unwrap().as_array_mut().unwrap() {
            let a = a.as_table_mut().unwrap();
            if a.contains_key("key") {
                a.insert("key".into(), key.unwrap().display().to_string().into());
            }
        }
    }
    let out = world.user.home().join(
        example
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .replace(".toml", "-local.toml"),
    );
    std::fs::write(&out, toml::to_string(&doc).unwrap()).unwrap();
    out
}

fn examples() -> Vec<PathBuf> {
    let dir = repo_root().join("policies");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    out.push(dir.join("air-gapped/policy.toml"));
    out.sort();
    out
}

#[test]
fn shipped_examples_lint_clean_and_match_the_json_schema() {
    let examples = examples();
    assert_eq!(examples.len(), 5, "{examples:?}");
    for e in &examples {
        let lint = spin_tests::spin(&["policy", "lint", e.to_str().unwrap()], &repo_root());
        assert!(lint.status.success(), "{}", output_text(&lint));
        assert_contains(&output_text(&lint), "ok (");
        assert!(
            !output_text(&lint).contains("warning:"),
            "{}",
            output_text(&lint)
        );
    }
    // The independent check: Python's jsonschema validates each example (read with tomllib)
    // against the published schema, and rejects a file with a misspelt key.
    let python = spin_tests::setup_cache().join("oras/bin/python");
    let script = r#"
import json, sys, tomllib, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
for path in sys.argv[2:]:
    jsonschema.validate(tomllib.load(open(path, "rb")), schema)
bad = {"version": 1, "rule": [{"scope": "*", "treshold": 2, "authority": [{"key": "k.pub"}]}]}
try:
    jsonschema.validate(bad, schema)
    sys.exit("a misspelt key validated")
except jsonschema.ValidationError:
    pass
print("valid")
"#;
    let mut args: Vec<String> = vec![
        "-c".into(),
        script.into(),
        repo_root()
            .join("policies/policy.schema.json")
            .display()
            .to_string(),
    ];
    args.extend(examples.iter().map(|e| e.display().to_string()));
    let out = std::process::Command::new(python)
        .args(&args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
}

#[test]
fn shipped_examples_decide_as_their_comments_say() {
    let w = World::new();
    let examples = repo_root().join("policies");
    let check = |policy: &Path, reference: &str, allow: bool, needle: &str| {
        let (code, d) = w.verify(reference, policy);
        assert_eq!(
            code,
            if allow { 0 } else { 1 },
            "{reference} under {}: {d:#}",
            policy.display()
        );
        assert!(d.to_string().contains(needle), "{needle:?} not in {d:#}");
    };

    // github-release.toml: the release workflow on a tag, GitHub-hosted.
    let release = localize(&examples.join("github-release.toml"), &w, None);
    let app = w.reference("acme/app:v1.2.0");
    let tagged = w.push("acme/app:v1.2.0", "release");
    let pinned = format!("{}@{tagged}", w.reference("acme/app"));
    check(&release, &app, false, "has no signatures");
    w.sign_workflow(
        &app,
        "acme/app",
        "release.yml",
        "refs/heads/main",
        "github-hosted",
    );
    check(&release, &app, false, "refs/heads/main");
    w.sign_workflow(
        &app,
        "acme/app",
        "release.yml",
        "refs/tags/v1.2.0",
        "self-hosted",
    );
    check(
        &release,
        &app,
        false,
        "the runner is self-hosted, not github-hosted",
    );
    w.sign_workflow(
        &app,
        "acme/app",
        "release.yml",
        "refs/tags/v1.2.0",
        "github-hosted",
    );
    check(&release, &pinned, true, "\"satisfied_by\"");

    // github-org.toml: any acme workflow, nested repositories too, never acme-evil.
    let org = localize(&examples.join("github-org.toml"), &w, None);
    let tool = w.publish("acme/team/tool:v1", "tool");
    w.sign_workflow(
        &tool,
        "acme-evil/tool",
        "ci.yml",
        "refs/heads/main",
        "github-hosted",
    );
    check(&org, &tool, false, "is not /^https://github\\\\.com/acme//");
    w.sign_workflow(
        &tool,
        "acme/tool",
        "ci.yml",
        "refs/heads/main",
        "github-hosted",
    );
    check(&org, &tool, true, "any acme workflow");

    // two-of-three-maintainers.toml: one person twice is one signer.
    let two = localize(&examples.join("two-of-three-maintainers.toml"), &w, None);
    let payments = w.publish("acme/payments:v3", "payments");
    w.sign(
        &payments,
        &w.person("alice@acme.example", GITHUB_LOGIN),
        &[],
    );
    w.sign(
        &payments,
        &w.person("alice@acme.example", GITHUB_LOGIN),
        &[],
    );
    let (code, d) = w.verify(&payments, &two);
    assert_eq!((code, d["satisfied"].as_u64()), (1, Some(1)), "{d:#}");
    assert_eq!(d["signatures"].as_array().unwrap().len(), 2, "{d:#}");
    w.sign(&payments, &w.person("bob@acme.example", GITHUB_LOGIN), &[]);
    let (code, d) = w.verify(&payments, &two);
    assert_eq!((code, d["satisfied"].as_u64()), (0, Some(2)), "{d:#}");

    // air-gapped/policy.toml: the site key, no log, a signed timestamp.
    let keys = tempfile::tempdir().unwrap();
    let (key, public) = key_pair(keys.path(), "site");
    let air = localize(&examples.join("air-gapped/policy.toml"), &w, Some(&public));
    let site = w.publish("site/app:v1", "site");
    check(&air, &site, false, "has no signatures");
    w.sign_with_key(&site, &key, &["--tlog-upload=false"]);
    check(&air, &site, true, "\"kind\":\"key\"");

    // audit-rollout.toml: acme/app enforced; everything else runs, and is reported.
    let audit = localize(&examples.join("audit-rollout.toml"), &w, None);
    let other = w.publish("acme/other:v1", "other");
    let (code, d) = w.verify(&other, &audit);
    assert_eq!(code, 0, "{d:#}");
    assert_eq!(d["rule"]["mode"], "audit");
    assert_contains(&problems(&d), "has no signatures");
    let unsigned_app = w.publish("acme/app:unsigned", "unsigned");
    check(&audit, &unsigned_app, false, "acme/app (enforced)");
}
