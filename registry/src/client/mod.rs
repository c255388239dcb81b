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
mod referrers;
pub mod retry;
mod tags;

pub use body::Timeouts;
pub use error::RegistryError;
pub use referrers::{MAX_REFERRERS, Referrers, tag_for};
pub use retry::RetryPolicy;
pub use tags::TagUpdate;

use crate::credentials::{Credential, Credentials};
use crate::reference::Reference;
use auth::{Scheme, Tokens};
use reqwest::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use reqwest::{RequestBuilder, Response, StatusCode};
use std::path::PathBuf;
use std::time::Duration;

/// Largest token service response read.
const MAX_TOKEN_BYTES: u64 = 1 << 20;
/// How much of an error response is read for its message.
const MAX_ERROR_BYTES: usize = 64 << 10;

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

/// One operation, for error messages: what was being done, on which registry.
#[derive(Debug, Clone)]
pub struct Op {
    what: String,
    registry: String,
    push: bool,
}

impl Op {
    fn new(what: impl Into<String>, registry: &str, push: bool) -> Self {
        Self {
            what: what.into(),
            registry: registry.to_string(),
            push,
        }
    }

    /// A transport failure as the right variant; `in_body` when it happened while a body
    /// was arriving (a broken transfer rather than an unreachable registry).
    fn transport(&self, e: &reqwest::Error, in_body: bool) -> RegistryError {
        let detail = root_cause(e);
        let (what, registry) = (self.what.clone(), self.registry.clone());
        let lower = error_chain(e).to_ascii_lowercase();
        if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
            RegistryError::Tls {
                what,
                registry,
                detail,
            }
        } else if e.is_timeout() {
            RegistryError::TimedOut {
                what,
                registry,
                detail: if in_body {
                    "stopped sending; giving up".into()
                } else {
                    "did not answer in time; giving up".into()
                },
            }
        } else if e.is_redirect() {
            RegistryError::Protocol {
                what,
                registry,
                detail: format!("sent a redirect that cannot be followed ({detail})"),
            }
        } else if in_body || e.is_body() || e.is_decode() {
            RegistryError::Interrupted {
                what,
                registry,
                detail,
            }
        } else {
            RegistryError::Unreachable {
                what,
                registry,
                detail,
            }
        }
    }

    fn protocol(&self, detail: impl Into<String>) -> RegistryError {
        RegistryError::Protocol {
            what: self.what.clone(),
            registry: self.registry.clone(),
            detail: detail.into(),
        }
    }

    /// An unsuccessful response as the right variant, with the registry's own message.
    async fn status(&self, response: Response) -> RegistryError {
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let detail = registry_message(&body::read_some(response, MAX_ERROR_BYTES).await);
        let (what, registry, push) = (self.what.clone(), self.registry.clone(), self.push);
        match status.as_u16() {
            401 => RegistryError::Unauthorized {
                what,
                registry,
                detail,
                push,
            },
            403 => RegistryError::Denied {
                what,
                registry,
                detail,
                push,
            },
            404 => RegistryError::NotFound {
                what,
                registry,
                detail,
            },
            429 => RegistryError::RateLimited {
                what,
                registry,
                retry_after,
            },
            s if s >= 500 => RegistryError::Server {
                what,
                registry,
                status: s,
                detail,
            },
            s if (300..400).contains(&s) => self.protocol(format!(
                "answered with a redirect (HTTP {s}) {}",
                match location {
                    Some(l) => format!("to {}, which cannot be followed", clean(&l, 200)),
                    None => "without a Location".into(),
                }
            )),
            s => self.protocol(format!(
                "answered HTTP {s}{}",
                if detail.is_empty() {
                    String::new()
                } else {
                    format!(": {detail}")
                }
            )),
        }
    }
}

/// Printable, one line, at most `max` characters.
fn clean(text: &str, max: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = one_line.trim();
    if trimmed.chars().count() > max {
        format!("{}…", trimmed.chars().take(max).collect::<String>())
    } else {
        trimmed.to_string()
    }
}

