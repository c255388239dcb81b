//! Spin's locked app format: what `spin up` runs and what the OCI artifact carries as its
//! last layer. Field names and shapes match Spin 3.x/4.x so locked apps move between the
//! two tools. Versions 0 and 1 are read; 0 is written unless the app has host
//! requirements (as Spin writes it, and as containerd-shim-spin up to 0.13 requires).

mod validate;

pub use validate::{WASM_CONTENT_TYPE, is_component_id, validate};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Metadata key of the app name.
pub const NAME_KEY: &str = "name";
/// Metadata key of the app version.
pub const VERSION_KEY: &str = "version";
/// Metadata key of the OCI manifest digest an app was pulled by.
pub const OCI_IMAGE_DIGEST_KEY: &str = "oci_image_digest";
/// The host requirement of apps whose components call each other at
/// `http://<component>.spin.internal`.
pub const SERVICE_CHAINING: &str = "local_service_chaining";
/// `must_understand` entry: the host must support every app-level host requirement.
pub const MUST_UNDERSTAND_HOST_REQUIREMENTS: &str = "host_requirements";
/// `must_understand` entry: the host must support every component-level host requirement.
pub const MUST_UNDERSTAND_COMPONENT_HOST_REQUIREMENTS: &str = "component_host_requirements";
/// Host requirement value meaning "run me anyway" (the same as leaving it out).
pub const HOST_REQ_OPTIONAL: &str = "optional";

/// A locked app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockedApp {
    /// 0 or 1 (see [`LockedApp::lock_version`]).
    #[serde(deserialize_with = "lock_version")]
    pub spin_lock_version: u32,
    /// Features a host must support to run this app.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub must_understand: Vec<String>,
    /// App metadata: `name`, `version`, `description`, `authors`, `origin`, `trigger`, `triggers`.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
    /// App-level host requirements.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub host_requirements: Map<String, Value>,
    /// Application variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, LockedVariable>,
    /// Triggers.
    pub triggers: Vec<LockedTrigger>,
    /// Components.
    pub components: Vec<LockedComponent>,
}

fn lock_version<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) if n.as_u64() == Some(0) => Ok(0),
        Value::Number(n) if n.as_u64() == Some(1) => Ok(1),
        Value::String(s) if s == "0" || s == "1" => Ok(s.parse().expect("a digit")),
        other => Err(serde::de::Error::custom(format!(
            "unsupported spin_lock_version {other}; this tool reads versions 0 and 1"
        ))),
    }
}

/// An application variable in a locked app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedVariable {
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Default value; absent means required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Sensitive value.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
}

/// A trigger in a locked app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockedTrigger {
    /// Trigger id.
    pub id: String,
    /// `http` for the triggers this runtime serves.
    pub trigger_type: String,
    /// Trigger-specific settings; for HTTP, `component` and `route`.
    pub trigger_config: Value,
}

/// A component in a locked app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockedComponent {
    /// Component id.
    pub id: String,
    /// `description`, `allowed_outbound_hosts`, `key_value_stores`, `databases`, `ai_models`, `build`.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
    /// The Wasm.
    pub source: LockedComponentSource,
    /// Component dependencies (not supported by this runtime; kept to report them).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub dependencies: Map<String, Value>,
    /// Environment variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Mounted files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<ContentPath>,
    /// Component variables (templates over app variables).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub config: BTreeMap<String, String>,
    /// Component-level host requirements.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub host_requirements: Map<String, Value>,
}

/// A component's Wasm source: a content type plus a flattened content reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedComponentSource {
    /// `application/wasm`.
    pub content_type: String,
    /// Where the bytes are.
    #[serde(flatten)]
    pub content: ContentRef,
}

/// A reference to content: a URL (`file://…`), inline bytes, and/or a digest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentRef {
    /// A URL, usually `file://` for local content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The bytes themselves, for small content.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "inline_base64"
    )]
    pub inline: Option<Vec<u8>>,
    /// `sha256:<hex>` of the content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// Content placed at a guest path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentPath {
    /// The content.
    #[serde(flatten)]
    pub content: ContentRef,
    /// Guest path (a file, or `/` for a whole directory tree).
    pub path: String,
}

