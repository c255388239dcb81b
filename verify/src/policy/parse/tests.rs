//! The policy parser on its own: what a good file becomes, and where (line:column) and
//! with which words each mistake is reported.

use super::*;
use crate::policy::matcher::Matcher;

const ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Parse `text` as `dir/policy.toml`.
fn parse_in(dir: &Path, text: &str) -> Result<Policy, LocatedError> {
    parse(&dir.join("policy.toml"), text)
}

/// The error for `text`, as `line:col: message`.
fn error(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let err = parse_in(dir.path(), text).expect_err(text);
    let at = err.location().expect("a located error");
    format!("{}:{}: {}", at.line, at.column, err.message())
}

#[test]
fn a_full_policy_becomes_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"version = 1
unmatched = "allow-unsigned"

[[rule]]
name = "releases"
scope = ["ghcr.io/acme/*", "docker.io/acme/app"]
mode = "audit"
threshold = 2
require_timestamp = true
max_age = "30d"

[[rule.authority]]
name = "ci"
issuer = "{ISSUER}"
github = {{ repository = "acme/app", event = ["push", "release"], ref_regex = "refs/tags/v.*" }}

[[rule.authority]]
issuer_regex = 'https://accounts\.example\.com'
subject = "ada@example.com"

[[rule]]
scope = "*"
allow_unsigned = true
"#
    );
    let p = parse_in(dir.path(), &text).unwrap();
    assert_eq!(p.unmatched, Unmatched::AllowUnsigned);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let [releases, open] = &p.rules[..] else {
        panic!("two rules: {:?}", p.rules)
    };
    assert_eq!(releases.name, "releases");
    let patterns: Vec<_> = releases.scopes.iter().map(|s| s.pattern.as_str()).collect();
    assert_eq!(patterns, ["ghcr.io/acme/*", "docker.io/acme/app"]);
    assert_eq!(releases.mode, Mode::Audit);
    assert_eq!(releases.threshold, 2);
    assert!(releases.require.tlog && releases.require.timestamp);
    assert_eq!(releases.require.max_age.unwrap().as_secs(), 30 * 86_400);
    assert_eq!(releases.location.line, 4);
    let names: Vec<_> = releases
        .authorities
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(names, ["ci", "authority 2"]);
    let AuthorityKind::Keyless(ci) = &releases.authorities[0].kind else {
        panic!("ci is keyless")
    };
    assert!(matches!(&ci.issuer, Matcher::Exact(i) if i == ISSUER));
    assert_eq!(ci.github.repository.as_deref(), Some("acme/app"));
    assert_eq!(ci.github.events, ["push", "release"]);
    assert!(matches!(ci.github.git_ref, Some(Matcher::Regex { .. })));
    assert_eq!(open.name, "rule 2 (*)");
    assert!(open.allow_unsigned && open.authorities.is_empty());
    assert_eq!(open.threshold, 1);
    assert!(open.require.tlog && !open.require.timestamp);
}

