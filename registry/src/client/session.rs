//! Authenticating with a registry: what to send before any challenge, answering a 401
//! (a bearer token from the realm, or basic credentials), fetching tokens (password,
//! anonymous, or a Docker identity token exchanged as an OAuth2 refresh token), and the
//! `docker login` check.

use super::auth::{self, Scheme, Tokens};
use super::op::{Op, clean};
use super::{RegistryClient, RegistryError, body, scope};
use crate::credentials::Credential;
use crate::reference::Reference;
use reqwest::header::{HeaderValue, WWW_AUTHENTICATE};
use reqwest::{Response, StatusCode};

/// Largest token service response read.
const MAX_TOKEN_BYTES: u64 = 1 << 20;

impl RegistryClient {
    fn credential(&self, op: &Op) -> Result<Credential, RegistryError> {
        self.options
            .credentials
            .lookup(&op.registry)
            .map_err(|e| op.local(e))
    }

    /// What to send for `scope` before any challenge: a cached token, or basic credentials
    /// for a registry known to want them.
    pub(super) fn authorization(&self, registry: &str, scope: &str) -> Option<HeaderValue> {
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
    pub(super) async fn authenticate(
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
            let service = bearer.param("service");
            let scheme = Scheme::Bearer {
                realm: realm.clone(),
                service: service.map(String::from),
            };
            self.tokens.set_scheme(&op.registry, scheme);
            let token = self.token(op, scope, (&realm, service), sent).await?;
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

    /// A token for `scope` from the token service at `(realm, service)`: the cached one if
    /// another request fetched a fresh one meanwhile (not the one just refused), else a new
    /// one.
    async fn token(
        &self,
        op: &Op,
        scope: &str,
        (realm, service): (&str, Option<&str>),
        refused: Option<HeaderValue>,
    ) -> Result<String, RegistryError> {
        let slot = self.tokens.slot(&op.registry, scope);
        let mut guard = slot.lock().await;
        if let Some(t) = Tokens::usable(&guard)
            && refused.as_ref().and_then(|r| r.to_str().ok()) != Some(&format!("Bearer {t}"))
        {
            return Ok(t);
        }
        let token = self.fetch_token(op, realm, service, scope).await?;
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
            .retrying(op, || async {
                let r = self.send_once(op, &build, None).await?;
                if r.status().is_server_error() || r.status() == StatusCode::TOO_MANY_REQUESTS {
                    return Err(op.status(r).await);
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
            op,
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
    pub(super) async fn ping(&self, op: &Op, scope: &str) -> Result<(), RegistryError> {
        let url = format!("{}/v2/", self.base(&op.registry));
        let build = || self.http.get(&url);
        self.retrying(op, || async {
            self.send_ok(op, scope, &build).await?;
            Ok(())
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

pub(super) fn basic(username: &str, password: &str) -> HeaderValue {
    use base64::Engine as _;
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    let mut value =
        HeaderValue::from_str(&format!("Basic {encoded}")).expect("base64 is a valid header value");
    value.set_sensitive(true);
    value
}