mod inline_base64 {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

    pub fn serialize<S: serde::Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(bytes) => s.serialize_str(&STANDARD_NO_PAD.encode(bytes)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        let trimmed = text.trim_end_matches('=');
        STANDARD_NO_PAD
            .decode(trimmed)
            .or_else(|_| STANDARD.decode(&text))
            .map(Some)
            .map_err(serde::de::Error::custom)
    }
}

/// An HTTP trigger's route in a locked app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockedRoute {
    /// A route pattern.
    Path(String),
    /// Reachable only by self requests.
    Private,
}

/// The HTTP view of a [`LockedTrigger`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTriggerConfig {
    /// Handling component.
    pub component: String,
    /// Route.
    pub route: LockedRoute,
    /// How the component is run (`None`: Spin's default, the Spin interfaces).
    pub executor: Option<crate::manifest::HttpExecutor>,
}

/// Why a locked app cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LockedAppError {
    /// Not valid JSON of this shape.
    #[error("the locked app is not valid: {0}")]
    Json(#[from] serde_json::Error),
    /// A field holds something this tool will not use (a path that escapes, a malformed
    /// digest, a duplicate, ...).
    #[error("{field}: {problem}\n  help: {help}")]
    Invalid {
        /// Where, as a JSON path (`components[1].files[3].path`).
        field: String,
        /// What is wrong.
        problem: String,
        /// What to do.
        help: &'static str,
    },
    /// A trigger's settings are not what an HTTP trigger needs.
    #[error("trigger `{trigger}` is not a valid HTTP trigger: {reason}")]
    BadTrigger {
        /// Trigger id.
        trigger: String,
        /// What is wrong.
        reason: String,
    },
}

impl LockedApp {
    /// Parse locked app JSON and [`validate`] it: locked apps from outside (layouts,
    /// registries) are untrusted input.
    pub fn from_json(bytes: &[u8]) -> Result<Self, LockedAppError> {
        let app: Self = serde_json::from_slice(bytes)?;
        validate(&app)?;
        Ok(app)
    }

    /// Serialize as pretty JSON (Spin writes pretty JSON too).
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("a locked app always serializes")
    }

    /// A string metadata value.
    pub fn metadata_str(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).and_then(Value::as_str)
    }

    /// The version Spin writes for this app: 0 unless it has `must_understand` entries or
    /// app-level host requirements.
    pub fn lock_version(&self) -> u32 {
        u32::from(!(self.must_understand.is_empty() && self.host_requirements.is_empty()))
    }

    /// The host requirements that must be met (app and component level, `optional` ones
    /// left out), each with the field it came from.
    pub fn required_host_features(&self) -> Vec<(String, &str)> {
        fn required(map: &Map<String, Value>) -> Vec<&str> {
            map.iter()
                .filter(|(_, v)| v.as_str() != Some(HOST_REQ_OPTIONAL))
                .map(|(k, _)| k.as_str())
                .collect()
        }
        let mut out: Vec<(String, &str)> = required(&self.host_requirements)
            .into_iter()
            .map(|k| (format!("host_requirements.{k}"), k))
            .collect();
        for (i, c) in self.components.iter().enumerate() {
            for k in required(&c.host_requirements) {
                out.push((format!("components[{i}].host_requirements.{k}"), k));
            }
        }
        out
    }

    /// The app name (empty if missing).
    pub fn name(&self) -> &str {
        self.metadata_str(NAME_KEY).unwrap_or_default()
    }

    /// The HTTP base path (`/` unless a v1 manifest set another).
    pub fn http_base(&self) -> &str {
        self.metadata
            .get("triggers")
            .and_then(|t| t.get("http"))
            .and_then(|h| h.get("base"))
            .and_then(Value::as_str)
            .unwrap_or("/")
    }

    /// A component by id.
    pub fn component(&self, id: &str) -> Option<&LockedComponent> {
        self.components.iter().find(|c| c.id == id)
    }
}

/// A Redis trigger's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisTriggerConfig {
    /// The component that handles its messages.
    pub component: String,
    /// The channel it subscribes to.
    pub channel: String,
    /// The server: the trigger's own `address`, else the app's
    /// `[application.trigger.redis] address`.
    pub address: String,
}

