//! What went wrong in signing or verifying, naming the failed step, and the redaction that
//! keeps identity tokens out of every message.

/// What went wrong, naming the failed step; every message ends in what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The registry (or the way to it) failed: not found, refused, unreachable, ...
    #[error(transparent)]
    Registry(#[from] spin_registry::client::RegistryError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Trust material or signing configuration is unusable.
    #[error("{0}")]
    Trust(String),
    /// No usable identity token.
    #[error("{0}")]
    Identity(String),
    /// A Sigstore service refused or failed.
    #[error("{0}")]
    Signing(String),
    /// The bundle does not verify.
    #[error("verification failed: {0}")]
    Verification(String),
    /// Bad input from the user.
    #[error("{0}")]
    Input(String),
    /// A policy file is unreadable or wrong (located at file:line:col).
    #[error(transparent)]
    Policy(#[from] spin_app::located::LocatedError),
}

impl Error {
    /// What to do about it, when the message does not already say.
    pub fn help(&self) -> Option<String> {
        match self {
            Self::Registry(e) => Some(e.help()),
            _ => None,
        }
    }
}

/// This crate's result.
pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Remove anything that looks like a JWT from `text` (service errors may echo requests).
pub fn redact(text: &str) -> String {
    text.split_inclusive(|c: char| c.is_whitespace() || c == '"' || c == '\'')
        .map(|word| {
            let core = word.trim_end_matches(|c: char| c.is_whitespace() || c == '"' || c == '\'');
            let parts: Vec<&str> = core.split('.').collect();
            let jwt = parts.len() == 3
                && parts.iter().all(|p| {
                    p.len() >= 4
                        && p.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                });
            if jwt {
                word.replacen(core, "[redacted token]", 1)
            } else {
                word.to_string()
            }
        })
        .collect()
}
