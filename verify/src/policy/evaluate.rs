//! Evaluating a policy for one digest: pick the most specific rule, verify every signature
//! found with the rule's trust material, match verified signers to authorities, count
//! distinct signers against the threshold, and explain the outcome.

use super::decision::*;
use super::model::*;
use crate::instance::Instance;
use crate::{Error, Result};
use sigstore_verify::types::{Artifact, Bundle, Sha256Hash};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy};
use spin_registry::{Digest, Reference};
use std::path::PathBuf;

/// A signature as found, before verification.
pub struct Found {
    /// Where.
    pub source: Source,
    /// The referrer digest, `.sig` layer, or file.
    pub location: String,
    /// The evidence, or why it could not be read.
    pub content: std::result::Result<Evidence, String>,
}

/// What a signature consists of.
pub enum Evidence {
    /// A Sigstore bundle over the digest: a DSSE in-toto statement naming it (cosign v3),
    /// or a message signature over the digest itself.
    Bundle(Box<Bundle>),
    /// A cosign legacy signature: a message-signature bundle over `payload`, the
    /// simple-signing JSON that names the digest.
    Legacy {
        /// The bundle rebuilt from the layer's annotations.
        bundle: Box<Bundle>,
        /// The layer content.
        payload: Vec<u8>,
    },
}

/// What evaluation needs besides the policy.
pub struct Context {
    /// The time to evaluate at (signature age).
    pub now: jiff::Timestamp,
    /// Where `spin sigstore update-trust-root` keeps refreshed public-good and staging
    /// material (`<dir>/public-good`, `<dir>/staging`).
    pub sigstore_cache: Option<PathBuf>,
}

impl Context {
    /// Evaluate now, with refreshed trust material from `sigstore_cache`.
    pub fn now(sigstore_cache: Option<PathBuf>) -> Self {
        Self {
            now: jiff::Timestamp::now(),
            sigstore_cache,
        }
    }
}

/// Clock skew tolerated for signing times in the future.
const SKEW: i64 = 60;

impl Policy {
    /// The rule for `reference`: the one whose matching scope is most specific (exact
    /// repositories before patterns, then more literal characters; the first written wins a
    /// tie), with the reason it was chosen.
    pub fn rule_for(&self, reference: &Reference) -> Option<(&Rule, String, String)> {
        let repo = reference.repository_url();
        let mut matching: Vec<(&Rule, &super::matcher::Scope, usize)> = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            if let Some(scope) = rule
                .scopes
                .iter()
                .filter(|s| s.matches(&repo))
                .max_by_key(|s| s.specificity())
            {
                matching.push((rule, scope, i));
            }
        }
        let count = matching.len();
        let (rule, scope, _) = matching.into_iter().min_by(|a, b| {
            b.1.specificity()
                .cmp(&a.1.specificity())
                .then(a.2.cmp(&b.2))
        })?;
        let why = if count == 1 {
            "the only rule matching".to_string()
        } else {
            format!("the most specific of {count} matching rules")
        };
        Some((rule, scope.pattern.clone(), why))
    }
}

