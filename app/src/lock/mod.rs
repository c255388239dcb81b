//! Manifest → locked app: resolve component sources (local paths, or URLs downloaded and
//! checked against their digest), expand file mounts into one flattened content
//! reference per file, and record metadata exactly where Spin puts it.

mod download;
mod files;

use download::download;
pub use files::check_files;
use files::expand_files;

use crate::allowed_hosts::AllowedHost;
use crate::digest::Digest;
use crate::locked::*;
use crate::manifest::{AppManifest, ComponentSource, HttpRoute};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why an app could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// A component's Wasm file is missing.
    #[error("component `{component}`: source file {} does not exist\n  help: build the component first (`spin build`), or fix `source` in spin.toml", path.display())]
    MissingSource {
        /// Component id.
        component: String,
        /// Expected path.
        path: PathBuf,
    },
    /// A file mount names nothing.
    #[error(
        "component `{component}`: file mount {pattern:?} matches no file or directory\n  help: create it, or fix the `files` entry in spin.toml"
    )]
    MissingFiles {
        /// Component id.
        component: String,
        /// The pattern or source.
        pattern: String,
    },
    /// A file mount reaches outside the app directory.
    #[error("component `{component}`: file {} is outside the application directory\n  help: files must live under the directory of spin.toml", path.display())]
    OutsideApp {
        /// Component id.
        component: String,
        /// The offending path.
        path: PathBuf,
    },
    /// Two different files would land at one guest path (or one where the other needs a
    /// directory).
    #[error("component `{component}`: {} and {} would both be mounted at {guest}\n  help: give them different destinations in `files`, or exclude one with `exclude_files`", first.display(), second.display())]
    FileConflict {
        /// Component id.
        component: String,
        /// The normalised guest path.
        guest: String,
        /// The file that claimed it first.
        first: PathBuf,
        /// The file that collides with it.
        second: PathBuf,
    },
    /// A file's guest path is unusable.
    #[error(
        "component `{component}`: file destination {reason}\n  help: fix the `files` entry in spin.toml"
    )]
    BadDestination {
        /// Component id.
        component: String,
        /// What is wrong.
        reason: String,
    },
    /// Downloading a URL source failed or its digest did not match.
    #[error("component `{component}`: {message}")]
    Download {
        /// Component id.
        component: String,
        /// What happened.
        message: String,
    },
    /// A source kind this tool cannot fetch.
    #[error("component `{component}`: {message}")]
    Unsupported {
        /// Component id.
        component: String,
        /// What is unsupported and what to do.
        message: String,
    },
    /// Reading a file failed.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

/// Where downloaded URL sources are cached (content-addressed by digest).
pub struct LockOptions {
    /// Directory for downloaded Wasm, e.g. `~/.cache/spin/wasm`.
    pub download_cache: PathBuf,
}

/// Lock a manifest that was read from `manifest_path`.
pub async fn lock(
    manifest: &AppManifest,
    manifest_path: &Path,
    options: &LockOptions,
) -> Result<LockedApp, LockError> {
    let manifest_path = absolute(manifest_path);
    let root = manifest_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));

    let mut components = Vec::new();
    for (id, c) in &manifest.components {
        let wasm = resolve_source(id, &c.source, &root, options).await?;
        let mut metadata = Map::new();
        put_str(&mut metadata, "description", &c.description);
        put_list(
            &mut metadata,
            "allowed_outbound_hosts",
            &c.allowed_outbound_hosts,
        );
        put_list(&mut metadata, "key_value_stores", &c.key_value_stores);
        put_list(&mut metadata, "databases", &c.sqlite_databases);
        put_list(&mut metadata, "ai_models", &c.ai_models);
        if let Some(b) = &c.build {
            let command = match b.commands.as_slice() {
                [one] => json!(one),
                many => json!(many),
            };
            let mut build = Map::from_iter([("command".to_string(), command)]);
            if let Some(w) = &b.workdir {
                build.insert("workdir".into(), json!(w));
            }
            if !b.watch.is_empty() {
                build.insert("watch".into(), json!(b.watch));
            }
            metadata.insert("build".into(), Value::Object(build));
        }
        components.push(LockedComponent {
            id: id.clone(),
            metadata,
            source: wasm_source(&wasm)?,
            dependencies: Map::new(),
            env: c
                .environment
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            files: expand_files(id, &c.files, &c.exclude_files, &root)?,
            config: c
                .variables
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            host_requirements: Map::new(),
        });
    }

    let triggers = manifest
        .http_triggers
        .iter()
        .map(|t| {
            let route = match &t.route {
                HttpRoute::Path(p) => json!(p),
                HttpRoute::Private => json!({ "private": true }),
            };
            let mut config = Map::from_iter([
                ("component".to_string(), json!(t.component)),
                ("route".to_string(), route),
            ]);
            if let Some(e) = &t.executor {
                config.insert("executor".into(), json!(e));
            }
            LockedTrigger {
                id: t.id.clone(),
                trigger_type: "http".into(),
                trigger_config: Value::Object(config),
            }
        })
        .chain(manifest.redis_triggers.iter().map(|t| {
            let mut config = Map::from_iter([
                ("component".to_string(), json!(t.component)),
                ("channel".to_string(), json!(t.channel)),
            ]);
            if let Some(address) = &t.address {
                config.insert("address".into(), json!(address));
            }
            LockedTrigger {
                id: t.id.clone(),
                trigger_type: "redis".into(),
                trigger_config: Value::Object(config),
            }
        }))
        .collect();

    let mut metadata = Map::new();
    put_str(&mut metadata, NAME_KEY, &manifest.name);
    put_str(&mut metadata, VERSION_KEY, &manifest.version);
    put_str(&mut metadata, "description", &manifest.description);
    put_list(&mut metadata, "authors", &manifest.authors);
    metadata.insert("origin".into(), json!(file_url(&manifest_path)));
    let globals: Map<String, Value> = manifest
        .trigger_global_configs
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or_default()))
        .collect();
    // Spin's single-trigger field: the app's trigger type (Redis for a Redis-only app).
    let kind = if manifest.http_triggers.is_empty() && !manifest.redis_triggers.is_empty() {
        "redis"
    } else {
        "http"
    };
    let mut single = globals
        .get(kind)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    single.insert("type".into(), json!(kind));
    metadata.insert("trigger".into(), Value::Object(single));
    metadata.insert("triggers".into(), Value::Object(globals));

    let variables = manifest
        .variables
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                LockedVariable {
                    description: v.description.clone(),
                    default: v.default.clone(),
                    secret: v.secret,
                },
            )
        })
        .collect();

    // As Spin's loader: an app whose components reach each other in-process requires
    // local service chaining of its host.
    let chaining = manifest.components.values().any(|c| {
        c.allowed_outbound_hosts
            .iter()
            .any(|h| AllowedHost::parse(h).is_ok_and(|rule| rule.is_service_chaining()))
    });
    let (must_understand, host_requirements) = if chaining {
        (
            vec![MUST_UNDERSTAND_HOST_REQUIREMENTS.to_string()],
            Map::from_iter([(SERVICE_CHAINING.to_string(), json!("required"))]),
        )
    } else {
        (Vec::new(), Map::new())
    };
    let mut app = LockedApp {
        spin_lock_version: 0,
        must_understand,
        metadata,
        host_requirements,
        variables,
        triggers,
        components,
    };
    app.spin_lock_version = app.lock_version();
    Ok(app)
}

