//! Verification policies end to end, on the local registry and the local Sigstore
//! instance: the shipped examples (linted, checked against the JSON Schema, and deciding
//! as their comments say), one test per policy feature (most specific rule, regex
//! anchoring, distinct-signer thresholds, audit mode, GitHub claims, signature age, signed timestamps,
//! legacy `.sig` signatures, attestations), inline `[[test]]` cases, and the `spin up` gate
//! (signed app served, unsigned refused, wrong identity refused, audit runs and reports, a
//! tag moved after verification changes nothing).

use spin_tests::registry::Registry;
use spin_tests::sigstore::LocalSigstore;
use spin_tests::{HookProxy, Spin, output_text, pushed_digest, repo_root, spin_env};
use std::path::{Path, PathBuf};
use std::process::Output;

const GITHUB: &str = "https://token.actions.githubusercontent.com";
const GITHUB_LOGIN: &str = "https://github.com/login/oauth";

/// A registry, a Sigstore instance and a user (home, config, cache, no keyring).
struct World {
    registry: Registry,
    sigstore: LocalSigstore,
    home: tempfile::TempDir,
}

/// A one-component app (the committed WAT hello component) named `name`: each name makes
/// a different locked app, so a different digest.
fn app(name: &str) -> tempfile::TempDir {
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"{name}\"\nversion = \"1.0.0\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"hello\"\n[component.hello]\nsource = {:?}\n",
        spin_tests::component("hello")
    );
    spin_tests::app_dir(&[("spin.toml", manifest.as_bytes())])
}

impl World {
    fn new() -> Self {
        Self {
            registry: Registry::start(),
            sigstore: LocalSigstore::start(),
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        let h = self.home.path();
        vec![
            ("HOME", h.display().to_string()),
            ("XDG_CONFIG_HOME", h.join("config").display().to_string()),
            ("XDG_CACHE_HOME", h.join("cache").display().to_string()),
            ("SPIN_DISABLE_KEYRING", "1".into()),
        ]
    }

    fn spin(&self, args: &[&str]) -> Output {
        let env = self.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        spin_env(args, self.home.path(), &env)
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.spin(args);
        assert!(
            out.status.success(),
            "spin {args:?}: {}\n{}",
            output_text(&out),
            self.sigstore.log()
        );
        output_text(&out)
    }

    /// `host/repo:tag` of this registry.
    fn reference(&self, repo_tag: &str) -> String {
        format!("{}/{repo_tag}", self.registry.host())
    }

    /// Push an app named `name` to `repo_tag`; its digest.
    fn push(&self, repo_tag: &str, name: &str) -> String {
        let dir = app(name);
        let out = spin_env(
            &["registry", "push", &self.reference(repo_tag), "--insecure"],
            dir.path(),
            &[
                ("HOME", &self.home.path().display().to_string()),
                ("SPIN_DISABLE_KEYRING", "1"),
            ],
        );
        assert!(out.status.success(), "{}", output_text(&out));
        pushed_digest(&output_text(&out))
    }

    /// Sign `reference` keylessly with `token`, with `extra` flags.
    fn sign(&self, reference: &str, token: &str, extra: &[&str]) {
        let (tr, sc) = (self.sigstore.trusted_root(), self.sigstore.signing_config());
        let mut args = vec![
            "sign",
            reference,
            "--insecure",
            "--identity-token",
            token,
            "--trusted-root",
            tr.to_str().unwrap(),
            "--signing-config",
            sc.to_str().unwrap(),
        ];
        args.extend(extra);
        self.ok(&args);
    }

    /// A token for a person signing with their email through `issuer`.
    fn person(&self, email: &str, issuer: &str) -> String {
        self.sigstore.token(serde_json::json!({
            "sub": email, "email": email, "iss": issuer,
        }))
    }

    /// A GitHub Actions token: `repo`'s workflow `file` run for `git_ref` on `event`.
    fn workflow(&self, repo: &str, file: &str, git_ref: &str, event: &str, runner: &str) -> String {
        let workflow = format!("{repo}/.github/workflows/{file}@{git_ref}");
        self.sigstore.token(serde_json::json!({
            "iss": GITHUB,
            "sub": format!("repo:{repo}:ref:{git_ref}"),
            "claims": {
                "repository": repo,
                "repository_owner": repo.split('/').next().unwrap(),
                "job_workflow_ref": workflow,
                "workflow_ref": workflow,
                "event_name": event,
                "ref": git_ref,
                "sha": "4f1c0ffee4f1c0ffee4f1c0ffee4f1c0ffee4f1c",
                "runner_environment": runner,
            },
        }))
    }

    /// Sign `reference` with the cosign key file `key` (password `pw`), with `extra` flags.
    fn sign_with_key(&self, reference: &str, key: &Path, extra: &[&str]) {
        let (tr, sc) = (self.sigstore.trusted_root(), self.sigstore.signing_config());
        let mut args = vec![
            "sign",
            reference,
            "--insecure",
            "--key",
            key.to_str().unwrap(),
            "--trusted-root",
            tr.to_str().unwrap(),
            "--signing-config",
            sc.to_str().unwrap(),
        ];
        args.extend(extra);
        let env = self.env();
        let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        env.push(("COSIGN_PASSWORD", "pw"));
        let out = spin_env(&args, self.home.path(), &env);
        assert!(out.status.success(), "{}", output_text(&out));
    }

    /// Sign `reference` as `repo`'s workflow `file`, pushed to `git_ref`, on `runner`.
    fn sign_workflow(&self, reference: &str, repo: &str, file: &str, git_ref: &str, runner: &str) {
        self.sign(
            reference,
            &self.workflow(repo, file, git_ref, "push", runner),
            &[],
        );
    }

    /// `spin verify REF --policy FILE --format json`: exit code and decision.
    fn verify(&self, reference: &str, policy: &Path) -> (i32, serde_json::Value) {
        let out = self.spin(&[
            "verify",
            reference,
            "--insecure",
            "--policy",
            policy.to_str().unwrap(),
            "--format",
            "json",
        ]);
        let code = out.status.code().unwrap();
        let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "no decision ({e}): {}\n{}",
                output_text(&out),
                self.sigstore.log()
            )
        });
        (code, json)
    }

    /// Write a policy file into the home folder.
    fn policy(&self, name: &str, text: &str) -> PathBuf {
        let p = self.home.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// A rule header trusting this instance, for `scope`.
    fn rule(&self, name: &str, scope: &str) -> String {
        format!(
            "[[rule]]\nname = {name:?}\nscope = {:?}\ntrusted_root = {:?}\n",
            self.reference(scope),
            self.sigstore.trusted_root()
        )
    }

    /// Move the local instance's clock by `offset` seconds (0 to reset).
    fn clock(&self, offset: i64) {
        ureq::post(&format!("{}/admin/clock", self.sigstore.url))
            .send_string(&serde_json::json!({ "offset": offset }).to_string())
            .unwrap();
    }
}