/// The decision for `digest` (what `reference` resolved to) given the signatures found.
/// Errors are problems with the trust material, not with the signatures.
pub fn evaluate(
    policy: &Policy,
    reference: &Reference,
    digest: &Digest,
    found: &[Found],
    ctx: &Context,
) -> Result<Decision> {
    let mut d = Decision {
        schema: DECISION_SCHEMA,
        reference: reference.to_string(),
        digest: digest.to_string(),
        decision: Verdict::Deny,
        rule: None,
        signatures: Vec::new(),
        authorities: Vec::new(),
        threshold: 0,
        satisfied: 0,
        problems: Vec::new(),
        fixes: Vec::new(),
    };
    let repo = reference.repository_url();
    let Some((rule, scope, why)) = policy.rule_for(reference) else {
        if policy.unmatched == Unmatched::AllowUnsigned {
            d.decision = Verdict::Allow;
        } else {
            d.problems.push(format!(
                "no rule of {} covers {repo}",
                policy.path.display()
            ));
            d.fixes.push(format!(
                "add a [[rule]] whose scope matches {repo} (for example scope = \"{repo}\") with the authorities that sign it"
            ));
        }
        return Ok(d);
    };
    d.rule = Some(RuleTrace {
        name: rule.name.clone(),
        scope,
        why,
        mode: rule.mode,
        trust: rule.trust.to_string(),
    });
    d.threshold = rule.threshold;
    if rule.allow_unsigned {
        d.decision = Verdict::Allow;
        return Ok(d);
    }
    let instance = load_trust(&rule.trust, ctx)?;
    let verifier = instance.verifier()?;
    let hash: [u8; 32] = hex::decode(digest.hex())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Error::Input(format!("{digest} is not a SHA-256 digest")))?;
    let mut signers: Vec<(Signer, Vec<usize>)> = Vec::new();
    let mut unmatched_signers = Vec::new();
    for f in found {
        let (trace, matched) = examine(f, &hash, digest, rule, &verifier, ctx);
        if let (Some(signer), true) = (&trace.signer, trace.valid()) {
            match signers.iter_mut().find(|(s, _)| s == signer) {
                Some((_, m)) => {
                    for a in &matched {
                        if !m.contains(a) {
                            m.push(*a);
                        }
                    }
                }
                None => signers.push((signer.clone(), matched.clone())),
            }
        } else if let Some(signer) = &trace.signer
            && trace.checks.iter().any(|c| c.check == "identity" && !c.ok)
        {
            unmatched_signers.push(signer.id());
        }
        d.signatures.push(trace);
    }
    let assignment = max_matching(rule.authorities.len(), &signers);
    d.authorities = rule
        .authorities
        .iter()
        .enumerate()
        .map(|(i, a)| AuthorityTrace {
            name: a.name.clone(),
            requires: describe(a),
            satisfied_by: assignment[i].map(|s| signers[s].0.id()),
        })
        .collect();
    d.satisfied = assignment.iter().flatten().count();
    if d.satisfied >= rule.threshold {
        d.decision = Verdict::Allow;
        return Ok(d);
    }
    explain_denial(&mut d, rule, reference, digest, &unmatched_signers);
    if rule.mode == Mode::Audit {
        d.decision = Verdict::Allow;
    }
    Ok(d)
}

fn explain_denial(
    d: &mut Decision,
    rule: &Rule,
    reference: &Reference,
    digest: &Digest,
    unmatched_signers: &[String],
) {
    let pinned = format!("{}@{digest}", reference.repository_url());
    let missing: Vec<&AuthorityTrace> = d
        .authorities
        .iter()
        .filter(|a| a.satisfied_by.is_none())
        .collect();
    if d.signatures.is_empty() {
        d.problems.push(format!("{pinned} has no signatures"));
    }
    for (i, s) in d.signatures.iter().enumerate() {
        let Some(failed) = s.checks.iter().find(|c| !c.ok) else {
            continue;
        };
        let what = match (&s.signer, failed.check) {
            (Some(signer), "identity") => format!(
                "{} signed it, but is not one of rule {:?}'s authorities",
                signer.id(),
                rule.name
            ),
            _ => format!(
                "the {} check failed{}",
                failed.check,
                failed
                    .detail
                    .as_ref()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            ),
        };
        d.problems.push(format!(
            "signature {} ({} {}): {what}",
            i + 1,
            s.source,
            s.location
        ));
    }
    d.problems.push(format!(
        "rule {:?} needs {} distinct authorit{} satisfied, and {} {}",
        rule.name,
        rule.threshold,
        if rule.threshold == 1 { "y" } else { "ies" },
        d.satisfied,
        if d.satisfied == 1 { "is" } else { "are" }
    ));
    let need = rule.threshold - d.satisfied;
    let names: Vec<String> = missing
        .iter()
        .map(|a| format!("{} ({})", a.name, a.requires))
        .collect();
    d.fixes.push(format!(
        "get {need} more signature{} from different signers among: {}; e.g. `spin sign {pinned}` run as one of them",
        if need == 1 { "" } else { "s" },
        names.join("; ")
    ));
    let mut unmatched: Vec<&String> = unmatched_signers.iter().collect();
    unmatched.sort();
    unmatched.dedup();
    if !unmatched.is_empty() {
        let names: Vec<&str> = unmatched.iter().map(|s| s.as_str()).collect();
        d.fixes.push(format!(
            "or, if {} should be trusted, add an authority for it to rule {:?}",
            names.join(" and "),
            rule.name
        ));
    }
}

