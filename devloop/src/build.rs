//! `spin build`: run each component's build commands in its workdir, streaming their output
//! with the component id as prefix, stopping at the first failure. Before running anything,
//! check that the tools the commands need are installed, and say how to install them.

use crate::error::{Error, Result, io};
use spin_app::manifest::{AppManifest, BuildConfig};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// How to install a tool, for the tools templates use.
pub fn install_hint(tool: &str) -> Option<&'static str> {
    Some(match tool {
        "componentize-py" => {
            "in a venv: pip install componentize-py==0.17.2 spin-sdk==3.4.1 (see requirements.txt), then activate it"
        }
        "python3" => {
            "install Python 3.10+ with its venv module (e.g. `apt-get install python3 python3-venv`)"
        }
        "cmp" => "apt-get install diffutils",
        "npm" | "node" | "npx" => "install Node.js 20+ and npm (e.g. `apt-get install nodejs npm`)",
        "clang" => "apt-get install clang lld wasi-libc libclang-rt-dev-wasm32",
        "wit-bindgen" => "cargo install --locked wit-bindgen-cli@0.46.0",
        "wasm-tools" => "cargo install --locked wasm-tools@1.240.0",
        "cargo" => "install Rust from https://rustup.rs, then `rustup target add wasm32-wasip1`",
        "make" => "apt-get install make",
        _ => return None,
    })
}

/// Is `tool` an executable on PATH (or a path that exists)?
pub fn on_path(tool: &str) -> bool {
    if tool.contains('/') {
        return Path::new(tool).is_file();
    }
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
        .unwrap_or(false)
}

/// Shell builtins and keywords a build command may start with; they are not on PATH.
const SHELL_WORDS: &[&str] = &[
    "cd", ".", "source", "export", "set", "unset", "exec", "eval", "test", "[", "true", "false",
    "echo", "printf", "if", "for", "while", "until", "case", "{", "(", "!", ":", "command",
];

/// The program a shell command line runs (skipping `VAR=value` assignments), if it is one
/// that must be found on PATH: not a shell builtin, not a relative path such as
/// `./build.sh` (the shell reports those itself, relative to the workdir).
pub fn program(command: &str) -> Option<&str> {
    let word = command.split_whitespace().find(|w| !w.contains('='))?;
    let relative_path = word.contains('/') && !word.starts_with('/');
    (!SHELL_WORDS.contains(&word) && !relative_path).then_some(word)
}

/// Tools a component's build needs: each command's program, plus what the manifest records
/// in `[component.x.tool.spin-build] requires` (templates write it).
pub fn required_tools(build: &BuildConfig) -> Vec<String> {
    let mut tools: Vec<String> = build
        .commands
        .iter()
        .filter_map(|c| program(c))
        .map(String::from)
        .collect();
    for t in &build.requires {
        if !tools.contains(t) {
            tools.push(t.clone());
        }
    }
    tools
}

/// Missing tools of the components to build, as (component, tool) pairs.
pub fn missing_tools(manifest: &AppManifest, only: &[String]) -> Vec<(String, String)> {
    let mut missing = Vec::new();
    for (id, c) in &manifest.components {
        if !only.is_empty() && !only.contains(id) {
            continue;
        }
        let Some(b) = &c.build else { continue };
        for t in required_tools(b) {
            if !on_path(&t) && !missing.iter().any(|(_, m)| m == &t) {
                missing.push((id.clone(), t));
            }
        }
    }
    missing
}

/// Explain missing tools.
pub fn missing_message(missing: &[(String, String)]) -> String {
    let mut msg = String::from("cannot build: required tools are not installed");
    for (component, tool) in missing {
        msg.push_str(&format!("\n  component `{component}` needs `{tool}`"));
        if let Some(hint) = install_hint(tool) {
            msg.push_str(&format!(": {hint}"));
        }
    }
    msg
}

/// Build the components of the manifest at `manifest_path` (all, or those in `only`).
/// Output lines are passed to `line` prefixed with the component id.
pub fn build(manifest_path: &Path, only: &[String], line: &(dyn Fn(&str) + Sync)) -> Result<usize> {
    let manifest_path = &std::path::absolute(manifest_path)
        .map_err(io(format!("resolving {}", manifest_path.display())))?;
    let manifest = spin_app::manifest::load(manifest_path)?;
    if let Some(unknown) = only
        .iter()
        .find(|id| !manifest.components.contains_key(*id))
    {
        return Err(Error::usage(
            format!("the app has no component `{unknown}`"),
            format!(
                "its components are: {}",
                manifest
                    .components
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let missing = missing_tools(&manifest, only);
    if !missing.is_empty() {
        return Err(Error::MissingTools(missing_message(&missing)));
    }
    let app_dir = manifest_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let mut built = 0;
    for (id, c) in &manifest.components {
        if !only.is_empty() && !only.contains(id) {
            continue;
        }
        let Some(b) = &c.build else {
            if !only.is_empty() {
                line(&format!("[{id}] has no build command; nothing to do"));
            }
            continue;
        };
        let workdir = b
            .workdir
            .as_deref()
            .map(|w| app_dir.join(w))
            .unwrap_or_else(|| app_dir.clone());
        for command in &b.commands {
            line(&format!("[{id}] $ {command}"));
            let mut child = Command::new("sh")
                .arg("-c")
                .arg(command)
                .current_dir(&workdir)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| Error::Build {
                    component: id.clone(),
                    problem: format!("cannot run `{command}` in {}: {e}", workdir.display()),
                })?;
            let prefix = format!("[{id}] ");
            std::thread::scope(|s| {
                for pipe in [
                    child
                        .stdout
                        .take()
                        .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
                    child
                        .stderr
                        .take()
                        .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
                ]
                .into_iter()
                .flatten()
                {
                    let prefix = prefix.clone();
                    s.spawn(move || {
                        for l in BufReader::new(pipe).lines().map_while(std::io::Result::ok) {
                            line(&format!("{prefix}{l}"));
                        }
                    });
                }
            });
            let status = child
                .wait()
                .map_err(io(format!("waiting for `{command}`")))?;
            if !status.success() {
                let code = status
                    .code()
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "a signal".into());
                return Err(Error::Build {
                    component: id.clone(),
                    problem: format!("build command `{command}` failed with exit code {code}"),
                });
            }
        }
        built += 1;
    }
    Ok(built)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_are_found_past_assignments_but_not_for_builtins_or_relative_scripts() {
        assert_eq!(program("CC=clang make -j2"), Some("make"));
        assert_eq!(program("/usr/bin/make"), Some("/usr/bin/make"));
        assert_eq!(program("cd src && make"), None);
        assert_eq!(program("./build.sh"), None);
        assert_eq!(program("scripts/build.sh --release"), None);
    }
}
