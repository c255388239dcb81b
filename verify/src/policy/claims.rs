//! Matching a verified certificate's claims (issuer, subject, and the GitHub Actions
//! claims Fulcio copies into its extensions) to a keyless authority, and describing an
//! authority in words for traces and fixes.

use super::model::*;

const GITHUB: &str = "https://github.com/";

/// Whether a certificate's claims satisfy an identity; the error names the first mismatch.
pub(super) fn identity_matches(
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
