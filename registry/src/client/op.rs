//! One registry operation, for error messages: what was being done, on which registry;
//! and how network failures and unsuccessful answers become [`RegistryError`] variants
//! with the registry's own message, cleaned to one printable line.

use super::body;
use super::error::RegistryError;
use reqwest::Response;
use std::time::Duration;

/// How much of an error response is read for its message.
const MAX_ERROR_BYTES: usize = 64 << 10;

/// One operation, for error messages: what was being done, on which registry.
#[derive(Debug, Clone)]
pub struct Op {
    pub(super) what: String,
    pub(super) registry: String,
    pub(super) push: bool,
}

impl Op {
    pub(super) fn new(what: impl Into<String>, registry: &str, push: bool) -> Self {
        Self {
            what: what.into(),
            registry: registry.to_string(),
            push,
        }
    }

    /// A transport failure as the right variant; `in_body` when it happened while a body
    /// was arriving (a broken transfer rather than an unreachable registry).
    pub(super) fn transport(&self, e: &reqwest::Error, in_body: bool) -> RegistryError {
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

    /// A failure on this machine (a file, the store) during the operation.
    pub(super) fn local(&self, detail: impl std::fmt::Display) -> RegistryError {
        RegistryError::Local {
            what: self.what.clone(),
            detail: detail.to_string(),
        }
    }

    pub(super) fn protocol(&self, detail: impl Into<String>) -> RegistryError {
        RegistryError::Protocol {
            what: self.what.clone(),
            registry: self.registry.clone(),
            detail: detail.into(),
        }
    }

    /// An unsuccessful response as the right variant, with the registry's own message.
    pub(super) async fn status(&self, response: Response) -> RegistryError {
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
pub(super) fn clean(text: &str, max: usize) -> String {
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
pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
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
}
