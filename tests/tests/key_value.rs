//! Key/value stores from guests built by three real toolchains (C, Python SDK, JS SDK):
//! the Spin and wasi:keyvalue interfaces, permissions, Spin's SQLite layout, runtime
//! config (SQLite file and a real redis-server), and `--key-value`.

use spin_tests::{Redis, Spin, app_dir, assert_contains, built_component, component};
use std::path::Path;

/// A manifest serving `wasm` under `/<prefix>/...` with access to `stores`.
fn kv_app(wasm: &Path, prefix: &str, stores: &[&str]) -> tempfile::TempDir {
    let stores = stores
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "kv"
[variables]
greeting = {{ default = "hello from a variable" }}
[[trigger.http]]
route = "/{prefix}/..."
component = "guest"
[component.guest]
source = {wasm:?}
key_value_stores = [{stores}]
[component.guest.variables]
message = "{{{{ greeting }}}}!"
"#
    );
    app_dir(&[("spin.toml", manifest.as_bytes())])
}

/// The same contract for every toolchain's guest.
fn exercise_store(spin: &Spin, prefix: &str, greeting: &str) {
    let p = |s: &str| format!("/{prefix}/{s}");
    let hello = spin.get(&p("hello"));
    assert_eq!((hello.status, hello.text()), (200, format!("{greeting}\n")));
    assert_eq!(spin.get(&p("var/message")).text(), "hello from a variable!");
    assert_eq!(spin.get(&p("kv/missing")).status, 404);
    assert_eq!(spin.get(&p("exists/a")).text(), "false");
    assert_eq!(spin.request("PUT", &p("kv/a"), b"value-a").text(), "ok");
    assert_eq!(spin.request("PUT", &p("kv/b"), b"value-b").text(), "ok");
    assert_eq!(spin.get(&p("kv/a")).body, b"value-a");
    assert_eq!(spin.get(&p("exists/a")).text(), "true");
    assert_eq!(spin.get(&p("keys")).text(), "a\nb");
    // A 200 KB binary value with every byte value survives the round trip.
    let big: Vec<u8> = (0..200 * 1024).map(|i| (i * 7 % 256) as u8).collect();
    assert_eq!(spin.request("PUT", &p("kv/big"), &big).status, 200);
    let got = spin.get(&p("kv/big"));
    assert_eq!(got.status, 200);
    assert!(
        got.body == big,
        "200 KB value differs ({} bytes back)",
        got.body.len()
    );
    assert_eq!(spin.request("DELETE", &p("kv/a"), b"").text(), "ok");
    assert_eq!(spin.get(&p("exists/a")).text(), "false");
    assert_eq!(spin.get(&p("kv/a")).status, 404);
    assert_eq!(spin.get(&p("keys")).text(), "b\nbig");
    // Permissions: not listed → access-denied; listed but not configured → no-such-store.
    assert_eq!(spin.get(&p("store/other")).text(), "access-denied");
    assert_eq!(spin.get(&p("store/unconfigured")).text(), "no-such-store");
}

#[test]
fn c_guest_key_value_and_variables() {
    let app = kv_app(&component("testbed"), "c", &["default", "unconfigured"]);
    let spin = Spin::up(app.path(), &[]);
    exercise_store(&spin, "c", "Hello from C!");
}

#[test]
fn python_sdk_guest_key_value_and_variables() {
    let app = kv_app(
        &built_component("python"),
        "py",
        &["default", "unconfigured"],
    );
    let spin = Spin::up(app.path(), &[]);
    exercise_store(&spin, "py", "Hello from Python!");
}

#[test]
fn javascript_guest_key_value_and_variables() {
    let app = kv_app(&built_component("js"), "js", &["default", "unconfigured"]);
    let spin = Spin::up(app.path(), &[]);
    exercise_store(&spin, "js", "Hello from JavaScript!");
}

#[test]
fn python_call_to_an_unprovided_interface_gets_its_error_naming_the_call() {
    let app = kv_app(&built_component("python"), "py", &["default"]);
    let spin = Spin::up(app.path(), &[]);
    // The stand-in returns the interface's error; the guest maps it to 500.
    // (LLM's error has no `other`: its first case with a message, `runtime-error`.)
    let r = spin.get("/py/llm");
    assert_eq!((r.status, r.text()), (500, "runtime-error".into()));
    assert!(
        spin.wait_for_log("`fermyon:spin/llm@2.0.0#infer` is not supported by this runtime"),
        "{}",
        spin.stderr()
    );
    assert_eq!(spin.get("/py/hello").status, 200);
}

#[test]
fn wasi_keyvalue_store_atomics_and_batch() {
    let app = kv_app(&component("testbed"), "c", &["default", "unconfigured"]);
    let spin = Spin::up(app.path(), &[]);
    assert_eq!(spin.get("/c/wkv/open/default").text(), "ok");
    assert_eq!(spin.get("/c/wkv/open/other").text(), "access-denied");
    assert_eq!(spin.get("/c/wkv/open/unconfigured").text(), "no-such-store");
    assert_eq!(spin.get("/c/wkv/incr/counter/5").text(), "5");
    assert_eq!(spin.get("/c/wkv/incr/counter/-2").text(), "3");
    assert_eq!(
        spin.request("PUT", "/c/wkv/cas/k", b"first").text(),
        "swapped <none>"
    );
    assert_eq!(
        spin.request("PUT", "/c/wkv/cas/k", b"second").text(),
        "swapped first"
    );
    assert_eq!(spin.get("/c/kv/k").text(), "second");
    assert_eq!(
        spin.get("/c/wkv/batch").text(),
        "b1=1,b2=2,b3=<none>;deleted"
    );
}

