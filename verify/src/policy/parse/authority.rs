//! The authorities of a rule: keyless identities (exact or regex subject and issuer, GitHub
//! workflow claims) and public keys, each checked where it is written.

use super::super::matcher::Matcher;
use super::super::model::*;
use super::{OneOrMany, Parser, R, RawAuthority, RawGithub};
use std::path::PathBuf;
use toml::Spanned;

impl Parser<'_> {
    fn matcher(
        &mut self,
        what: &str,
        exact: Option<Spanned<String>>,
        regex: Option<Spanned<String>>,
    ) -> R<Option<Matcher>> {
        match (exact, regex) {
            (Some(e), Some(_)) => self.err(
                e.span(),
                format!("both `{what}` and `{what}_regex` are set"),
                &format!("keep one: `{what}` for an exact value or `{what}_regex`"),
            ),
            (Some(e), None) => Ok(Some(Matcher::Exact(e.into_inner()))),
            (None, Some(r)) => match Matcher::regex(r.get_ref()) {
                Ok(m) => {
                    if let Some(w) = m.lint() {
                        self.warn(r.span(), w);
                    }
                    Ok(Some(m))
                }
                Err(e) => self.err(
                    r.span(),
                    format!("`{what}_regex` is not a valid regex: {e}"),
                    "fix the pattern (Rust regex syntax; it must match the whole value unless you write ^ or $)",
                ),
            },
            (None, None) => Ok(None),
        }
    }

    pub(super) fn authority(
        &mut self,
        index: usize,
        raw: Spanned<RawAuthority>,
    ) -> R<(Authority, std::ops::Range<usize>)> {
        let span = raw.span();
        let a = raw.into_inner();
        let name = a
            .name
            .as_ref()
            .map(|n| n.get_ref().clone())
            .unwrap_or_else(|| format!("authority {}", index + 1));
        if let Some(key) = a.key {
            if let Some(other) = [&a.issuer, &a.issuer_regex, &a.subject, &a.subject_regex]
                .into_iter()
                .flatten()
                .next()
            {
                return self.err(
                    other.span(),
                    "a key authority cannot also have certificate claims",
                    "use either `key` (key-based signatures) or issuer/subject (keyless), in separate authorities",
                );
            }
            if let Some(g) = &a.github {
                return self.err(
                    g.span(),
                    "a key authority cannot have GitHub claims",
                    "move the claims to a keyless authority",
                );
            }
            let path = self.dir.join(key.get_ref());
            let kind = match key_authority(path) {
                Ok(k) => k,
                Err(e) => self.err(key.span(), e, "point at the signer's public key (cosign.pub), relative to the policy file's folder")?,
            };
            return Ok((Authority { name, kind }, span));
        }
        let Some(issuer) = self.matcher("issuer", a.issuer, a.issuer_regex)? else {
            return self.err(
                span,
                format!("authority {name:?} has neither an `issuer` nor a `key`"),
                "keyless signers need issuer (e.g. \"https://token.actions.githubusercontent.com\") and subject; key-based ones need key = \"cosign.pub\"",
            );
        };
        let subject = self.matcher("subject", a.subject, a.subject_regex)?;
        let github = match a.github {
            None => GithubClaims::default(),
            Some(g) => self.github(g)?,
        };
        if subject.is_none() && github.repository.is_none() && github.owner.is_none() {
            return self.err(
                span,
                format!("authority {name:?} accepts anyone its issuer vouches for"),
                "constrain who signed: `subject`, `subject_regex`, or (GitHub) github.repository / github.owner",
            );
        }
        Ok((
            Authority {
                name,
                kind: AuthorityKind::Keyless(Box::new(Identity {
                    issuer,
                    subject,
                    github,
                })),
            },
            span,
        ))
    }

    fn github(&mut self, raw: Spanned<RawGithub>) -> R<GithubClaims> {
        let g = raw.into_inner();
        Ok(GithubClaims {
            repository: g.repository,
            owner: g.owner,
            workflow_ref: self.matcher("workflow_ref", g.workflow_ref, g.workflow_ref_regex)?,
            events: g.event.map(OneOrMany::into_vec).unwrap_or_default(),
            git_ref: self.matcher("ref", g.git_ref, g.ref_regex)?,
            sha: g.sha,
            self_hosted: g.self_hosted,
        })
    }
}

/// A key authority for the PEM public key at `path`.
pub fn key_authority(path: PathBuf) -> Result<AuthorityKind, String> {
    let key = crate::keys::read_public(&path)?;
    let fingerprint = spin_app::Digest::of_bytes(key.as_bytes()).to_string();
    Ok(AuthorityKind::Key {
        path,
        key,
        fingerprint,
    })
}
