//! Verification policies: which references may run, signed by whom.
//!
//! A policy file (TOML, schema in `policies/policy.schema.json`, guide in
//! `policies/README.md`) has rules scoped by reference patterns; the most specific matching
//! rule applies, and a reference no rule matches is denied unless the file says
//! `unmatched = "allow-unsigned"`. A rule names its trust material, its authorities
//! (keyless identities with optional GitHub workflow claims, or public keys), a threshold
//! of distinct signers, requirements (log inclusion, signed timestamp, maximum age) and a
//! mode (`enforce`, or `audit` which allows and reports). Inline `[[test]]` cases pair a
//! reference with recorded bundles and the decision they must give.
//!
//! [`parse::load`] checks a file (errors at file:line:col with a fix); [`evaluate`]
//! decides for one digest and the signatures found for it, with a [`decision::Decision`]
//! trace; [`run_tests`] runs the inline cases offline.

mod claims;
pub mod decision;
pub mod evaluate;
pub mod evidence;
mod examine;
pub mod flags;
pub mod matcher;
pub mod model;
pub mod parse;

pub use decision::{Decision, Source, Verdict};
pub use evaluate::evaluate;
pub use evidence::{Context, Evidence, Found, Subject};
pub use model::*;
pub use parse::load;

/// A one-rule policy for every reference, from command-line flags (`spin verify
/// --certificate-identity …` or `--key …`): the same engine, with one authority.
pub fn single_authority(authority: Authority, trust: Trust, require_tlog: bool) -> Policy {
    Policy {
        path: std::path::PathBuf::from("(command-line flags)"),
        unmatched: Unmatched::Deny,
        rules: vec![Rule {
            name: "command line".into(),
            scopes: vec![matcher::Scope::parse("*").expect("a valid scope")],
            mode: Mode::Enforce,
            trust,
            allow_unsigned: false,
            threshold: 1,
            require: Requirements {
                tlog: require_tlog,
                timestamp: false,
                max_age: None,
            },
            authorities: vec![authority],
            location: spin_app::manifest::Location {
                file: "(command-line flags)".into(),
                line: 1,
                column: 1,
            },
        }],
        tests: Vec::new(),
        warnings: Vec::new(),
    }
}

/// The outcome of one inline test case.
pub struct CaseResult {
    /// The case's name.
    pub name: String,
    /// Where it is written.
    pub location: spin_app::manifest::Location,
    /// Whether the decision was the expected one.
    pub passed: bool,
    /// The expected decision.
    pub expected: Verdict,
    /// The decision.
    pub decision: Decision,
}

/// Run the policy's inline test cases offline: each case's recorded bundles are the only
/// signatures, evaluated at the case's `at` time or now.
pub fn run_tests(policy: &Policy, ctx: &Context) -> crate::Result<Vec<CaseResult>> {
    let mut out = Vec::new();
    for case in &policy.tests {
        let found: Vec<Found> = case
            .bundles
            .iter()
            .map(|path| Found {
                source: Source::File,
                location: path.display().to_string(),
                content: crate::bundle::read_bundle(path)
                    .map(|b| Evidence::Bundle(Box::new(b)))
                    .map_err(|e| e.to_string()),
            })
            .collect();
        let case_ctx = Context {
            now: case.at.unwrap_or(ctx.now),
            sigstore_cache: ctx.sigstore_cache.clone(),
        };
        let digest = case.reference.digest().expect("parse requires a digest");
        let decision = evaluate(
            policy,
            &Subject::App(&case.reference),
            digest,
            &found,
            &case_ctx,
        )?;
        let expected = if case.expect_allow {
            Verdict::Allow
        } else {
            Verdict::Deny
        };
        out.push(CaseResult {
            name: case.name.clone(),
            location: case.location.clone(),
            passed: decision.decision == expected,
            expected,
            decision,
        });
    }
    Ok(out)
}