/// A new cosign key pair `<dir>/<name>.key` (password `pw`) and `<dir>/<name>.pub`.
fn key_pair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let made = spin_env(
        &["signing", "generate-key-pair", "--output-key-prefix", name],
        dir,
        &[("COSIGN_PASSWORD", "pw")],
    );
    assert!(made.status.success(), "{}", output_text(&made));
    (
        dir.join(format!("{name}.key")),
        dir.join(format!("{name}.pub")),
    )
}

fn problems(d: &serde_json::Value) -> String {
    format!("{} {}", d["problems"], d["signatures"])
}

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
    let out = world.home.path().join(
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
        assert!(
            output_text(&lint).contains("ok ("),
            "{}",
            output_text(&lint)
        );
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
    let tool = w.reference("acme/team/tool:v1");
    w.push("acme/team/tool:v1", "tool");
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
    let payments = w.reference("acme/payments:v3");
    w.push("acme/payments:v3", "payments");
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
    let site = w.reference("site/app:v1");
    w.push("site/app:v1", "site");
    check(&air, &site, false, "has no signatures");
    w.sign_with_key(&site, &key, &["--tlog-upload=false"]);
    check(&air, &site, true, "\"kind\":\"key\"");

    // audit-rollout.toml: acme/app enforced; everything else runs, and is reported.
    let audit = localize(&examples.join("audit-rollout.toml"), &w, None);
    let other = w.reference("acme/other:v1");
    w.push("acme/other:v1", "other");
    let (code, d) = w.verify(&other, &audit);
    assert_eq!(code, 0, "{d:#}");
    assert_eq!(d["rule"]["mode"], "audit");
    assert!(problems(&d).contains("has no signatures"), "{d:#}");
    let unsigned_app = w.reference("acme/app:unsigned");
    w.push("acme/app:unsigned", "unsigned");
    check(&audit, &unsigned_app, false, "acme/app (enforced)");
}

