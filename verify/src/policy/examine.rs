//! Verifying one signature under a rule: the bundle's cryptography with the rule's trust
//! material (any identity; authorities are matched after), then what the rule requires of
//! every counted signature (log inclusion, a signed timestamp, age), then which of the
//! rule's authorities its signer satisfies. Each step is a [`Check`] in the trace.

use super::claims::identity_matches;
use super::decision::*;
use super::evidence::{Context, Evidence, Found, Subject};
use super::model::*;
use sigstore_verify::types::{Artifact, Bundle, Sha256Hash};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy};
use spin_app::Digest;

/// Clock skew tolerated for signing times in the future.
const SKEW: i64 = 60;

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
pub(super) fn examine(
    f: &Found,
    subject: &Subject<'_>,
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
            if let Err(why) =
                statement_kind(b).or_else(|e| subject.any_statement().then_some(()).ok_or(e))
            {
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
                        "the bundle has no signing certificate (it was signed with a key), and rule {:?} lists no key authority",
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
