//! The one registry reference parser: `[registry/]repository[:tag][@sha256:digest]`, with
//! Docker's defaults (`docker.io`, `library/`, `latest`).

use crate::digest::Digest;
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

fn valid_repository(repo: &str) -> Result<(), String> {
    if repo.is_empty() {
        return Err("the repository name is empty".into());
    }
    for component in repo.split('/') {
        let ok = !component.is_empty()
            && component
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
            && component.starts_with(|c: char| c.is_ascii_alphanumeric())
            && component.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !ok {
            return Err(format!(
                "repository component `{component}` must be lowercase letters, digits and separators (. _ -)"
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
        if registry.ends_with(':') || registry.starts_with(':') {
            return Err(err("the registry port is empty"));
        }
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
        ] {
            let e = input.parse::<Reference>().unwrap_err().to_string();
            assert!(e.contains(needle), "{input}: {e}");
        }
    }
}
