//! The registry client: oci-client for the protocol (auth challenges and tokens, chunked
//! uploads, manifests), wrapped with credentials lookup, retries with backoff on 429, 5xx
//! and connection failures, digest checks on everything received, and one-line errors
//! that say what to do.

mod referrers;
mod tags;

pub use tags::TagUpdate;

use super::package::{Blob, BlobData, Descriptor};
use super::store::BlobWriter;
use super::*;
use crate::credentials::{Credential, Credentials};
use crate::digest::Digest;
use crate::reference::Reference;
use futures::StreamExt;
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{RegistryOperation, client as oci};
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
    /// Attempts per operation before giving up on retryable failures.
    pub attempts: u32,
}

impl ClientOptions {
    /// Defaults for a user: their credentials, HTTPS everywhere, 6 attempts.
    pub fn for_user() -> Self {
        Self {
            insecure: Vec::new(),
            ca_files: Vec::new(),
            credentials: Credentials::for_user(),
            attempts: 6,
        }
    }
}

/// A failed registry operation, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// Any registry failure, already explained.
    #[error("{message}")]
    Failed {
        /// One line: what happened, where, and what to do.
        message: String,
        /// Whether trying again may help.
        retryable: bool,
    },
}

impl RegistryError {
    fn new(message: String, retryable: bool) -> Self {
        Self::Failed { message, retryable }
    }

    fn retryable(&self) -> bool {
        matches!(
            self,
            Self::Failed {
                retryable: true,
                ..
            }
        )
    }
}

