//! The interactive OIDC login for keyless signing on a developer's machine:
//! - with a desktop session, the browser opens on the provider's login page and returns an
//!   authorization code (PKCE) to a one-shot listener on 127.0.0.1 (sigstore-oidc);
//! - without one (SSH, containers), the OAuth device flow (RFC 8628): a URL and a short
//!   code to enter on any other device, while this side polls for the token;
//! - `--oauth-force-oob`: a URL to open anywhere, and the code it shows pasted back.

use crate::{Error, Result, redact};
use sigstore_sign::oidc::IdentityToken;
use std::time::{Duration, Instant};

const CLIENT_ID: &str = "sigstore";

/// The interactive login, when no token is found and a terminal is attached.
#[derive(Debug, Clone)]
pub struct Interactive {
    /// The OIDC provider (Dex-style `/auth`, `/token` and `/device/code`), from the
    /// signing config.
    pub oidc_url: String,
    /// Print a URL and ask for the code instead of opening a browser.
    pub force_oob: bool,
}

fn fail(login: &Interactive, e: &str) -> Error {
    Error::Identity(format!(
        "the interactive login with {} failed: {}\n  help: retry, or pass --identity-token",
        login.oidc_url,
        redact(e)
    ))
}

/// A desktop session a browser can open in.
fn has_desktop() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
        || cfg!(target_os = "macos")
}

/// Log in and return the ID token.
pub async fn log_in(login: &Interactive) -> Result<IdentityToken> {
    use sigstore_sign::oidc::{AuthOptions, DefaultAuthCallback, OAuthClient, OAuthConfig};
    if !login.force_oob && !has_desktop() {
        return device_flow(login).await;
    }
    let client = OAuthClient::new(OAuthConfig::dex(&login.oidc_url))
        .map_err(|e| fail(login, &e.to_string()))?;
    client
        .authenticate_with_options(
            DefaultAuthCallback,
            AuthOptions::new().with_force_oob(login.force_oob),
        )
        .await
        .map_err(|e| fail(login, &e.to_string()))
}

#[derive(serde::Deserialize)]
struct DeviceCode {
    device_code: String,
    user_code: String,
    verification_uri: String,
    #[serde(default)]
    verification_uri_complete: Option<String>,
    #[serde(default = "default_interval")]
    interval: u64,
    #[serde(default = "default_expiry")]
    expires_in: u64,
}

fn default_interval() -> u64 {
    5
}

fn default_expiry() -> u64 {
    300
}

/// RFC 8628: ask for a device code, show it, poll the token endpoint until the user has
/// approved (or it expires).
async fn device_flow(login: &Interactive) -> Result<IdentityToken> {
    let base = login.oidc_url.trim_end_matches('/');
    let http = sigstore_sign::reqwest::Client::builder()
        .user_agent(concat!("spin/", env!("CARGO_PKG_VERSION")))
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| fail(login, &e.to_string()))?;
    let response = http
        .post(format!("{base}/device/code"))
        .form(&[("client_id", CLIENT_ID), ("scope", "openid email")])
        .send()
        .await
        .map_err(|e| fail(login, &e.to_string()))?;
    if !response.status().is_success() {
        return Err(fail(
            login,
            &format!(
                "the provider has no device login ({})\n  help: use --oauth-force-oob",
                response.status()
            ),
        ));
    }
    let code: DeviceCode = response
        .json()
        .await
        .map_err(|e| fail(login, &e.to_string()))?;
    println!(
        "No browser here: to sign in, visit {} and enter the code {}",
        code.verification_uri, code.user_code
    );
    if let Some(complete) = &code.verification_uri_complete {
        println!("  (or open {complete})");
    }
    let deadline = Instant::now() + Duration::from_secs(code.expires_in);
    let mut interval = Duration::from_secs(code.interval.max(1));
    loop {
        if Instant::now() > deadline {
            return Err(fail(
                login,
                "the device code expired before the login was approved",
            ));
        }
        tokio::time::sleep(interval).await;
        let response = http
            .post(format!("{base}/token"))
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", code.device_code.as_str()),
                ("client_id", CLIENT_ID),
            ])
            .send()
            .await
            .map_err(|e| fail(login, &e.to_string()))?;
        let ok = response.status().is_success();
        let body: serde_json::Value = response
            .json()
            .await
            .map_err(|e| fail(login, &e.to_string()))?;
        if ok {
            let raw = body["id_token"]
                .as_str()
                .ok_or_else(|| fail(login, "the provider returned no ID token"))?;
            return IdentityToken::from_jwt(raw)
                .map_err(|_| fail(login, "the provider returned an unreadable ID token"));
        }
        match body["error"].as_str() {
            Some("authorization_pending") => {}
            Some("slow_down") => interval += Duration::from_secs(5),
            Some(other) => return Err(fail(login, &format!("the provider refused: {other}"))),
            None => {
                return Err(fail(
                    login,
                    "the provider's token endpoint answered with an error",
                ));
            }
        }
    }
}
