//! `spin watch`: build, serve, and on every save rebuild only the component whose
//! `build.watch` files changed, then swap the new version in while serving continues.
//!
//! - Events come from `notify` for every folder of the app except dependency and state
//!   folders (`node_modules`, `target`, `.spin`, `.git`, virtualenvs), and are debounced.
//! - A component is rebuilt only when the content of its watched files differs from what
//!   it was when its last build started, so files a build writes itself (generated
//!   sources) cause at most one extra build, and saving an unchanged file none.
//! - `spin.toml` changes reload the manifest and rebuild everything; changes to the Wasm
//!   of components without a build, or to their static files, reload without building.
//! - A failed build, lock or load prints the error and keeps the last good version
//!   serving; a component whose build failed is rebuilt with the next change of any.

use crate::build;
use crate::error::{Error, Result, io};
use notify::{EventKind, RecursiveMode, Watcher};
use spin_app::lock::LockOptions;
use spin_app::manifest::{AppManifest, ComponentSource, FileMount};
use spin_runtime::{App, Reloader, RuntimeOptions, Server};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

/// Folders never watched nor searched for watched files.
const IGNORED_DIRS: &[&str] = &[
    ".git",
    ".spin",
    "node_modules",
    "target",
    "__pycache__",
    ".venv",
    "venv",
];

/// How to watch.
pub struct Options {
    /// How to serve.
    pub runtime: RuntimeOptions,
    /// How to lock (download cache).
    pub lock: LockOptions,
    /// Quiet time after the last change before acting.
    pub debounce: Duration,
    /// Do not run build commands; only reload on changes to the app's files.
    pub skip_build: bool,
}

/// What the manifest asks to watch.
struct Plan {
    manifest: AppManifest,
    text: String,
    /// (component id, workdir, watch globs)
    builds: Vec<(String, PathBuf, Vec<glob::Pattern>)>,
    /// (component id, files whose change means reload): sources of components without a
    /// build, and static file mounts.
    artifacts: Vec<(String, Vec<glob::Pattern>)>,
}

const MATCH: glob::MatchOptions = glob::MatchOptions {
    case_sensitive: true,
    require_literal_separator: true,
    require_literal_leading_dot: false,
};

impl Plan {
    fn load(path: &Path, app_dir: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).map_err(io(format!("cannot read {}", path.display())))?;
        let manifest = spin_app::manifest::parse(path, &text)?;
        let mut builds = Vec::new();
        let mut artifacts = Vec::new();
        for (id, c) in &manifest.components {
            let mut reload_on = Vec::new();
            match &c.build {
                Some(b) => {
                    let workdir = app_dir.join(b.workdir.as_deref().unwrap_or(""));
                    let patterns = b
                        .watch
                        .iter()
                        .map(|w| {
                            glob::Pattern::new(w).map_err(|e| {
                                Error::usage(
                                    format!("component `{id}`: invalid watch glob {w:?}: {e}"),
                                    "fix `watch` in the component's [component.<id>.build]",
                                )
                            })
                        })
                        .collect::<Result<Vec<_>>>()?;
                    builds.push((id.clone(), workdir, patterns));
                }
                None => {
                    if let ComponentSource::Local(source) = &c.source {
                        reload_on.push(escaped(source));
                    }
                }
            }
            for mount in &c.files {
                match mount {
                    FileMount::Pattern(p) => {
                        reload_on.push(glob::Pattern::new(p).unwrap_or_else(|_| escaped(p)))
                    }
                    FileMount::Placement { source, .. } => {
                        reload_on.push(escaped(source));
                        reload_on.push(
                            glob::Pattern::new(&format!(
                                "{}/**/*",
                                glob::Pattern::escape(source.trim_end_matches('/'))
                            ))
                            .expect("an escaped path is a valid pattern"),
                        );
                    }
                }
            }
            artifacts.push((id.clone(), reload_on));
        }
        Ok(Self {
            manifest,
            text,
            builds,
            artifacts,
        })
    }
}

