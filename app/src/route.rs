//! Spin's HTTP route grammar, in one place: the manifest and the locked app check use it to
//! validate routes, and the runtime's router builds its table from the parsed form.
//!
//! A route is a path of segments: exact text, `:name` parameters, and optionally a final
//! wildcard (`/...`, or `/*`). A leading `/` is implied, empty segments and a trailing `/`
//! are ignored.

/// One segment of a route.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// Matches exactly this text.
    Exact(String),
    /// `:name`: matches any one segment and captures it under `name`.
    Param(String),
}

/// A parsed route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePattern {
    /// Segments before any wildcard.
    pub segments: Vec<Segment>,
    /// Whether the route ends in a wildcard.
    pub wildcard: bool,
}

/// Why a route cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// A wildcard that is not the last segment.
    #[error("route {route:?} has a wildcard `{segment}` before its end")]
    WildcardNotLast {
        /// The route.
        route: String,
        /// The wildcard segment.
        segment: String,
    },
    /// `...` inside a longer segment.
    #[error("route {route:?} has a malformed wildcard segment `{segment}`")]
    MalformedWildcard {
        /// The route.
        route: String,
        /// The segment.
        segment: String,
    },
    /// `:` with no name.
    #[error("route {0:?} has a `:` segment without a name")]
    UnnamedParameter(String),
    /// `?` or `#`.
    #[error("route {0:?} contains a query or fragment")]
    QueryOrFragment(String),
    /// Control characters (they could not be sent in a header).
    #[error("route {0:?} contains a control character")]
    ControlCharacter(String),
}

impl RouteError {
    /// How to fix it.
    pub fn help(&self) -> &'static str {
        match self {
            Self::WildcardNotLast { .. } => {
                "a wildcard may only be the last segment, as in \"/api/...\""
            }
            Self::MalformedWildcard { .. } => {
                "write the wildcard as its own final segment: \"/prefix/...\""
            }
            Self::UnnamedParameter(_) => "name the parameter, as in \"/users/:id\"",
            Self::QueryOrFragment(_) => "routes match paths only; remove `?...` or `#...`",
            Self::ControlCharacter(_) => "use printable characters only",
        }
    }
}

fn is_wildcard(segment: &str) -> bool {
    segment == "..." || segment == "*"
}

impl RoutePattern {
    /// Parse and validate a route.
    pub fn parse(route: &str) -> Result<Self, RouteError> {
        if route.chars().any(char::is_control) {
            return Err(RouteError::ControlCharacter(route.to_string()));
        }
        if route.contains(['?', '#']) {
            return Err(RouteError::QueryOrFragment(route.to_string()));
        }
        let parts: Vec<&str> = route.split('/').filter(|s| !s.is_empty()).collect();
        let mut segments = Vec::with_capacity(parts.len());
        let mut wildcard = false;
        for (i, part) in parts.iter().enumerate() {
            if is_wildcard(part) {
                if i + 1 != parts.len() {
                    return Err(RouteError::WildcardNotLast {
                        route: route.to_string(),
                        segment: part.to_string(),
                    });
                }
                wildcard = true;
                continue;
            }
            if part.contains("...") {
                return Err(RouteError::MalformedWildcard {
                    route: route.to_string(),
                    segment: part.to_string(),
                });
            }
            segments.push(match part.strip_prefix(':') {
                Some("") => return Err(RouteError::UnnamedParameter(route.to_string())),
                Some(name) => Segment::Param(name.to_string()),
                None => Segment::Exact(part.to_string()),
            });
        }
        Ok(Self { segments, wildcard })
    }

    /// The route with `base` (the app's HTTP base path) in front, as the router matches it.
    pub fn under(&self, base: &RoutePattern) -> RoutePattern {
        RoutePattern {
            segments: base
                .segments
                .iter()
                .chain(&self.segments)
                .cloned()
                .collect(),
            wildcard: self.wildcard,
        }
    }
}

/// `base` and `route` joined as Spin shows them (`spin-matched-route`): no trailing `/`.
pub fn join(base: &str, route: &str) -> String {
    let trim = |s: &str| s.strip_suffix('/').unwrap_or(s).to_string();
    let route = if route.starts_with('/') {
        route.to_string()
    } else {
        format!("/{route}")
    };
    format!("{}{}", trim(base), trim(&route))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(s: &str) -> Segment {
        Segment::Exact(s.into())
    }

    #[test]
    fn parses_the_forms_spin_accepts() {
        let cases: &[(&str, &[Segment], bool)] = &[
            ("/", &[], false),
            ("/...", &[], true),
            ("...", &[], true),
            ("/*", &[], true),
            ("/hello", &[exact("hello")], false),
            ("hello/", &[exact("hello")], false),
            ("/a//b/", &[exact("a"), exact("b")], false),
            ("/api/...", &[exact("api")], true),
            (
                "/users/:id/...",
                &[exact("users"), Segment::Param("id".into())],
                true,
            ),
        ];
        for (route, segments, wildcard) in cases {
            let p = RoutePattern::parse(route).unwrap();
            assert_eq!(
                (p.segments.as_slice(), p.wildcard),
                (*segments, *wildcard),
                "{route}"
            );
        }
    }

    #[test]
    fn refuses_what_spin_refuses() {
        for (route, needle) in [
            ("/.../x", "before its end"),
            ("/*/x", "before its end"),
            ("/a.../", "malformed wildcard"),
            ("/:", "without a name"),
            ("/a?b", "query or fragment"),
            ("/a#b", "query or fragment"),
            ("/a\nb", "control character"),
        ] {
            let e = RoutePattern::parse(route).unwrap_err();
            assert!(e.to_string().contains(needle), "{route}: {e}");
            assert!(!e.help().is_empty());
        }
    }

    #[test]
    fn joins_base_and_route() {
        assert_eq!(join("/", "/hello"), "/hello");
        assert_eq!(join("/base/", "/hello/..."), "/base/hello/...");
        assert_eq!(join("/base", "hello/"), "/base/hello");
        assert_eq!(join("/", "/"), "");
    }
}
