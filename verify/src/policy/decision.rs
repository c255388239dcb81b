//! The decision and its trace: which rule applied and why, each signature found and each
//! check it passed or failed, which authorities were satisfied, and, on a denial, what
//! would make it pass. Rendered as short text for CI logs, or as stable JSON
//! (`"schema": "spin.verify.decision/v1"`, documented in `policies/README.md`).

use super::model::Mode;
use serde::Serialize;
use std::fmt::Write as _;

/// The JSON schema name of [`Decision`].
pub const DECISION_SCHEMA: &str = "spin.verify.decision/v1";

/// Where a signature was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// The OCI 1.1 referrers API.
    ReferrersApi,
    /// The `sha256-<hex>` referrers fallback tag.
    ReferrersTag,
    /// cosign's legacy `sha256-<hex>.sig` tag.
    LegacySig,
    /// A recorded bundle file (`spin policy test`).
    File,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Source::ReferrersApi => "referrers API",
            Source::ReferrersTag => "referrers fallback tag",
            Source::LegacySig => "cosign legacy .sig",
            Source::File => "file",
        })
    }
}

/// One check on one signature.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// `bundle`, `statement`, `digest`, `signature`, `chain`, `sct`, `log-inclusion`,
    /// `timestamp`, `age` or `identity`.
    pub check: &'static str,
    /// Whether it passed.
    pub ok: bool,
    /// What was seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Who made a signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Signer {
    /// A Fulcio certificate's identity.
    Certificate {
        /// The SAN (email or URI).
        subject: String,
        /// The OIDC issuer.
        issuer: String,
    },
    /// A public key.
    Key {
        /// `sha256:<hex>` of the key.
        fingerprint: String,
    },
}

impl Signer {
    /// The identity threshold counting uses: two signatures by it count once.
    pub fn id(&self) -> String {
        match self {
            Signer::Certificate { subject, issuer } => format!("{subject} (issuer {issuer})"),
            Signer::Key { fingerprint } => format!("key {fingerprint}"),
        }
    }
}

/// One signature and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureTrace {
    /// Where it was found.
    pub source: Source,
    /// The referrer manifest digest, `.sig` layer, or file.
    pub location: String,
    /// Who signed it, when the signature verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<Signer>,
    /// When it was signed (the earliest verified time), RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<String>,
    /// The checks, in order; the first failure ends them.
    pub checks: Vec<Check>,
    /// The authorities it satisfies.
    pub authorities: Vec<String>,
}

impl SignatureTrace {
    /// Whether every check passed.
    pub fn valid(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
}

/// Which rule applied.
#[derive(Debug, Clone, Serialize)]
pub struct RuleTrace {
    /// Its name.
    pub name: String,
    /// The scope pattern that matched.
    pub scope: String,
    /// Why it was chosen.
    pub why: String,
    /// Enforce or audit.
    pub mode: Mode,
    /// Its trust material.
    pub trust: String,
}

/// An authority and the signer that satisfied it, if any.
#[derive(Debug, Clone, Serialize)]
pub struct AuthorityTrace {
    /// Its name.
    pub name: String,
    /// What it requires, in words.
    pub requires: String,
    /// The distinct signer counted for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub satisfied_by: Option<String>,
}

/// The outcome of verifying one reference under a policy.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    /// [`DECISION_SCHEMA`].
    pub schema: &'static str,
    /// The reference as given.
    pub reference: String,
    /// The manifest digest that was verified (and is what may run).
    pub digest: String,
    /// `allow` or `deny`.
    pub decision: Verdict,
    /// The rule that applied, if any.
    pub rule: Option<RuleTrace>,
    /// Every signature found.
    pub signatures: Vec<SignatureTrace>,
    /// The rule's authorities.
    pub authorities: Vec<AuthorityTrace>,
    /// Distinct authorities required.
    pub threshold: usize,
    /// Distinct authorities satisfied (each by a different signer).
    pub satisfied: usize,
    /// Why enforce mode denies (empty when it allows). In audit mode these are what
    /// enforce would have denied for, and the decision is still `allow`.
    pub problems: Vec<String>,
    /// What would make it pass.
    pub fixes: Vec<String>,
}

/// Allowed or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// It may run.
    Allow,
    /// It may not.
    Deny,
}

impl Decision {
    /// Whether it may run.
    pub fn allowed(&self) -> bool {
        self.decision == Verdict::Allow
    }

    /// Whether it was allowed only because the rule audits.
    pub fn audit_only(&self) -> bool {
        self.allowed() && !self.problems.is_empty()
    }

    /// Stable JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a decision serializes")
    }

    /// Short text for a CI log.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let verdict = match (self.decision, self.audit_only()) {
            (Verdict::Allow, false) => "ALLOW",
            (Verdict::Allow, true) => "ALLOW (audit: enforce would deny)",
            (Verdict::Deny, _) => "DENY",
        };
        let _ = writeln!(out, "{verdict} {}@{}", self.repository(), self.digest);
        match &self.rule {
            Some(r) => {
                let mode = match r.mode {
                    Mode::Enforce => "enforce",
                    Mode::Audit => "audit",
                };
                let _ = writeln!(
                    out,
                    "  rule {:?} (scope {}, {}; {mode} mode; {})",
                    r.name, r.scope, r.why, r.trust
                );
            }
            None => {
                let _ = writeln!(out, "  no rule matches");
            }
        }
        if self.signatures.is_empty() && self.rule.is_some() {
            let _ = writeln!(out, "  no signatures found");
        }
        for (i, s) in self.signatures.iter().enumerate() {
            let _ = writeln!(out, "  signature {} ({} {})", i + 1, s.source, s.location);
            if let Some(signer) = &s.signer {
                let at = s.signed_at.as_deref().unwrap_or("time unknown");
                let _ = writeln!(out, "    signer {}, signed {at}", signer.id());
            }
            let checks: Vec<String> = s
                .checks
                .iter()
                .map(|c| format!("{} {}", if c.ok { "ok" } else { "FAIL" }, c.check))
                .collect();
            let _ = writeln!(out, "    {}", checks.join(", "));
            for c in s.checks.iter().filter(|c| !c.ok) {
                if let Some(d) = &c.detail {
                    let _ = writeln!(out, "    {}: {d}", c.check);
                }
            }
            if !s.authorities.is_empty() {
                let _ = writeln!(out, "    satisfies {}", s.authorities.join(", "));
            }
        }
        if !self.authorities.is_empty() {
            let _ = writeln!(
                out,
                "  threshold {} of {}: {} satisfied",
                self.threshold,
                self.authorities.len(),
                self.satisfied
            );
            for a in &self.authorities {
                match &a.satisfied_by {
                    Some(by) => {
                        let _ = writeln!(out, "    ok   {} by {by}", a.name);
                    }
                    None => {
                        let _ = writeln!(out, "    none {} ({})", a.name, a.requires);
                    }
                }
            }
        }
        for p in &self.problems {
            let _ = writeln!(out, "  why: {p}");
        }
        for f in &self.fixes {
            let _ = writeln!(out, "  fix: {f}");
        }
        out
    }

    fn repository(&self) -> &str {
        let r = &self.reference;
        match r.rfind('@') {
            Some(i) => &r[..i],
            None => match r.rfind(':') {
                Some(i) if !r[i..].contains('/') => &r[..i],
                _ => r,
            },
        }
    }
}