fn escaped(path: &str) -> glob::Pattern {
    glob::Pattern::new(&glob::Pattern::escape(path.trim_start_matches("./")))
        .expect("an escaped path is a valid pattern")
}

fn ignored(path: &Path) -> bool {
    path.components()
        .any(|c| IGNORED_DIRS.iter().any(|d| c.as_os_str() == *d))
}

/// The directories and files under `root`, skipping ignored folders.
fn tree(root: &Path) -> impl Iterator<Item = walkdir::DirEntry> + '_ {
    walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(move |e| !ignored(e.path().strip_prefix(root).unwrap_or(e.path())))
        .flatten()
}

/// A hash of the paths and contents of the files under `workdir` that `patterns` match.
fn fingerprint(workdir: &Path, patterns: &[glob::Pattern]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for entry in tree(workdir).filter(|e| e.file_type().is_file()) {
        let rel = entry.path().strip_prefix(workdir).unwrap_or(entry.path());
        if patterns.iter().any(|p| p.matches_path_with(rel, MATCH)) {
            entry.path().hash(&mut hasher);
            std::fs::read(entry.path())
                .unwrap_or_default()
                .hash(&mut hasher);
        }
    }
    hasher.finish()
}

/// Watch every folder under `dir` (not the ignored ones) that is not watched yet.
fn watch_tree(watcher: &mut impl Watcher, watched: &mut HashSet<PathBuf>, dir: &Path, root: &Path) {
    if ignored(dir.strip_prefix(root).unwrap_or(dir)) {
        return;
    }
    for entry in tree(dir).filter(|e| e.file_type().is_dir()) {
        let d = entry.into_path();
        if watched.insert(d.clone()) && watcher.watch(&d, RecursiveMode::NonRecursive).is_err() {
            watched.remove(&d);
        }
    }
}

/// Wait for a change, then for `debounce` of quiet; `None` when the watcher is gone.
async fn next_batch(
    rx: &mut UnboundedReceiver<PathBuf>,
    debounce: Duration,
) -> Option<BTreeSet<PathBuf>> {
    let mut batch = BTreeSet::from([rx.recv().await?]);
    loop {
        match tokio::time::timeout(debounce, rx.recv()).await {
            Ok(Some(p)) => {
                batch.insert(p);
            }
            Ok(None) => return Some(batch),
            Err(_) => return Some(batch),
        }
    }
}