#[test]
fn the_most_specific_rule_applies_and_regexes_match_whole_values() {
    let w = World::new();
    let policy = w.policy(
        "specific.toml",
        &format!(
            "version = 1\n{}[[rule.authority]]\nname = \"anyone at acme\"\nissuer = {:?}\nsubject_regex = '.*@acme\\.example'\n\
             {}[[rule.authority]]\nname = \"release bot\"\nissuer = {:?}\nsubject = \"release@acme.example\"\n\
             {}[[rule.authority]]\nname = \"acme workflows\"\nissuer = {GITHUB:?}\nsubject_regex = 'https://github\\.com/acme'\n",
            w.rule("acme", "acme/*"),
            w.sigstore.url,
            w.rule("acme app", "acme/app"),
            w.sigstore.url,
            w.rule("tools", "tools/*"),
        ),
    );
    let dev = w
        .sigstore
        .token(serde_json::json!({"sub": "dev", "email": "dev@acme.example"}));
    for repo in ["acme/app:v1", "acme/lib:v1"] {
        w.push(repo, repo);
        w.sign(&w.reference(repo), &dev, &[]);
    }
    // acme/app: both rules match; the exact one applies, and dev is not the release bot.
    let (code, d) = w.verify(&w.reference("acme/app:v1"), &policy);
    assert_eq!(code, 1, "{d:#}");
    assert_eq!(d["rule"]["name"], "acme app");
    assert_eq!(d["rule"]["why"], "the most specific of 2 matching rules");
    assert!(problems(&d).contains("dev@acme.example"), "{d:#}");
    let (code, d) = w.verify(&w.reference("acme/lib:v1"), &policy);
    assert_eq!(
        (code, d["rule"]["name"].as_str()),
        (0, Some("acme")),
        "{d:#}"
    );
    // No rule covers it: denied, with the fix.
    w.push("other/app:v1", "other");
    let (code, d) = w.verify(&w.reference("other/app:v1"), &policy);
    assert_eq!(code, 1);
    assert!(
        d["rule"].is_null() && d["fixes"][0].as_str().unwrap().contains("add a [[rule]]"),
        "{d:#}"
    );

    // 'https://github\.com/acme' must match the whole subject: neither acme-evil nor a
    // longer acme path. Written with ^, the author opens the end, and lint says so.
    let tool = w.reference("tools/x:v1");
    w.push("tools/x:v1", "x");
    w.sign_workflow(
        &tool,
        "acme-evil/x",
        "ci.yml",
        "refs/heads/main",
        "github-hosted",
    );
    let (code, d) = w.verify(&tool, &policy);
    assert_eq!(code, 1, "{d:#}");
    assert!(
        problems(&d).contains("https://github.com/acme-evil/x/"),
        "{d:#}"
    );
    let open = w.policy(
        "open.toml",
        &format!(
            "version = 1\n{}[[rule.authority]]\nissuer = {GITHUB:?}\nsubject_regex = '^https://github\\.com/acme'\n",
            w.rule("tools", "tools/*")
        ),
    );
    let (code, d) = w.verify(&tool, &open);
    assert_eq!(code, 0, "{d:#}");
    let lint = w.spin(&["policy", "lint", open.to_str().unwrap()]);
    assert!(lint.status.success());
    assert!(
        output_text(&lint).contains("open.toml:8:17: warning: the regex")
            && output_text(&lint).contains("acme-evil"),
        "{}",
        output_text(&lint)
    );
}

