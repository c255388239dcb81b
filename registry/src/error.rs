//! Why getting an artifact (from a registry or a layout) into the store failed.

use crate::client::RegistryError;
use crate::store::StoreError;

/// Why a pull failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PullError {
    /// The registry part failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// Content failed verification or could not be stored.
    #[error("{context}: {source}")]
    Store {
        /// What was being done.
        context: String,
        /// Cause.
        source: StoreError,
    },
    /// The artifact is not something this tool runs.
    #[error("{0}")]
    Unsupported(String),
}