/// The message of an OCI error envelope (`{"errors":[{"code","message"}]}`), else the
/// start of the body as text.
fn registry_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Envelope {
        errors: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    match serde_json::from_slice::<Envelope>(body) {
        Ok(e) if !e.errors.is_empty() => clean(
            &e.errors
                .iter()
                .map(|x| match (x.code.is_empty(), x.message.is_empty()) {
                    (false, false) => format!("{} ({})", x.message, x.code),
                    (true, _) => x.message.clone(),
                    (false, true) => x.code.clone(),
                })
                .collect::<Vec<_>>()
                .join("; "),
            300,
        ),
        _ => clean(&String::from_utf8_lossy(body), 200),
    }
}

/// The innermost cause: what the network or TLS library said, without the layers of
/// "error sending request for url (...)" around it.
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut last = e.to_string();
    let mut next = e.source();
    while let Some(err) = next {
        last = err.to_string();
        next = err.source();
    }
    last
}

/// An error and its causes, each once.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = err.source();
    }
    parts.join(": ")
}

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

    fn credential(&self, op: &Op) -> Result<Credential, RegistryError> {
        self.options
            .credentials
            .lookup(&op.registry)
            .map_err(|e| RegistryError::Local {
                what: op.what.clone(),
                detail: e.to_string(),
            })
    }

    /// What to send for `scope` before any challenge: a cached token, or basic credentials
    /// for a registry known to want them.
    fn authorization(&self, registry: &str, scope: &str) -> Option<HeaderValue> {
        match self.tokens.scheme(registry)? {
            Scheme::Bearer { .. } => self
                .tokens
                .cached(registry, scope)
                .and_then(|t| HeaderValue::from_str(&format!("Bearer {t}")).ok()),
            Scheme::Basic => match self.options.credentials.lookup(registry) {
                Ok(Credential::Basic { username, password }) => Some(basic(&username, &password)),
                _ => None,
            },
        }
    }

    /// Answer a 401: learn the scheme from its challenge and get what it asks for. `None`
    /// when there is nothing new to send (the caller reports the 401).
    async fn authenticate(
        &self,
        op: &Op,
        scope: &str,
        response: &Response,
        sent: Option<HeaderValue>,
    ) -> Result<Option<HeaderValue>, RegistryError> {
        let header = response
            .headers()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect::<Vec<_>>()
            .join(", ");
        let challenges = auth::parse_challenges(&header)
            .map_err(|e| op.protocol(format!("sent a 401 with a {e}")))?;
        if let Some(bearer) = challenges.iter().find(|c| c.scheme == "bearer") {
            let realm = bearer
                .param("realm")
                .ok_or_else(|| op.protocol("sent a bearer challenge without a realm"))?
                .to_string();
            let scheme = Scheme::Bearer {
                realm,
                service: bearer.param("service").map(String::from),
            };
            self.tokens.set_scheme(&op.registry, scheme.clone());
            let token = self.token(op, scope, &scheme, sent).await?;
            return Ok(HeaderValue::from_str(&format!("Bearer {token}")).ok());
        }
        if challenges.iter().any(|c| c.scheme == "basic") {
            self.tokens.set_scheme(&op.registry, Scheme::Basic);
            return match self.credential(op)? {
                Credential::Basic { username, password } => {
                    let header = basic(&username, &password);
                    Ok((sent.as_ref() != Some(&header)).then_some(header))
                }
                _ => Ok(None),
            };
        }
        Err(op.protocol(format!(
            "asks for an authentication scheme this tool does not speak ({})",
            clean(&header, 100)
        )))
    }

    /// A token for `scope`: the cached one if another request fetched a fresh one meanwhile
    /// (not the one just refused), else a new one from the token service.
    async fn token(
        &self,
        op: &Op,
        scope: &str,
        scheme: &Scheme,
        refused: Option<HeaderValue>,
    ) -> Result<String, RegistryError> {
        let Scheme::Bearer { realm, service } = scheme else {
            unreachable!("only bearer schemes have tokens")
        };
        let slot = self.tokens.slot(&op.registry, scope);
        let mut guard = slot.lock().await;
        if let Some(t) = Tokens::usable(&guard)
            && refused.as_ref().and_then(|r| r.to_str().ok()) != Some(&format!("Bearer {t}"))
        {
            return Ok(t);
        }
        let token = self
            .fetch_token(op, realm, service.as_deref(), scope)
            .await?;
        let value = token.value.clone();
        *guard = Some(token);
        Ok(value)
    }

    async fn fetch_token(
        &self,
        op: &Op,
        realm: &str,
        service: Option<&str>,
        scope: &str,
    ) -> Result<auth::Token, RegistryError> {
        let url = reqwest::Url::parse(realm).map_err(|e| {
            op.protocol(format!(
                "gave a token realm {realm:?} that is not a URL ({e})"
            ))
        })?;
        let registry_is_plain = self.base(&op.registry).starts_with("http:");
        if url.scheme() != "https" && !(url.scheme() == "http" && registry_is_plain) {
            return Err(op.protocol(format!(
                "gave a token realm {realm:?} that is not HTTPS; refusing to send credentials there"
            )));
        }
        let credential = self.credential(op)?;
        let token_op = Op::new(op.what.clone(), &op.registry, op.push);
        let identity = matches!(credential, Credential::IdentityToken(_));
        let build = || {
            let mut query: Vec<(&str, &str)> = Vec::new();
            if let Some(s) = service {
                query.push(("service", s));
            }
            match &credential {
                Credential::IdentityToken(refresh) => {
                    let mut form = vec![
                        ("grant_type", "refresh_token"),
                        ("refresh_token", refresh.as_str()),
                        ("client_id", "spin"),
                        ("scope", scope),
                    ];
                    form.extend(query);
                    self.http.post(url.clone()).form(&form)
                }
                other => {
                    for s in scope.split(' ') {
                        query.push(("scope", s));
                    }
                    let request = self.http.get(url.clone()).query(&query);
                    match other {
                        Credential::Basic { username, password } => {
                            request.basic_auth(username, Some(password))
                        }
                        _ => request,
                    }
                }
            }
        };
        let response = self
            .retrying(&token_op, || async {
                let r = self.send_once(&token_op, &build, None).await?;
                if r.status().is_server_error() || r.status() == StatusCode::TOO_MANY_REQUESTS {
                    return Err(token_op.status(r).await);
                }
                Ok(r)
            })
            .await?;
        if !response.status().is_success() {
            let status = response.status().as_u16();
            return Err(RegistryError::Unauthorized {
                what: op.what.clone(),
                registry: op.registry.clone(),
                detail: if identity {
                    format!(
                        "the token service refused it (HTTP {status}); the identity token may be revoked: run `docker login` again"
                    )
                } else {
                    format!("the token service refused it (HTTP {status})")
                },
                push: op.push,
            });
        }
        let body = body::read_capped(
            response,
            MAX_TOKEN_BYTES,
            "a token response",
            &token_op,
            &self.options.timeouts,
        )
        .await?;
        #[derive(serde::Deserialize)]
        struct TokenResponse {
            access_token: Option<String>,
            token: Option<String>,
            expires_in: Option<u64>,
        }
        let parsed: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| op.protocol(format!("sent an unreadable token response ({e})")))?;
        let value = parsed
            .access_token
            .or(parsed.token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| op.protocol("sent a token response without a token"))?;
        if HeaderValue::from_str(&format!("Bearer {value}")).is_err() {
            return Err(op.protocol("sent a token that cannot be used in a header"));
        }
        Ok(auth::Token::new(value, parsed.expires_in))
    }

    /// `GET /v2/` answered without a challenge, or the challenge answered: after this the
    /// token (or basic credentials) for `scope` is ready, so parallel requests share it.
    async fn ping(&self, op: &Op, scope: &str) -> Result<(), RegistryError> {
        let url = format!("{}/v2/", self.base(&op.registry));
        let build = || self.http.get(&url);
        self.retrying(op, || async {
            let response = self.send(op, scope, &build).await?;
            if response.status().is_success() {
                Ok(())
            } else {
                Err(op.status(response).await)
            }
        })
        .await
    }

    /// Get ready to push to `r`: authenticate once for pushing to its repository.
    pub async fn prepare_push(&self, r: &Reference) -> Result<(), RegistryError> {
        let op = Op::new(
            format!("push to {}", r.repository_url()),
            r.registry(),
            true,
        );
        self.ping(&op, &scope(r, true)).await
    }

    /// Get ready to pull from `r`: authenticate once for reading its repository.
    pub async fn prepare_pull(&self, r: &Reference) -> Result<(), RegistryError> {
        let op = Op::new(
            format!("pull from {}", r.repository_url()),
            r.registry(),
            false,
        );
        self.ping(&op, &scope(r, false)).await
    }

    /// Check credentials against a registry the way `docker login` does: `GET /v2/` with
    /// basic auth, and for a bearer challenge, a token request to its realm.
    pub async fn check_login(
        &self,
        registry: &str,
        username: &str,
        password: &str,
    ) -> Result<(), RegistryError> {
        let op = Op::new(format!("log in to {registry}"), registry, false);
        let refused = |detail: String| RegistryError::Unauthorized {
            what: op.what.clone(),
            registry: registry.to_string(),
            detail,
            push: false,
        };
        let url = format!("{}/v2/", self.base(registry));
        let response = self
            .retrying(&op, || async {
                let r = self
                    .send_once(
                        &op,
                        &|| self.http.get(&url),
                        Some(basic(username, password)),
                    )
                    .await?;
                if r.status().is_server_error() {
                    return Err(op.status(r).await);
                }
                Ok(r)
            })
            .await?;
        if response.status().is_success() {
            return Ok(());
        }
        if response.status() != StatusCode::UNAUTHORIZED {
            return Err(op.status(response).await);
        }
        let header = response
            .headers()
            .get(WWW_AUTHENTICATE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        let challenges = auth::parse_challenges(&header)
            .map_err(|e| op.protocol(format!("sent a 401 with a {e}")))?;
        let Some(bearer) = challenges.iter().find(|c| c.scheme == "bearer") else {
            return Err(refused(format!(
                "the user name `{username}` and password were not accepted"
            )));
        };
        let realm = bearer
            .param("realm")
            .ok_or_else(|| op.protocol("sent a bearer challenge without a realm"))?;
        let mut request = self.http.get(realm).basic_auth(username, Some(password));
        if let Some(service) = bearer.param("service") {
            request = request.query(&[("service", service)]);
        }
        let response = self
            .send_once(
                &op,
                &move || request.try_clone().expect("no streaming body"),
                None,
            )
            .await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(refused(format!(
                "the token service did not accept the user name `{username}` and password (HTTP {})",
                response.status().as_u16()
            )))
        }
    }
}

