//! `runtime-config.toml`: where each key/value store label lives.
//!
//! ```toml
//! [key_value_store.default]     # overrides the built-in <state-dir>/sqlite_key_value.db
//! type = "spin"
//! path = "data/kv.db"           # relative to this file; omit for an in-memory store
//!
//! [key_value_store.cache]
//! type = "redis"
//! url = "redis://127.0.0.1:6379"
//! ```

use indexmap::IndexMap;
use serde::Deserialize;
use spin_app::located::{LocatedError, SourceText};
use std::path::{Path, PathBuf};
use toml::Spanned;

const REFERENCE: &str =
    "https://spinframework.dev/v3/dynamic-configuration#key-value-store-runtime-configuration";

/// Where one key/value store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvStoreConfig {
    /// Built-in SQLite; `None` is in-memory.
    Spin {
        /// Database file.
        path: Option<PathBuf>,
    },
    /// A Redis server.
    Redis {
        /// `redis://host:port[/db]`.
        url: String,
    },
}

/// The parsed runtime configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Key/value stores by label, in file order.
    pub key_value_stores: Vec<(String, KvStoreConfig)>,
    /// SQLite databases by label (`type = "spin"`): a file, or in memory without `path`.
    pub sqlite_databases: Vec<(String, Option<PathBuf>)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    key_value_store: IndexMap<Spanned<String>, Spanned<RawStore>>,
    #[serde(default)]
    sqlite_database: IndexMap<Spanned<String>, Spanned<RawDatabase>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    #[serde(rename = "type")]
    kind: Spanned<String>,
    path: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    #[serde(rename = "type")]
    kind: Spanned<String>,
    path: Option<String>,
    url: Option<String>,
}

impl RuntimeConfig {
    /// Read and validate a runtime config file.
    pub fn load(path: &Path) -> Result<Self, LocatedError> {
        let text = std::fs::read_to_string(path).map_err(|source| LocatedError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// Parse runtime config text; relative paths resolve against `path`'s directory.
    pub fn parse(path: &Path, text: &str) -> Result<Self, LocatedError> {
        let src = SourceText::new(path, text);
        let raw: Raw = toml::from_str(text).map_err(|e| src.from_toml(&e, REFERENCE))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut key_value_stores = Vec::new();
        for (label, store) in raw.key_value_store {
            let span = store.span();
            let store = store.into_inner();
            let config = match (store.kind.get_ref().as_str(), store.path, store.url) {
                ("spin", path, None) => KvStoreConfig::Spin {
                    path: path.map(|p| base.join(p)),
                },
                ("redis", None, Some(url)) => {
                    if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                        return Err(src.error(
                            &span,
                            format!(
                                "store `{}`: url {url:?} is not a redis:// URL",
                                label.get_ref()
                            ),
                            "write the URL as redis://host:port",
                        ));
                    }
                    KvStoreConfig::Redis { url }
                }
                ("redis", _, None) => {
                    return Err(src.error(
                        &span,
                        format!("store `{}` of type \"redis\" has no `url`", label.get_ref()),
                        "add `url = \"redis://host:port\"`",
                    ));
                }
                ("spin", _, Some(_)) | ("redis", Some(_), _) => {
                    return Err(src.error(&span, format!("store `{}`: `path` belongs to type \"spin\" and `url` to type \"redis\"", label.get_ref()), "remove the field that does not match `type`"));
                }
                (other, _, _) => {
                    return Err(src.error(
                        &store.kind.span(),
                        format!("unknown key/value store type {other:?}"),
                        "use type = \"spin\" (SQLite) or type = \"redis\"",
                    ));
                }
            };
            key_value_stores.push((label.into_inner(), config));
        }
        let mut sqlite_databases = Vec::new();
        for (label, db) in raw.sqlite_database {
            let db = db.into_inner();
            if db.kind.get_ref() != "spin" {
                return Err(src.error(
                    &db.kind.span(),
                    format!("unknown SQLite database type {:?}", db.kind.get_ref()),
                    "use type = \"spin\" (a local SQLite file; without `path`, in memory)",
                ));
            }
            sqlite_databases.push((label.into_inner(), db.path.map(|p| base.join(p))));
        }
        Ok(Self {
            key_value_stores,
            sqlite_databases,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_store_types() {
        let cfg = RuntimeConfig::parse(
            Path::new("/app/rc.toml"),
            "[key_value_store.default]\ntype = \"spin\"\npath = \"kv.db\"\n[key_value_store.cache]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379\"\n[key_value_store.mem]\ntype = \"spin\"\n[sqlite_database.default]\ntype = \"spin\"\npath = \"data/app.db\"\n[sqlite_database.scratch]\ntype = \"spin\"\n",
        )
        .unwrap();
        assert_eq!(
            cfg.sqlite_databases,
            vec![
                ("default".into(), Some("/app/data/app.db".into())),
                ("scratch".into(), None)
            ]
        );
        assert_eq!(
            cfg.key_value_stores,
            vec![
                (
                    "default".into(),
                    KvStoreConfig::Spin {
                        path: Some("/app/kv.db".into())
                    }
                ),
                (
                    "cache".into(),
                    KvStoreConfig::Redis {
                        url: "redis://127.0.0.1:6379".into()
                    }
                ),
                ("mem".into(), KvStoreConfig::Spin { path: None }),
            ]
        );
    }

    #[test]
    fn errors_are_located() {
        let cases = [
            (
                "[key_value_store.x]\ntype = \"dynamo\"\n",
                "rc.toml:2:8: unknown key/value store type \"dynamo\"",
            ),
            (
                "[key_value_store.x]\ntype = \"redis\"\n",
                "rc.toml:1:1: store `x` of type \"redis\" has no `url`",
            ),
            (
                "[sqlite_database.x]\ntype = \"libsql\"\n",
                "rc.toml:2:8: unknown SQLite database type \"libsql\"",
            ),
            (
                "[llm_compute]\ntype = \"spin\"\n",
                "rc.toml:1:2: unknown field `llm_compute`",
            ),
            (
                "[key_value_store.x]\ntype = \"spin\"\nurl = \"redis://x\"\n",
                "rc.toml:1:1: store `x`: `path` belongs",
            ),
        ];
        for (text, expected) in cases {
            let err = RuntimeConfig::parse(Path::new("rc.toml"), text)
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(expected), "{err}");
        }
    }
}
