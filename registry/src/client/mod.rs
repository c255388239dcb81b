//! The registry client: the OCI distribution protocol over one HTTP client (reqwest with
//! rustls), written for registries that cannot be trusted.
//!
//! - [`auth`]: challenges and bearer tokens, one per (registry, scope), reused;
//! - [`retry`]: one retry policy (backoff with jitter, a shared budget);
//! - [`body`]: bodies read as capped streams under a progress-based deadline;
//! - [`error`]: typed errors with a hint each;
//! - `blobs`, `manifests`, `referrers`, `tags`: the operations.

pub mod auth;
mod blobs;
pub mod body;
pub mod error;
mod manifests;
mod op;
mod referrers;
pub mod retry;
mod session;
mod tags;

pub use body::Timeouts;
pub use error::RegistryError;
pub use op::Op;
use op::error_chain;
pub use referrers::{MAX_REFERRERS, Referrers, tag_for};
pub use retry::RetryPolicy;
pub use tags::TagUpdate;

use crate::credentials::Credentials;
use crate::reference::Reference;
use auth::Tokens;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{RequestBuilder, Response, StatusCode};
use std::path::PathBuf;
use std::time::Duration;

/// How to reach registries.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Registries spoken to over plain HTTP (`--insecure`), e.g. `127.0.0.1:5000`.
    pub insecure: Vec<String>,
    /// Extra CA certificates (PEM) to trust (`--ca-file`).
    pub ca_files: Vec<PathBuf>,
    /// Where credentials come from.
    pub credentials: Credentials,
    /// When and how often to retry.
    pub retry: RetryPolicy,
    /// How long a registry may stall, and the slowest transfer rate accepted.
    pub timeouts: Timeouts,
}

impl ClientOptions {
    /// Defaults for a user: their credentials, HTTPS everywhere, the default retry policy
    /// and timeouts.
    pub fn for_user() -> Self {
        Self {
            insecure: Vec::new(),
            ca_files: Vec::new(),
            credentials: Credentials::for_user(),
            retry: RetryPolicy::default(),
            timeouts: Timeouts::default(),
        }
    }
}

/// Called with the number of bytes of a blob transferred so far.
pub type ProgressFn = std::sync::Arc<dyn Fn(u64) + Send + Sync>;

/// Where Docker Hub's API lives (references say `docker.io`).
fn api_host(registry: &str) -> &str {
    match registry {
        "docker.io" | "index.docker.io" => "registry-1.docker.io",
        other => other,
    }
}

/// The scope a token must cover for reading or writing `r`'s repository.
fn scope(r: &Reference, push: bool) -> String {
    format!(
        "repository:{}:{}",
        r.repository(),
        if push { "pull,push" } else { "pull" }
    )
}

/// Talks to registries.
pub struct RegistryClient {
    http: reqwest::Client,
    options: ClientOptions,
    tokens: Tokens,
    budget: retry::Budget,
}

impl RegistryClient {
    /// A client with these options.
    pub fn new(options: ClientOptions) -> Result<Self, RegistryError> {
        let local = |detail: String| RegistryError::Local {
            what: "set up the registry client".into(),
            detail,
        };
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("spin/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            // No read timeout: it would also fire while a slow upload is still being sent.
            // `send_once` bounds the wait for an answer, `body::Pace` the bodies.
            // Registries serve content-addressed bytes as they are; a compressed body is
            // refused (see `body::check_encoding`), never expanded.
            .no_gzip()
            .no_brotli()
            .no_deflate()
            .no_zstd()
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                let downgrade = attempt
                    .previous()
                    .last()
                    .is_some_and(|p| p.scheme() == "https")
                    && attempt.url().scheme() != "https";
                if attempt.previous().len() >= 5 {
                    attempt.error("more than 5 redirects")
                } else if downgrade {
                    attempt.error("a redirect from HTTPS to plain HTTP")
                } else {
                    attempt.follow()
                }
            }));
        for path in &options.ca_files {
            let pem = std::fs::read(path)
                .map_err(|e| local(format!("cannot read CA file {}: {e}", path.display())))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| local(format!("{} is not a PEM certificate: {e}", path.display())))?;
            builder = builder.add_root_certificate(cert);
        }
        let http = builder.build().map_err(|e| local(error_chain(&e)))?;
        Ok(Self {
            http,
            budget: retry::Budget::new(options.retry.budget),
            options,
            tokens: Tokens::default(),
        })
    }

    fn base(&self, registry: &str) -> String {
        let scheme = if self.options.insecure.iter().any(|r| r == registry) {
            "http"
        } else {
            "https"
        };
        format!("{scheme}://{}", api_host(registry))
    }

    fn url(&self, r: &Reference, kind: &str, target: &str) -> String {
        format!(
            "{}/v2/{}/{kind}/{target}",
            self.base(r.registry()),
            r.repository()
        )
    }

    /// Run `op` under the retry policy.
    async fn retrying<T, F, Fut>(&self, op: &Op, mut f: F) -> Result<T, RegistryError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, RegistryError>>,
    {
        let mut attempts = retry::Attempts::new(&self.options.retry, &self.budget);
        loop {
            match f().await {
                Ok(v) => return Ok(v),
                Err(e) => attempts.wait_or_fail(&op.what, e).await?,
            }
        }
    }

    /// Send a request built by `build` with the credentials `scope` needs. A 401 with a
    /// challenge is answered once (a token fetched or basic credentials added) and the
    /// request sent again; any other status is returned for the caller to judge.
    async fn send(
        &self,
        op: &Op,
        scope: &str,
        build: &(dyn Fn() -> RequestBuilder + Send + Sync),
    ) -> Result<Response, RegistryError> {
        let registry = op.registry.as_str();
        let first = self.authorization(registry, scope);
        let response = self.send_once(op, build, first.clone()).await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let Some(header) = self.authenticate(op, scope, &response, first).await? else {
            return Ok(response);
        };
        self.send_once(op, build, Some(header)).await
    }

    /// [`Self::send`], with any unsuccessful status turned into its error.
    async fn send_ok(
        &self,
        op: &Op,
        scope: &str,
        build: &(dyn Fn() -> RequestBuilder + Send + Sync),
    ) -> Result<Response, RegistryError> {
        let response = self.send(op, scope, build).await?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(op.status(response).await)
        }
    }

    async fn send_once(
        &self,
        op: &Op,
        build: &(dyn Fn() -> RequestBuilder + Send + Sync),
        auth: Option<HeaderValue>,
    ) -> Result<Response, RegistryError> {
        let mut builder = build();
        if let Some(a) = auth {
            builder = builder.header(AUTHORIZATION, a);
        }
        let request = builder.build().map_err(|e| op.transport(&e, false))?;
        // An upload gets time for its body at the slowest accepted rate on top of the wait
        // for an answer, so a slow uplink is not cut off mid-chunk.
        let body = request
            .body()
            .and_then(|b| b.as_bytes())
            .map_or(0, |b| b.len() as u64);
        let timeouts = &self.options.timeouts;
        let limit = timeouts.stall + Duration::from_secs(body / timeouts.min_rate.max(1));
        match tokio::time::timeout(limit, self.http.execute(request)).await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => Err(op.transport(&e, false)),
            Err(_) => Err(RegistryError::TimedOut {
                what: op.what.clone(),
                registry: op.registry.clone(),
                detail: format!("did not answer within {limit:.0?}; giving up"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_is_reached_at_its_api_host() {
        assert_eq!(api_host("docker.io"), "registry-1.docker.io");
        assert_eq!(api_host("ghcr.io"), "ghcr.io");
    }
}
