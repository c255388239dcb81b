//! Registry authentication: the `WWW-Authenticate` challenge (RFC 7235, parsed properly:
//! quoted strings may hold commas, as in `scope="repository:a:pull,push"`), and bearer
//! tokens cached per (registry, scope) so one token serves every request it covers and a
//! new one is fetched only when it expires or the registry rejects it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One challenge: a scheme and its parameters (names lowercased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `bearer`, `basic`, ... (lowercased).
    pub scheme: String,
    /// Parameters in order; a token68 form is kept under the empty name.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a header is not a challenge list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed WWW-Authenticate header at byte {at}: {reason}")]
pub struct ChallengeError {
    at: usize,
    reason: &'static str,
}

fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn ws(&mut self) {
        while self.i < self.s.len() && (self.s[self.i] == b' ' || self.s[self.i] == b'\t') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn token(&mut self) -> &'a str {
        let start = self.i;
        while self.peek().is_some_and(is_tchar) {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i]).unwrap_or_default()
    }

    fn fail<T>(&self, reason: &'static str) -> Result<T, ChallengeError> {
        Err(ChallengeError { at: self.i, reason })
    }

    fn quoted(&mut self) -> Result<String, ChallengeError> {
        self.i += 1; // opening quote
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return self.fail("unterminated quoted string"),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(String::from_utf8_lossy(&out).into_owned());
                }
                Some(b'\\') => {
                    self.i += 1;
                    match self.peek() {
                        Some(c) => out.push(c),
                        None => return self.fail("unterminated quoted string"),
                    }
                    self.i += 1;
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    /// Skip commas and whitespace between list elements; whether any comma was seen.
    fn separators(&mut self) -> bool {
        let mut comma = false;
        loop {
            self.ws();
            if self.peek() == Some(b',') {
                comma = true;
                self.i += 1;
            } else {
                return comma;
            }
        }
    }
}

/// Parse a `WWW-Authenticate` value: one or more challenges, each a scheme followed by
/// `name=value` parameters (token or quoted string) or a token68.
pub fn parse_challenges(header: &str) -> Result<Vec<Challenge>, ChallengeError> {
    let mut c = Cursor {
        s: header.as_bytes(),
        i: 0,
    };
    let mut out: Vec<Challenge> = Vec::new();
    c.separators();
    while c.peek().is_some() {
        let scheme = c.token();
        if scheme.is_empty() {
            return c.fail("expected an authentication scheme");
        }
        let mut challenge = Challenge {
            scheme: scheme.to_ascii_lowercase(),
            params: Vec::new(),
        };
        c.ws();
        // Parameters until the next scheme (a token not followed by `=`) or the end.
        loop {
            c.separators();
            let save = c.i;
            let name = c.token();
            if name.is_empty() {
                if c.peek().is_some() {
                    return c.fail("expected a parameter name");
                }
                break;
            }
            c.ws();
            if c.peek() != Some(b'=') {
                // Not a parameter: the next challenge's scheme.
                c.i = save;
                break;
            }
            c.i += 1;
            // token68 ends in `=` padding: `name==` or a bare `=` run.
            if c.peek() == Some(b'=') || c.peek().is_none() || c.peek() == Some(b',') {
                while c.peek() == Some(b'=') {
                    c.i += 1;
                }
                let token68 = std::str::from_utf8(&c.s[save..c.i]).unwrap_or_default();
                challenge.params.push((String::new(), token68.to_string()));
                continue;
            }
            c.ws();
            let value = match c.peek() {
                Some(b'"') => c.quoted()?,
                Some(_) => {
                    let v = c.token();
                    if v.is_empty() {
                        return c.fail("expected a parameter value");
                    }
                    v.to_string()
                }
                None => return c.fail("expected a parameter value"),
            };
            challenge.params.push((name.to_ascii_lowercase(), value));
        }
        out.push(challenge);
    }
    Ok(out)
}

/// A bearer token and when it stops being usable.
#[derive(Debug, Clone)]
pub struct Token {
    /// The token.
    pub value: String,
    /// When to stop sending it.
    pub use_until: Instant,
}

impl Token {
    /// A token the service said lasts `expires_in` (60 s when it did not say, as the
    /// token specification defines). It is used until shortly before it expires.
    pub fn new(value: String, expires_in: Option<u64>) -> Self {
        let lifetime = Duration::from_secs(expires_in.unwrap_or(60).max(1));
        let margin = (lifetime / 4).min(Duration::from_secs(10));
        Self {
            value,
            use_until: Instant::now() + lifetime - margin,
        }
    }

    fn fresh(&self) -> bool {
        Instant::now() < self.use_until
    }
}