#[test]
fn signature_age_timestamps_legacy_signatures_and_attestations() {
    let w = World::new();
    let rule = |extra: &str| {
        format!(
            "version = 1\n{}{extra}\n[[rule.authority]]\nname = \"ops\"\nissuer = {:?}\nsubject = \"ops@example.com\"\n",
            w.rule("apps", "apps/*"),
            w.sigstore.url
        )
    };
    let ops = || {
        w.sigstore
            .token(serde_json::json!({"sub": "ops", "email": "ops@example.com"}))
    };
    let fresh = w.policy("fresh.toml", &rule("max_age = \"1d\""));

    // Signed three days ago (Fulcio, Rekor and the TSA all agree): too old for 1d.
    let old = w.reference("apps/old:v1");
    w.push("apps/old:v1", "old");
    w.clock(-3 * 86_400);
    w.sign(&old, &ops(), &[]);
    w.clock(0);
    let (code, d) = w.verify(&old, &fresh);
    assert_eq!(code, 1, "{d:#}");
    assert!(
        problems(&d).contains("older than the rule's max_age of 1d0h"),
        "{d:#}"
    );

    // Dated two days in the future: refused, whatever the age limit.
    let future = w.reference("apps/future:v1");
    w.push("apps/future:v1", "future");
    w.clock(2 * 86_400);
    w.sign(&future, &ops(), &[]);
    w.clock(0);
    let (code, d) = w.verify(&future, &fresh);
    assert_eq!(code, 1, "{d:#}");
    assert!(problems(&d).contains("future"), "{d:#}");

    // Keyless signatures here always carry a TSA timestamp; one signed with a key and
    // recorded in Rekor has none. A rule requiring a signed timestamp denies it.
    let keys = tempfile::tempdir().unwrap();
    let (key, public) = key_pair(keys.path(), "ops");
    let key_rule = |extra: &str| {
        format!(
            "version = 1\n{}{extra}\n[[rule.authority]]\nname = \"ops key\"\nkey = {public:?}\n",
            w.rule("apps", "apps/*"),
        )
    };
    let by_key = w.policy("key.toml", &key_rule(""));
    let stamped = w.policy("stamped.toml", &key_rule("require_timestamp = true"));
    let plain = w.reference("apps/plain:v1");
    w.push("apps/plain:v1", "plain");
    w.sign_with_key(&plain, &key, &[]);
    assert_eq!(w.verify(&plain, &by_key).0, 0);
    let (code, d) = w.verify(&plain, &stamped);
    assert_eq!(code, 1, "{d:#}");
    assert!(
        problems(&d).contains("requires an RFC 3161 signed timestamp"),
        "{d:#}"
    );

    // Only cosign's legacy .sig layers (the referrers index emptied): found there, and
    // verified from their annotations.
    let legacy = w.reference("apps/legacy:v1");
    let digest = w.push("apps/legacy:v1", "legacy");
    w.sign(&legacy, &ops(), &["--legacy-format"]);
    let index_tag = digest.replace(':', "-");
    let empty = serde_json::json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": []});
    w.registry.put_manifest(
        "apps/legacy",
        &index_tag,
        INDEX,
        empty.to_string().as_bytes(),
    );
    let (code, d) = w.verify(&legacy, &fresh);
    assert_eq!(code, 0, "{d:#}");
    let sources: Vec<&str> = d["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["legacy-sig"], "{d:#}");
    assert_eq!(d["signatures"][0]["signer"]["subject"], "ops@example.com");

    // An attestation is not a signature: a cosign-made DSSE attestation bundle attached
    // as a referrer is reported and not counted.
    let attested = w.reference("apps/attested:v1");
    let digest = w.push("apps/attested:v1", "attested");
    attach_referrer(
        &w.registry,
        "apps/attested",
        &digest,
        &std::fs::read(
            repo_root().join("tests/fixtures/cosign-format/oci-attestation.sigstore.json"),
        )
        .unwrap(),
    );
    let (code, d) = w.verify(&attested, &fresh);
    assert_eq!(code, 1, "{d:#}");
    let check = &d["signatures"][0]["checks"][1];
    assert_eq!(check["check"], "statement", "{d:#}");
    assert!(
        check["detail"]
            .as_str()
            .unwrap()
            .contains("an attestation (https://cosign.sigstore.dev/attestation/v1)"),
        "{d:#}"
    );
}

const INDEX: &str = "application/vnd.oci.image.index.v1+json";
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// Attach `bundle` to `digest` as a referrer, the way cosign does on a registry without
/// the referrers API: the referrer manifest, listed in the `sha256-<hex>` tag index.
fn attach_referrer(registry: &Registry, repo: &str, digest: &str, bundle: &[u8]) {
    let subject = registry.get(&format!("{repo}/manifests/{digest}"), MANIFEST);
    let config = registry.put_blob(repo, b"{}");
    let layer = registry.put_blob(repo, bundle);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "artifactType": BUNDLE,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2},
        "layers": [{"mediaType": BUNDLE, "digest": layer, "size": bundle.len()}],
        "subject": {"mediaType": MANIFEST, "digest": digest, "size": subject.len()},
    })
    .to_string();
    let referrer = format!("sha256:{}", spin_tests::sha256_hex(manifest.as_bytes()));
    registry.put_manifest(repo, &referrer, MANIFEST, manifest.as_bytes());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": INDEX,
        "manifests": [{"mediaType": MANIFEST, "digest": referrer, "size": manifest.len(), "artifactType": BUNDLE}],
    });
    registry.put_manifest(
        repo,
        &digest.replace(':', "-"),
        INDEX,
        index.to_string().as_bytes(),
    );
}

