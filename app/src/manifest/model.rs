//! The normalized (v2) app manifest that the rest of the tool works with.

use crate::digest::Digest;
use indexmap::IndexMap;

/// A validated, normalized `spin.toml` (v1 manifests are converted to this form).
#[derive(Debug, Clone, PartialEq)]
pub struct AppManifest {
    /// `[application] name`.
    pub name: String,
    /// `[application] version`, possibly empty.
    pub version: String,
    /// `[application] description`, possibly empty.
    pub description: String,
    /// `[application] authors`.
    pub authors: Vec<String>,
    /// `[application.trigger.<type>]` tables (v1's `trigger = { type, base }` lands here too).
    pub trigger_global_configs: IndexMap<String, toml::Table>,
    /// `[variables]`, by name.
    pub variables: IndexMap<String, Variable>,
    /// `[[trigger.http]]`, in manifest order, with generated ids where none was given.
    pub http_triggers: Vec<HttpTrigger>,
    /// `[[trigger.redis]]`, likewise.
    pub redis_triggers: Vec<RedisTrigger>,
    /// `[component.<id>]`, in manifest order (inline trigger components are moved here).
    pub components: IndexMap<String, Component>,
}

/// An application variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// Free text.
    pub description: Option<String>,
    /// The value used when no provider supplies one (absent when `required`).
    pub default: Option<String>,
    /// Whether a provider must supply the value.
    pub required: bool,
    /// Whether the value must be kept out of logs.
    pub secret: bool,
}

/// One `[[trigger.http]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTrigger {
    /// Trigger id (given or generated as Spin does).
    pub id: String,
    /// The id of the component that handles the route.
    pub component: String,
    /// The route pattern, or private.
    pub route: HttpRoute,
    /// `executor = { ... }` when written.
    pub executor: Option<HttpExecutor>,
}

/// One `[[trigger.redis]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisTrigger {
    /// Trigger id (given or generated as Spin does).
    pub id: String,
    /// The id of the component that handles the messages.
    pub component: String,
    /// The channel to subscribe to.
    pub channel: String,
    /// The server, when not the app's `[application.trigger.redis] address`.
    pub address: Option<String>,
}

/// How an HTTP trigger runs its component (`executor = { type = ... }`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum HttpExecutor {
    /// The Spin HTTP interfaces (the default).
    Spin,
    /// CGI over WASI: request in environment variables and stdin, response on stdout.
    Wagi {
        /// The function to run (Spin's default: `_start`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entrypoint: Option<String>,
        /// The command line (Spin's default: `${SCRIPT_NAME} ${ARGS}`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        argv: Option<String>,
    },
}

/// An HTTP trigger's route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpRoute {
    /// A path pattern: exact segments, `:name` segments, optional trailing `/...`.
    Path(String),
    /// `route = { private = true }`: reachable only through self requests.
    Private,
}

/// One component.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// Where the Wasm comes from.
    pub source: ComponentSource,
    /// Free text.
    pub description: String,
    /// Component variables: name to template.
    pub variables: IndexMap<String, String>,
    /// Environment variables for the guest.
    pub environment: IndexMap<String, String>,
    /// File mounts.
    pub files: Vec<FileMount>,
    /// Glob patterns excluded from `files`.
    pub exclude_files: Vec<String>,
    /// Outbound network rules (templates not yet expanded), with v1's
    /// `allowed_http_hosts` already converted.
    pub allowed_outbound_hosts: Vec<String>,
    /// Key/value store labels the component may open.
    pub key_value_stores: Vec<String>,
    /// SQLite database labels (recorded; SQLite is not provided by this runtime).
    pub sqlite_databases: Vec<String>,
    /// AI model names (recorded; not provided by this runtime).
    pub ai_models: Vec<String>,
    /// `[component.<id>.build]`.
    pub build: Option<BuildConfig>,
}

/// Where a component's Wasm comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentSource {
    /// A path relative to the manifest directory.
    Local(String),
    /// A URL with the digest its content must have.
    Remote {
        /// `http://` or `https://` URL.
        url: String,
        /// Expected content digest.
        digest: Digest,
    },
    /// A package from a Wasm package registry.
    Registry {
        /// Registry host, if not the default.
        registry: Option<String>,
        /// `namespace:name`.
        package: String,
        /// Exact version.
        version: String,
    },
}

/// One entry of `files`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileMount {
    /// A path or glob relative to the manifest directory, mounted at the same relative path.
    Pattern(String),
    /// A file or directory mounted at an absolute guest path.
    Placement {
        /// Host path relative to the manifest directory.
        source: String,
        /// Absolute guest path.
        destination: String,
    },
}

/// `[component.<id>.build]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildConfig {
    /// Commands run in order by a shell.
    pub commands: Vec<String>,
    /// Working directory relative to the manifest directory.
    pub workdir: Option<String>,
    /// Globs (relative to the workdir) that `spin watch` watches.
    pub watch: Vec<String>,
    /// Tools the build needs besides the commands' own programs, from
    /// `[component.<id>.tool.spin-build] requires` (a table Spin ignores).
    pub requires: Vec<String>,
}
