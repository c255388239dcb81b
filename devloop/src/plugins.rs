//! Plugins: `spin foo ARGS…` runs the executable `spin-foo` with ARGS, looked up first in
//! the plugins folder, then on `PATH` (as Spin and cargo do). In the plugins folder a
//! plugin is either an executable `spin-<name>` or a folder `<name>/` holding an executable
//! `<name>` (the layout `spin plugins install` uses in Spin).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A plugin found on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plugin {
    /// The subcommand name.
    pub name: String,
    /// The executable.
    pub path: PathBuf,
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn in_plugins_dir(dir: &Path) -> Vec<Plugin> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()).map(String::from) else {
            continue;
        };
        if let Some(name) = file_name.strip_prefix("spin-")
            && is_executable(&path)
        {
            out.push(Plugin {
                name: name.to_string(),
                path,
            });
        } else if path.is_dir() && is_executable(&path.join(&file_name)) {
            out.push(Plugin {
                path: path.join(&file_name),
                name: file_name,
            });
        }
    }
    out
}

fn on_path() -> Vec<Plugin> {
    let Some(paths) = std::env::var_os("PATH") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for dir in std::env::split_paths(&paths) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("spin-"))
                && is_executable(&path)
            {
                out.push(Plugin {
                    name: name.to_string(),
                    path,
                });
            }
        }
    }
    out
}

/// Every plugin, by name; the plugins folder wins over PATH, and earlier PATH entries over
/// later ones.
pub fn list(plugins_dir: &Path) -> Vec<Plugin> {
    let mut by_name = BTreeMap::new();
    for p in in_plugins_dir(plugins_dir).into_iter().chain(on_path()) {
        by_name.entry(p.name.clone()).or_insert(p);
    }
    by_name.into_values().collect()
}

/// The plugin that `spin <name>` runs.
pub fn find(plugins_dir: &Path, name: &str) -> Option<Plugin> {
    list(plugins_dir).into_iter().find(|p| p.name == name)
}

/// Why `spin <name>` cannot run: no such command or plugin.
pub fn not_found(plugins_dir: &Path, name: &str) -> String {
    format!(
        "`{name}` is not a spin command, and there is no plugin `spin-{name}` in {} or on PATH\n  help: see `spin --help` for the commands, and `spin plugins list` for the plugins installed",
        plugins_dir.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn exe(path: &Path) {
        std::fs::write(path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn finds_both_layouts_and_skips_non_executables() {
        let dir = tempfile::tempdir().unwrap();
        exe(&dir.path().join("spin-hello"));
        std::fs::create_dir(dir.path().join("cloud")).unwrap();
        exe(&dir.path().join("cloud/cloud"));
        std::fs::write(dir.path().join("spin-data"), "not executable").unwrap();
        let names: Vec<String> = in_plugins_dir(dir.path())
            .into_iter()
            .map(|p| p.name)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(names, ["cloud", "hello"]);
        assert_eq!(
            find(dir.path(), "cloud").unwrap().path,
            dir.path().join("cloud/cloud")
        );
        assert!(find(dir.path(), "data").is_none_or(|p| p.path != dir.path().join("spin-data")));
    }
}
