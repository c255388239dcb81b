//! Clients of the Sigstore services that are not sigstore-sign's own: the OIDC provider's
//! interactive login ([`oidc`]), Rekor for key-made entries ([`rekor`]), and the timestamp
//! authority ([`tsa`]). Plain data (bundles, trust material) lives elsewhere.

pub mod oidc;
pub mod rekor;
pub mod tsa;
