//! Raw serde shapes of `spin.toml` v1 and v2, exactly as written. Unknown fields are
//! rejected here (with the span the TOML deserializer attaches); meaning is checked in
//! `normalize`.

use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use std::marker::PhantomData;
use toml::Spanned;

/// A value that is either a plain string or some richer form (a table or an array).
#[derive(Debug, Clone)]
pub enum StrOr<T> {
    /// The plain string form.
    Str(String),
    /// The table or array form.
    Other(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for StrOr<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = StrOr<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or a table")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(StrOr::Str(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(StrOr::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(StrOr::Other)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// Only the version field, read first to choose the schema.
#[derive(Deserialize)]
pub struct VersionProbe {
    pub spin_manifest_version: Option<Spanned<toml::Value>>,
    /// Spin 0.x's name for it (still read by Spin 4).
    pub spin_version: Option<Spanned<toml::Value>>,
    /// Present in v1 manifests (the app-wide trigger).
    pub trigger: Option<toml::Value>,
    /// Present in v1 manifests (`[[component]]`).
    pub component: Option<toml::Value>,
}

// ---------------------------------------------------------------- v2

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct V2 {
    #[allow(dead_code)]
    pub spin_manifest_version: toml::Value,
    pub application: Spanned<Application>,
    #[serde(default)]
    pub variables: IndexMap<Spanned<String>, Spanned<Variable>>,
    #[serde(default)]
    pub trigger: Triggers,
    #[serde(default)]
    pub component: IndexMap<Spanned<String>, Spanned<Component>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub name: Spanned<String>,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub authors: Vec<String>,
    #[serde(default)]
    pub targets: Vec<toml::Value>,
    #[serde(default)]
    pub trigger: IndexMap<Spanned<String>, toml::Table>,
    #[serde(default)]
    #[allow(dead_code)]
    pub tool: IndexMap<String, toml::Table>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Triggers {
    #[serde(default)]
    pub http: Vec<Spanned<HttpTrigger>>,
    #[serde(default)]
    pub redis: Vec<Spanned<RedisTrigger>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisTrigger {
    #[serde(default)]
    pub id: Option<String>,
    pub component: Option<Spanned<StrOr<Box<Component>>>>,
    pub channel: Spanned<String>,
    #[serde(default)]
    pub address: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTrigger {
    #[serde(default)]
    pub id: Option<String>,
    pub component: Option<Spanned<StrOr<Box<Component>>>>,
    pub route: Spanned<StrOr<PrivateRoute>>,
    #[serde(default)]
    pub executor: Option<Spanned<Executor>>,
    #[serde(default)]
    pub components: Option<Spanned<toml::Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivateRoute {
    pub private: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Executor {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub argv: Option<String>,
    #[serde(default)]
    pub entrypoint: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub secret: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    pub source: Spanned<StrOr<SourceTable>>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub variables: IndexMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    pub environment: IndexMap<String, String>,
    #[serde(default)]
    pub files: Vec<Spanned<StrOr<Placement>>>,
    #[serde(default)]
    pub exclude_files: Vec<Spanned<String>>,
    #[serde(default)]
    pub allowed_http_hosts: Vec<Spanned<String>>,
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<Spanned<String>>,
    #[serde(default)]
    pub key_value_stores: Vec<Spanned<String>>,
    #[serde(default)]
    pub sqlite_databases: Vec<Spanned<String>>,
    #[serde(default)]
    pub ai_models: Vec<String>,
    #[serde(default)]
    pub build: Option<Spanned<Build>>,
    #[serde(default)]
    pub tool: IndexMap<String, toml::Table>,
    #[serde(default)]
    #[allow(dead_code)]
    pub dependencies_inherit_configuration: bool,
    #[serde(default)]
    pub dependencies: Option<Spanned<toml::Table>>,
    #[serde(default)]
    pub profile: Option<Spanned<toml::Table>>,
    #[serde(default)]
    #[allow(dead_code)]
    pub targets: Option<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceTable {
    pub url: Option<String>,
    pub digest: Option<String>,
    pub registry: Option<String>,
    pub package: Option<String>,
    pub version: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Placement {
    pub source: String,
    pub destination: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Build {
    pub command: Spanned<StrOr<Vec<String>>>,
    #[serde(default)]
    pub workdir: Option<String>,
    #[serde(default)]
    pub watch: Vec<String>,
}

// ---------------------------------------------------------------- v1

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct V1 {
    #[allow(dead_code)]
    #[serde(alias = "spin_version")]
    pub spin_manifest_version: toml::Value,
    pub name: Spanned<String>,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub authors: Vec<String>,
    pub trigger: Spanned<V1AppTrigger>,
    #[serde(default)]
    pub variables: IndexMap<Spanned<String>, Spanned<Variable>>,
    #[serde(default)]
    pub component: Vec<Spanned<V1Component>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct V1AppTrigger {
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    #[serde(default)]
    pub base: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct V1Component {
    pub id: Spanned<String>,
    pub source: Spanned<StrOr<SourceTable>>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub files: Vec<Spanned<StrOr<Placement>>>,
    #[serde(default)]
    pub exclude_files: Vec<Spanned<String>>,
    #[serde(default)]
    pub allowed_http_hosts: Vec<Spanned<String>>,
    #[serde(default)]
    pub allowed_outbound_hosts: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub key_value_stores: Vec<Spanned<String>>,
    #[serde(default)]
    pub sqlite_databases: Vec<Spanned<String>>,
    #[serde(default)]
    pub ai_models: Vec<String>,
    #[serde(default)]
    pub environment: IndexMap<String, String>,
    pub trigger: Spanned<V1ComponentTrigger>,
    #[serde(default)]
    pub config: IndexMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    pub build: Option<Spanned<Build>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct V1ComponentTrigger {
    #[serde(default)]
    pub route: Option<Spanned<StrOr<PrivateRoute>>>,
    #[serde(default)]
    pub channel: Option<Spanned<String>>,
    #[serde(default)]
    pub executor: Option<Spanned<Executor>>,
}
