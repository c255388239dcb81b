//! One test per policy feature: the most specific rule, regex anchoring, GitHub workflow
//! claims, signature age, signed timestamps, legacy `.sig` signatures and attestations.

use spin_tests::registry::Registry;
use spin_tests::world::*;
use spin_tests::{assert_contains, output_text, repo_root};

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
    assert_contains(&problems(&d), "dev@acme.example");
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
    let tool = w.publish("tools/x:v1", "x");
    w.sign_workflow(
        &tool,
        "acme-evil/x",
        "ci.yml",
        "refs/heads/main",
        "github-hosted",
    );
    let (code, d) = w.verify(&tool, &policy);
    assert_eq!(code, 1, "{d:#}");
    assert_contains(&problems(&d), "https://github.com/acme-evil/x/");
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
    assert_contains(&output_text(&lint), "open.toml:8:17: warning: the regex");
    assert_contains(&output_text(&lint), "acme-evil");
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
    let old = w.publish("apps/old:v1", "old");
    w.clock(-3 * 86_400);
    w.sign(&old, &ops(), &[]);
    w.clock(0);
    let (code, d) = w.verify(&old, &fresh);
    assert_eq!(code, 1, "{d:#}");
    assert_contains(&problems(&d), "older than the rule's max_age of 1d0h");

    // Dated two days in the future: refused, whatever the age limit.
    let future = w.publish("apps/future:v1", "future");
    w.clock(2 * 86_400);
    w.sign(&future, &ops(), &[]);
    w.clock(0);
    let (code, d) = w.verify(&future, &fresh);
    assert_eq!(code, 1, "{d:#}");
    assert_contains(&problems(&d), "future");

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
    let plain = w.publish("apps/plain:v1", "plain");
    w.sign_with_key(&plain, &key, &[]);
    assert_eq!(w.verify(&plain, &by_key).0, 0);
    let (code, d) = w.verify(&plain, &stamped);
    assert_eq!(code, 1, "{d:#}");
    assert_contains(&problems(&d), "requires an RFC 3161 signed timestamp");

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
fn github_commit_and_event_claims_are_matched_from_the_certificate() {
    let w = World::new();
    let tool = w.publish("tools/pinned:v1", "pinned");
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
    assert_contains(&problems(&d), format!("commit {commit} is not 0000"));
    let (code, d) = w.verify(
        &tool,
        &policy("event = [\"release\", \"workflow_dispatch\"]"),
    );
    assert_eq!(code, 1, "{d:#}");
    assert_contains(
        &problems(&d),
        "event push is not one of release, workflow_dispatch",
    );
    let (code, d) = w.verify(&tool, &policy("self_hosted = true"));
    assert_eq!(code, 1, "{d:#}");
    assert_contains(
        &problems(&d),
        "the runner is github-hosted, not self-hosted",
    );
}
