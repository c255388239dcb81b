//! Why a developer-loop command failed, as variants a caller can match on; each says
//! what is wrong and [`Error::help`] what to do.

/// A developer-loop failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The manifest (or another located file) is wrong at file:line:col.
    #[error(transparent)]
    Manifest(#[from] spin_app::located::LocatedError),
    /// The app could not be started or reloaded.
    #[error(transparent)]
    Runtime(#[from] spin_runtime::Error),
    /// Something the user asked for cannot be done as asked (an unknown template or
    /// parameter, a name already taken, a non-empty destination).
    #[error("{problem}")]
    Usage {
        /// What is wrong.
        problem: String,
        /// What to do.
        help: Option<String>,
    },
    /// A template is malformed.
    #[error("template `{template}`: {problem}")]
    Template {
        /// Its id.
        template: String,
        /// What is wrong.
        problem: String,
    },
    /// Tools a build needs are not installed.
    #[error("{0}")]
    MissingTools(String),
    /// A build command failed.
    #[error("component `{component}`: {problem}")]
    Build {
        /// The component.
        component: String,
        /// What failed.
        problem: String,
    },
    /// Files cannot be watched.
    #[error("cannot watch files: {0}")]
    Watch(#[from] notify::Error),
    /// A file or directory.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why.
        source: std::io::Error,
    },
}

impl Error {
    /// A user-facing problem with a hint.
    pub fn usage(problem: impl Into<String>, help: impl Into<String>) -> Self {
        Self::Usage {
            problem: problem.into(),
            help: Some(help.into()),
        }
    }

    /// What to do about it, when there is something to say.
    pub fn help(&self) -> Option<String> {
        match self {
            Self::Usage { help, .. } => help.clone(),
            Self::Build { .. } => Some("fix the error above, then run `spin build` again".into()),
            Self::Runtime(e) => e.help(),
            _ => None,
        }
    }
}

/// `map_err` for file operations: the action, then the cause.
pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let what = what.into();
    move |source| Error::Io { what, source }
}

/// This crate's result.
pub type Result<T> = std::result::Result<T, Error>;
