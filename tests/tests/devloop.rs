//! The developer loop as a user runs it: `spin new` / `spin add` from the built-in
//! templates, `spin build` with the real toolchains (componentize-py, the Spin JS build
//! tools, wit-bindgen + clang + wasm-tools), `spin up`, `spin watch`, `spin doctor` and
//! plugins. The toolchains come from `tests/setup.sh`; npm runs offline from its cache.

use spin_tests::{Spin, assert_contains, component, spin_env, toolchain_path};
use std::path::Path;
use std::process::Output;
use std::time::Duration;

/// Environment for every command here: the toolchains on PATH, npm offline, and private
/// data/cache folders so user templates and plugins of the machine do not leak in.
fn env(data: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("PATH", toolchain_path()),
        ("npm_config_offline", "true".into()),
        ("npm_config_update_notifier", "false".into()),
        ("XDG_DATA_HOME", data.display().to_string()),
    ]
}

fn run(args: &[&str], cwd: &Path, data: &Path) -> Output {
    run_with(args, cwd, &env(data))
}

fn run_with(args: &[&str], cwd: &Path, env: &[(&'static str, String)]) -> Output {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    spin_env(args, cwd, &env)
}

fn ok(args: &[&str], cwd: &Path, data: &Path) -> String {
    ok_with(args, cwd, &env(data))
}

/// `spin ARGS` with `env`, which must succeed: its stdout and stderr.
fn ok_with(args: &[&str], cwd: &Path, env: &[(&'static str, String)]) -> String {
    let out = run_with(args, cwd, env);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "spin {args:?} failed:\n{text}");
    text
}

fn serve(command: &str, app: &Path, data: &Path) -> Spin {
    let env = env(data);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Spin::start_command(command, app, &[], &env)
        .unwrap_or_else(|e| panic!("spin {command} failed:\n{e}"))
}

/// `spin new -t <template>` → `spin build` → `spin up` → the template's greeting.
fn new_build_up(template: &str, greeting: &str) {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let name = format!("hello-{template}");
    ok(
        &["new", "-t", template, &name, "--accept-defaults"],
        work.path(),
        &data,
    );
    let app = work.path().join(&name);
    for file in ["spin.toml", ".gitignore"] {
        assert!(app.join(file).is_file(), "{template}: no {file}");
    }
    let built = ok(&["build"], &app, &data);
    assert_contains(&built, format!("[{name}] $ "));
    assert_contains(&built, "Finished building 1 component.");
    let spin = serve("up", &app, &data);
    let resp = spin.get("/any/path");
    assert_eq!(resp.status, 200, "{template}: {}", resp.text());
    assert_eq!(resp.text(), greeting, "{template}");
}

/// On a machine with `python3` and nothing else for Python (no venv, no componentize-py on
/// PATH), the template's build makes `.venv` from `requirements.txt`, and a rebuild reuses
/// it. `http-py` is Spin 4's (spin-sdk 5.0.0, a WASI P3 component).
#[test]
fn http_py_new_build_up_from_bare_python() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let mut bare = env(&data);
    bare.retain(|(k, _)| *k != "PATH");
    bare.push(("PATH", bare_python_path()));
    let run_bare = |args: &[&str], cwd: &Path| ok_with(args, cwd, &bare);
    run_bare(&["new", "-t", "http-py", "bare-py", "-a"], work.path());
    let app = work.path().join("bare-py");
    assert!(!app.join(".venv").exists());
    let built = run_bare(&["build"], &app);
    assert_contains(&built, "Finished building 1 component.");
    let cfg = app.join(".venv/pyvenv.cfg");
    let made = std::fs::metadata(&cfg).unwrap().modified().unwrap();
    // Unchanged requirements: the venv is reused as it is.
    run_bare(&["build"], &app);
    assert_eq!(std::fs::metadata(&cfg).unwrap().modified().unwrap(), made);
    let env: Vec<(&str, &str)> = bare.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let spin = Spin::start_command("up", &app, &[], &env).unwrap();
    assert_eq!(spin.get("/").text(), "Hello from Python!");
    let wasm = std::fs::read(app.join("app.wasm")).unwrap();
    assert!(
        wasm.windows(23).any(|w| w == b"wasi:http/handler@0.3.0"),
        "http-py builds a component exporting wasi:http/handler@0.3.0"
    );
}

/// `http-py-p2` keeps the Spin 3 SDK (a WASI P2 component) for Spin 3.x hosts.
#[test]
fn http_py_p2_new_build_up() {
    new_build_up("http-py-p2", "Hello from Python!");
}

/// PATH without the test setup's Python toolchain venv: the system's `python3` only.
fn bare_python_path() -> String {
    let full = toolchain_path();
    std::env::split_paths(&full)
        .filter(|p| !p.join("componentize-py").exists())
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(":")
}

#[test]
fn http_js_new_build_up() {
    new_build_up("http-js", "Hello from JavaScript!");
}

#[test]
fn http_ts_new_build_up() {
    new_build_up("http-ts", "Hello from TypeScript!");
}

#[test]
fn http_c_new_build_up() {
    new_build_up("http-c", "Hello from C!");
}

/// The seed's walkthrough as written, template first (as Spin 1.0 wrote it and Spin 4
/// still accepts): `spin new http-py hello-python`, `spin add http-js goodbye-javascript`.
#[test]
fn the_walkthrough_with_the_template_before_the_name() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    ok(
        &["new", "http-py", "hello-python", "-a"],
        work.path(),
        &data,
    );
    let app = work.path().join("hello-python");
    ok(&["add", "http-js", "goodbye-javascript", "-a"], &app, &data);
    let built = ok(&["build"], &app, &data);
    assert_contains(&built, "Finished building 2 components.");
    let spin = serve("up", &app, &data);
    assert_eq!(spin.get("/").text(), "Hello from Python!");
    assert_eq!(
        spin.get("/goodbye-javascript").text(),
        "Hello from JavaScript!"
    );
    // A template given both ways is a usage error naming both.
    let twice = run(
        &["new", "-t", "http-c", "http-py", "x", "-a"],
        work.path(),
        &data,
    );
    assert!(!twice.status.success());
    assert_contains(
        &String::from_utf8_lossy(&twice.stderr),
        "the template is given twice: `-t http-c` and `http-py`",
    );
}

#[test]
fn templates_list_names_every_built_in_template() {
    let work = tempfile::tempdir().unwrap();
    let list = ok(&["templates", "list"], work.path(), work.path());
    let dirs = std::fs::read_dir(spin_tests::repo_root().join("devloop/templates")).unwrap();
    let ids: Vec<String> = dirs
        .map(|d| d.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(ids.len() >= 7, "{ids:?}");
    for id in ids {
        assert!(
            list.lines().any(|l| l.starts_with(&format!("{id} "))),
            "{id} missing:\n{list}"
        );
    }
}

#[test]
fn add_keeps_the_manifest_byte_for_byte_and_serves_both_components() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let app = work.path().join("app");
    std::fs::create_dir_all(&app).unwrap();
    let original = format!(
        "# Hand-written; keep this comment.\nspin_manifest_version = 2\n\n[application]\nname    = \"mixed\"   # aligned\n\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"hello\"\n\n[component.hello]\nsource = {:?}  # the WAT guest\n",
        component("hello")
    );
    std::fs::write(app.join("spin.toml"), &original).unwrap();
    let added = ok(
        &["add", "-t", "http-c", "Greeter C", "--accept-defaults"],
        &app,
        &data,
    );
    assert_contains(&added, "Added component `greeter-c`");
    let after = std::fs::read_to_string(app.join("spin.toml")).unwrap();
    assert!(after.starts_with(&original), "{after}");
    assert_contains(&after, "route = \"/greeter-c/...\"");
    assert!(app.join("greeter-c/app.c").is_file());

    ok(&["build", "-c", "greeter-c"], &app, &data);
    let spin = serve("up", &app, &data);
    assert_eq!(spin.get("/").text(), "Hello from WAT!\n");
    assert_eq!(spin.get("/greeter-c/x").text(), "Hello from C!");

    let again = run(&["add", "-t", "http-c", "greeter-c", "-a"], &app, &data);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already has a component `greeter-c`"));
    assert_eq!(
        std::fs::read_to_string(app.join("spin.toml")).unwrap(),
        after,
        "a refused add leaves the manifest alone"
    );
}

#[test]
fn build_failure_names_the_component_and_the_tool_error() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    ok(&["new", "-t", "http-c", "broken", "-a"], work.path(), &data);
    let app = work.path().join("broken");
    std::fs::write(app.join("app.c"), "int main( { return 0; }\n").unwrap();
    let out = run(&["build"], &app, &data);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("[broken] ") && l.contains("app.c") && l.contains("error:")),
        "clang's error, prefixed with the component id:\n{stdout}"
    );
    assert_contains(
        &stderr,
        "component `broken`: build command `make` failed with exit code 2",
    );
}