fn explain(registry: &str, what: &str, err: OciDistributionError) -> RegistryError {
    use OciDistributionError as E;
    let login = format!(
        "run `spin registry login {registry}` (or `docker login`) with an account that may {}",
        if what.starts_with("push") {
            "push there"
        } else {
            "read it"
        }
    );
    match err {
        E::UnauthorizedError { .. } | E::AuthenticationFailure(_) => RegistryError::new(
            format!(
                "{what}: registry {registry} refused the credentials (401 Unauthorized); {login}"
            ),
            false,
        ),
        E::RegistryError { envelope, .. } => {
            let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
            let detail = envelope
                .errors
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join("; ");
            if codes.contains(&&OciErrorCode::Toomanyrequests) {
                RegistryError::new(
                    format!(
                        "{what}: registry {registry} is rate limiting requests (429); wait and try again"
                    ),
                    true,
                )
            } else if codes.contains(&&OciErrorCode::Unauthorized) {
                RegistryError::new(
                    format!("{what}: registry {registry} refused the credentials (401); {login}"),
                    false,
                )
            } else if codes.contains(&&OciErrorCode::Denied) {
                RegistryError::new(
                    format!("{what}: access denied by {registry} (403 {detail}); {login}"),
                    false,
                )
            } else if codes.iter().any(|c| {
                matches!(
                    c,
                    OciErrorCode::ManifestUnknown
                        | OciErrorCode::NameUnknown
                        | OciErrorCode::NotFound
                )
            }) {
                RegistryError::new(
                    format!(
                        "{what}: not found on {registry} ({detail}); check the repository name and tag"
                    ),
                    false,
                )
            } else if codes.contains(&&OciErrorCode::BlobUnknown) {
                RegistryError::new(
                    format!(
                        "{what}: {registry} does not have a blob the manifest needs ({detail})"
                    ),
                    false,
                )
            } else {
                RegistryError::new(format!("{what}: registry {registry} said: {detail}"), false)
            }
        }
        E::ServerError { code, message, .. } => {
            let retry = code == 429 || code >= 500;
            let hint = match code {
                401 => login.clone(),
                403 => login.clone(),
                404 => "check the repository name and tag".into(),
                429 => "wait and try again".into(),
                c if c >= 500 => "the registry failed; try again later".into(),
                _ => "check the reference".into(),
            };
            let message = message.trim().chars().take(200).collect::<String>();
            RegistryError::new(
                format!("{what}: registry {registry} answered HTTP {code} {message}; {hint}"),
                retry,
            )
        }
        E::ImageManifestNotFoundError(m) => RegistryError::new(
            format!("{what}: not found on {registry} ({m}); check the repository name and tag"),
            false,
        ),
        E::RequestError(e) if e.status().is_some() => {
            let code = e.status().map(|s| s.as_u16()).unwrap_or_default();
            explain(
                registry,
                what,
                E::ServerError {
                    code,
                    url: String::new(),
                    message: String::new(),
                },
            )
        }
        E::RequestError(e) => {
            let text = error_chain(&e);
            if text.contains("certificate") || text.contains("tls") || text.contains("TLS") {
                RegistryError::new(
                    format!(
                        "{what}: TLS with {registry} failed ({text}); if it uses a private CA pass --ca-file, or --insecure for a plain-HTTP registry"
                    ),
                    false,
                )
            } else if e.is_connect()
                || e.is_timeout()
                || e.is_request()
                || e.is_body()
                || e.is_decode()
            {
                RegistryError::new(
                    format!(
                        "{what}: cannot reach registry {registry} ({text}); check the address and network, or --insecure for a plain-HTTP registry"
                    ),
                    true,
                )
            } else {
                RegistryError::new(
                    format!("{what}: talking to {registry} failed: {text}"),
                    false,
                )
            }
        }
        E::SpecViolationError(m) => RegistryError::new(
            format!("{what}: {registry} broke the OCI distribution protocol: {m}"),
            false,
        ),
        E::IoError(e) => RegistryError::new(format!("{what}: {e}"), true),
        other => RegistryError::new(format!("{what}: {registry}: {other}"), false),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.dedup();
    parts.join(": ")
}

/// Exponential backoff between attempts of a retryable operation.
struct Backoff {
    delay: Duration,
    attempt: u32,
    attempts: u32,
}

impl Backoff {
    fn new(attempts: u32) -> Self {
        Self {
            delay: Duration::from_millis(250),
            attempt: 1,
            attempts,
        }
    }

    /// Sleep before the next attempt, or give the error back when it is final.
    async fn wait_or_fail(&mut self, what: &str, e: RegistryError) -> Result<(), RegistryError> {
        if !e.retryable() || self.attempt >= self.attempts {
            tracing::debug!("{what} failed for good: {e}");
            return Err(e);
        }
        tracing::warn!(
            "{e} (attempt {} of {}; retrying in {:?})",
            self.attempt,
            self.attempts,
            self.delay
        );
        tokio::time::sleep(self.delay).await;
        self.delay = (self.delay * 2).min(Duration::from_secs(8));
        self.attempt += 1;
        Ok(())
    }
}

/// Talks to registries.
pub struct RegistryClient {
    chunked: oci::Client,
    monolithic: oci::Client,
    options: ClientOptions,
}

fn oci_ref(r: &Reference, target: &str) -> oci_client::Reference {
    if target.starts_with("sha256:") {
        oci_client::Reference::with_digest(
            r.registry().into(),
            r.repository().into(),
            target.into(),
        )
    } else {
        oci_client::Reference::with_tag(r.registry().into(), r.repository().into(), target.into())
    }
}

impl RegistryClient {
    /// A client with these options.
    pub fn new(options: ClientOptions) -> Result<Self, RegistryError> {
        let mut certs = Vec::new();
        for path in &options.ca_files {
            let data = std::fs::read(path).map_err(|e| {
                RegistryError::new(
                    format!("cannot read CA file {}: {e}", path.display()),
                    false,
                )
            })?;
            certs.push(oci::Certificate {
                encoding: oci::CertificateEncoding::Pem,
                data,
            });
        }
        let config = |monolithic: bool| oci::ClientConfig {
            protocol: oci::ClientProtocol::HttpsExcept(options.insecure.clone()),
            extra_root_certificates: certs.clone(),
            use_monolithic_push: monolithic,
            connect_timeout: Some(Duration::from_secs(10)),
            read_timeout: Some(Duration::from_secs(60)),
            user_agent: concat!("spin/", env!("CARGO_PKG_VERSION")),
            ..Default::default()
        };
        Ok(Self {
            chunked: oci::Client::new(config(false)),
            monolithic: oci::Client::new(config(true)),
            options,
        })
    }

    async fn retry<T, F, Fut>(&self, what: &str, mut op: F) -> Result<T, RegistryError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, RegistryError>>,
    {
        let mut backoff = Backoff::new(self.options.attempts);
        loop {
            match op().await {
                Ok(v) => return Ok(v),
                Err(e) => backoff.wait_or_fail(what, e).await?,
            }
        }
    }

    async fn registry_auth(
        &self,
        r: &Reference,
        op: RegistryOperation,
    ) -> Result<RegistryAuth, RegistryError> {
        match self.options.credentials.lookup(r.registry()) {
            Ok(Credential::Anonymous) => Ok(RegistryAuth::Anonymous),
            Ok(Credential::Basic { username, password }) => {
                Ok(RegistryAuth::Basic(username, password))
            }
            Ok(Credential::IdentityToken(token)) => Ok(RegistryAuth::Bearer(
                self.exchange_identity_token(r, &token, op).await?,
            )),
            Err(e) => Err(RegistryError::new(e.to_string(), false)),
        }
    }

    /// Authenticate `client` for `op` on the repository of `r`.
    async fn authed(
        &self,
        client: &oci::Client,
        r: &Reference,
        op: RegistryOperation,
    ) -> Result<RegistryAuth, RegistryError> {
        let auth = self.registry_auth(r, op).await?;
        let what = match op {
            RegistryOperation::Push => format!("push to {}", r.repository_url()),
            RegistryOperation::Pull => format!("pull from {}", r.repository_url()),
        };
        self.retry(&what, || async {
            client
                .auth(&oci_ref(r, &r.target()), &auth, op)
                .await
                .map_err(|e| explain(r.registry(), &what, e))
        })
        .await?;
        Ok(auth)
    }

    fn scheme(&self, registry: &str) -> &'static str {
        if self.options.insecure.iter().any(|r| r == registry) {
            "http"
        } else {
            "https"
        }
    }

    /// A plain HTTP client with the same trust settings, for the auth endpoints.
    fn http_client(&self, what: &str) -> Result<reqwest::Client, RegistryError> {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("spin/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10));
        for path in &self.options.ca_files {
            let pem = std::fs::read(path).map_err(|e| {
                RegistryError::new(
                    format!("cannot read CA file {}: {e}", path.display()),
                    false,
                )
            })?;
            let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| {
                RegistryError::new(
                    format!("{} is not a PEM certificate: {e}", path.display()),
                    false,
                )
            })?;
            builder = builder.add_root_certificate(cert);
        }
        builder
            .build()
            .map_err(|e| RegistryError::new(format!("{what}: {e}"), false))
    }

    /// `GET /v2/` (with basic auth when given): `None` when it answers 2xx, else the
    /// bearer challenge's realm and service.
    async fn challenge(
        &self,
        http: &reqwest::Client,
        registry: &str,
        basic: Option<(&str, &str)>,
        what: &str,
    ) -> Result<Option<(String, Option<String>)>, RegistryError> {
        let url = format!("{}://{registry}/v2/", self.scheme(registry));
        let response = self
            .retry(what, || async {
                let mut request = http.get(&url);
                if let Some((u, p)) = basic {
                    request = request.basic_auth(u, Some(p));
                }
                request
                    .send()
                    .await
                    .map_err(|e| explain(registry, what, OciDistributionError::RequestError(e)))
            })
            .await?;
        if response.status().is_success() {
            return Ok(None);
        }
        if response.status() != reqwest::StatusCode::UNAUTHORIZED {
            return Err(explain(
                registry,
                what,
                OciDistributionError::ServerError {
                    code: response.status().as_u16(),
                    url,
                    message: String::new(),
                },
            ));
        }
        let header = response
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let Some(params) = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
        else {
            return Ok(Some((String::new(), None)));
        };
        let param = |name: &str| {
            params.split(',').find_map(|p| {
                let (k, v) = p.trim().split_once('=')?;
                (k == name).then(|| v.trim_matches('"').to_string())
            })
        };
        let realm = param("realm").ok_or_else(|| {
            RegistryError::new(
                format!("{what}: the registry's bearer challenge has no realm"),
                false,
            )
        })?;
        Ok(Some((realm, param("service"))))
    }

    /// Check credentials against a registry the way `docker login` does: `GET /v2/` with
    /// basic auth, and for a bearer challenge, a token request to its realm.
    pub async fn check_login(
        &self,
        registry: &str,
        username: &str,
        password: &str,
    ) -> Result<(), RegistryError> {
        let what = format!("log in to {registry}");
        let http = self.http_client(&what)?;
        let refused = || {
            RegistryError::new(
                format!(
                    "{what}: the registry refused the credentials for `{username}`; check the user name and password or token"
                ),
                false,
            )
        };
        let (realm, service) = match self
            .challenge(&http, registry, Some((username, password)), &what)
            .await?
        {
            None => return Ok(()),
            Some((realm, _)) if realm.is_empty() => return Err(refused()),
            Some(challenge) => challenge,
        };
        let mut request = http.get(&realm).basic_auth(username, Some(password));
        if let Some(service) = service {
            request = request.query(&[("service", service)]);
        }
        let token = request
            .send()
            .await
            .map_err(|e| explain(registry, &what, OciDistributionError::RequestError(e)))?;
        if token.status().is_success() {
            Ok(())
        } else {
            Err(refused())
        }
    }

    /// Exchange an OAuth2 refresh token (Docker's `identitytoken`) for an access token
    /// scoped to `r`'s repository.
    async fn exchange_identity_token(
        &self,
        r: &Reference,
        refresh_token: &str,
        op: RegistryOperation,
    ) -> Result<String, RegistryError> {
        let what = format!("exchange the identity token for {}", r.registry());
        let http = self.http_client(&what)?;
        let Some((realm, service)) = self
            .challenge(&http, r.registry(), None, &what)
            .await?
            .filter(|(realm, _)| !realm.is_empty())
        else {
            return Err(RegistryError::new(
                format!(
                    "{what}: the registry does not use bearer tokens, so an identity token cannot be used; log in with a password"
                ),
                false,
            ));
        };
        let actions = match op {
            RegistryOperation::Push => "pull,push",
            RegistryOperation::Pull => "pull",
        };
        let scope = format!("repository:{}:{actions}", r.repository());
        let mut form = vec![
            ("grant_type", "refresh_token".to_string()),
            ("refresh_token", refresh_token.to_string()),
            ("client_id", "spin".to_string()),
            ("scope", scope),
        ];
        if let Some(service) = service {
            form.push(("service", service));
        }
        let response = http
            .post(&realm)
            .form(&form)
            .send()
            .await
            .map_err(|e| explain(r.registry(), &what, OciDistributionError::RequestError(e)))?;
        if !response.status().is_success() {
            return Err(RegistryError::new(
                format!(
                    "{what}: the token service refused it (HTTP {}); run `docker login {}` again or `spin registry login {}`",
                    response.status().as_u16(),
                    r.registry(),
                    r.registry()
                ),
                false,
            ));
        }
        #[derive(serde::Deserialize)]
        struct TokenResponse {
            access_token: Option<String>,
            token: Option<String>,
        }
        let body: TokenResponse = response.json().await.map_err(|e| {
            RegistryError::new(format!("{what}: unreadable token response: {e}"), false)
        })?;
        body.access_token.or(body.token).ok_or_else(|| {
            RegistryError::new(
                format!("{what}: the token response has no access token"),
                false,
            )
        })
    }

    /// The digest a tag points at now (one HEAD/GET), or the reference's own digest.
    pub async fn resolve(&self, r: &Reference) -> Result<Digest, RegistryError> {
        if let Some(d) = r.digest() {
            return Ok(d.clone());
        }
        let auth = self
            .authed(&self.chunked, r, RegistryOperation::Pull)
            .await?;
        let what = format!("resolve {r}");
        let digest = self
            .retry(&what, || async {
                self.chunked
                    .fetch_manifest_digest(&oci_ref(r, &r.target()), &auth)
                    .await
                    .map_err(|e| explain(r.registry(), &what, e))
            })
            .await?;
        digest.parse().map_err(|e| {
            RegistryError::new(
                format!("{what}: the registry returned an unusable digest: {e}"),
                false,
            )
        })
    }

    /// A manifest by digest, checked against the digest and the 4 MiB limit.
    pub async fn fetch_manifest(
        &self,
        r: &Reference,
        digest: &Digest,
    ) -> Result<Vec<u8>, RegistryError> {
        let auth = self
            .authed(&self.chunked, r, RegistryOperation::Pull)
            .await?;
        let what = format!("fetch manifest {digest} from {}", r.repository_url());
        let accepted = [
            MANIFEST_MEDIA_TYPE,
            DOCKER_MANIFEST_MEDIA_TYPE,
            INDEX_MEDIA_TYPE,
        ];
        let (bytes, _) = self
            .retry(&what, || async {
                self.chunked
                    .pull_manifest_raw(&oci_ref(r, &digest.to_string()), &auth, &accepted)
                    .await
                    .map_err(|e| explain(r.registry(), &what, e))
            })
            .await?;
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(RegistryError::new(
                format!(
                    "{what}: the manifest is {} bytes, over the 4 MiB limit; refusing it",
                    bytes.len()
                ),
                false,
            ));
        }
        let actual = Digest::of_bytes(&bytes);
        if &actual != digest {
            return Err(RegistryError::new(
                format!("{what}: the registry sent a manifest with digest {actual}; refusing it"),
                false,
            ));
        }
        Ok(bytes.to_vec())
    }

    /// Does the repository already have this blob?
    pub async fn blob_exists(&self, r: &Reference, digest: &Digest) -> Result<bool, RegistryError> {
        let what = format!("check blob {digest} in {}", r.repository_url());
        self.retry(&what, || async {
            self.chunked
                .blob_exists(&oci_ref(r, &r.target()), &digest.to_string())
                .await
                .map_err(|e| explain(r.registry(), &what, e))
        })
        .await
    }

    /// Try to mount a blob from another repository of the same registry.
    pub async fn mount(&self, r: &Reference, from_repository: &str, digest: &Digest) -> bool {
        let Ok(from) = format!("{}/{from_repository}", r.registry()).parse::<Reference>() else {
            return false;
        };
        self.chunked
            .mount_blob(
                &oci_ref(r, &r.target()),
                &oci_ref(&from, "latest"),
                &digest.to_string(),
            )
            .await
            .is_ok()
    }

    /// Get ready to push to `r` (authenticates both clients).
    pub async fn prepare_push(&self, r: &Reference) -> Result<(), RegistryError> {
        self.authed(&self.chunked, r, RegistryOperation::Push)
            .await?;
        self.authed(&self.monolithic, r, RegistryOperation::Push)
            .await?;
        Ok(())
    }

    /// Get ready to pull from `r`.
    pub async fn prepare_pull(&self, r: &Reference) -> Result<(), RegistryError> {
        self.authed(&self.chunked, r, RegistryOperation::Pull)
            .await
            .map(drop)
    }

    /// Upload a blob (chunked, falling back to monolithic), reporting bytes sent.
    pub async fn push_blob(
        &self,
        r: &Reference,
        blob: &Blob,
        progress: ProgressFn,
    ) -> Result<(), RegistryError> {
        let d = &blob.descriptor;
        let what = format!("upload {} to {}", d.digest, r.repository_url());
        let image = oci_ref(r, &r.target());
        self.retry(&what, || async {
            let stream = blob_stream(&blob.data, progress.clone())
                .map_err(|e| RegistryError::new(format!("{what}: {e}"), false))?;
            match self
                .chunked
                .push_blob_stream(&image, stream, &d.digest.to_string(), Some(d.size))
                .await
            {
                Ok(_) => Ok(()),
                Err(OciDistributionError::SpecViolationError(_)) => {
                    let bytes = match &blob.data {
                        BlobData::Bytes(b) => b.clone(),
                        BlobData::File(p) => std::fs::read(p)
                            .map_err(|e| RegistryError::new(format!("{what}: {e}"), false))?,
                    };
                    self.monolithic
                        .push_blob(&image, bytes, &d.digest.to_string())
                        .await
                        .map(|_| progress(d.size))
                        .map_err(|e| explain(r.registry(), &what, e))
                }
                Err(e) => Err(explain(r.registry(), &what, e)),
            }
        })
        .await
    }

    /// Download a blob into `writer`, resuming from what it already holds; the caller
    /// commits (which checks the digest).
    pub async fn pull_blob(
        &self,
        r: &Reference,
        descriptor: &Descriptor,
        writer: &mut BlobWriter,
        progress: ProgressFn,
    ) -> Result<(), RegistryError> {
        let what = format!("download {} from {}", descriptor.digest, r.repository_url());
        let image = oci_ref(r, &r.target());
        let layer = oci_client::manifest::OciDescriptor {
            media_type: descriptor.media_type.clone(),
            digest: descriptor.digest.to_string(),
            size: descriptor.size as i64,
            ..Default::default()
        };
        let mut backoff = Backoff::new(self.options.attempts);
        loop {
            match self
                .pull_once(r, &image, &layer, descriptor, writer, &progress, &what)
                .await
            {
                Ok(()) => return Ok(()),
                Err(e) => backoff.wait_or_fail(&what, e).await?,
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn pull_once(
        &self,
        r: &Reference,
        image: &oci_client::Reference,
        layer: &oci_client::manifest::OciDescriptor,
        descriptor: &Descriptor,
        writer: &mut BlobWriter,
        progress: &ProgressFn,
        what: &str,
    ) -> Result<(), RegistryError> {
        let fail = |e: super::store::StoreError| RegistryError::new(format!("{what}: {e}"), false);
        if writer.offset() > descriptor.size {
            writer.restart().map_err(fail)?;
        }
        let offset = writer.offset();
        progress(offset);
        if offset == descriptor.size {
            return Ok(());
        }
        let response = self
            .chunked
            // An explicit range keeps oci-client from hashing the stream a second time.
            .pull_blob_stream_partial(image, layer, offset, Some(descriptor.size - offset))
            .await
            .map_err(|e| explain(r.registry(), what, e))?;
        let mut stream = match response {
            oci_client::client::BlobResponse::Partial(s) => s.stream,
            oci_client::client::BlobResponse::Full(s) => {
                // The registry ignored the range: start over.
                writer.restart().map_err(fail)?;
                s.stream
            }
        };
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                RegistryError::new(format!("{what}: the transfer broke off ({e})"), true)
            })?;
            if writer.offset() + chunk.len() as u64 > descriptor.size {
                writer.restart().map_err(fail)?;
                return Err(RegistryError::new(
                    format!(
                        "{what}: {} sent more than the {} bytes the manifest declares; refusing it",
                        r.registry(),
                        descriptor.size
                    ),
                    false,
                ));
            }
            writer.write(&chunk).map_err(fail)?;
            progress(writer.offset());
        }
        if writer.offset() < descriptor.size {
            return Err(RegistryError::new(
                format!(
                    "{what}: the transfer ended after {} of {} bytes",
                    writer.offset(),
                    descriptor.size
                ),
                true,
            ));
        }
        Ok(())
    }

    /// Store a manifest under `target` (a tag, or its digest).
    pub async fn push_manifest(
        &self,
        r: &Reference,
        target: &str,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<(), RegistryError> {
        let what = format!("push manifest to {}:{target}", r.repository_url());
        let content_type: http::HeaderValue = media_type.parse().map_err(|_| {
            RegistryError::new(format!("{what}: bad media type {media_type}"), false)
        })?;
        self.retry(&what, || async {
            self.chunked
                .push_manifest_raw(&oci_ref(r, target), bytes.to_vec(), content_type.clone())
                .await
                .map(drop)
                .map_err(|e| explain(r.registry(), &what, e))
        })
        .await
    }
}

