//! Manifest errors that point at a file, line and column and say how to fix the problem.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A position in a text file, 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file, as the user named it.
    pub file: PathBuf,
    /// Line number, starting at 1.
    pub line: usize,
    /// Column number in characters, starting at 1.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// Why a manifest (or another TOML file of ours) could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LocatedError {
    /// The file could not be read at all.
    #[error("cannot read {}: {source}\n  help: check that the path exists and is readable", path.display())]
    Read {
        /// The path that was tried.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file was read but its content is wrong at `location`.
    #[error("{location}: {message}\n  help: {help}")]
    Invalid {
        /// Where the problem is.
        location: Location,
        /// What is wrong.
        message: String,
        /// What to do about it.
        help: String,
    },
}

impl LocatedError {
    /// The location, for errors about content.
    pub fn location(&self) -> Option<&Location> {
        match self {
            LocatedError::Invalid { location, .. } => Some(location),
            LocatedError::Read { .. } => None,
        }
    }

    /// The message without location or help.
    pub fn message(&self) -> String {
        match self {
            LocatedError::Invalid { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }
}

/// The text of a TOML file, kept to turn byte spans into locations.
pub struct SourceText<'a> {
    path: &'a Path,
    text: &'a str,
}

impl<'a> SourceText<'a> {
    /// Wrap a file's path and content.
    pub fn new(path: &'a Path, text: &'a str) -> Self {
        Self { path, text }
    }

    /// The location of the start of a byte span.
    pub fn location(&self, span: &Range<usize>) -> Location {
        let start = span.start.min(self.text.len());
        let before = &self.text[..floor_char_boundary(self.text, start)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let column = before[line_start..].chars().count() + 1;
        Location {
            file: self.path.to_path_buf(),
            line,
            column,
        }
    }

    /// An error at a span.
    pub fn error(
        &self,
        span: &Range<usize>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> LocatedError {
        LocatedError::Invalid {
            location: self.location(span),
            message: message.into(),
            help: help.into(),
        }
    }

    /// Turn a TOML parse or type error into a located error with a hint.
    pub fn from_toml(&self, err: &toml::de::Error, reference: &str) -> LocatedError {
        let span = err.span().unwrap_or(0..0);
        let message = err.message().trim().replace('\n', " ");
        let help = hint_for(&message, reference);
        self.error(&span, message, help)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A fix for the common serde/TOML messages.
fn hint_for(message: &str, reference: &str) -> String {
    if message.starts_with("unknown field") && message.ends_with("expected `http` or `redis`") {
        "this runtime runs HTTP and Redis triggers: use [[trigger.http]] or [[trigger.redis]] entries"
            .to_string()
    } else if message.starts_with("unknown field") {
        format!(
            "remove this field or fix its spelling; the accepted fields are listed above (see {reference})"
        )
    } else if let Some(rest) = message.strip_prefix("missing field ") {
        format!("add the required field {rest} (see {reference})")
    } else if message.starts_with("invalid type") {
        format!("change the value to the expected type (see {reference})")
    } else if message.starts_with("duplicate key") {
        "each key may appear only once in a table; remove or rename the duplicate".to_string()
    } else if message.contains("expected") || message.contains("invalid") {
        "fix the TOML syntax at this position".to_string()
    } else {
        format!("see {reference}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_counts_lines_and_chars() {
        let text = "a = 1\nbé = 2\nc = 3\n";
        let src = SourceText::new(Path::new("x.toml"), text);
        let at = text.find("= 2").unwrap();
        let loc = src.location(&(at..at + 1));
        assert_eq!((loc.line, loc.column), (2, 4));
        assert_eq!(loc.to_string(), "x.toml:2:4");
    }
}
