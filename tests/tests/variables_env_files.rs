//! Application variables and their providers, component environment, and file mounts.

use spin_tests::{Spin, app_dir, assert_contains, component};

fn app(extra_variables: &str, files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "vars"
[variables]
who = {{ default = "world" }}
api_key = {{ required = true, secret = true }}
{extra_variables}
[[trigger.http]]
route = "/..."
component = "tb"
[component.tb]
source = {:?}
environment = {{ GREETING = "from the manifest" }}
files = [{{ source = "static", destination = "/web" }}, "assets/*.txt"]
exclude_files = ["assets/private.txt"]
[component.tb.variables]
message = "hello, {{{{ who }}}}"
key = "key={{{{ api_key }}}}"
"#,
        component("testbed")
    );
    let mut all: Vec<(&str, &[u8])> = vec![
        ("spin.toml", manifest.as_bytes()),
        ("static/index.html", b"<h1>hi</h1>"),
        ("static/sub/deep.txt", b"deep"),
        ("assets/a.txt", b"asset a"),
        ("assets/private.txt", b"do not mount"),
        ("assets/notes.md", b"not matched by the glob"),
    ];
    all.extend_from_slice(files);
    app_dir(&all)
}

#[test]
fn a_required_variable_without_a_value_stops_start_up_naming_it() {
    let app = app("", &[]);
    let err = Spin::start(app.path(), &[], &[])
        .err()
        .expect("start-up must fail");
    assert_contains(&err, "required variable `api_key` has no value");
    assert_contains(&err, "--variable api_key=<value>");
    assert_contains(&err, "SPIN_VARIABLE_API_KEY");
}

#[test]
fn variable_providers_in_order_cli_env_default() {
    let app = app("", &[]);
    let spin = Spin::start(
        app.path(),
        &["--variable", "api_key=from-cli"],
        &[
            ("SPIN_VARIABLE_API_KEY", "from-env"),
            ("SPIN_VARIABLE_WHO", "env-world"),
        ],
    )
    .unwrap();
    assert_eq!(spin.get("/var/key").text(), "key=from-cli");
    assert_eq!(spin.get("/var/message").text(), "hello, env-world");
    assert_eq!(spin.get("/config/message").text(), "hello, env-world");
    assert_eq!(spin.get("/var/nope").text(), "undefined");
    assert_eq!(spin.get("/var/Bad-Name").text(), "invalid-name");
    assert_eq!(spin.get("/config/nope").status, 404);
    drop(spin);
    let spin = Spin::start(app.path(), &[], &[("SPIN_VARIABLE_API_KEY", "from-env")]).unwrap();
    assert_eq!(spin.get("/var/key").text(), "key=from-env");
    assert_eq!(spin.get("/var/message").text(), "hello, world");
}

#[test]
fn unknown_cli_variable_is_an_error() {
    let app = app("", &[]);
    let err = Spin::start(
        app.path(),
        &["--variable", "api_key=x", "--variable", "typo=1"],
        &[],
    )
    .err()
    .unwrap();
    assert_contains(&err, "the app declares no variable `typo`");
}

#[test]
fn environment_from_manifest_and_command_line() {
    let app = app("", &[]);
    let spin = Spin::up(
        app.path(),
        &["--variable", "api_key=k", "-e", "EXTRA=from -e"],
    );
    assert_eq!(spin.get("/env/GREETING").text(), "from the manifest");
    assert_eq!(spin.get("/env/EXTRA").text(), "from -e");
    assert_eq!(
        spin.get("/env/HOME").status,
        404,
        "host environment must not leak"
    );
    drop(spin);
    let spin = Spin::up(
        app.path(),
        &["--variable", "api_key=k", "-e", "GREETING=overridden"],
    );
    assert_eq!(spin.get("/env/GREETING").text(), "overridden");
}

#[test]
fn files_are_mounted_read_only_with_globs_placements_and_excludes() {
    let app = app("", &[]);
    let spin = Spin::up(app.path(), &["--variable", "api_key=k"]);
    assert_eq!(spin.get("/file/web/index.html").text(), "<h1>hi</h1>");
    assert_eq!(spin.get("/file/web/sub/deep.txt").text(), "deep");
    assert_eq!(spin.get("/file/assets/a.txt").text(), "asset a");
    assert_eq!(spin.get("/file/assets/private.txt").status, 404);
    assert_eq!(spin.get("/file/assets/notes.md").status, 404);
    assert_eq!(spin.get("/file/spin.toml").status, 404);
    assert_eq!(spin.get("/write/web/new.txt").text(), "denied");
    assert_eq!(spin.get("/write/assets/a.txt").text(), "denied");
    assert_eq!(
        std::fs::read(app.path().join("assets/a.txt")).unwrap(),
        b"asset a"
    );
}

#[test]
fn a_missing_file_mount_fails_at_start_up() {
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"x\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"tb\"\n[component.tb]\nsource = {:?}\nfiles = [\"nothing/*.txt\"]\n",
        component("testbed")
    );
    let app = app_dir(&[("spin.toml", manifest.as_bytes())]);
    let err = Spin::start(app.path(), &[], &[]).err().unwrap();
    assert_contains(
        &err,
        "file mount \"nothing/*.txt\" matches no file or directory",
    );
}