#[test]
fn each_mistake_is_reported_where_it_is_written() {
    let rule = "[[rule]]\nscope = \"ghcr.io/acme/*\"\n";
    let who = format!("[[rule.authority]]\nissuer = \"{ISSUER}\"\nsubject = \"x\"\n");
    for (text, expected) in [
        ("".to_string(), "1:1: the policy has no `version`"),
        ("version = 2".into(), "1:11: policy version 2 is not supported"),
        ("version = 1\nunmatched = \"allow\"".into(), "2:13: unknown `unmatched` value \"allow\""),
        ("version = 1\ncolour = 1".into(), "2:1: unknown field `colour`"),
        ("version = 1\n[[rule]]\nname = \"r\"".into(), "2:1: this rule has no `scope`"),
        ("version = 1\n[[rule]]\nscope = []".into(), "3:9: the scope list is empty"),
        (format!("version = 1\n{rule}"), "2:1: rule \"rule 1 (ghcr.io/acme/*)\" lists no [[rule.authority]]"),
        (format!("version = 1\n{rule}mode = \"warn\"\n{who}"), "4:8: unknown mode \"warn\""),
        (format!("version = 1\n{rule}threshold = 0\n{who}"), "4:13: threshold 0 is below 1"),
        (format!("version = 1\n{rule}threshold = 3\n{who}"), "4:13: threshold 3 is larger than the 1 authorities listed"),
        (format!("version = 1\n{rule}max_age = \"1y\"\n{who}"), "4:11: \"1y\": unknown unit \"y\""),
        (format!("version = 1\n{rule}trust = \"prod\"\n{who}"), "4:9: unknown trust \"prod\""),
        (format!("version = 1\n{rule}trust = \"staging\"\ntrusted_root = \"r.json\"\n{who}"), "4:9: both `trust` and `trusted_root` are set"),
        (format!("version = 1\n{rule}trusted_root = \"missing.json\"\n{who}"), "4:16: cannot read the trusted root"),
        (format!("version = 1\n{rule}allow_unsigned = true\n{who}"), "4:18: `allow_unsigned = true` with authorities"),
        (format!("version = 1\n{rule}[[rule.authority]]\nsubject = \"x\"\n"), "4:1: authority \"authority 1\" has neither an `issuer` nor a `key`"),
        (format!("version = 1\n{rule}[[rule.authority]]\nissuer = \"{ISSUER}\"\n"), "4:1: authority \"authority 1\" accepts anyone its issuer vouches for"),
        (format!("version = 1\n{rule}[[rule.authority]]\nissuer = \"i\"\nissuer_regex = \"i\"\nsubject = \"x\"\n"), "5:10: both `issuer` and `issuer_regex` are set"),
        (format!("version = 1\n{rule}[[rule.authority]]\nissuer = \"i\"\nsubject_regex = \"(\"\n"), "6:17: `subject_regex` is not a valid regex"),
        (format!("version = 1\n{rule}[[rule.authority]]\nkey = \"k.pub\"\nsubject = \"x\"\n"), "6:11: a key authority cannot also have certificate claims"),
        (format!("version = 1\n{rule}[[rule.authority]]\nkey = \"k.pub\"\n"), "5:7: cannot read "),
        (format!("version = 1\n{rule}[[rule.authority]]\nname = \"a\"\nissuer = \"i\"\nsubject = \"x\"\n[[rule.authority]]\nname = \"a\"\nissuer = \"i\"\nsubject = \"y\"\n"), "8:1: two authorities in this rule are named \"a\""),
        (format!("version = 1\n{rule}name = \"r\"\n{who}{rule}name = \"r\"\n{who}"), "8:1: two rules are named \"r\" (the other is at "),
        ("version = 1\nunmatched = \"allow-unsigned\"\n[[test]]\nreference = \"ghcr.io/acme/app:v1\"\nexpect = \"allow\"".into(), "4:13: a test case's reference needs a digest"),
        (format!("version = 1\nunmatched = \"allow-unsigned\"\n[[test]]\nreference = \"ghcr.io/acme/app@sha256:{}\"\nexpect = \"maybe\"", "a".repeat(64)), "5:10: unknown expectation \"maybe\""),
        (format!("version = 1\nunmatched = \"allow-unsigned\"\n[[test]]\nreference = \"ghcr.io/acme/app@sha256:{}\"\nexpect = \"allow\"\nat = \"yesterday\"", "a".repeat(64)), "6:6: \"yesterday\" is not a time"),
        (format!("version = 1\nunmatched = \"allow-unsigned\"\n[[test]]\nreference = \"ghcr.io/acme/app@sha256:{}\"\nexpect = \"allow\"\nbundles = [\"gone.json\"]", "a".repeat(64)), "6:12: the recorded bundle"),
    ] {
        let got = error(&text);
        assert!(got.starts_with(expected), "for:\n{text}\nexpected {expected:?}\ngot      {got:?}");
    }
}

#[test]
fn a_policy_that_denies_everything_loads_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let p = parse_in(dir.path(), "version = 1\n").unwrap();
    assert_eq!(p.unmatched, Unmatched::Deny);
    assert!(p.rules.is_empty());
    assert_eq!(p.warnings.len(), 1);
    assert!(
        p.warnings[0].ends_with(
            "policy.toml:1:1: warning: the policy has no [[rule]], so it denies everything"
        ),
        "{:?}",
        p.warnings
    );
}

#[test]
fn durations_are_bounded_and_exact() {
    for (text, secs) in [
        ("1s", 1),
        ("90m", 5400),
        ("12h", 43_200),
        ("30d", 2_592_000),
        ("2w", 1_209_600),
        ("36500d", 3_153_600_000),
    ] {
        assert_eq!(parse_duration(text).unwrap().as_secs(), secs, "{text}");
    }
    for (text, needle) in [
        ("30500568904944w", "longer than 36500 days"),
        ("18446744073709551615s", "longer than 36500 days"),
        ("36501d", "longer than 36500 days"),
        ("99999999999999999999999999h", "longer than 36500 days"),
        ("0d", "is zero"),
        ("d", "not a duration"),
        ("", "not a duration"),
        ("10 days", "unknown unit"),
        ("-1d", "not a duration"),
        ("1.5h", "unknown unit"),
    ] {
        let err = parse_duration(text).unwrap_err();
        assert!(err.contains(needle), "{text}: {err}");
    }
}