#[test]
fn inline_test_cases_run_offline_and_report_failures() {
    let w = World::new();
    let digest = w.push("apps/recorded:v1", "recorded");
    let dir = w.home.path();
    for (who, file) in [
        ("ops@example.com", "ops.json"),
        ("eve@example.com", "eve.json"),
    ] {
        let token = w
            .sigstore
            .token(serde_json::json!({"sub": who, "email": who}));
        let out =
            w.sigstore
                .spin_sign_bundle(&token, &digest, dir.join(file).to_str().unwrap(), dir);
        assert!(out.status.success(), "{}", output_text(&out));
    }
    let reference = format!("{}@{digest}", w.reference("apps/recorded"));
    let text = format!(
        "version = 1\n{}[[rule.authority]]\nname = \"ops\"\nissuer = {:?}\nsubject = \"ops@example.com\"\n\
         [[test]]\nname = \"ops signed\"\nreference = {reference:?}\nbundles = [\"ops.json\"]\nexpect = \"allow\"\n\
         [[test]]\nname = \"eve is not ops\"\nreference = {reference:?}\nbundles = [\"eve.json\"]\nexpect = \"deny\"\n\
         [[test]]\nname = \"nothing recorded\"\nreference = {reference:?}\nexpect = \"deny\"\n",
        w.rule("apps", "apps/*"),
        w.sigstore.url
    );
    let policy = w.policy("cases.toml", &text);
    // Offline: the instance is gone, the recorded bundles and trusted root are enough.
    let trusted_root = std::fs::read(w.sigstore.trusted_root()).unwrap();
    let World {
        registry,
        sigstore,
        home,
    } = w;
    let root_copy = home.path().join("trusted_root.json");
    std::fs::write(&root_copy, &trusted_root).unwrap();
    let policy_text = std::fs::read_to_string(&policy).unwrap().replace(
        sigstore.trusted_root().to_str().unwrap(),
        root_copy.to_str().unwrap(),
    );
    std::fs::write(&policy, &policy_text).unwrap();
    drop((registry, sigstore));
    let run = |p: &Path| spin_tests::spin(&["policy", "test", p.to_str().unwrap()], home.path());
    let out = run(&policy);
    assert!(out.status.success(), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("3 passed, 0 failed"),
        "{}",
        output_text(&out)
    );
    // A wrong expectation fails the run and shows the trace.
    let wrong = home.path().join("wrong.toml");
    std::fs::write(
        &wrong,
        policy_text.replacen("expect = \"deny\"", "expect = \"allow\"", 1),
    )
    .unwrap();
    let out = run(&wrong);
    assert!(!out.status.success());
    let text = output_text(&out);
    assert!(
        text.contains("FAIL eve is not ops") && text.contains("2 passed, 1 failed"),
        "{text}"
    );
    assert!(text.contains("eve@example.com"), "{text}");
}

