//! The gate in front of running registry apps. [`verify_reference`] resolves a reference to
//! a digest once, finds that digest's signatures, and evaluates the policy; only an
//! allowing decision yields a [`Verified`], which nothing outside this module can make.
//! The runtime's registry entry point takes a `Verified`, and pulls exactly its digest.

use crate::Result;
use crate::policy::{Context, Decision, Policy};
use spin_app::Digest;
use spin_registry::Reference;
use spin_registry::client::RegistryClient;

/// Proof that the policy allowed one digest. Its fields are private and it has no
/// constructor outside [`verify_reference`].
#[derive(Debug, Clone)]
pub struct Verified {
    pinned: Reference,
    digest: Digest,
    decision: Decision,
}

impl Verified {
    /// The reference pinned to the verified digest: what may be pulled and run.
    pub fn reference(&self) -> &Reference {
        &self.pinned
    }

    /// The verified manifest digest.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The allowing decision, with its trace.
    pub fn decision(&self) -> &Decision {
        &self.decision
    }
}

/// A decision, and the proof when it allows.
pub struct Outcome {
    /// The decision and its trace.
    pub decision: Decision,
    /// Present exactly when the decision allows.
    pub verified: Option<Verified>,
}

/// Resolve `reference` (one tag lookup, or its own digest), collect the signatures on that
/// digest, and decide under `policy`. Registry or trust-material failures are errors:
/// nothing is allowed on an error.
pub async fn verify_reference(
    policy: &Policy,
    client: &RegistryClient,
    reference: &Reference,
    ctx: &Context,
) -> Result<Outcome> {
    let digest = client.resolve(reference).await?;
    let found = crate::discover::signatures(client, reference, &digest).await?;
    let decision = crate::policy::evaluate(
        policy,
        &crate::policy::Subject::App(reference),
        &digest,
        &found,
        ctx,
    )?;
    let verified = decision.allowed().then(|| Verified {
        pinned: reference.with_digest(digest.clone()),
        digest,
        decision: decision.clone(),
    });
    Ok(Outcome { decision, verified })
}
