//! The one registry reference parser: `[registry/]repository[:tag][@sha256:digest]`, with
//! Docker's defaults (`docker.io`, `library/`, `latest`).

use spin_app::Digest;
use std::fmt;
use std::str::FromStr;

/// Docker Hub as written in references.
pub const DOCKER_HUB: &str = "docker.io";

/// A parsed reference to an artifact in a registry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

/// Why a reference could not be parsed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "invalid reference `{input}`: {reason}\n  help: write it as registry/repository[:tag][@sha256:<digest>], e.g. ghcr.io/acme/app:v1"
)]
pub struct ReferenceError {
    input: String,
    reason: String,
}

/// The distribution grammar for a repository: path components of lowercase alphanumerics
/// joined by one separator (`.`, `_`, `__`, or a run of `-`), components joined by `/`.
fn valid_repository(repo: &str) -> Result<(), String> {
    if repo.is_empty() {
        return Err("the repository name is empty".into());
    }
    if repo.len() > 255 {
        return Err("the repository name is longer than 255 characters".into());
    }
    for component in repo.split('/') {
        if !valid_path_component(component) {
            return Err(format!(
                "repository component `{component}` must be lowercase letters and digits, joined by single separators (`.`, `_`, `__` or dashes)"
            ));
        }
    }
    Ok(())
}

fn valid_path_component(component: &str) -> bool {
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let bytes = component.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if !alnum(first) || !alnum(last) {
        return false;
    }
    // Every maximal run of separators must be one of the allowed forms.
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let run = &component[start..i];
        let ok = matches!(run, "." | "_" | "__") || run.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// A registry host: DNS labels (letters, digits, inner `-`) joined by `.`, or a bracketed
/// IPv6 address, with an optional numeric port.
fn valid_registry(registry: &str) -> Result<(), String> {
    let (host, port) = if let Some(rest) = registry.strip_prefix('[') {
        let (addr, after) = rest
            .split_once(']')
            .ok_or("the IPv6 address has no closing `]`")?;
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("`[{addr}]` is not an IPv6 address"));
        }
        match after {
            "" => (None, None),
            p => (
                None,
                Some(p.strip_prefix(':').ok_or("only `:port` may follow `]`")?),
            ),
        }
    } else {
        match registry.rsplit_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(registry), None),
        }
    };
    if let Some(port) = port
        && (port.is_empty()
            || port.len() > 5
            || !port.bytes().all(|b| b.is_ascii_digit())
            || port.parse::<u16>().is_err())
    {
        return Err(format!(
            "registry port `{port}` must be a number from 0 to 65535"
        ));
    }
    if let Some(host) = host {
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if host.is_empty() || host.len() > 253 || !host.split('.').all(label_ok) {
            return Err(format!(
                "registry `{registry}` is not a host name or address (letters, digits, `-` and `.`, then an optional `:port`)"
            ));
        }
    }
    Ok(())
}

fn valid_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 128
        && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason: &str| ReferenceError {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        let s = input.trim();
        if s.is_empty() {
            return Err(err("it is empty"));
        }
        if s.contains("://") {
            return Err(err("a reference has no scheme; drop the `https://`"));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (
                r,
                Some(d.parse::<Digest>().map_err(|e| err(&e.to_string()))?),
            ),
            None => (s, None),
        };
        let (registry, path) = match rest.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_string(), path)
            }
            _ => (DOCKER_HUB.to_string(), rest),
        };
        // A tag follows the last ':' that is after the last '/'.
        let last_slash = path.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (repository, tag) = match path[last_slash..].rfind(':') {
            Some(i) => {
                let at = last_slash + i;
                (&path[..at], Some(path[at + 1..].to_string()))
            }
            None => (path, None),
        };
        if let Some(t) = &tag
            && !valid_tag(t)
        {
            return Err(err(&format!(
                "tag `{t}` must be 1-128 letters, digits, `.`, `_` or `-`"
            )));
        }
        valid_repository(repository).map_err(|r| err(&r))?;
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository.to_string()
        };
        valid_registry(&registry).map_err(|r| err(&r))?;
        Ok(Self {
            registry: registry.to_ascii_lowercase(),
            repository,
            tag,
            digest,
        })
    }
}

impl Reference {
    /// `ghcr.io`, `localhost:5000`, `docker.io`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// `acme/app`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, if written.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if written.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The same artifact pinned to `digest` (the tag is kept for display only).
    pub fn with_digest(&self, digest: Digest) -> Self {
        Self {
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// The same repository with another tag and no digest.
    pub fn with_tag(&self, tag: &str) -> Self {
        Self {
            tag: Some(tag.to_string()),
            digest: None,
            ..self.clone()
        }
    }

    /// `registry/repository` without tag or digest.
    pub fn repository_url(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// What to ask the registry for: the digest when known, else the tag (or `latest`).
    pub fn target(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".into(),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        let d = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        let cases = [
            (
                "ghcr.io/acme/app:v1",
                "ghcr.io",
                "acme/app",
                Some("v1"),
                false,
            ),
            ("localhost:5000/app", "localhost:5000", "app", None, false),
            (
                "127.0.0.1:5000/a/b/c:1.0",
                "127.0.0.1:5000",
                "a/b/c",
                Some("1.0"),
                false,
            ),
            ("app", "docker.io", "library/app", None, false),
            (
                "acme/app:latest",
                "docker.io",
                "acme/app",
                Some("latest"),
                false,
            ),
            ("localhost/app", "localhost", "app", None, false),
            (
                "[::1]:5000/a__b/c--d/e.f",
                "[::1]:5000",
                "a__b/c--d/e.f",
                None,
                false,
            ),
        ];
        for (input, registry, repo, tag, _) in cases {
            let r: Reference = input.parse().unwrap();
            assert_eq!(
                (r.registry(), r.repository(), r.tag()),
                (registry, repo, tag),
                "{input}"
            );
        }
        let r: Reference = format!("ghcr.io/acme/app:v1@{d}").parse().unwrap();
        assert_eq!(r.digest().unwrap().to_string(), d);
        assert_eq!(r.target(), d);
        assert_eq!(r.to_string(), format!("ghcr.io/acme/app:v1@{d}"));
        let r: Reference = "localhost:5000/app".parse().unwrap();
        assert_eq!(r.target(), "latest");
    }

    #[test]
    fn rejects_bad_references() {
        for (input, needle) in [
            ("", "empty"),
            ("https://ghcr.io/a/b", "no scheme"),
            ("ghcr.io/Acme/app", "lowercase"),
            ("ghcr.io/acme/app:", "tag"),
            ("ghcr.io/acme/app@sha256:xyz", "sha256"),
            ("ghcr.io//app", "lowercase"),
            ("ghcr.io/acme/app:v1/x", "lowercase"),
            ("127.0.0.1:5000?x/acme/app", "number"),
            ("127.0.0.1:5000#x/acme/app", "number"),
            ("reg?istry.io/acme/app", "not a host name"),
            ("a#b.io/acme/app", "not a host name"),
            ("ghcr.io/a..b", "single separators"),
            ("ghcr.io/a___b", "single separators"),
            ("ghcr.io/a-._b", "single separators"),
            ("ghcr.io/acme/app%2f", "single separators"),
            ("ghcr.io:/acme/app", "number"),
            ("-bad.io/acme/app", "not a host name"),
            ("127.0.0.1:99999/acme/app", "number"),
            ("[::1/acme/app", "closing"),
        ] {
            let e = input.parse::<Reference>().unwrap_err().to_string();
            assert!(e.contains(needle), "{input}: {e}");
        }
    }
}
