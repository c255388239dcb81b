//! The runtime's registry entry point. A registry app runs only as a
//! [`Verified`](spin_verify::gate::Verified) digest, which `spin-verify` makes alone and
//! only on an allowing policy decision: this pulls exactly that digest (never the tag
//! again, so a tag moved after verification changes nothing) and locks it for serving.

use spin_app::locked::LockedApp;
use spin_registry::client::RegistryClient;
use spin_registry::store::Store;
use spin_registry::transfer::{self, Locations, Progress, PullError};
use spin_verify::gate::Verified;
use std::sync::Arc;

/// Pull the verified digest into `store` (every blob checked against its digest) and
/// build its locked app.
pub async fn registry_app(
    verified: &Verified,
    client: &RegistryClient,
    store: &Store,
    locations: &Locations,
    progress: Arc<dyn Progress>,
) -> Result<LockedApp, PullError> {
    let pulled = transfer::pull(client, store, locations, verified.reference(), progress).await?;
    if &pulled.digest != verified.digest() {
        return Err(PullError::Unsupported(format!(
            "pulled {} but {} was verified; refusing to run it",
            pulled.digest,
            verified.digest()
        )));
    }
    spin_registry::pulled::locked_app(store, &pulled)
}