/// A local Wasm file as a locked component source, with its digest.
fn wasm_source(wasm: &Path) -> Result<LockedComponentSource, LockError> {
    let digest = Digest::of_file(wasm).map_err(|source| LockError::Io {
        path: wasm.to_path_buf(),
        source,
    })?;
    Ok(LockedComponentSource {
        content_type: "application/wasm".into(),
        content: ContentRef {
            source: Some(file_url(wasm)),
            inline: None,
            digest: Some(digest.to_string()),
        },
    })
}

fn put_str(map: &mut Map<String, Value>, key: &str, value: &str) {
    if !value.is_empty() {
        map.insert(key.into(), json!(value));
    }
}

fn put_list(map: &mut Map<String, Value>, key: &str, value: &[String]) {
    if !value.is_empty() {
        map.insert(key.into(), json!(value));
    }
}

pub(crate) fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// `file://` URL of an absolute path.
pub fn file_url(path: &Path) -> String {
    url::Url::from_file_path(absolute(path))
        .map(String::from)
        .unwrap_or_else(|_| format!("file://{}", path.display()))
}

async fn resolve_source(
    id: &str,
    source: &ComponentSource,
    root: &Path,
    options: &LockOptions,
) -> Result<PathBuf, LockError> {
    match source {
        ComponentSource::Local(path) => {
            let full = root.join(path);
            if !full.is_file() {
                return Err(LockError::MissingSource {
                    component: id.into(),
                    path: full,
                });
            }
            Ok(full)
        }
        ComponentSource::Remote { url, digest } => download(id, url, digest, options).await,
        ComponentSource::Registry {
            package, version, ..
        } => Err(LockError::Unsupported {
            component: id.into(),
            message: format!(
                "package sources ({package}@{version}) from Wasm package registries are not supported\n  help: download the component and set `source` to its path, or use `{{ url, digest }}`"
            ),
        }),
    }
}

/// A one-component app for `spin up -f app.wasm`: the component serves every path (`/...`).
pub fn lock_single_component(wasm: &Path) -> Result<LockedApp, LockError> {
    let wasm = absolute(wasm);
    let stem = wasm
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let source = wasm_source(&wasm)?;
    Ok(single_component_app(&kebab(&stem), source, &wasm))
}

/// A one-component app for a component blob already verified to have `digest`.
pub fn lock_component_at(wasm: &Path, name: &str, digest: &Digest) -> LockedApp {
    let source = LockedComponentSource {
        content_type: "application/wasm".into(),
        content: ContentRef {
            source: Some(file_url(wasm)),
            inline: None,
            digest: Some(digest.to_string()),
        },
    };
    single_component_app(&kebab(name), source, wasm)
}

/// `name` as a component id (`component` if nothing usable is left).
fn kebab(name: &str) -> String {
    let mut id: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    while id.contains("--") {
        id = id.replace("--", "-");
    }
    let id = id.trim_matches('-').to_string();
    if crate::template::is_kebab_id(&id) {
        id
    } else {
        "component".to_string()
    }
}

fn single_component_app(id: &str, source: LockedComponentSource, origin: &Path) -> LockedApp {
    let id = id.to_string();
    LockedApp {
        spin_lock_version: 0,
        must_understand: Vec::new(),
        metadata: Map::from_iter([
            (NAME_KEY.to_string(), json!(id)),
            ("origin".to_string(), json!(file_url(origin))),
            ("trigger".to_string(), json!({ "type": "http" })),
            ("triggers".to_string(), json!({})),
        ]),
        host_requirements: Map::new(),
        variables: BTreeMap::new(),
        triggers: vec![LockedTrigger {
            id: format!("{id}-http-trigger"),
            trigger_type: "http".into(),
            trigger_config: json!({ "component": id, "route": "/..." }),
        }],
        components: vec![LockedComponent {
            id,
            metadata: Map::new(),
            source,
            dependencies: Map::new(),
            env: BTreeMap::new(),
            files: Vec::new(),
            config: BTreeMap::new(),
            host_requirements: Map::new(),
        }],
    }
}
