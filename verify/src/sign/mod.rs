//! Making signatures: keylessly ([`keyless`]: an ephemeral key, a Fulcio certificate for
//! the OIDC identity, a Rekor entry and a timestamp) or with a key the user holds ([`key`]:
//! a Rekor entry, or a TSA timestamp for air-gapped use). Both produce Sigstore bundles
//! (v0.3); what they sign (a file's digest, an app's in-toto statement) is the caller's.

pub mod key;
pub mod keyless;

use crate::Error;
use crate::error::redact;

/// A signing client's error, naming the service that failed and what to do.
pub(crate) fn signing_error(e: sigstore_sign::Error) -> Error {
    use sigstore_sign::Error as E;
    let (what, help) = match &e {
        E::Fulcio(_) => (
            "the certificate authority (Fulcio) did not issue a signing certificate",
            "check that the identity token is fresh, for audience `sigstore`, and from an issuer this Fulcio trusts",
        ),
        E::Rekor(_) => (
            "the transparency log (Rekor) did not record the signature",
            "retry; if it persists, check the Rekor URL in the signing config",
        ),
        E::Tsa(_) => (
            "the timestamp authority did not issue a timestamp",
            "retry, or use a signing config without a TSA",
        ),
        E::Oidc(_) => (
            "the identity token could not be obtained",
            "pass --identity-token or set SIGSTORE_ID_TOKEN",
        ),
        _ => ("signing failed", "see the cause above"),
    };
    Error::Signing(format!(
        "{what}: {}\n  help: {help}",
        redact(&e.to_string())
    ))
}
