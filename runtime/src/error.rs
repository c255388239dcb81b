//! Why an app cannot be started (or reloaded), as variants a caller can match on, each with
//! a hint ([`Error::help`]).

use std::net::SocketAddr;

/// Any error a library reports as its cause.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why an app cannot be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The address is taken or not ours.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The app (its locked form) is not valid.
    #[error(transparent)]
    App(#[from] spin_app::locked::LockedAppError),
    /// The manifest could not be locked.
    #[error(transparent)]
    Lock(#[from] spin_app::lock::LockError),
    /// Pulling or importing the app failed.
    #[error(transparent)]
    Pull(#[from] spin_registry::transfer::PullError),
    /// The runtime config file is wrong (at file:line:col).
    #[error(transparent)]
    RuntimeConfig(#[from] spin_app::located::LocatedError),
    /// Files could not be placed for a component.
    #[error(transparent)]
    Files(#[from] crate::files::FilesError),
    /// The app asks for something this runtime does not do.
    #[error("{0}")]
    Unsupported(String),
    /// Required variables have no value.
    #[error("required variable{} {} {} no value", if names.len() > 1 { "s" } else { "" }, quoted(names), if names.len() > 1 { "have" } else { "has" })]
    MissingVariables {
        /// Their names.
        names: Vec<String>,
    },
    /// `--variable` names a variable the app does not declare.
    #[error("--variable {name}=...: the app declares no variable `{name}`")]
    UnknownVariable {
        /// The name given.
        name: String,
        /// What the app declares.
        declared: Vec<String>,
    },
    /// A template (a component variable, an outbound rule) cannot be expanded or parsed.
    #[error("component `{component}`: {what}: {reason}")]
    Template {
        /// Component id.
        component: String,
        /// Which setting.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// A component cannot be compiled, linked or prepared.
    #[error("component `{component}`: {what}")]
    Component {
        /// Component id.
        component: String,
        /// What failed.
        what: String,
        /// The cause.
        #[source]
        source: BoxError,
        /// How to fix it, when known.
        help: Option<&'static str>,
    },
    /// A key/value store cannot be opened.
    #[error("{action} key/value store `{label}` at {location}: {source}")]
    KeyValue {
        /// The label.
        label: String,
        /// `opening` or `connecting`.
        action: &'static str,
        /// Why.
        source: crate::host::kv::KvError,
        /// Where it was configured to be.
        location: String,
    },
    /// A `spin up --sqlite` statement failed.
    #[error("{what} failed on the default SQLite database: {reason}")]
    Sqlite {
        /// Which statement or file.
        what: String,
        /// SQLite's message.
        reason: String,
    },
    /// The wasmtime engine cannot be set up.
    #[error("configuring the wasmtime engine: {0}")]
    Engine(#[source] BoxError),
    /// Something on this machine.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why.
        source: std::io::Error,
    },
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Error {
    /// What to do about it, when there is something to say.
    pub fn help(&self) -> Option<String> {
        match self {
            Self::Listen { .. } => Some("choose another address with --listen".into()),
            Self::MissingVariables { names } => names.first().map(|n| {
                format!(
                    "pass `--variable {n}=<value>` or set SPIN_VARIABLE_{}",
                    n.to_ascii_uppercase()
                )
            }),
            Self::UnknownVariable { declared, .. } => {
                Some(format!("declared variables: {}", declared.join(", ")))
            }
            Self::Component { help, .. } => help.map(String::from),
            Self::KeyValue { location, .. } if location.starts_with("redis") => Some(
                "check that Redis is running and the URL in the runtime config is right".into(),
            ),
            Self::Pull(e) => e.help(),
            _ => None,
        }
    }
}
