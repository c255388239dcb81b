//! `spin up` as a user meets it: what it accepts as `-f`, and how it reports bad input.

use spin_tests::{Spin, app_dir, assert_contains, component, repo_root, spin};

#[test]
fn single_component_files_are_served_on_every_path() {
    for file in ["hello.wasm", "hello.component.wat"] {
        let path = repo_root().join("tests/guests/components").join(file);
        let spin = Spin::up(&path, &[]);
        assert_eq!(spin.get("/").text(), "Hello from WAT!\n", "{file}");
        assert_eq!(spin.get("/any/path").text(), "Hello from WAT!\n", "{file}");
        assert!(
            spin.banner.contains(": http://127.0.0.1:"),
            "{}",
            spin.banner
        );
        assert!(spin.banner.contains(" (wildcard)"), "{}", spin.banner);
    }
}

#[test]
fn a_directory_or_a_manifest_path_both_work() {
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"d\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\n[component.c]\nsource = {:?}\n",
        component("hello")
    );
    let app = app_dir(&[("spin.toml", manifest.as_bytes())]);
    assert_eq!(Spin::up(app.path(), &[]).get("/").status, 200);
    assert_eq!(
        Spin::up(&app.path().join("spin.toml"), &[]).get("/").status,
        200
    );
}

#[test]
fn malformed_manifest_is_reported_with_location_and_fix() {
    let app = app_dir(&[(
        "spin.toml",
        b"spin_manifest_version = 2\n[application]\nname = \"bad\"\n[component.hello]\nsource = \"x.wasm\"\nallowed_hosts = []\n",
    )]);
    let out = spin(&["up"], app.path());
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_contains(&stderr, "spin.toml:6:1: unknown field `allowed_hosts`");
    assert_contains(&stderr, "help: remove this field or fix its spelling");
}

#[test]
fn no_manifest_here_says_what_to_do() {
    let empty = tempfile::tempdir().unwrap();
    let out = spin(&["up"], empty.path());
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_contains(&stderr, "no spin.toml in the current directory");
    assert_contains(&stderr, "spin up -f <path/to/spin.toml>");
}

#[test]
fn a_component_that_is_not_an_http_handler_is_refused_at_start_up() {
    // An empty core module, and a component that exports nothing an HTTP trigger calls:
    // each says what it exports and what would be accepted.
    let app = app_dir(&[
        ("plain.wasm", b"\0asm\x01\0\0\0"),
        ("lib.wat", b"(component (core module $m (func (export \"f\"))) (core instance $i (instantiate $m)) (func $f (canon lift (core func $i \"f\"))) (export \"do-something\" (func $f)))"),
    ]);
    let err = Spin::start(&app.path().join("plain.wasm"), &[], &[])
        .err()
        .unwrap();
    assert_contains(
        &err,
        "is a core module exporting no functions, not Spin's HTTP handler",
    );
    let err = Spin::start(&app.path().join("lib.wat"), &[], &[])
        .err()
        .unwrap();
    assert_contains(&err, "is not an HTTP handler: it exports `do-something`");
    assert_contains(&err, "`wasi:http/incoming-handler` (any 0.2.x version)");
    assert!(!err.contains("0.2.12"), "{err}");
}

#[test]
fn bad_flag_values_are_explained() {
    let empty = tempfile::tempdir().unwrap();
    let out = spin(&["up", "--request-timeout", "soon"], empty.path());
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_contains(&stderr, "\"soon\" is not a duration like 30s or 500ms");
}
