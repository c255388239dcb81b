//! Claim matchers (exact strings or regexes) and reference scope patterns.

use std::fmt;

/// What a certificate claim must be: exactly a string, or matching a regex.
///
/// A regex with neither `^` nor `$` must match the whole value (`acme` does not match
/// `acme-evil`); one that starts with `^` or ends with `$` is used as written, so the
/// author says which end is open (`^https://github\.com/acme/` matches that prefix).
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Equal to this string.
    Exact(String),
    /// Matching this regex.
    Regex {
        /// The pattern as written.
        source: String,
        /// The compiled pattern, anchored as described above.
        regex: regex::Regex,
    },
}

impl Matcher {
    /// A regex matcher; the error is the regex parser's message.
    pub fn regex(source: &str) -> Result<Self, String> {
        let written_anchors = source.starts_with('^') || source.ends_with('$');
        let pattern = if written_anchors {
            source.to_string()
        } else {
            format!("^(?:{source})$")
        };
        let regex = regex::Regex::new(&pattern).map_err(|e| match e {
            regex::Error::Syntax(s) => s.lines().last().unwrap_or_default().trim().to_string(),
            other => other.to_string(),
        })?;
        Ok(Self::Regex {
            source: source.to_string(),
            regex,
        })
    }

    /// Whether `value` satisfies the matcher.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Self::Exact(s) => s == value,
            Self::Regex { regex, .. } => regex.is_match(value),
        }
    }

    /// A warning for a regex anchored only at its start whose end is part of a name, so
    /// it also accepts longer names (`^https://github\.com/acme` accepts `acme-evil`).
    pub fn lint(&self) -> Option<String> {
        let Self::Regex { source, .. } = self else {
            return None;
        };
        let last = source.chars().last()?;
        (source.starts_with('^')
            && !source.ends_with('$')
            && (last.is_alphanumeric() || last == '-' || last == '_'))
            .then(|| {
                format!(
                    "the regex {source:?} is anchored only at its start, so it also matches longer values such as {:?}; end it with `/`, `$` or `.*` to say what may follow",
                    format!("{}-evil", source.trim_start_matches('^').replace('\\', ""))
                )
            })
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(s) => write!(f, "{s}"),
            Self::Regex { source, .. } => write!(f, "/{source}/"),
        }
    }
}

/// A reference scope: a repository pattern such as `ghcr.io/acme/*`, `ghcr.io/acme/**`,
/// `docker.io/library/app` (or `app`, normalized as Docker does), or `*` for everything.
/// `*` matches within one path segment, `**` across segments.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The pattern, normalized.
    pub pattern: String,
    regex: regex::Regex,
    literal: usize,
    exact: bool,
}

impl Scope {
    /// Parse a pattern; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("the scope is empty".into());
        }
        let last = t.rsplit('/').next().unwrap_or(t);
        if t.contains('@') || (t.contains('/') && last.contains(':')) {
            return Err(format!(
                "the scope {t:?} names a tag or digest; scopes are repositories (a rule applies to every tag and digest of them)"
            ));
        }
        if t.chars()
            .any(|c| c.is_whitespace() || c.is_ascii_uppercase())
        {
            return Err(format!(
                "the scope {t:?} has upper-case letters or spaces; repositories are lower case"
            ));
        }
        let pattern = normalize(t);
        let mut re = String::from("^");
        let mut literal = 0;
        let mut rest = pattern.as_str();
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix("**") {
                re.push_str(".*");
                rest = r;
            } else if let Some(r) = rest.strip_prefix('*') {
                re.push_str(if pattern == "*" { ".*" } else { "[^/]*" });
                rest = r;
            } else {
                let c = rest.chars().next().expect("not empty");
                re.push_str(&regex::escape(&c.to_string()));
                literal += 1;
                rest = &rest[c.len_utf8()..];
            }
        }
        re.push('$');
        let regex = regex::Regex::new(&re).map_err(|e| e.to_string())?;
        Ok(Self {
            exact: !pattern.contains('*'),
            pattern,
            regex,
            literal,
        })
    }

    /// Whether the scope covers `repository` (`registry/repository`, normalized).
    pub fn matches(&self, repository: &str) -> bool {
        self.regex.is_match(repository)
    }

    /// Ordering key: exact repositories beat patterns, then more literal characters win.
    pub fn specificity(&self) -> (bool, usize) {
        (self.exact, self.literal)
    }
}

/// Docker Hub shorthand: `app` → `docker.io/library/app`, `acme/app` → `docker.io/acme/app`.
fn normalize(pattern: &str) -> String {
    if pattern == "*" || pattern == "**" {
        return pattern.to_string();
    }
    let first = pattern.split('/').next().unwrap_or_default();
    let is_host = first.contains('.') || first.contains(':') || first == "localhost";
    if is_host || first.contains('*') {
        return pattern.to_string();
    }
    if pattern.contains('/') {
        format!("docker.io/{pattern}")
    } else {
        format!("docker.io/library/{pattern}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regexes_match_whole_values_unless_anchored_by_hand() {
        let m = Matcher::regex("https://github.com/acme/.*").unwrap();
        assert!(m.matches("https://github.com/acme/app"));
        let bare = Matcher::regex("acme").unwrap();
        assert!(bare.matches("acme") && !bare.matches("acme-evil"));
        let prefix = Matcher::regex("^https://github\\.com/acme/").unwrap();
        assert!(prefix.matches("https://github.com/acme/app/x"));
        assert!(!prefix.matches("https://github.com/acme-evil/app"));
        assert!(prefix.lint().is_none());
        let loose = Matcher::regex("^https://github\\.com/acme").unwrap();
        assert!(loose.matches("https://github.com/acme-evil/app"));
        assert!(loose.lint().unwrap().contains("acme-evil"));
        assert!(Matcher::regex("(unclosed").is_err());
    }

    #[test]
    fn scopes_match_by_segment_and_rank_by_specificity() {
        let one = Scope::parse("ghcr.io/acme/*").unwrap();
        assert!(one.matches("ghcr.io/acme/app"));
        assert!(!one.matches("ghcr.io/acme/team/app"));
        assert!(!one.matches("ghcr.io/acme-evil/app"));
        let deep = Scope::parse("ghcr.io/acme/**").unwrap();
        assert!(deep.matches("ghcr.io/acme/team/app"));
        let all = Scope::parse("*").unwrap();
        assert!(all.matches("docker.io/library/app"));
        let hub = Scope::parse("app").unwrap();
        assert_eq!(hub.pattern, "docker.io/library/app");
        assert!(hub.matches("docker.io/library/app"));
        let exact = Scope::parse("ghcr.io/acme/app").unwrap();
        assert!(exact.specificity() > one.specificity());
        assert!(one.specificity() > all.specificity());
        assert!(Scope::parse("ghcr.io/acme/app:v1").is_err());
        assert!(Scope::parse("ghcr.io/acme/app@sha256:00").is_err());
        assert!(Scope::parse("localhost:5000/app").is_ok());
    }
}