/// Upload chunk size: few enough requests per blob, small enough to show progress.
const CHUNK: usize = 8 << 20;

/// Called with the number of bytes of a blob transferred so far.
pub type ProgressFn = std::sync::Arc<dyn Fn(u64) + Send + Sync>;

/// A blob's bytes as a stream of 1 MiB chunks, reporting each chunk as it is read.
fn blob_stream(
    data: &BlobData,
    progress: ProgressFn,
) -> std::io::Result<
    impl futures::Stream<Item = Result<bytes::Bytes, OciDistributionError>> + Send + 'static,
> {
    let chunks: Box<dyn Iterator<Item = std::io::Result<bytes::Bytes>> + Send> = match data {
        BlobData::Bytes(b) => {
            let b = bytes::Bytes::from(b.clone());
            let n = b.len();
            Box::new(
                (0..n.div_ceil(CHUNK).max(1))
                    .map(move |i| Ok(b.slice(i * CHUNK..((i + 1) * CHUNK).min(n)))),
            )
        }
        BlobData::File(p) => {
            use std::io::Read;
            let mut file = std::fs::File::open(p)?;
            Box::new(std::iter::from_fn(move || {
                let mut buf = vec![0u8; CHUNK];
                match file.read(&mut buf) {
                    Ok(0) => None,
                    Ok(n) => {
                        buf.truncate(n);
                        Some(Ok(bytes::Bytes::from(buf)))
                    }
                    Err(e) => Some(Err(e)),
                }
            }))
        }
    };
    let mut sent = 0u64;
    Ok(futures::stream::iter(chunks).map(move |c| {
        if let Ok(b) = &c {
            sent += b.len() as u64;
            progress(sent);
        }
        c.map_err(OciDistributionError::from)
    }))
}