#[test]
fn default_store_uses_spins_sqlite_layout() {
    let app = kv_app(&component("testbed"), "c", &["default"]);
    // A database as Spin would have left it in .spin/.
    let db_path = app.path().join(".spin/sqlite_key_value.db");
    std::fs::create_dir_all(db_path.parent().unwrap()).unwrap();
    {
        let db = rusqlite::Connection::open(&db_path).unwrap();
        db.execute(
            "CREATE TABLE spin_key_value (store TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (store, key))",
            [],
        )
        .unwrap();
        db.execute(
            "INSERT INTO spin_key_value (store, key, value) VALUES ('default', 'from-spin', x'00ff10')",
            [],
        )
        .unwrap();
    }
    let spin = Spin::up(app.path(), &[]);
    assert_eq!(spin.get("/c/kv/from-spin").body, vec![0x00, 0xff, 0x10]);
    assert_eq!(spin.request("PUT", "/c/kv/from-us", b"hello").status, 200);
    drop(spin);
    let db = rusqlite::Connection::open(&db_path).unwrap();
    let value: Vec<u8> = db
        .query_row(
            "SELECT value FROM spin_key_value WHERE store = 'default' AND key = 'from-us'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(value, b"hello");
}

#[test]
fn state_dir_and_key_value_flags() {
    let app = kv_app(&component("testbed"), "c", &["default"]);
    let state = tempfile::tempdir().unwrap();
    let spin = Spin::up(
        app.path(),
        &[
            "--state-dir",
            state.path().to_str().unwrap(),
            "--key-value",
            "preset=from the command line",
        ],
    );
    assert_eq!(spin.get("/c/kv/preset").text(), "from the command line");
    assert!(state.path().join("sqlite_key_value.db").is_file());
    assert!(!app.path().join(".spin/sqlite_key_value.db").exists());
}

#[test]
fn runtime_config_maps_labels_to_sqlite_files() {
    let app = kv_app(&component("testbed"), "c", &["default", "other"]);
    std::fs::write(
        app.path().join("runtime-config.toml"),
        "[key_value_store.other]\ntype = \"spin\"\npath = \"data/other.db\"\n",
    )
    .unwrap();
    let spin = Spin::up(
        app.path(),
        &[
            "--runtime-config-file",
            app.path().join("runtime-config.toml").to_str().unwrap(),
        ],
    );
    assert_eq!(spin.get("/c/store/other").text(), "ok");
    assert_eq!(spin.get("/c/wkv/open/other").text(), "ok");
    assert!(spin.banner.contains("data/other.db"), "{}", spin.banner);
    assert!(app.path().join("data/other.db").is_file());
}

#[test]
fn runtime_config_redis_store_against_a_real_redis_server() {
    let redis = Redis::start();
    let app = kv_app(&component("testbed"), "c", &["default"]);
    let rc = app.path().join("rc.toml");
    std::fs::write(
        &rc,
        format!(
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:{}\"\n",
            redis.port
        ),
    )
    .unwrap();
    let spin = Spin::up(app.path(), &["--runtime-config-file", rc.to_str().unwrap()]);
    assert_eq!(spin.request("PUT", "/c/kv/colour", b"blue").text(), "ok");
    // The value is really in Redis.
    assert_eq!(redis.command(&[b"GET", b"colour"]), b"$4\r\nblue\r\n");
    redis.command(&[b"SET", b"from-redis", b"hi"]);
    assert_eq!(spin.get("/c/kv/from-redis").text(), "hi");
    assert_eq!(spin.get("/c/exists/colour").text(), "true");
    assert_eq!(spin.get("/c/wkv/incr/n/3").text(), "3");
    assert_eq!(spin.get("/c/wkv/incr/n/4").text(), "7");
    assert_eq!(
        spin.request("PUT", "/c/wkv/cas/c", b"one").text(),
        "swapped <none>"
    );
    assert_eq!(
        spin.request("PUT", "/c/wkv/cas/c", b"two").text(),
        "swapped one"
    );
    assert_eq!(
        spin.get("/c/wkv/batch").text(),
        "b1=1,b2=2,b3=<none>;deleted"
    );
    assert_eq!(spin.request("DELETE", "/c/kv/colour", b"").text(), "ok");
    assert_eq!(redis.command(&[b"EXISTS", b"colour"]), b":0\r\n");
}

#[test]
fn unreachable_redis_fails_at_start_up() {
    let app = kv_app(&component("testbed"), "c", &["default"]);
    let port = spin_tests::free_port();
    let rc = app.path().join("rc.toml");
    std::fs::write(
        &rc,
        format!("[key_value_store.cache]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:{port}\"\n"),
    )
    .unwrap();
    let err = Spin::start(
        app.path(),
        &["--runtime-config-file", rc.to_str().unwrap()],
        &[],
    )
    .err()
    .expect("spin up should fail");
    assert_contains(&err, "connecting key/value store `cache`");
}
