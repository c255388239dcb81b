//! Guest paths of mounted files, in one normal form: `/` followed by non-empty segments
//! joined by `/`, with no `.` or `..` segment and no trailing `/`. Two destinations name
//! the same file exactly when their normal forms are equal, so `/x`, `/./x`, `//x` and
//! `/x/` all collide. Used by the manifest (destinations), the lock (expanded files) and
//! the locked app check (files of apps that come from outside).

/// Why a guest path is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuestPathError {
    /// A `..` segment would leave the component's mount.
    #[error("{0:?} has a `..` segment, which would leave the component's mount")]
    Escapes(String),
    /// NUL or another control character.
    #[error("{0:?} contains a control character")]
    ControlCharacter(String),
    /// Nothing is left after normalising (`/`, `.`, empty).
    #[error("{0:?} names the mount's root directory, not a file")]
    Root(String),
    /// Longer than any file system takes.
    #[error("{0:?} is longer than 4096 bytes")]
    TooLong(String),
}

/// The normal form of `path` (absolute or relative to the mount root), or why it has none.
pub fn normalize(path: &str) -> Result<String, GuestPathError> {
    if path.len() > 4096 {
        return Err(GuestPathError::TooLong(path.chars().take(64).collect()));
    }
    if path.chars().any(char::is_control) {
        return Err(GuestPathError::ControlCharacter(path.to_string()));
    }
    let mut out = String::with_capacity(path.len() + 1);
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => return Err(GuestPathError::Escapes(path.to_string())),
            s => {
                out.push('/');
                out.push_str(s);
            }
        }
    }
    if out.is_empty() {
        return Err(GuestPathError::Root(path.to_string()));
    }
    Ok(out)
}

/// Like [`normalize`], but `/` (the root) is allowed and normalises to `/`: for
/// destinations that may name a directory.
pub fn normalize_dir(path: &str) -> Result<String, GuestPathError> {
    match normalize(path) {
        Err(GuestPathError::Root(_)) => Ok("/".to_string()),
        other => other,
    }
}

/// Whether `a` is a directory that contains `b` (both normal forms).
pub fn is_ancestor(a: &str, b: &str) -> bool {
    if a == "/" {
        return b != "/";
    }
    b.len() > a.len() && b.starts_with(a) && b.as_bytes()[a.len()] == b'/'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_destinations_have_equal_normal_forms() {
        for p in ["/x", "/./x", "//x", "/x/", "x", "./x", "/x/.", "/./x//"] {
            assert_eq!(normalize(p).unwrap(), "/x", "{p}");
        }
        assert_eq!(normalize("/a/./b//c/").unwrap(), "/a/b/c");
        assert_eq!(normalize_dir("/").unwrap(), "/");
        assert_eq!(normalize_dir("/./").unwrap(), "/");
    }

    #[test]
    fn escapes_and_oddities_are_refused() {
        for (p, want) in [
            ("/../x", GuestPathError::Escapes("/../x".into())),
            ("/a/../../x", GuestPathError::Escapes("/a/../../x".into())),
            ("..", GuestPathError::Escapes("..".into())),
            ("/", GuestPathError::Root("/".into())),
            ("", GuestPathError::Root("".into())),
            ("/./", GuestPathError::Root("/./".into())),
            ("/a\0b", GuestPathError::ControlCharacter("/a\0b".into())),
            ("/a\nb", GuestPathError::ControlCharacter("/a\nb".into())),
        ] {
            assert_eq!(normalize(p), Err(want), "{p:?}");
        }
        assert!(matches!(
            normalize(&"a/".repeat(3000)),
            Err(GuestPathError::TooLong(_))
        ));
        // `..` inside a name is just a name.
        assert_eq!(normalize("/a..b/..c").unwrap(), "/a..b/..c");
    }

    #[test]
    fn ancestry() {
        assert!(is_ancestor("/a", "/a/b"));
        assert!(!is_ancestor("/a", "/ab"));
        assert!(!is_ancestor("/a", "/a"));
        assert!(is_ancestor("/", "/a"));
        assert!(!is_ancestor("/", "/"));
    }
}
