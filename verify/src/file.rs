//! `spin sign-bundle` / `spin verify-bundle`: a file (or only its `sha256:<hex>` digest)
//! signed into a Sigstore bundle, keylessly or with a key, and verified through the same
//! policy engine as apps (`spin verify`), with a one-authority policy from the flags. The
//! command-line shape follows the sigstore-conformance client protocol.

use crate::Result;
use crate::bundle::{Input, read_bundle, write_bundle};
use crate::instance::Instance;
use crate::keys::SigningKey;
use crate::policy::{Context, Decision, Evidence, Found, Policy, Source, Subject};
use sigstore_sign::oidc::IdentityToken;
use sigstore_sign::types::Bundle;
use std::path::Path;

/// How to sign.
pub enum Signer<'a> {
    /// Keylessly, as the identity in this token.
    Keyless(Box<IdentityToken>),
    /// With this key; `tlog` records the signature in Rekor (else a TSA timestamp).
    Key {
        /// The key.
        key: &'a SigningKey,
        /// Record in the transparency log.
        tlog: bool,
    },
}

/// Sign `input` with `instance`'s services and write the bundle to `bundle_out`.
pub async fn sign(
    instance: &Instance,
    signer: Signer<'_>,
    input: &Input,
    bundle_out: &Path,
) -> Result<Bundle> {
    let bundle = match signer {
        Signer::Keyless(token) => crate::sign::keyless::sign_input(instance, *token, input).await?,
        Signer::Key { key, tlog } => {
            crate::sign::key::sign_input(instance, key, input, tlog).await?
        }
    };
    write_bundle(&bundle, bundle_out)?;
    Ok(bundle)
}

/// Judge the bundle at `bundle_path` for `input` under `policy` (whose rules match the
/// input's name as written): the decision with its trace. A bundle that cannot be read is
/// a failed signature in the trace, not an error; errors are about trust material.
pub fn verify(
    policy: &Policy,
    name: &str,
    input: &Input,
    bundle_path: &Path,
    ctx: &Context,
) -> Result<Decision> {
    let digest = spin_app::Digest::from_sha256(input.sha256()?);
    let found = [Found {
        source: Source::File,
        location: bundle_path.display().to_string(),
        content: read_bundle(bundle_path)
            .map(|b| Evidence::Bundle(Box::new(b)))
            .map_err(|e| e.to_string()),
    }];
    crate::policy::evaluate(policy, &Subject::Artifact(name), &digest, &found, ctx)
}