/// Trust material for a rule.
pub fn load_trust(trust: &Trust, ctx: &Context) -> Result<Instance> {
    let refreshed = |sub: &str| ctx.sigstore_cache.as_ref().map(|c| c.join(sub));
    match trust {
        Trust::PublicGood => {
            let r = refreshed("public-good");
            Instance::load(&crate::instance::Source {
                trusted_root: None,
                signing_config: None,
                staging: false,
                refreshed: r.as_deref(),
            })
        }
        Trust::Staging => {
            let r = refreshed("staging");
            Instance::load(&crate::instance::Source {
                trusted_root: None,
                signing_config: None,
                staging: true,
                refreshed: r.as_deref(),
            })
        }
        Trust::TrustedRoot(path) => Instance::load(&crate::instance::Source {
            trusted_root: Some(path),
            signing_config: None,
            staging: false,
            refreshed: None,
        }),
    }
}

fn check(checks: &mut Vec<Check>, name: &'static str, ok: bool, detail: Option<String>) -> bool {
    checks.push(Check {
        check: name,
        ok,
        detail,
    });
    ok
}

/// Verify one signature under `rule`: the trace, and the indexes of the authorities its
/// signer satisfies.
fn examine(
    f: &Found,
    hash: &[u8; 32],
    digest: &Digest,
    rule: &Rule,
    verifier: &sigstore_verify::Verifier,
    ctx: &Context,
) -> (SignatureTrace, Vec<usize>) {
    let mut t = SignatureTrace {
        source: f.source,
        location: f.location.clone(),
        signer: None,
        signed_at: None,
        checks: Vec::new(),
        authorities: Vec::new(),
    };
    let evidence = match &f.content {
        Ok(e) => e,
        Err(why) => {
            check(&mut t.checks, "bundle", false, Some(why.clone()));
            return (t, Vec::new());
        }
    };
    check(&mut t.checks, "bundle", true, None);
    let (bundle, artifact): (&Bundle, Artifact<'_>) = match evidence {
        Evidence::Bundle(b) => {
            if let Err(why) = statement_kind(b) {
                check(&mut t.checks, "statement", false, Some(why));
                return (t, Vec::new());
            }
            (b, Artifact::from_digest(Sha256Hash::new(*hash)))
        }
        Evidence::Legacy { bundle, payload } => {
            match legacy_digest(payload) {
                Some(d) if d == digest.to_string() => {}
                other => {
                    check(
                        &mut t.checks,
                        "digest",
                        false,
                        Some(format!(
                            "the payload names {}, not {digest}",
                            other.as_deref().unwrap_or("no digest")
                        )),
                    );
                    return (t, Vec::new());
                }
            }
            (bundle, Artifact::from(&payload[..]))
        }
    };
    // Cryptography: keyless with any identity (authorities are matched below), or each key.
    let mut key_authority = None;
    let result = if bundle.signing_certificate().is_some() {
        let policy = VerificationPolicy::any_identity();
        let policy = if rule.require.tlog {
            policy
        } else {
            policy.skip_tlog_unsafe()
        };
        verifier.verify(artifact, bundle, &policy)
    } else {
        let keys: Vec<(usize, &sigstore_verify::types::DerPublicKey)> = rule
            .authorities
            .iter()
            .enumerate()
            .filter_map(|(i, a)| match &a.kind {
                AuthorityKind::Key { key, .. } => Some((i, key)),
                _ => None,
            })
            .collect();
        let mut last = None;
        for (i, key) in &keys {
            let policy = PublicKeyVerificationPolicy::new((*key).clone());
            let policy = if rule.require.tlog {
                policy
            } else {
                policy.skip_tlog_unsafe()
            };
            match verifier.verify(artifact.clone(), bundle, &policy) {
                Ok(r) => {
                    key_authority = Some(*i);
                    last = Some(Ok(r));
                    break;
                }
                Err(e) => last = Some(Err(e)),
            }
        }
        match last {
            Some(r) if key_authority.is_some() || keys.len() == 1 => r,
            Some(_) => {
                check(
                    &mut t.checks,
                    "signature",
                    false,
                    Some(
                        "signed with a key, and none of the rule's key authorities verifies it"
                            .into(),
                    ),
                );
                return (t, Vec::new());
            }
            None => {
                check(
                    &mut t.checks,
                    "signature",
                    false,
                    Some(format!(
                        "signed with a key, and rule {:?} lists no key authority",
                        rule.name
                    )),
                );
                return (t, Vec::new());
            }
        }
    };
    let result = match result {
        Ok(r) => r,
        Err(e) => {
            check(&mut t.checks, failed_check(&e), false, Some(e.to_string()));
            return (t, Vec::new());
        }
    };
    check(&mut t.checks, "digest", true, None);
    check(&mut t.checks, "signature", true, None);
    if bundle.signing_certificate().is_some() {
        check(&mut t.checks, "chain", result.certificate_verified(), None);
        check(&mut t.checks, "sct", result.sct_verified(), None);
    }
    if rule.require.tlog {
        check(&mut t.checks, "log-inclusion", result.tlog_verified(), None);
    }
    let has_tsa = !bundle
        .verification_material
        .timestamp_verification_data
        .rfc3161_timestamps
        .is_empty();
    if rule.require.timestamp || has_tsa {
        let detail = (!has_tsa).then(|| {
            "the rule requires an RFC 3161 signed timestamp and the bundle has none".to_string()
        });
        if !check(&mut t.checks, "timestamp", has_tsa, detail) {
            return (t, Vec::new());
        }
    }
    let signed_at = result.verified_timestamps().iter().min().copied();
    t.signed_at = signed_at.map(|s| s.to_string());
    if !age_ok(&mut t.checks, signed_at, rule, ctx) {
        return (t, Vec::new());
    }
    // Who signed, and which authorities that satisfies.
    let (signer, matched, reasons) = match key_authority {
        Some(i) => {
            let AuthorityKind::Key { fingerprint, .. } = &rule.authorities[i].kind else {
                unreachable!("key authorities only")
            };
            let fingerprint = fingerprint.clone();
            (Signer::Key { fingerprint }, vec![i], Vec::new())
        }
        None => {
            let subject = result.identity().map(|s| s.as_str().to_string());
            let issuer = result.issuer().map(str::to_string);
            let (Some(subject), Some(issuer)) = (subject, issuer) else {
                check(
                    &mut t.checks,
                    "identity",
                    false,
                    Some("the certificate has no identity or issuer".into()),
                );
                return (t, Vec::new());
            };
            let claims = result.certificate().map(|c| &c.ci_claims);
            let mut matched = Vec::new();
            let mut reasons = Vec::new();
            for (i, a) in rule.authorities.iter().enumerate() {
                if let AuthorityKind::Keyless(id) = &a.kind {
                    match identity_matches(id, &subject, &issuer, claims) {
                        Ok(()) => matched.push(i),
                        Err(why) => reasons.push(format!("not {}: {why}", a.name)),
                    }
                }
            }
            if rule
                .authorities
                .iter()
                .all(|a| matches!(a.kind, AuthorityKind::Key { .. }))
            {
                reasons.push(format!("rule {:?} accepts only key signatures", rule.name));
            }
            (Signer::Certificate { subject, issuer }, matched, reasons)
        }
    };
    t.signer = Some(signer);
    let detail = matched.is_empty().then(|| reasons.join("; "));
    check(&mut t.checks, "identity", !matched.is_empty(), detail);
    t.authorities = matched
        .iter()
        .map(|&i| rule.authorities[i].name.clone())
        .collect();
    (t, matched)
}

