//! Crafted OCI layouts and locked apps (ids and paths that escape or alias, bad digests,
//! wrong content types, triggers naming no component) are refused with the field at fault
//! before anything is written, and a manifest mapping two files to one path is an error
//! at its file:line:col that leaves the sources untouched.

use serde_json::{Value, json};
use spin_tests::hostile::{assert_bounded, assert_store_intact, layout, locked};
use spin_tests::sandbox::Sandbox;
use spin_tests::sha256_hex;

#[test]
fn crafted_layouts_are_refused_before_anything_is_written() {
    let user = Sandbox::new();
    let wasm = std::fs::read(spin_tests::component("hello")).unwrap();
    let big = vec![b'x'; 4096];
    let big_digest = format!("sha256:{}", sha256_hex(&big));
    let escape = user.home().join("escaped");
    let inline = |path: &str| json!({"inline": "cHduZWQ", "path": path});
    let cases: Vec<(Value, &str)> = vec![
        (
            locked("../../escaped", &wasm, json!([inline("/x")])),
            "components[0].id: component id \"../../escaped\" is not a valid id",
        ),
        (
            locked(escape.to_str().unwrap(), &wasm, json!([inline("/x")])),
            "components[0].id",
        ),
        (
            locked("c", &wasm, json!([inline("/../../escaped")])),
            "components[0].files[0].path",
        ),
        (
            locked(
                "c",
                &wasm,
                json!([{"digest": big_digest, "path": "/x"}, inline("/./x")]),
            ),
            "components[0].files[1].path: \"/./x\" is the same path as files[0] (\"/x\")",
        ),
        (
            locked(
                "c",
                &wasm,
                json!([{"digest": big_digest, "path": "/x"}, {"digest": big_digest, "path": "//x/"}]),
            ),
            "components[0].files[1].path",
        ),
        (
            locked("c", &wasm, json!([{"digest": "sha256:XYZ", "path": "/x"}])),
            "components[0].files[0]: digest \"sha256:XYZ\"",
        ),
        (
            {
                let mut l = locked("c", &wasm, json!([]));
                l["components"][0]["source"]["content_type"] = "text/html".into();
                l
            },
            "components[0].source.content_type",
        ),
        (
            {
                let mut l = locked("c", &wasm, json!([]));
                l["triggers"][0]["trigger_config"]["component"] = "other".into();
                l
            },
            "triggers[0].trigger_config.component",
        ),
    ];
    for (n, (app, expected)) in cases.iter().enumerate() {
        let dir = user.home().join(format!("case{n}"));
        let layout = layout(&dir, app, &[&wasm, &big]);
        let done = user
            .spin(&[
                "up",
                "-f",
                layout.to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
            ])
            .cache()
            .fails();
        assert!(
            done.stderr().contains(expected),
            "case {n}: expected {expected:?}\n{}",
            done.report()
        );
        assert!(
            !escape.exists(),
            "case {n} wrote outside the state directory"
        );
        assert!(
            !layout.join(".spin").exists(),
            "case {n} created state before the check"
        );
        assert_bounded(&done);
        assert_store_intact(&user.cache());
    }
}

#[test]
fn two_files_at_one_path_are_a_manifest_error_and_sources_stay_untouched() {
    let user = Sandbox::new();
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"dup\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\n[component.c]\nsource = {:?}\nfiles = [\n  {{ source = \"a.txt\", destination = \"/x\" }},\n  {{ source = \"b.txt\", destination = \"/./x\" }},\n]\n",
        spin_tests::component("hello")
    );
    let app = spin_tests::app_dir(&[
        ("spin.toml", manifest.as_bytes()),
        ("a.txt", b"a's content"),
        ("b.txt", b"b's content"),
    ]);
    let done = user
        .spin(&["up", "--listen", "127.0.0.1:0"])
        .cwd(app.path())
        .cache()
        .fails();
    let err = done.stderr();
    assert!(
        err.contains("spin.toml:11:3: { source = \"b.txt\", destination = \"/./x\" } is mounted at /x, where { source = \"a.txt\", destination = \"/x\" } is already mounted"),
        "{}",
        done.report()
    );
    let doctor = user.spin(&["doctor"]).cwd(app.path()).run();
    assert!(
        doctor.stdout().contains("is already mounted")
            || doctor.stderr().contains("is already mounted"),
        "{}",
        doctor.report()
    );
    assert_eq!(
        std::fs::read(app.path().join("b.txt")).unwrap(),
        b"b's content"
    );
    assert!(!app.path().join(".spin").exists());

    // Two globs that reach one guest path from different files: found when locking.
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"dup\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\n[component.c]\nsource = {:?}\nfiles = [\"static/*\", {{ source = \"other\", destination = \"/static\" }}]\n",
        spin_tests::component("hello")
    );
    let app = spin_tests::app_dir(&[
        ("spin.toml", manifest.as_bytes()),
        ("static/a.txt", b"one"),
        ("other/a.txt", b"two"),
    ]);
    let done = user
        .spin(&["up", "--listen", "127.0.0.1:0"])
        .cwd(app.path())
        .cache()
        .fails();
    assert!(
        done.stderr()
            .contains("would both be mounted at /static/a.txt"),
        "{}",
        done.report()
    );
    let doctor = user.spin(&["doctor"]).cwd(app.path()).run();
    assert!(
        doctor.stdout().contains("/static/a.txt"),
        "{}",
        doctor.report()
    );
    assert_eq!(
        std::fs::read(app.path().join("static/a.txt")).unwrap(),
        b"one"
    );
    assert_eq!(
        std::fs::read(app.path().join("other/a.txt")).unwrap(),
        b"two"
    );
}
