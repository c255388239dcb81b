//! Reading a policy file: TOML into the model, every mistake reported at its file, line
//! and column with a fix. Trusted roots and keys named in the file are read here, so a
//! policy that loads can be evaluated.

use super::matcher::Scope;
use super::model::*;
use serde::Deserialize;
use spin_app::located::{LocatedError, SourceText};
use std::path::{Path, PathBuf};
use toml::Spanned;

mod authority;

pub use authority::key_authority;

const SEE: &str = "policies/README.md";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    version: Option<Spanned<i64>>,
    unmatched: Option<Spanned<String>>,
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
    #[serde(default)]
    test: Vec<Spanned<RawTest>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Option<String>,
    scope: Option<Spanned<OneOrMany>>,
    mode: Option<Spanned<String>>,
    trust: Option<Spanned<String>>,
    trusted_root: Option<Spanned<String>>,
    allow_unsigned: Option<Spanned<bool>>,
    threshold: Option<Spanned<i64>>,
    require_tlog: Option<bool>,
    require_timestamp: Option<bool>,
    max_age: Option<Spanned<String>>,
    #[serde(default)]
    authority: Vec<Spanned<RawAuthority>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuthority {
    name: Option<Spanned<String>>,
    issuer: Option<Spanned<String>>,
    issuer_regex: Option<Spanned<String>>,
    subject: Option<Spanned<String>>,
    subject_regex: Option<Spanned<String>>,
    key: Option<Spanned<String>>,
    github: Option<Spanned<RawGithub>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGithub {
    repository: Option<String>,
    owner: Option<String>,
    workflow_ref: Option<Spanned<String>>,
    workflow_ref_regex: Option<Spanned<String>>,
    event: Option<OneOrMany>,
    #[serde(rename = "ref")]
    git_ref: Option<Spanned<String>>,
    ref_regex: Option<Spanned<String>>,
    sha: Option<String>,
    self_hosted: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTest {
    name: Option<String>,
    reference: Spanned<String>,
    #[serde(default)]
    bundles: Vec<Spanned<String>>,
    expect: Spanned<String>,
    at: Option<Spanned<String>>,
}

/// Read and check the policy at `path`.
pub fn load(path: &Path) -> Result<Policy, LocatedError> {
    let text = std::fs::read_to_string(path).map_err(|source| LocatedError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text)
}

/// Check policy text read from `path`.
pub fn parse(path: &Path, text: &str) -> Result<Policy, LocatedError> {
    let src = SourceText::new(path, text);
    let raw: RawPolicy = toml::from_str(text).map_err(|e| src.from_toml(&e, SEE))?;
    let p = Parser {
        src: &src,
        dir: path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf(),
        warnings: Vec::new(),
    };
    p.policy(path, raw)
}

struct Parser<'a> {
    src: &'a SourceText<'a>,
    dir: PathBuf,
    warnings: Vec<String>,
}

type R<T> = Result<T, LocatedError>;

impl Parser<'_> {
    fn err<T>(&self, span: std::ops::Range<usize>, message: impl Into<String>, help: &str) -> R<T> {
        Err(self.src.error(&span, message, help))
    }

    fn warn(&mut self, span: std::ops::Range<usize>, message: String) {
        self.warnings
            .push(format!("{}: warning: {message}", self.src.location(&span)));
    }

    fn policy(mut self, path: &Path, raw: RawPolicy) -> R<Policy> {
        match &raw.version {
            None => self.err(
                0..0,
                "the policy has no `version`",
                "add `version = 1` at the top",
            )?,
            Some(v) if *v.get_ref() != 1 => self.err(
                v.span(),
                format!("policy version {} is not supported", v.get_ref()),
                "this spin reads `version = 1`",
            )?,
            Some(_) => {}
        }
        let unmatched = match &raw.unmatched {
            None => Unmatched::Deny,
            Some(u) => match u.get_ref().as_str() {
                "deny" => Unmatched::Deny,
                "allow-unsigned" => Unmatched::AllowUnsigned,
                other => self.err(
                    u.span(),
                    format!("unknown `unmatched` value {other:?}"),
                    "write \"deny\" (the default) or \"allow-unsigned\"",
                )?,
            },
        };
        if raw.rule.is_empty() && unmatched == Unmatched::Deny {
            self.warn(
                0..0,
                "the policy has no [[rule]], so it denies everything".into(),
            );
        }
        let mut rules = Vec::new();
        for (i, r) in raw.rule.into_iter().enumerate() {
            let rule = self.rule(i, r)?;
            if let Some(other) = rules.iter().find(|o: &&Rule| o.name == rule.name) {
                return Err(LocatedError::Invalid {
                    location: rule.location.clone(),
                    message: format!(
                        "two rules are named {:?} (the other is at {})",
                        rule.name, other.location
                    ),
                    help: "give each rule its own name, so traces say which one applied".into(),
                });
            }
            rules.push(rule);
        }
        let mut tests = Vec::new();
        for (i, t) in raw.test.into_iter().enumerate() {
            tests.push(self.test(i, t)?);
        }
        Ok(Policy {
            path: path.to_path_buf(),
            unmatched,
            rules,
            tests,
            warnings: self.warnings,
        })
    }

    fn rule(&mut self, index: usize, raw: Spanned<RawRule>) -> R<Rule> {
        let span = raw.span();
        let location = self.src.location(&span);
        let r = raw.into_inner();
        let Some(scope) = r.scope else {
            return self.err(
                span,
                "this rule has no `scope`",
                "say which references it covers, e.g. scope = \"ghcr.io/acme/*\"",
            );
        };
        let scope_span = scope.span();
        let patterns = scope.into_inner().into_vec();
        if patterns.is_empty() {
            return self.err(
                scope_span,
                "the scope list is empty",
                "list at least one pattern",
            );
        }
        let mut scopes = Vec::new();
        for p in patterns {
            match Scope::parse(&p) {
                Ok(s) => scopes.push(s),
                Err(e) => self.err(
                    scope_span.clone(),
                    e,
                    "write a repository pattern such as ghcr.io/acme/app, ghcr.io/acme/* or *",
                )?,
            }
        }
        let name = r
            .name
            .unwrap_or_else(|| format!("rule {} ({})", index + 1, scopes[0].pattern));
        let mode = match &r.mode {
            None => Mode::Enforce,
            Some(m) => match m.get_ref().as_str() {
                "enforce" => Mode::Enforce,
                "audit" => Mode::Audit,
                other => self.err(
                    m.span(),
                    format!("unknown mode {other:?}"),
                    "write \"enforce\" (the default) or \"audit\"",
                )?,
            },
        };
        let trust = self.trust(&r.trust, &r.trusted_root)?;
        let allow_unsigned = r.allow_unsigned.as_ref().is_some_and(|a| *a.get_ref());
        let mut authorities = Vec::new();
        for a in r.authority {
            let a = self.authority(authorities.len(), a)?;
            if authorities.iter().any(|o: &Authority| o.name == a.0.name) {
                return self.err(
                    a.1,
                    format!("two authorities in this rule are named {:?}", a.0.name),
                    "give each authority its own name",
                );
            }
            authorities.push(a.0);
        }
        if allow_unsigned {
            if !authorities.is_empty() {
                return self.err(
                    r.allow_unsigned.unwrap().span(),
                    "`allow_unsigned = true` with authorities: the authorities would never be checked",
                    "remove the authorities, or remove allow_unsigned to require their signatures",
                );
            }
        } else if authorities.is_empty() {
            return self.err(
                span,
                format!("rule {name:?} lists no [[rule.authority]], so no signature could satisfy it"),
                "add an authority (who may sign), or write `allow_unsigned = true` to let these references run unsigned",
            );
        }
        let threshold = match &r.threshold {
            None => 1,
            Some(t) if *t.get_ref() < 1 => self.err(
                t.span(),
                format!("threshold {} is below 1", t.get_ref()),
                "write how many distinct authorities must have signed, at least 1",
            )?,
            Some(t) if !allow_unsigned && *t.get_ref() as usize > authorities.len() => self.err(
                t.span(),
                format!(
                    "threshold {} is larger than the {} authorities listed, so it can never be met",
                    t.get_ref(),
                    authorities.len()
                ),
                "lower the threshold or add authorities",
            )?,
            Some(t) => *t.get_ref() as usize,
        };
        let max_age = match &r.max_age {
            None => None,
            Some(m) => Some(match parse_duration(m.get_ref()) {
                Ok(d) => d,
                Err(e) => self.err(
                    m.span(),
                    e,
                    "write a duration such as \"30d\", \"12h\" or \"90m\"",
                )?,
            }),
        };
        Ok(Rule {
            name,
            scopes,
            mode,
            trust,
            allow_unsigned,
            threshold,
            require: Requirements {
                tlog: r.require_tlog.unwrap_or(true),
                timestamp: r.require_timestamp.unwrap_or(false),
                max_age,
            },
            authorities,
            location,
        })
    }

    fn trust(
        &mut self,
        trust: &Option<Spanned<String>>,
        root: &Option<Spanned<String>>,
    ) -> R<Trust> {
        match (trust, root) {
            (Some(t), Some(_)) => self.err(
                t.span(),
                "both `trust` and `trusted_root` are set",
                "keep one: `trust = \"public-good\"`/`\"staging\"`, or `trusted_root = \"path/trusted_root.json\"`",
            ),
            (Some(t), None) => match t.get_ref().as_str() {
                "public-good" => Ok(Trust::PublicGood),
                "staging" => Ok(Trust::Staging),
                other => self.err(
                    t.span(),
                    format!("unknown trust {other:?}"),
                    "write \"public-good\" or \"staging\", or give a private instance's file with trusted_root = \"…\"",
                ),
            },
            (None, Some(r)) => {
                let path = self.dir.join(r.get_ref());
                let text = match std::fs::read_to_string(&path) {
                    Ok(t) => t,
                    Err(e) => self.err(
                        r.span(),
                        format!("cannot read the trusted root {}: {e}", path.display()),
                        "fix the path (relative to the policy file's folder)",
                    )?,
                };
                if let Err(e) = sigstore_verify::trust_root::TrustedRoot::from_json(&text) {
                    return self.err(
                        r.span(),
                        format!("{} is not a usable trusted_root.json: {e}", path.display()),
                        "point at the instance's trusted_root.json (Sigstore client format)",
                    );
                }
                Ok(Trust::TrustedRoot(path))
            }
            (None, None) => Ok(Trust::PublicGood),
        }
    }

    fn test(&mut self, index: usize, raw: Spanned<RawTest>) -> R<TestCase> {
        let location = self.src.location(&raw.span());
        let t = raw.into_inner();
        let reference: spin_registry::Reference = match t.reference.get_ref().parse() {
            Ok(r) => r,
            Err(e) => self.err(
                t.reference.span(),
                format!("{e}"),
                "write a reference such as ghcr.io/acme/app@sha256:<64 hex digits>",
            )?,
        };
        if reference.digest().is_none() {
            return self.err(
                t.reference.span(),
                "a test case's reference needs a digest (recorded bundles sign a digest, not a tag)",
                "write the reference as repository@sha256:<hex>",
            );
        }
        let expect_allow = match t.expect.get_ref().as_str() {
            "allow" => true,
            "deny" => false,
            other => self.err(
                t.expect.span(),
                format!("unknown expectation {other:?}"),
                "write \"allow\" or \"deny\"",
            )?,
        };
        let mut bundles = Vec::new();
        for b in t.bundles {
            let path = self.dir.join(b.get_ref());
            if !path.is_file() {
                return self.err(
                    b.span(),
                    format!("the recorded bundle {} does not exist", path.display()),
                    "fix the path (relative to the policy file's folder)",
                );
            }
            bundles.push(path);
        }
        let at = match &t.at {
            None => None,
            Some(a) => Some(match a.get_ref().parse::<jiff::Timestamp>() {
                Ok(ts) => ts,
                Err(e) => self.err(
                    a.span(),
                    format!("{:?} is not a time: {e}", a.get_ref()),
                    "write an RFC 3339 time such as \"2026-12-01T00:00:00Z\"",
                )?,
            }),
        };
        Ok(TestCase {
            name: t.name.unwrap_or_else(|| format!("test {}", index + 1)),
            reference,
            bundles,
            expect_allow,
            at,
            location,
        })
    }
}

/// `30d`, `12h`, `90m`, `45s`, `2w`.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    if n.is_empty() {
        return Err(format!("{text:?} is not a duration"));
    }
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => {
            return Err(format!(
                "{text:?}: unknown unit {unit:?} (use s, m, h, d or w)"
            ));
        }
    };
    let too_long =
        || format!("{text:?} is longer than {MAX_AGE_DAYS} days, the longest `max_age` accepted");
    // Digits beyond u64 are out of range, not malformed.
    let n: u64 = n.parse().map_err(|_| too_long())?;
    if n == 0 {
        return Err(format!(
            "{text:?} is zero: no signature could be young enough"
        ));
    }
    let total = n.checked_mul(secs).ok_or_else(too_long)?;
    if total > MAX_AGE_DAYS * 86_400 {
        return Err(too_long());
    }
    Ok(std::time::Duration::from_secs(total))
}

/// The longest `max_age` a policy may give (100 years): longer values would only be
/// mistakes, and keeping them bounded keeps every age comparison in range.
pub const MAX_AGE_DAYS: u64 = 36_500;

#[cfg(test)]
mod tests;