/// Which check a verifier error belongs to.
fn failed_check(e: &sigstore_verify::Error) -> &'static str {
    use sigstore_verify::{CertificateError as C, Error as E};
    match e {
        E::ArtifactMismatch(_) => "digest",
        E::SignatureInvalid(_) => "signature",
        E::Certificate(C::Sct(_)) => "sct",
        E::Certificate(_) | E::TrustedCertificate(_) => "chain",
        E::TransparencyLog(_) => "log-inclusion",
        E::Timestamp(_) => "timestamp",
        _ => "bundle",
    }
}

/// A cosign v3 signature statement, or no statement at all (a message signature over the
/// digest); other in-toto statements are attestations, not signatures.
fn statement_kind(bundle: &Bundle) -> std::result::Result<(), String> {
    use sigstore_verify::types::bundle::SignatureContent;
    let SignatureContent::DsseEnvelope(env) = &bundle.content else {
        return Ok(());
    };
    let statement: serde_json::Value = serde_json::from_slice(env.payload.as_bytes())
        .map_err(|e| format!("the DSSE payload is not JSON: {e}"))?;
    match statement["predicateType"].as_str() {
        Some(crate::app::SIGN_PREDICATE_TYPE) => Ok(()),
        Some(other) => Err(format!(
            "an attestation ({other}), not a signature (predicate {})",
            crate::app::SIGN_PREDICATE_TYPE
        )),
        None => Err("the DSSE payload is not an in-toto statement".into()),
    }
}

