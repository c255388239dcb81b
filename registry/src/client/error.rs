//! What can go wrong talking to a registry, as variants a caller can match on. Each says
//! what was being done and what the registry (or the network) did; [`RegistryError::help`]
//! says what to do about it.

use std::time::Duration;

/// A failed registry operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The registry refused the credentials (or wants some): HTTP 401.
    #[error(
        "{what}: {registry} wants credentials, or refused the ones given (401 Unauthorized){}",
        detail_suffix(detail)
    )]
    Unauthorized {
        /// What was being done.
        what: String,
        /// The registry.
        registry: String,
        /// What the registry or its token service said.
        detail: String,
        /// Whether the operation writes (changes the hint).
        push: bool,
    },
    /// Authenticated, but not allowed: HTTP 403.
    #[error("{what}: access denied by {registry} (403){}", detail_suffix(detail))]
    Denied {
        /// What was being done.
        what: String,
        /// The registry.
        registry: String,
        /// What the registry said.
        detail: String,
        /// Whether the operation writes.
        push: bool,
    },
    /// The repository, tag, manifest or blob does not exist: HTTP 404.
    #[error("{what}: not found on {registry}{}", detail_suffix(detail))]
    NotFound {
        /// What was being done.
        what: String,
        /// The registry.
        registry: String,
        /// What the registry said.
        detail: String,
    },
    /// Too many requests: HTTP 429.
    #[error("{what}: {registry} is rate limiting requests (429)")]
    RateLimited {
        /// What was being done.
        what: String,
        /// The registry.
        registry: String,
        /// What `Retry-After` asked for.
        retry_after: Option<Duration>,
    },
    /// The registry failed: HTTP 5xx.
    #[error("{what}: {registry} answered HTTP {status}{}", detail_suffix(detail))]
    Server {
        /// What was being done.
        what: String,
        /// The registry.
        registry: String,
        /// The status code.
        status: u16,
        /// What the registry said.
        detail: String,
    },
    /// TLS failed (certificate not trusted, wrong name, plain HTTP on the other end).
    #[error("{what}: TLS with {registry} failed ({detail})")]
    Tls {
        /// What was being done.
        what: String,
        /// The registry.
        registry: String,
        /// The TLS library's reason.
        detail: String,
    },
    /// No connection could be made.
    #[error("{what}: cannot reach registry {registry} ({detail})")]
    Unreachable {
        /// What was being done.
        what: String,
        /// The registry.
        registry: String,
        /// The network's reason.
        detail: String,
    },
    /// The registry stopped sending, or sent too slowly to finish in reasonable time.
    #[error("{what}: {registry} {detail}")]
    TimedOut {
        /// What was being done.
        what: String,
        /// The registry.
        registry: String,
        /// How it stalled.
        detail: String,
    },
    /// The connection broke in the middle of a transfer.
    #[error("{what}: the transfer from {registry} broke off ({detail})")]
    Interrupted {
        /// What was being done.
        what: String,
        /// The registry.
        registry: String,
        /// The network's reason.
        detail: String,
    },
    /// The registry sent more than this tool accepts for that kind of response.
    #[error("{what}: {registry} sent {kind} over the {} limit; refusing it", crate::media::human_size(*limit))]
    TooLarge {
        /// What was being done.
        what: String,
        /// The registry.
        registry: String,
        /// What kind of response.
        kind: &'static str,
        /// The limit in bytes.
        limit: u64,
    },
    /// The registry broke the distribution protocol (wrong digest, missing header, an
    /// unexpected status, a redirect that cannot be followed).
    #[error("{what}: {registry} {detail}")]
    Protocol {
        /// What was being done.
        what: String,
        /// The registry.
        registry: String,
        /// What it did wrong.
        detail: String,
    },
    /// Something on this machine: a CA file, the credential store, a local file.
    #[error("{what}: {detail}")]
    Local {
        /// What was being done.
        what: String,
        /// What failed.
        detail: String,
    },
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

impl RegistryError {
    /// Whether trying the same operation again may help.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. }
                | Self::Server { .. }
                | Self::Unreachable { .. }
                | Self::TimedOut { .. }
                | Self::Interrupted { .. }
        )
    }

    /// The registry involved, if any.
    pub fn registry(&self) -> Option<&str> {
        match self {
            Self::Unauthorized { registry, .. }
            | Self::Denied { registry, .. }
            | Self::NotFound { registry, .. }
            | Self::RateLimited { registry, .. }
            | Self::Server { registry, .. }
            | Self::Tls { registry, .. }
            | Self::Unreachable { registry, .. }
            | Self::TimedOut { registry, .. }
            | Self::Interrupted { registry, .. }
            | Self::TooLarge { registry, .. }
            | Self::Protocol { registry, .. } => Some(registry),
            Self::Local { .. } => None,
        }
    }

    /// What to do about it, in one line.
    pub fn help(&self) -> String {
        let login = |registry: &str, push: bool| {
            format!(
                "run `spin registry login {registry}` (or `docker login`) with an account that may {}",
                if push { "push there" } else { "read it" }
            )
        };
        match self {
            Self::Unauthorized { registry, push, .. } | Self::Denied { registry, push, .. } => {
                login(registry, *push)
            }
            Self::NotFound { .. } => "check the repository name, tag and digest".into(),
            Self::RateLimited { .. } => "wait and try again".into(),
            Self::Server { .. } => "the registry failed; try again later".into(),
            Self::Tls { .. } => {
                "if the registry uses a private CA pass --ca-file; for a plain-HTTP registry pass --insecure".into()
            }
            Self::Unreachable { .. } => {
                "check the address and the network, or --insecure for a plain-HTTP registry".into()
            }
            Self::TimedOut { .. } | Self::Interrupted { .. } => {
                "try again; on a slow link raise --registry-timeout".into()
            }
            Self::TooLarge { .. } | Self::Protocol { .. } => {
                "this registry cannot be used for this artifact; report it to its operator".into()
            }
            Self::Local { .. } => "fix the local file or setting named above".into(),
        }
    }
}