impl LockedTrigger {
    /// Read this trigger's Redis settings; `app_address` is the app-wide default.
    pub fn redis_config(
        &self,
        app_address: Option<&str>,
    ) -> Result<RedisTriggerConfig, LockedAppError> {
        let bad = |reason: &str| LockedAppError::BadTrigger {
            trigger: self.id.clone(),
            reason: reason.to_string(),
        };
        let text = |key: &str| self.trigger_config.get(key).and_then(Value::as_str);
        let component = text("component").ok_or_else(|| bad("`component` is missing"))?;
        let channel = text("channel").ok_or_else(|| bad("`channel` is missing"))?;
        let address = text("address")
            .or(app_address)
            .ok_or_else(|| bad("there is no Redis `address`: set it on the trigger or in [application.trigger.redis]"))?;
        Ok(RedisTriggerConfig {
            component: component.to_string(),
            channel: channel.to_string(),
            address: address.to_string(),
        })
    }

    /// Read this trigger's HTTP settings.
    pub fn http_config(&self) -> Result<HttpTriggerConfig, LockedAppError> {
        let bad = |reason: &str| LockedAppError::BadTrigger {
            trigger: self.id.clone(),
            reason: reason.to_string(),
        };
        let component = self
            .trigger_config
            .get("component")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("`component` is missing"))?
            .to_string();
        let route = match self.trigger_config.get("route") {
            Some(Value::String(s)) => LockedRoute::Path(s.clone()),
            Some(Value::Object(o)) if o.get("private") == Some(&Value::Bool(true)) => {
                LockedRoute::Private
            }
            _ => return Err(bad("`route` must be a string or `{ \"private\": true }`")),
        };
        let executor = match self.trigger_config.get("executor") {
            None | Some(Value::Null) => None,
            Some(e) => Some(serde_json::from_value(e.clone()).map_err(|e| {
                bad(&format!(
                    "`executor` must be {{\"type\": \"spin\"}} or {{\"type\": \"wagi\", ...}}: {e}"
                ))
            })?),
        };
        Ok(HttpTriggerConfig {
            component,
            route,
            executor,
        })
    }
}

impl LockedComponent {
    /// A string-list metadata value (e.g. `allowed_outbound_hosts`), empty if absent.
    pub fn metadata_strings(&self, key: &str) -> Vec<String> {
        self.metadata
            .get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_spin_style_locked_app() {
        let json = br#"{
          "spin_lock_version": 1,
          "metadata": {"name": "hello", "trigger": {"type": "http"}, "triggers": {}},
          "triggers": [{"id": "t", "trigger_type": "http", "trigger_config": {"component": "c", "route": "/..."}}],
          "components": [{
            "id": "c",
            "metadata": {"allowed_outbound_hosts": ["https://example.com"]},
            "source": {"content_type": "application/wasm", "source": "file:///x.wasm", "digest": "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"},
            "files": [{"inline": "aGk", "path": "/a.txt"}],
            "config": {"k": "v"}
          }]
        }"#;
        let app = LockedApp::from_json(json).unwrap();
        assert_eq!(app.name(), "hello");
        assert_eq!(app.http_base(), "/");
        let c = app.component("c").unwrap();
        assert_eq!(c.files[0].content.inline.as_deref(), Some(&b"hi"[..]));
        assert_eq!(
            c.metadata_strings("allowed_outbound_hosts"),
            ["https://example.com"]
        );
        let t = app.triggers[0].http_config().unwrap();
        assert_eq!(t.route, LockedRoute::Path("/...".into()));
        // Round trip keeps the flattened shape.
        let again = LockedApp::from_json(&app.to_json()).unwrap();
        assert_eq!(again, app);
        let text = String::from_utf8(app.to_json()).unwrap();
        assert!(text.contains("\"inline\": \"aGk\""), "{text}");
    }

    #[test]
    fn rejects_other_versions() {
        let err =
            LockedApp::from_json(br#"{"spin_lock_version": 2, "triggers": [], "components": []}"#)
                .unwrap_err();
        assert!(
            err.to_string().contains("unsupported spin_lock_version"),
            "{err}"
        );
    }
}