/// The `docker-manifest-digest` a simple-signing payload names.
fn legacy_digest(payload: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(payload).ok()?;
    if v["critical"]["type"] != "cosign container image signature" {
        return None;
    }
    v["critical"]["image"]["docker-manifest-digest"]
        .as_str()
        .map(String::from)
}

fn age_ok(
    checks: &mut Vec<Check>,
    signed_at: Option<jiff::Timestamp>,
    rule: &Rule,
    ctx: &Context,
) -> bool {
    let Some(at) = signed_at else {
        if let Some(max) = rule.require.max_age {
            let detail = format!(
                "the rule allows signatures up to {} old, and this one has no verified signing time",
                human(max.as_secs())
            );
            return check(checks, "age", false, Some(detail));
        }
        return true;
    };
    let age = ctx.now.as_second() - at.as_second();
    if age < -SKEW {
        let detail = format!("signed at {at}, {} in the future", human((-age) as u64));
        return check(checks, "age", false, Some(detail));
    }
    if let Some(max) = rule.require.max_age {
        let ok = age <= max.as_secs() as i64;
        let detail = (!ok).then(|| {
            format!(
                "signed {} ago, older than the rule's max_age of {}",
                human(age as u64),
                human(max.as_secs())
            )
        });
        return check(checks, "age", ok, detail);
    }
    true
}

