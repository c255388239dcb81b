//! The OIDC identity token for keyless signing, in this order: the one given
//! (`--identity-token`), `SIGSTORE_ID_TOKEN` (GitLab CI `id_tokens`, or any CI that
//! provides one), the CI's ambient credentials (GitHub Actions:
//! `ACTIONS_ID_TOKEN_REQUEST_URL` + `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, audience `sigstore`;
//! also GitLab, Buildkite, CircleCI), then, on a terminal, an interactive login with the
//! instance's OIDC provider (authorization code + PKCE: a browser with a localhost
//! redirect, or a URL to visit and a code to paste when no browser opens).
//!
//! The token is checked here for shape, expiry and audience so the user gets a precise
//! error before any service sees it. It is a secret: nothing here prints, logs or puts it
//! in an error message.

use crate::services::oidc::{Interactive, log_in};
use crate::{Error, Result, redact};
pub use sigstore_sign::oidc::IdentityToken;

/// Where the token came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `--identity-token`.
    Flag,
    /// `SIGSTORE_ID_TOKEN`.
    Environment,
    /// The CI's ambient credentials.
    Ambient,
    /// The interactive login.
    Login,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Origin::Flag => "--identity-token",
            Origin::Environment => "SIGSTORE_ID_TOKEN",
            Origin::Ambient => "the CI's ambient OIDC credentials",
            Origin::Login => "the interactive login",
        })
    }
}

/// Parse and check a token: a JWT, not expired, audience `sigstore`.
pub fn parse(raw: &str, origin: Origin) -> Result<IdentityToken> {
    let token = IdentityToken::from_jwt(raw.trim()).map_err(|_| {
        Error::Identity(format!(
            "the identity token from {origin} is not a JWT\n  help: pass the raw OIDC ID token (three base64url parts separated by dots)"
        ))
    })?;
    if token.is_expired() {
        return Err(Error::Identity(format!(
            "the identity token from {origin} expired at {}\n  help: get a fresh token; OIDC ID tokens live only minutes",
            token.expiration()
        )));
    }
    if !token.claims().aud.contains("sigstore") {
        return Err(Error::Identity(format!(
            "the identity token from {origin} is for audience {:?}, and Sigstore accepts only `sigstore`\n  help: request the token with audience \"sigstore\"",
            token.claims().aud
        )));
    }
    Ok(token)
}

/// Find a token: `given`, else `SIGSTORE_ID_TOKEN`, else ambient CI credentials, else the
/// interactive login (only with a terminal on stdin).
pub async fn find(
    given: Option<&str>,
    interactive: Option<Interactive>,
) -> Result<(IdentityToken, Origin)> {
    if let Some(raw) = given {
        return Ok((parse(raw, Origin::Flag)?, Origin::Flag));
    }
    if let Ok(raw) = std::env::var("SIGSTORE_ID_TOKEN")
        && !raw.trim().is_empty()
    {
        return Ok((parse(&raw, Origin::Environment)?, Origin::Environment));
    }
    match IdentityToken::detect_ambient().await {
        Ok(Some(token)) => {
            let raw = token.expose_secret().to_string();
            Ok((parse(&raw, Origin::Ambient)?, Origin::Ambient))
        }
        Ok(None) => match interactive {
            Some(login) if std::io::IsTerminal::is_terminal(&std::io::stdin()) => {
                let token = log_in(&login).await?;
                let raw = token.expose_secret().to_string();
                Ok((parse(&raw, Origin::Login)?, Origin::Login))
            }
            _ => Err(Error::Identity(
                "no identity token for keyless signing\n  help: pass --identity-token, set SIGSTORE_ID_TOKEN, run in CI with OIDC enabled (GitHub Actions: `permissions: id-token: write`), run on a terminal to log in, or sign with --key".into(),
            )),
        },
        Err(e) => Err(Error::Identity(format!(
            "the CI's ambient OIDC credentials could not be used: {}\n  help: in GitHub Actions grant `permissions: id-token: write`",
            redact(&e.to_string())
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: serde_json::Value) -> String {
        use base64::Engine;
        let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        format!(
            "{}.{}.{}",
            b64(br#"{"alg":"ES256"}"#),
            b64(claims.to_string().as_bytes()),
            b64(b"signature")
        )
    }

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    #[test]
    fn expired_wrong_audience_and_garbage_tokens_get_precise_errors() {
        let ok = jwt(
            serde_json::json!({"iss": "https://issuer", "sub": "me", "aud": "sigstore", "exp": now() + 300, "iat": now()}),
        );
        assert!(parse(&ok, Origin::Flag).is_ok());
        let expired = jwt(
            serde_json::json!({"iss": "https://issuer", "sub": "me", "aud": "sigstore", "exp": now() - 60, "iat": now() - 400}),
        );
        let e = parse(&expired, Origin::Environment)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("the identity token from SIGSTORE_ID_TOKEN expired at"),
            "{e}"
        );
        let audience = jwt(
            serde_json::json!({"iss": "https://issuer", "sub": "me", "aud": "other", "exp": now() + 300, "iat": now()}),
        );
        let e = parse(&audience, Origin::Flag).unwrap_err().to_string();
        assert!(e.contains("accepts only `sigstore`"), "{e}");
        assert!(!e.contains(&audience), "no token in errors");
        assert!(
            parse("not-a-token", Origin::Flag)
                .unwrap_err()
                .to_string()
                .contains("is not a JWT")
        );
    }

    #[test]
    fn redaction_removes_jwts_only() {
        let text = "Fulcio said: bad token \"eyJhbGci.eyJzdWIi.c2lnbmF0dXJl\" for sha256:abcd.efgh";
        assert_eq!(
            redact(text),
            "Fulcio said: bad token \"[redacted token]\" for sha256:abcd.efgh"
        );
    }
}