/// The app being served, once a first version built and loaded.
struct Serving {
    reloader: Reloader,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

/// Run the loop until `shutdown` completes. `say` receives every line to show.
pub async fn run(
    manifest_path: &Path,
    options: Options,
    say: &(dyn Fn(&str) + Sync),
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let manifest_path = std::path::absolute(manifest_path)
        .map_err(io(format!("resolving {}", manifest_path.display())))?;
    let app_dir = manifest_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    let mut plan = Plan::load(&manifest_path, &app_dir)?;

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !matches!(event.kind, EventKind::Access(_))
        {
            for path in event.paths {
                let _ = tx.send(path);
            }
        }
    })?;
    let mut watched = HashSet::new();
    watch_tree(&mut watcher, &mut watched, &app_dir, &app_dir);

    let mut baselines: HashMap<String, u64> = HashMap::new();
    let mut failed: BTreeSet<String> = BTreeSet::new();
    let mut serving: Option<Serving> = None;
    let mut to_build: BTreeSet<String> = plan.builds.iter().map(|(id, _, _)| id.clone()).collect();
    let mut reload = true;
    tokio::pin!(shutdown);

    loop {
        if !options.skip_build && !to_build.is_empty() {
            to_build.extend(failed.iter().cloned());
            for (id, workdir, patterns) in &plan.builds {
                if to_build.contains(id) {
                    baselines.insert(id.clone(), fingerprint(workdir, patterns));
                }
            }
            let only: Vec<String> = to_build.iter().cloned().collect();
            say(&format!("Building {}…", only.join(", ")));
            match tokio::task::block_in_place(|| build::build(&manifest_path, &only, say)) {
                Ok(_) => {
                    failed.clear();
                    reload = true;
                }
                Err(e) => {
                    failed.extend(only);
                    say(&format!("Error: {e}"));
                    if serving.is_some() {
                        say("The last good version keeps serving; save again to retry.");
                    }
                    reload = false;
                }
            }
        }
        if reload {
            match App::from_manifest(&plan.manifest, &manifest_path, &options.lock).await {
                Err(e) => say(&format!("Error: {e}")),
                Ok(app) => match &serving {
                    Some(s) => match s.reloader.reload(&app).await {
                        Ok(()) => say("Reloaded: serving the new version."),
                        Err(e) => say(&format!(
                            "Error: the new version does not load, the last good version keeps serving: {e}"
                        )),
                    },
                    None => match Server::start(&app, options.runtime.clone()).await {
                        Ok(server) => {
                            say(server.banner().trim_end());
                            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
                            let reloader = server.reloader();
                            let task = tokio::spawn(server.serve(async move {
                                let _ = stopped.await;
                            }));
                            serving = Some(Serving {
                                reloader,
                                stop,
                                task,
                            });
                        }
                        Err(e) => say(&format!("Error: {e}")),
                    },
                },
            }
        }
        to_build.clear();
        reload = false;

        let batch = tokio::select! {
            _ = &mut shutdown => break,
            batch = next_batch(&mut rx, options.debounce) => match batch {
                Some(b) => b,
                None => break,
            },
        };
        for path in &batch {
            if path.is_dir() && path.starts_with(&app_dir) {
                watch_tree(&mut watcher, &mut watched, path, &app_dir);
            }
        }
        if batch.contains(&manifest_path)
            && std::fs::read_to_string(&manifest_path).is_ok_and(|t| t != plan.text)
        {
            match Plan::load(&manifest_path, &app_dir) {
                Ok(p) => {
                    say("spin.toml changed: rebuilding every component.");
                    plan = p;
                    to_build = plan.builds.iter().map(|(id, _, _)| id.clone()).collect();
                    reload = true;
                }
                Err(e) => say(&format!("Error: {e}\nThe last good version keeps serving.")),
            }
            continue;
        }
        for (id, workdir, patterns) in &plan.builds {
            let touched = batch.iter().any(|p| {
                p.strip_prefix(workdir).is_ok_and(|rel| {
                    !ignored(rel) && patterns.iter().any(|g| g.matches_path_with(rel, MATCH))
                })
            });
            if touched && baselines.get(id) != Some(&fingerprint(workdir, patterns)) {
                to_build.insert(id.clone());
            }
        }
        if !to_build.is_empty() {
            say(&format!(
                "Changed: {}",
                to_build.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        reload = plan.artifacts.iter().any(|(_, patterns)| {
            batch.iter().any(|p| {
                p.strip_prefix(&app_dir)
                    .is_ok_and(|rel| patterns.iter().any(|g| g.matches_path_with(rel, MATCH)))
            })
        });
        if options.skip_build && !to_build.is_empty() {
            to_build.clear();
            reload = true;
        }
    }

    if let Some(s) = serving {
        let _ = s.stop.send(());
        let _ = s.task.await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_follows_watched_contents_only() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("gen")).unwrap();
        std::fs::create_dir_all(d.join("node_modules/x")).unwrap();
        std::fs::write(d.join("app.c"), "v1").unwrap();
        let patterns = vec![glob::Pattern::new("*.c").unwrap()];
        let before = fingerprint(d, &patterns);
        std::fs::write(d.join("gen/out.c"), "generated").unwrap();
        std::fs::write(d.join("node_modules/x/y.c"), "dependency").unwrap();
        std::fs::write(d.join("app.c"), "v1").unwrap();
        assert_eq!(
            fingerprint(d, &patterns),
            before,
            "generated, ignored and rewritten-unchanged files do not count"
        );
        std::fs::write(d.join("app.c"), "v2").unwrap();
        assert_ne!(fingerprint(d, &patterns), before);
    }
}