#[test]
fn malformed_policies_fail_closed_at_their_location() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("trusted_root.json");
    std::fs::copy(
        repo_root().join("policies/air-gapped/trusted_root.json"),
        &root,
    )
    .unwrap();
    std::fs::write(dir.path().join("bad.json"), "{not json").unwrap();
    std::fs::write(dir.path().join("not-a-key.pub"), "hello").unwrap();
    let head = "version = 1\n[[rule]]\nscope = \"ghcr.io/acme/*\"\n";
    let who = "[[rule.authority]]\nissuer = \"https://token.actions.githubusercontent.com\"\nsubject = \"x\"\n";
    let cases: Vec<(String, &str, &str)> = vec![
        (
            "version = 1\n[[rule]\n".into(),
            "2:8",
            "unclosed array table",
        ),
        (
            format!("versoin = 1\n{head}"),
            "1:1",
            "unknown field `versoin`",
        ),
        (
            "[[rule]]\nscope = \"*\"\nallow_unsigned = true\n".into(),
            "1:1",
            "has no `version`",
        ),
        (
            "version = 2\n".into(),
            "1:11",
            "policy version 2 is not supported",
        ),
        (
            format!("{head}treshold = 2\n{who}"),
            "4:1",
            "unknown field `treshold`",
        ),
        (
            format!("{head}{who}subjet_regex = \"x\"\n"),
            "7:1",
            "unknown field `subjet_regex`",
        ),
        (
            "version = 1\n[[rule]]\nname = \"x\"\n".into(),
            "2:1",
            "has no `scope`",
        ),
        (
            "version = 1\n[[rule]]\nscope = \"ghcr.io/acme/app:v1\"\nallow_unsigned = true\n"
                .into(),
            "3:9",
            "names a tag or digest",
        ),
        (
            format!("{head}mode = \"strict\"\n{who}"),
            "4:8",
            "unknown mode \"strict\"",
        ),
        (
            format!("{head}trust = \"public\"\n{who}"),
            "4:9",
            "unknown trust \"public\"",
        ),
        (
            format!("{head}trust = \"staging\"\ntrusted_root = \"trusted_root.json\"\n{who}"),
            "4:9",
            "both `trust` and `trusted_root`",
        ),
        (
            format!("{head}trusted_root = \"missing.json\"\n{who}"),
            "4:16",
            "cannot read the trusted root",
        ),
        (
            format!("{head}trusted_root = \"bad.json\"\n{who}"),
            "4:16",
            "is not a usable trusted_root.json",
        ),
        (head.to_string(), "2:1", "lists no [[rule.authority]]"),
        (
            format!("{head}threshold = 0\n{who}"),
            "4:13",
            "threshold 0 is below 1",
        ),
        (
            format!("{head}threshold = 2\n{who}"),
            "4:13",
            "larger than the 1 authorities",
        ),
        (
            format!("{head}[[rule.authority]]\nissuer = \"i\"\nsubject_regex = \"(unclosed\"\n"),
            "6:17",
            "not a valid regex",
        ),
        (
            format!("{head}[[rule.authority]]\nissuer = \"i\"\n"),
            "4:1",
            "accepts anyone its issuer vouches for",
        ),
        (
            format!("{head}[[rule.authority]]\nsubject = \"x\"\n"),
            "4:1",
            "neither an `issuer` nor a `key`",
        ),
        (
            format!("{head}[[rule.authority]]\nkey = \"not-a-key.pub\"\n"),
            "5:7",
            "is not a PEM public key",
        ),
        (
            format!("{head}[[rule.authority]]\nkey = \"k.pub\"\nissuer = \"i\"\n"),
            "6:10",
            "cannot also have certificate claims",
        ),
        (
            format!("{head}max_age = \"10 days\"\n{who}"),
            "4:11",
            "unknown unit",
        ),
        (
            format!("{head}max_age = \"30500568904944w\"\n{who}"),
            "4:11",
            "is longer than 36500 days",
        ),
        (
            format!("{head}max_age = \"18446744073709551615s\"\n{who}"),
            "4:11",
            "is longer than 36500 days",
        ),
        (
            format!("{head}max_age = \"99999999999999999999999d\"\n{who}"),
            "4:11",
            "is longer than 36500 days",
        ),
        (
            format!("{head}allow_unsigned = true\n{who}"),
            "4:18",
            "the authorities would never be checked",
        ),
        (
            format!("{head}{who}name = \"a\"\n{who}name = \"a\"\n"),
            "8:1",
            "two authorities in this rule are named \"a\"",
        ),
        (
            format!(
                "{head}{who}[[test]]\nreference = \"ghcr.io/acme/app:v1\"\nexpect = \"allow\"\n"
            ),
            "8:13",
            "needs a digest",
        ),
        (
            format!(
                "{head}{who}[[test]]\nreference = \"ghcr.io/acme/app@sha256:{}\"\nexpect = \"yes\"\n",
                "0".repeat(64)
            ),
            "9:10",
            "unknown expectation",
        ),
        (
            format!("unmatched = \"allow\"\n{head}"),
            "1:13",
            "unknown `unmatched` value",
        ),
    ];
    assert!(cases.len() >= 15);
    let mut wrong = Vec::new();
    for (i, (text, at, message)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("p{i}.toml"));
        std::fs::write(&path, text).unwrap();
        for command in ["lint", "test"] {
            let out = spin_tests::spin(&["policy", command, path.to_str().unwrap()], dir.path());
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            let located = format!("{}:{at}: ", path.display());
            if out.status.success()
                || !err.contains(&located)
                || !err.contains(message)
                || !err.contains("help: ")
            {
                wrong.push(format!("case {i} ({message}, {command}): expected {located}…{message} with a help line, got: {err}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

#[test]
fn spin_up_runs_only_what_the_policy_allows() {
    let w = World::new();
    let policy = w.policy(
        "gate.toml",
        &format!(
            "version = 1\n{}[[rule.authority]]\nname = \"release\"\nissuer = {:?}\nsubject = \"release@example.com\"\n{}mode = \"audit\"\n[[rule.authority]]\nname = \"release\"\nissuer = {:?}\nsubject = \"release@example.com\"\n",
            w.rule("apps", "apps/*"),
            w.sigstore.url,
            w.rule("trial", "trial/*"),
            w.sigstore.url,
        ),
    );
    let release = || {
        w.sigstore
            .token(serde_json::json!({"sub": "r", "email": "release@example.com"}))
    };
    let env = w.env();
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let policy_str = policy.display().to_string();
    env.push(("SPIN_POLICY", &policy_str));
    let up = |reference: &str| Spin::start(Path::new(reference), &["--insecure"], &env);

    // Signed by the release identity: allowed and served, by digest.
    let signed = w.reference("apps/web:v1");
    let digest = w.push("apps/web:v1", "web");
    w.sign(&signed, &release(), &[]);
    let spin = up(&signed).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spin.get("/hello").status, 200);
    let info: serde_json::Value =
        serde_json::from_slice(&spin.get("/.well-known/spin/info").body).unwrap();
    assert_eq!(info["oci_image_digest"], digest.as_str());
    assert!(spin.stderr().contains("ALLOW"), "{}", spin.stderr());
    drop(spin);
    // `spin verify` flags naming one authority win over $SPIN_POLICY.
    let tr = w.sigstore.trusted_root();
    let flags = spin_env(
        &[
            "verify",
            &signed,
            "--insecure",
            "--certificate-identity",
            "release@example.com",
            "--certificate-oidc-issuer",
            &w.sigstore.url,
            "--trusted-root",
            tr.to_str().unwrap(),
        ],
        w.home.path(),
        &env,
    );
    assert_eq!(flags.status.code(), Some(0), "{}", output_text(&flags));
    // A regexp flag follows the policy's rule: whole value unless anchored by hand.
    let by_regexp = |regexp: &str| {
        spin_env(
            &[
                "verify",
                &signed,
                "--insecure",
                "--certificate-identity-regexp",
                regexp,
                "--certificate-oidc-issuer",
                &w.sigstore.url,
                "--trusted-root",
                tr.to_str().unwrap(),
            ],
            w.home.path(),
            &env,
        )
        .status
        .code()
    };
    assert_eq!(by_regexp("^release@"), Some(0));
    assert_eq!(by_regexp("release"), Some(1));
    assert_eq!(by_regexp("release@example\\.com"), Some(0));

    // Unsigned, and signed by someone else: refused, with the trace.
    let unsigned = w.reference("apps/unsigned:v1");
    w.push("apps/unsigned:v1", "unsigned");
    let err = up(&unsigned).err().expect("an unsigned app must not start");
    assert!(
        err.contains("refusing to run it") && err.contains("has no signatures"),
        "{err}"
    );
    let other = w.reference("apps/other:v1");
    w.push("apps/other:v1", "other");
    w.sign(
        &other,
        &w.sigstore
            .token(serde_json::json!({"sub": "m", "email": "mallory@example.com"})),
        &[],
    );
    let err = up(&other)
        .err()
        .expect("a wrongly signed app must not start");
    assert!(
        err.contains("mallory@example.com") && err.contains("fix: "),
        "{err}"
    );

    // Audit mode runs it and says what enforce would have denied.
    let trial = w.reference("trial/app:v1");
    w.push("trial/app:v1", "trial");
    let spin = up(&trial).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spin.get("/hello").status, 200);
    assert!(
        spin.stderr().contains("ALLOW (audit: enforce would deny)"),
        "{}",
        spin.stderr()
    );
    drop(spin);

    // The tag moves to an unsigned app right after `spin up` resolved it: the verified
    // digest is what runs.
    let moving_ref = format!("{}/apps/moving:v1", w.registry.host());
    let verified = w.push("apps/moving:v1", "moving");
    w.sign(&moving_ref, &release(), &[]);
    let real_host = w.registry.host();
    let home = w.home.path().display().to_string();
    let mover = HookProxy::start(
        w.registry.port,
        "/v2/apps/moving/manifests/v1 ",
        move || {
            let dir = app("impostor");
            let out = spin_env(
                &[
                    "registry",
                    "push",
                    &format!("{real_host}/apps/moving:v1"),
                    "--insecure",
                ],
                dir.path(),
                &[("HOME", &home), ("SPIN_DISABLE_KEYRING", "1")],
            );
            assert!(out.status.success(), "{}", output_text(&out));
        },
    );
    let through_proxy = format!("127.0.0.1:{}/apps/moving:v1", mover.port);
    let proxied = w.policy(
        "proxied.toml",
        &format!(
            "version = 1\n[[rule]]\nscope = \"127.0.0.1:{}/apps/*\"\ntrusted_root = {:?}\n[[rule.authority]]\nissuer = {:?}\nsubject = \"release@example.com\"\n",
            mover.port,
            w.sigstore.trusted_root(),
            w.sigstore.url
        ),
    );
    let spin = Spin::start(
        Path::new(&through_proxy),
        &["--insecure", "--policy", proxied.to_str().unwrap()],
        &env,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let info: serde_json::Value =
        serde_json::from_slice(&spin.get("/.well-known/spin/info").body).unwrap();
    assert_eq!(info["oci_image_digest"], verified.as_str());
    assert_eq!(info["name"], "moving");
    let moved = w.spin(&["registry", "inspect", &moving_ref, "--insecure", "--json"]);
    assert!(
        !output_text(&moved).contains(&verified),
        "the tag did move: {}",
        output_text(&moved)
    );
}

#[test]
fn github_commit_and_event_claims_are_matched_from_the_certificate() {
    let w = World::new();
    let tool = w.reference("tools/pinned:v1");
    w.push("tools/pinned:v1", "pinned");
    w.sign_workflow(
        &tool,
        "acme/tool",
        "release.yml",
        "refs/tags/v1",
        "github-hosted",
    );
    let policy = |claims: &str| {
        w.policy(
            "claims.toml",
            &format!(
                "version = 1\n{}[[rule.authority]]\nname = \"tool release\"\nissuer = {GITHUB:?}\n[rule.authority.github]\nrepository = \"acme/tool\"\n{claims}\n",
                w.rule("tools", "tools/*")
            ),
        )
    };
    let commit = "4f1c0ffee4f1c0ffee4f1c0ffee4f1c0ffee4f1c";
    let (code, d) = w.verify(
        &tool,
        &policy(&format!("sha = {commit:?}\nevent = \"push\"")),
    );
    assert_eq!(code, 0, "{d:#}");
    let (code, d) = w.verify(
        &tool,
        &policy("sha = \"0000000000000000000000000000000000000000\""),
    );
    assert_eq!(code, 1, "{d:#}");
    assert!(
        problems(&d).contains(&format!("commit {commit} is not 0000")),
        "{d:#}"
    );
    let (code, d) = w.verify(
        &tool,
        &policy("event = [\"release\", \"workflow_dispatch\"]"),
    );
    assert_eq!(code, 1, "{d:#}");
    assert!(
        problems(&d).contains("event push is not one of release, workflow_dispatch"),
        "{d:#}"
    );
    let (code, d) = w.verify(&tool, &policy("self_hosted = true"));
    assert_eq!(code, 1, "{d:#}");
    assert!(
        problems(&d).contains("the runner is github-hosted, not self-hosted"),
        "{d:#}"
    );
}