#[test]
fn missing_build_tools_are_named_with_how_to_install_them() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    ok(
        &["new", "-t", "http-c", "needs-tools", "-a"],
        work.path(),
        &data,
    );
    let app = work.path().join("needs-tools");
    let out = spin_env(
        &["build"],
        &app,
        &[
            ("PATH", "/usr/bin:/bin"),
            ("XDG_DATA_HOME", &data.display().to_string()),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_contains(
        &stderr,
        "component `needs-tools` needs `wit-bindgen`: cargo install --locked wit-bindgen-cli@0.46.0",
    );
    assert_contains(
        &stderr,
        "needs `wasm-tools`: cargo install --locked wasm-tools@1.240.0",
    );
    assert!(!app.join("gen").exists(), "nothing ran");

    let doctor = spin_env(&["doctor"], &app, &[("PATH", "/usr/bin:/bin")]);
    let report = String::from_utf8_lossy(&doctor.stdout);
    assert!(!doctor.status.success());
    assert_contains(
        &report,
        "error: component `needs-tools` builds with `wit-bindgen`, which is not installed",
    );
    assert_contains(
        &report,
        "error: component `needs-tools`: its source app.wasm does not exist\n  fix: build it: `spin build -c needs-tools`",
    );
}

/// Save as editors do: write a temporary file, then rename it over the original.
fn save(path: &Path, content: impl AsRef<[u8]>) {
    let tmp = path.with_extension("swp");
    std::fs::write(&tmp, content).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn watch_rebuilds_on_save_and_keeps_the_last_good_version_on_errors() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    ok(&["new", "-t", "http-c", "live", "-a"], work.path(), &data);
    let app = work.path().join("live");
    let spin = serve("watch", &app, &data);
    assert_eq!(spin.get("/").text(), "Hello from C!");
    let wait_for = |needle: &str, times: usize| {
        assert!(
            spin.wait_for_output(needle, times, Duration::from_secs(120)),
            "{}",
            spin.stdout()
        )
    };

    let source = std::fs::read_to_string(app.join("app.c")).unwrap();
    assert!(source.contains("Hello from C!"));
    save(
        &app.join("app.c"),
        source.replace("Hello from C!", "Hello again!"),
    );
    wait_for("Reloaded: serving the new version.", 1);
    assert_eq!(spin.get("/").text(), "Hello again!");

    save(&app.join("app.c"), "this is not C\n");
    wait_for("The last good version keeps serving", 1);
    let out = spin.stdout();
    assert!(
        out.contains("[live] ") && out.contains("error:"),
        "the compiler error is shown:\n{out}"
    );
    assert_contains(&out, "Error: component `live`: build command `make` failed");
    assert_eq!(
        spin.get("/").text(),
        "Hello again!",
        "the old version still answers"
    );

    save(
        &app.join("app.c"),
        source.replace("Hello from C!", "Fixed!"),
    );
    wait_for("Reloaded: serving the new version.", 2);
    assert_eq!(spin.get("/").text(), "Fixed!");
    assert_eq!(
        spin.stdout().matches("Building live").count(),
        4,
        "one initial build and one per save, none for the files the build writes:\n{}",
        spin.stdout()
    );

    let manifest = std::fs::read_to_string(app.join("spin.toml")).unwrap();
    save(
        &app.join("spin.toml"),
        manifest.replace("route = \"/...\"", "route = \"/v2/...\""),
    );
    wait_for("Reloaded: serving the new version.", 3);
    assert!(
        spin.stdout().contains("spin.toml changed"),
        "{}",
        spin.stdout()
    );
    assert_eq!(spin.get("/v2/x").text(), "Fixed!");
    assert_eq!(spin.get("/").status, 404, "the old route is gone");
}

#[test]
fn up_build_builds_first_and_refuses_to_serve_a_failed_build() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    ok(
        &["new", "-t", "http-c", "built-by-up", "-a"],
        work.path(),
        &data,
    );
    let app = work.path().join("built-by-up");
    let env = env(&data);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let spin = Spin::start_command("up", &app, &["--build"], &env).unwrap();
    assert_eq!(spin.get("/").text(), "Hello from C!");
    drop(spin);

    std::fs::write(app.join("app.c"), "broken(\n").unwrap();
    let err = Spin::start_command("up", &app, &["--build"], &env)
        .err()
        .expect("must not serve");
    assert_contains(&err, "component `built-by-up`: build command `make` failed");
}