fn human(secs: u64) -> String {
    match secs {
        s if s >= 86_400 => format!("{}d{}h", s / 86_400, s % 86_400 / 3600),
        s if s >= 3600 => format!("{}h{}m", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{}m{}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

const GITHUB: &str = "https://github.com/";

/// Whether a certificate's claims satisfy an identity; the error names the first mismatch.
fn identity_matches(
    id: &Identity,
    subject: &str,
    issuer: &str,
    claims: Option<&sigstore_verify::crypto::FulcioCiClaims>,
) -> std::result::Result<(), String> {
    if !id.issuer.matches(issuer) {
        return Err(format!("issuer {issuer} is not {}", id.issuer));
    }
    if let Some(s) = &id.subject
        && !s.matches(subject)
    {
        return Err(format!("subject {subject} is not {s}"));
    }
    let g = &id.github;
    if g.is_empty() {
        return Ok(());
    }
    let claim = |name: &str, v: Option<&Option<String>>| -> std::result::Result<String, String> {
        v.and_then(|v| v.clone()).ok_or_else(|| {
            format!(
                "the certificate has no {name} claim (not a GitHub Actions workflow certificate)"
            )
        })
    };
    let c = claims;
    if let Some(repo) = &g.repository {
        let got = claim("source repository", c.map(|c| &c.source_repository_uri))?;
        if got != format!("{GITHUB}{repo}") {
            return Err(format!("repository {got} is not {GITHUB}{repo}"));
        }
    }
    if let Some(owner) = &g.owner {
        let got = claim(
            "source repository owner",
            c.map(|c| &c.source_repository_owner_uri),
        )?;
        if got != format!("{GITHUB}{owner}") {
            return Err(format!("repository owner {got} is not {GITHUB}{owner}"));
        }
    }
    if let Some(w) = &g.workflow_ref {
        let got = claim("build config (workflow)", c.map(|c| &c.build_config_uri))?;
        let short = got.strip_prefix(GITHUB).unwrap_or(&got);
        if !w.matches(short) {
            return Err(format!("workflow {short} is not {w}"));
        }
    }
    if !g.events.is_empty() {
        let got = claim("build trigger (event)", c.map(|c| &c.build_trigger))?;
        if !g.events.contains(&got) {
            return Err(format!("event {got} is not one of {}", g.events.join(", ")));
        }
    }
    if let Some(r) = &g.git_ref {
        let got = claim("source repository ref", c.map(|c| &c.source_repository_ref))?;
        if !r.matches(&got) {
            return Err(format!("ref {got} is not {r}"));
        }
    }
    if let Some(sha) = &g.sha {
        let got = claim(
            "source repository digest (commit)",
            c.map(|c| &c.source_repository_digest),
        )?;
        if &got != sha {
            return Err(format!("commit {got} is not {sha}"));
        }
    }
    if let Some(self_hosted) = g.self_hosted {
        let got = claim("runner environment", c.map(|c| &c.runner_environment))?;
        let want = if self_hosted {
            "self-hosted"
        } else {
            "github-hosted"
        };
        if got != want {
            return Err(format!("the runner is {got}, not {want}"));
        }
    }
    Ok(())
}

/// An authority's requirements in words.
pub fn describe(a: &Authority) -> String {
    match &a.kind {
        AuthorityKind::Key {
            path, fingerprint, ..
        } => {
            format!("key {} ({fingerprint})", path.display())
        }
        AuthorityKind::Keyless(id) => {
            let mut parts = vec![format!("issuer {}", id.issuer)];
            if let Some(s) = &id.subject {
                parts.push(format!("subject {s}"));
            }
            let g = &id.github;
            if let Some(r) = &g.repository {
                parts.push(format!("repository {r}"));
            }
            if let Some(o) = &g.owner {
                parts.push(format!("owner {o}"));
            }
            if let Some(w) = &g.workflow_ref {
                parts.push(format!("workflow {w}"));
            }
            if !g.events.is_empty() {
                parts.push(format!("event {}", g.events.join("|")));
            }
            if let Some(r) = &g.git_ref {
                parts.push(format!("ref {r}"));
            }
            if let Some(s) = &g.sha {
                parts.push(format!("commit {s}"));
            }
            if let Some(h) = g.self_hosted {
                parts.push(
                    if h {
                        "self-hosted runner"
                    } else {
                        "GitHub-hosted runner"
                    }
                    .into(),
                );
            }
            parts.join(", ")
        }
    }
}

/// Assign each authority at most one distinct signer and each signer at most one
/// authority, as many as possible (Kuhn's augmenting paths): the threshold count.
fn max_matching(authorities: usize, signers: &[(Signer, Vec<usize>)]) -> Vec<Option<usize>> {
    fn augment(
        s: usize,
        signers: &[(Signer, Vec<usize>)],
        owner: &mut [Option<usize>],
        seen: &mut [bool],
    ) -> bool {
        for &a in &signers[s].1 {
            if seen[a] {
                continue;
            }
            seen[a] = true;
            if owner[a].is_none_or(|other| augment(other, signers, owner, seen)) {
                owner[a] = Some(s);
                return true;
            }
        }
        false
    }
    let mut owner = vec![None; authorities];
    for s in 0..signers.len() {
        let mut seen = vec![false; authorities];
        augment(s, signers, &mut owner, &mut seen);
    }
    owner
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(n: &str) -> Signer {
        Signer::Key {
            fingerprint: n.into(),
        }
    }

    #[test]
    fn threshold_counts_distinct_signers_once_each() {
        // One signer matching two authorities counts once.
        let m = max_matching(2, &[(signer("a"), vec![0, 1])]);
        assert_eq!(m.iter().flatten().count(), 1);
        // Two signers both matching the broad authority and one the narrow: both count.
        let m = max_matching(2, &[(signer("a"), vec![0, 1]), (signer("b"), vec![0])]);
        assert_eq!(m.iter().flatten().count(), 2);
        // Two signers matching only the same authority: it counts once.
        let m = max_matching(3, &[(signer("a"), vec![1]), (signer("b"), vec![1])]);
        assert_eq!(m.iter().flatten().count(), 1);
    }
}