/// What a registry asked for, learned from its challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheme {
    /// Bearer tokens from `realm`, for `service`.
    Bearer {
        /// Token endpoint.
        realm: String,
        /// Service name to ask for.
        service: Option<String>,
    },
    /// HTTP basic authentication on every request.
    Basic,
}

/// One cached token, behind a lock held while it is fetched.
pub type Slot = Arc<tokio::sync::Mutex<Option<Token>>>;

/// Tokens per (registry, scope), with one lock each so concurrent requests needing the same
/// token wait for one fetch instead of each fetching their own.
#[derive(Default)]
pub struct Tokens {
    slots: Mutex<HashMap<(String, String), Slot>>,
    schemes: Mutex<HashMap<String, Scheme>>,
}

impl Tokens {
    /// The slot for `(registry, scope)`.
    pub fn slot(&self, registry: &str, scope: &str) -> Slot {
        self.slots
            .lock()
            .expect("token map lock")
            .entry((registry.to_string(), scope.to_string()))
            .or_default()
            .clone()
    }

    /// A usable cached token for `(registry, scope)`, without waiting.
    pub fn cached(&self, registry: &str, scope: &str) -> Option<String> {
        let slot = self.slot(registry, scope);
        let guard = slot.try_lock().ok()?;
        guard
            .as_ref()
            .filter(|t| t.fresh())
            .map(|t| t.value.clone())
    }

    /// Whether a token in `slot` is still usable.
    pub fn usable(slot: &Option<Token>) -> Option<String> {
        slot.as_ref().filter(|t| t.fresh()).map(|t| t.value.clone())
    }

    /// What `registry` asked for, once known.
    pub fn scheme(&self, registry: &str) -> Option<Scheme> {
        self.schemes
            .lock()
            .expect("scheme map lock")
            .get(registry)
            .cloned()
    }

    /// Remember what `registry` asked for.
    pub fn set_scheme(&self, registry: &str, scheme: Scheme) {
        self.schemes
            .lock()
            .expect("scheme map lock")
            .insert(registry.to_string(), scheme);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(c: &Challenge) -> Vec<(&str, &str)> {
        c.params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn quoted_commas_stay_inside_their_value() {
        let c = parse_challenges(
            r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/app:pull,push""#,
        )
        .unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, "bearer");
        assert_eq!(
            params(&c[0]),
            [
                ("realm", "https://ghcr.io/token"),
                ("service", "ghcr.io"),
                ("scope", "repository:acme/app:pull,push")
            ]
        );
    }

    /// A header and the challenges it holds: (scheme, parameters).
    type Case = (
        &'static str,
        &'static [(&'static str, &'static [(&'static str, &'static str)])],
    );

    #[test]
    fn table_of_challenges() {
        let cases: &[Case] = &[
            (
                r#"Basic realm="Registry Realm""#,
                &[("basic", &[("realm", "Registry Realm")])],
            ),
            (
                r#"basic realm="a", Bearer realm="https://auth", service=reg"#,
                &[
                    ("basic", &[("realm", "a")]),
                    ("bearer", &[("realm", "https://auth"), ("service", "reg")]),
                ],
            ),
            (
                r#"Bearer realm = "x\"y\\z" , error="insufficient_scope""#,
                &[(
                    "bearer",
                    &[("realm", r#"x"y\z"#), ("error", "insufficient_scope")],
                )],
            ),
            ("Negotiate abc123==", &[("negotiate", &[("", "abc123==")])]),
            ("Bearer", &[("bearer", &[])]),
            (", Bearer realm=r,, ", &[("bearer", &[("realm", "r")])]),
        ];
        for (header, want) in cases {
            let got = parse_challenges(header).unwrap_or_else(|e| panic!("{header}: {e}"));
            let got: Vec<(&str, Vec<(&str, &str)>)> =
                got.iter().map(|c| (c.scheme.as_str(), params(c))).collect();
            let want: Vec<(&str, Vec<(&str, &str)>)> =
                want.iter().map(|(s, p)| (*s, p.to_vec())).collect();
            assert_eq!(got, want, "{header}");
        }
    }

    #[test]
    fn malformed_headers_are_errors_not_guesses() {
        for header in [
            r#"Bearer realm="unterminated"#,
            r#"Bearer realm="a\"#,
            "=x",
            "Bearer realm=r, /",
        ] {
            assert!(parse_challenges(header).is_err(), "{header}");
        }
    }

    #[test]
    fn tokens_are_used_until_shortly_before_they_expire() {
        let t = Token::new("t".into(), Some(300));
        let left = t.use_until - Instant::now();
        assert!(
            left > Duration::from_secs(285) && left <= Duration::from_secs(290),
            "{left:?}"
        );
        let short = Token::new("t".into(), Some(2));
        let left = short.use_until - Instant::now();
        assert!(left <= Duration::from_millis(1500), "{left:?}");
        assert!(Token::new("t".into(), None).fresh());
    }
}
