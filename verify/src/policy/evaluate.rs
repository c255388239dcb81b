//! Evaluating a policy for one digest: pick the most specific rule, verify every signature
//! found with the rule's trust material, match verified signers to authorities, count
//! distinct signers against the threshold, and explain the outcome.

use super::claims::describe;
use super::decision::*;
use super::evidence::{Context, Found, Subject};
use super::examine::examine;
use super::model::*;
use crate::instance::Instance;
use crate::{Error, Result};
use spin_app::Digest;

impl Policy {
    /// The rule for `repo` (a repository, or an artifact's name): the one whose matching
    /// scope is most specific (exact repositories before patterns, then more literal
    /// characters; the first written wins a tie), with the reason it was chosen.
    pub fn rule_for(&self, repo: &str) -> Option<(&Rule, String, String)> {
        let mut matching: Vec<(&Rule, &super::matcher::Scope, usize)> = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            if let Some(scope) = rule
                .scopes
                .iter()
                .filter(|s| s.matches(repo))
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

/// The decision for `digest` (what `subject` is) given the signatures found. Errors are
/// problems with the trust material, not with the signatures.
pub fn evaluate(
    policy: &Policy,
    subject: &Subject<'_>,
    digest: &Digest,
    found: &[Found],
    ctx: &Context,
) -> Result<Decision> {
    let mut d = Decision {
        schema: DECISION_SCHEMA,
        reference: subject.to_string(),
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
    let repo = subject.scope_key();
    let Some((rule, scope, why)) = policy.rule_for(&repo) else {
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
        let (trace, matched) = examine(f, subject, &hash, digest, rule, &verifier, ctx);
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
    explain_denial(&mut d, rule, subject, digest, &unmatched_signers);
    if rule.mode == Mode::Audit {
        d.decision = Verdict::Allow;
    }
    Ok(d)
}

fn explain_denial(
    d: &mut Decision,
    rule: &Rule,
    subject: &Subject<'_>,
    digest: &Digest,
    unmatched_signers: &[String],
) {
    let pinned = subject.pinned(digest);
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
        "get {need} more signature{} from different signers among: {}; e.g. `{}` run as one of them",
        if need == 1 { "" } else { "s" },
        names.join("; "),
        subject.sign_command(digest)
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

/// Trust material for a rule: a trusted root file, or the public-good or staging material
/// (refreshed copy in the cache if there is one, else the embedded one).
pub fn load_trust(trust: &Trust, ctx: &Context) -> Result<Instance> {
    use crate::instance::Source;
    let staging = match trust {
        Trust::TrustedRoot(path) => {
            return Instance::load(&Source {
                trusted_root: Some(path),
                signing_config: None,
                staging: false,
                refreshed: None,
            });
        }
        Trust::PublicGood => false,
        Trust::Staging => true,
    };
    let refreshed = ctx
        .sigstore_cache
        .as_deref()
        .map(|c| crate::instance::refreshed_dir(c, staging));
    Instance::load(&Source {
        trusted_root: None,
        signing_config: None,
        staging,
        refreshed: refreshed.as_deref(),
    })
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