fn basic(username: &str, password: &str) -> HeaderValue {
    use base64::Engine as _;
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    let mut value =
        HeaderValue::from_str(&format!("Basic {encoded}")).expect("base64 is a valid header value");
    value.set_sensitive(true);
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_messages_are_one_clean_line() {
        assert_eq!(
            registry_message(br#"{"errors":[{"code":"DENIED","message":"no\nway"}]}"#),
            "no way (DENIED)"
        );
        assert_eq!(registry_message(b"busy"), "busy");
        assert_eq!(registry_message(b""), "");
        assert_eq!(registry_message(&[b'x'; 500]).chars().count(), 201);
    }

    #[test]
    fn causes_are_listed_once() {
        #[derive(Debug)]
        struct E(&'static str, Option<Box<E>>);
        impl std::fmt::Display for E {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.0)
            }
        }
        impl std::error::Error for E {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                self.1.as_deref().map(|e| e as _)
            }
        }
        let e = E(
            "error sending request: connection refused",
            Some(Box::new(E(
                "connection refused",
                Some(Box::new(E("os error 111", None))),
            ))),
        );
        assert_eq!(
            error_chain(&e),
            "error sending request: connection refused: os error 111"
        );
    }

    #[test]
    fn docker_hub_is_reached_at_its_api_host() {
        assert_eq!(api_host("docker.io"), "registry-1.docker.io");
        assert_eq!(api_host("ghcr.io"), "ghcr.io");
    }
}