#[test]
fn new_prompts_for_parameters_on_a_terminal() {
    let work = tempfile::tempdir().unwrap();
    let script = format!(
        "printf 'A prompted app\\n/api/...\\n' | script -qec '{} new -t http-c prompted' /dev/null",
        spin_tests::spin_bin().display()
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .current_dir(work.path())
        .env("XDG_DATA_HOME", work.path().join("data"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert_contains(&text, "Description (project-description) []: ");
    assert_contains(&text, "HTTP path (http-path) [/...]: ");
    let manifest = std::fs::read_to_string(work.path().join("prompted/spin.toml")).unwrap();
    assert_contains(&manifest, "description = \"A prompted app\"");
    assert_contains(&manifest, "route = \"/api/...\"");
}

#[test]
fn plugins_run_as_subcommands_with_their_arguments_and_exit_code() {
    use std::os::unix::fs::PermissionsExt;
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let plugins = data.join("spin/plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let plugin = plugins.join("spin-greet");
    std::fs::write(
        &plugin,
        "#!/bin/sh\necho \"greet got: $*\"\necho \"spin is $SPIN_BIN_PATH\"\nexit 7\n",
    )
    .unwrap();
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();

    let out = run(&["greet", "--loud", "world"], work.path(), &data);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(7));
    assert_contains(&stdout, "greet got: --loud world");
    assert_contains(
        &stdout,
        format!("spin is {}", spin_tests::spin_bin().display()),
    );

    let list = ok(&["plugins", "list"], work.path(), &data);
    assert_contains(&list, format!("greet  {}", plugin.display()));

    let unknown = run(&["no-such-thing"], work.path(), &data);
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains(
            "`no-such-thing` is not a spin command, and there is no plugin `spin-no-such-thing`"
        ),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );
}

#[test]
fn user_templates_install_and_take_values_from_flags_and_files() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let tpl = work.path().join("mine/static-note");
    std::fs::create_dir_all(tpl.join("content")).unwrap();
    std::fs::write(
        tpl.join("template.toml"),
        "description = \"A note\"\n[parameters.greeting]\nprompt = \"Greeting\"\n[parameters.audience]\nprompt = \"Who\"\ndefault = \"world\"\n",
    )
    .unwrap();
    std::fs::write(
        tpl.join("content/note.txt"),
        "{{greeting}}, {{audience}}! ({{project-name | snake_case}})\n",
    )
    .unwrap();
    std::fs::write(tpl.join("content/.gitignore"), ".spin/\n").unwrap();
    let installed = ok(
        &[
            "templates",
            "install",
            "--dir",
            &work.path().join("mine").display().to_string(),
        ],
        work.path(),
        &data,
    );
    assert_contains(&installed, "Installed template `static-note`");
    let list = ok(&["templates", "list"], work.path(), &data);
    let line = list
        .lines()
        .find(|l| l.starts_with("static-note "))
        .unwrap_or_default();
    assert!(
        line.ends_with(&format!(
            "A note (installed: {})",
            data.join("spin/templates/static-note").display()
        )),
        "{list}"
    );

    let refused = run(
        &["new", "-t", "static-note", "note-a", "-a"],
        work.path(),
        &data,
    );
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("parameter `greeting` has no default\n  help: pass -v greeting=<value>")
    );
    assert!(!work.path().join("note-a").exists(), "nothing half-written");

    std::fs::write(
        work.path().join("values.toml"),
        "greeting = \"Hi\"\naudience = \"file\"\n",
    )
    .unwrap();
    ok(
        &[
            "new",
            "-t",
            "static-note",
            "Note B",
            "--values-file",
            "values.toml",
            "-v",
            "audience=flag",
            "-a",
        ],
        work.path(),
        &data,
    );
    assert_eq!(
        std::fs::read_to_string(work.path().join("Note B/note.txt")).unwrap(),
        "Hi, flag! (note_b)\n"
    );
    let manifest = std::fs::read_to_string(work.path().join("Note B/spin.toml")).unwrap();
    assert_contains(&manifest, "name = \"note-b\"");

    let exists = run(
        &[
            "new",
            "-t",
            "static-note",
            "Note B",
            "-v",
            "greeting=x",
            "-a",
        ],
        work.path(),
        &data,
    );
    assert!(String::from_utf8_lossy(&exists.stderr).contains("already exists and is not empty"));
}
