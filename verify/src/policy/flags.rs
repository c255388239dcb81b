//! A one-rule policy from command-line flags (`spin verify --certificate-identity …`,
//! `spin verify-bundle --key …`): the same engine as a policy file, with one authority.

use super::matcher::Matcher;
use super::model::*;
use crate::{Error, Result};
use std::path::PathBuf;

/// The authority flags, as given.
#[derive(Debug, Clone, Default)]
pub struct FlagAuthority {
    /// `--certificate-identity`.
    pub identity: Option<String>,
    /// `--certificate-identity-regexp`.
    pub identity_regexp: Option<String>,
    /// `--certificate-oidc-issuer`.
    pub issuer: Option<String>,
    /// `--certificate-oidc-issuer-regexp`.
    pub issuer_regexp: Option<String>,
    /// `--key`.
    pub key: Option<PathBuf>,
    /// `--insecure-ignore-tlog` (with a key: accept bundles without a log entry).
    pub ignore_tlog: bool,
}

fn input(message: impl Into<String>) -> Error {
    Error::Input(message.into())
}

impl FlagAuthority {
    /// Whether any authority flag was given.
    pub fn is_given(&self) -> bool {
        self.identity.is_some()
            || self.identity_regexp.is_some()
            || self.issuer.is_some()
            || self.issuer_regexp.is_some()
            || self.key.is_some()
    }

    /// The one-authority policy, with `trust`.
    pub fn policy(&self, trust: Trust) -> Result<Policy> {
        if let Some(key) = &self.key {
            let kind = super::parse::key_authority(key.clone()).map_err(input)?;
            let authority = Authority {
                name: format!("key {}", key.display()),
                kind,
            };
            return Ok(super::single_authority(authority, trust, !self.ignore_tlog));
        }
        let subject = match (&self.identity, &self.identity_regexp) {
            (Some(i), _) => Matcher::Exact(i.clone()),
            (None, Some(r)) => Matcher::regex(r)
                .map_err(|e| input(format!("--certificate-identity-regexp: {e}")))?,
            (None, None) => {
                return Err(input(
                    "--certificate-oidc-issuer needs --certificate-identity or --certificate-identity-regexp",
                ));
            }
        };
        let issuer = match (&self.issuer, &self.issuer_regexp) {
            (Some(i), _) => Matcher::Exact(i.clone()),
            (None, Some(r)) => Matcher::regex(r)
                .map_err(|e| input(format!("--certificate-oidc-issuer-regexp: {e}")))?,
            (None, None) => {
                return Err(input(
                    "--certificate-identity needs --certificate-oidc-issuer (or -regexp)\n  help: e.g. --certificate-oidc-issuer https://token.actions.githubusercontent.com",
                ));
            }
        };
        let authority = Authority {
            name: format!("identity {subject}"),
            kind: AuthorityKind::Keyless(Box::new(Identity {
                issuer,
                subject: Some(subject),
                github: Default::default(),
            })),
        };
        Ok(super::single_authority(authority, trust, true))
    }
}
