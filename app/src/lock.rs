//! Manifest → locked app: resolve component sources (local paths, or URLs downloaded and
//! checked against their digest), expand file mounts into one flattened content
//! reference per file, and record metadata exactly where Spin puts it.

use crate::digest::Digest;
use crate::locked::*;
use crate::manifest::{AppManifest, ComponentSource, FileMount, HttpRoute};
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
                config.insert("executor".into(), json!({ "type": e }));
            }
            LockedTrigger {
                id: t.id.clone(),
                trigger_type: "http".into(),
                trigger_config: Value::Object(config),
            }
        })
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
    let mut single = globals
        .get("http")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    single.insert("type".into(), json!("http"));
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

    Ok(LockedApp {
        spin_lock_version: 1,
        must_understand: Vec::new(),
        metadata,
        host_requirements: Map::new(),
        variables,
        triggers,
        components,
    })
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

fn absolute(path: &Path) -> PathBuf {
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

/// Download `url` into the cache unless a file with `digest` is already there; the digest
/// is checked while streaming and the file appears only once complete (temp + rename).
async fn download(
    id: &str,
    url: &str,
    digest: &Digest,
    options: &LockOptions,
) -> Result<PathBuf, LockError> {
    use futures::StreamExt;
    use std::io::Write;
    let err = |message: String| LockError::Download {
        component: id.into(),
        message,
    };
    let dest = options.download_cache.join(digest.hex());
    if dest.is_file() && Digest::of_file(&dest).ok().as_ref() == Some(digest) {
        return Ok(dest);
    }
    std::fs::create_dir_all(&options.download_cache).map_err(|e| {
        err(format!(
            "cannot create cache {}: {e}",
            options.download_cache.display()
        ))
    })?;
    let response = reqwest::get(url)
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| {
            err(format!(
                "downloading {url} failed: {e}\n  help: check the URL and your network"
            ))
        })?;
    let mut tmp = tempfile::NamedTempFile::new_in(&options.download_cache)
        .map_err(|e| err(format!("cannot write to the cache: {e}")))?;
    let mut hasher = Digest::hasher();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| err(format!("downloading {url} failed: {e}")))?;
        sha2::Digest::update(&mut hasher, &chunk);
        tmp.write_all(&chunk)
            .map_err(|e| err(format!("cannot write to the cache: {e}")))?;
    }
    let actual = Digest::from_hasher(hasher);
    if &actual != digest {
        return Err(err(format!(
            "{url} has digest {actual}, but spin.toml expects {digest}\n  help: if the new content is trusted, update `digest` in spin.toml"
        )));
    }
    tmp.persist(&dest)
        .map_err(|e| err(format!("cannot write to the cache: {e}")))?;
    Ok(dest)
}

/// Expand `files` into one content reference per file, keyed by normalised guest path.
fn expand_files(
    id: &str,
    mounts: &[FileMount],
    exclude: &[String],
    root: &Path,
) -> Result<Vec<ContentPath>, LockError> {
    let mut out = Vec::new();
    for (guest, canonical) in place_files(id, mounts, exclude, root)? {
        let digest = Digest::of_file(&canonical).map_err(|source| LockError::Io {
            path: canonical.clone(),
            source,
        })?;
        out.push(ContentPath {
            content: ContentRef {
                source: Some(file_url(&canonical)),
                inline: None,
                digest: Some(digest.to_string()),
            },
            path: guest,
        });
    }
    Ok(out)
}

/// Problems with the component files a manifest mounts (missing files, files outside the
/// app, two files at one guest path), without reading any file: for `spin doctor`.
pub fn check_files(manifest: &AppManifest, manifest_path: &Path) -> Vec<LockError> {
    let manifest_path = absolute(manifest_path);
    let root = manifest_path.parent().unwrap_or(Path::new("/"));
    manifest
        .components
        .iter()
        .filter_map(|(id, c)| place_files(id, &c.files, &c.exclude_files, root).err())
        .collect()
}

/// Where each mounted file goes: normalised guest path → canonical host path. Two
/// different files at one guest path, or a file where another needs a directory, are an
/// error: one would silently replace the other.
fn place_files(
    id: &str,
    mounts: &[FileMount],
    exclude: &[String],
    root: &Path,
) -> Result<BTreeMap<String, PathBuf>, LockError> {
    let exclude: Vec<glob::Pattern> = exclude
        .iter()
        .filter_map(|p| glob::Pattern::new(p).ok())
        .collect();
    let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut by_guest_path: BTreeMap<String, PathBuf> = BTreeMap::new();
    for mount in mounts {
        let (host, guest_base, pattern) = match mount {
            FileMount::Pattern(p) => (root.join(p), format!("/{p}"), p.clone()),
            FileMount::Placement {
                source,
                destination,
            } => (root.join(source), destination.clone(), source.clone()),
        };
        let mut found: Vec<(String, PathBuf)> = Vec::new();
        if host.is_dir() {
            let files = crate::fsutil::files_under(&host).map_err(|source| LockError::Io {
                path: host.clone(),
                source,
            })?;
            for f in files {
                let rel = crate::fsutil::slash_path(&f, &host);
                found.push((format!("{}/{rel}", guest_base.trim_end_matches('/')), f));
            }
        } else if host.is_file() {
            found.push((guest_base.clone(), host.clone()));
        } else if let (FileMount::Pattern(_), Ok(paths)) =
            (mount, glob::glob(&host.to_string_lossy()))
        {
            for f in paths.flatten().filter(|f| f.is_file()) {
                found.push((format!("/{}", crate::fsutil::slash_path(&f, root)), f));
            }
        }
        if found.is_empty() {
            return Err(LockError::MissingFiles {
                component: id.into(),
                pattern,
            });
        }
        for (guest, host) in found {
            let canonical = host.canonicalize().map_err(|source| LockError::Io {
                path: host.clone(),
                source,
            })?;
            if !canonical.starts_with(&canonical_root) {
                return Err(LockError::OutsideApp {
                    component: id.into(),
                    path: host,
                });
            }
            let rel = canonical
                .strip_prefix(&canonical_root)
                .unwrap_or(&canonical);
            if exclude.iter().any(|p| p.matches_path(rel)) {
                continue;
            }
            let guest =
                crate::guest_path::normalize(&guest).map_err(|e| LockError::BadDestination {
                    component: id.into(),
                    reason: e.to_string(),
                })?;
            match by_guest_path.get(&guest) {
                Some(first) if first != &canonical => {
                    return Err(LockError::FileConflict {
                        component: id.into(),
                        guest,
                        first: first.clone(),
                        second: canonical,
                    });
                }
                _ => {
                    by_guest_path.insert(guest, canonical);
                }
            }
        }
    }
    // A file at `/a` and another at `/a/b` cannot both exist: look up every proper
    // ancestor directory of each path.
    for guest in by_guest_path.keys() {
        let ancestors = guest.match_indices('/').map(|(i, _)| &guest[..i]);
        if let Some(file) = ancestors
            .filter(|a| !a.is_empty())
            .find(|a| by_guest_path.contains_key(*a))
        {
            return Err(LockError::FileConflict {
                component: id.into(),
                guest: file.to_string(),
                first: by_guest_path[file].clone(),
                second: by_guest_path[guest].clone(),
            });
        }
    }
    Ok(by_guest_path)
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
        spin_lock_version: 1,
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
