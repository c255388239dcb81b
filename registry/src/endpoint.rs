//! Where an artifact is, as users write it: a registry reference, or an OCI image layout
//! directory (`oci:DIR[:TAG]`, or a path to a directory that is a layout).

use crate::reference::{Reference, ReferenceError};
use std::path::{Path, PathBuf};

/// A registry repository or an OCI layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// In a registry.
    Registry(Reference),
    /// In a layout directory, the manifest tagged `tag` (or its only one).
    Layout {
        /// The directory.
        dir: PathBuf,
        /// The tag, if given.
        tag: Option<String>,
    },
}

impl Endpoint {
    /// `oci:DIR[:TAG]`, a layout directory, or a registry reference.
    pub fn parse(text: &str) -> Result<Self, ReferenceError> {
        if let Some(rest) = text.strip_prefix("oci:") {
            return Ok(match rest.rsplit_once(':') {
                Some((dir, tag)) if !tag.contains('/') && !tag.is_empty() => Self::Layout {
                    dir: PathBuf::from(dir),
                    tag: Some(tag.to_string()),
                },
                _ => Self::Layout {
                    dir: PathBuf::from(rest),
                    tag: None,
                },
            });
        }
        let path = Path::new(text);
        if crate::layout::is_layout(path) {
            return Ok(Self::Layout {
                dir: path.to_path_buf(),
                tag: None,
            });
        }
        text.parse().map(Self::Registry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_and_references() {
        let layout = |dir: &str, tag: Option<&str>| Endpoint::Layout {
            dir: dir.into(),
            tag: tag.map(String::from),
        };
        assert_eq!(
            Endpoint::parse("oci:out:v1").unwrap(),
            layout("out", Some("v1"))
        );
        assert_eq!(Endpoint::parse("oci:./a/b").unwrap(), layout("./a/b", None));
        assert_eq!(
            Endpoint::parse("oci:/x/y:latest").unwrap(),
            layout("/x/y", Some("latest"))
        );
        assert!(matches!(
            Endpoint::parse("ghcr.io/acme/app:v1").unwrap(),
            Endpoint::Registry(_)
        ));
        assert!(Endpoint::parse("Not A Reference").is_err());
    }
}
