//! Policy files themselves: inline `[[test]]` cases run offline, and every malformed policy
//! fails closed with its file:line:col and a fix.

use spin_tests::world::*;
use spin_tests::{assert_contains, output_text, repo_root};
use std::path::Path;

#[test]
fn inline_test_cases_run_offline_and_report_failures() {
    let w = World::new();
    let digest = w.push("apps/recorded:v1", "recorded");
    let dir = w.user.home();
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
        user,
    } = w;
    let root_copy = user.home().join("trusted_root.json");
    std::fs::write(&root_copy, &trusted_root).unwrap();
    let policy_text = std::fs::read_to_string(&policy).unwrap().replace(
        sigstore.trusted_root().to_str().unwrap(),
        root_copy.to_str().unwrap(),
    );
    std::fs::write(&policy, &policy_text).unwrap();
    drop((registry, sigstore));
    let run = |p: &Path| spin_tests::spin(&["policy", "test", p.to_str().unwrap()], user.home());
    let out = run(&policy);
    assert!(out.status.success(), "{}", output_text(&out));
    assert_contains(&output_text(&out), "3 passed, 0 failed");
    // A wrong expectation fails the run and shows the trace.
    let wrong = user.home().join("wrong.toml");
    std::fs::write(
        &wrong,
        policy_text.replacen("expect = \"deny\"", "expect = \"allow\"", 1),
    )
    .unwrap();
    let out = run(&wrong);
    assert!(!out.status.success());
    let text = output_text(&out);
    assert_contains(&text, "FAIL eve is not ops");
    assert_contains(&text, "2 passed, 1 failed");
    assert_contains(&text, "eve@example.com");
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
