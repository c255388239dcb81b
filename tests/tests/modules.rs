//! Core modules as Spin runs them: the Spin 0.9 TinyGo and Rust modules of Spin's own
//! legacy test (from `spin up`, a v2 manifest, and a registry round trip), a hand-written
//! module of Spin's pre-component ABI using its imports, the C guest's wit-bindgen module
//! componentized at load, and a WAGI command in C.

use spin_tests::registry::Registry;
use spin_tests::sandbox::Sandbox;
use spin_tests::{Spin, Upstream, app_dir, assert_contains, component, repo_root};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn legacy_fixture(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures/spin-legacy").join(name)
}

/// The fixture's own v1 manifest and modules, copied so `.spin/` lands in a temp dir.
fn legacy_app() -> tempfile::TempDir {
    let read = |n: &str| std::fs::read(legacy_fixture(n)).unwrap();
    app_dir(&[
        ("spin.toml", &read("spin.toml")),
        ("legacy-go.wasm", &read("legacy-go.wasm")),
        ("legacy-rust.wasm", &read("legacy-rust.wasm")),
    ])
}

/// What Spin's legacy-apps test expects of these modules.
fn assert_legacy_answers(spin: &Spin) {
    let go = spin.get("/golang");
    assert_eq!(
        (go.status, go.text()),
        (200, "Hello Fermyon!\n".to_string())
    );
    let rust = spin.get("/rust");
    assert_eq!(
        (rust.status, rust.text()),
        (200, "Hello, Fermyon".to_string())
    );
    // The Rust module answers with a header of its own, and logs Spin's headers.
    assert_eq!(rust.header("foo"), Some("bar"));
}

#[test]
fn spin_09_modules_answer_as_spins_legacy_test_expects() {
    let app = legacy_app();
    let spin = Spin::up(app.path(), &[]);
    assert_legacy_answers(&spin);
    let logged = "\"spin-matched-route\": \"/rust/...\"";
    assert!(spin.wait_for_output(logged, 1, Duration::from_secs(10)));
    // Methods the old ABI cannot express are refused as Spin refuses them.
    assert_eq!(spin.request("TRACE", "/rust", b"").status, 405);
}

#[test]
fn component_output_goes_to_the_terminal_and_to_log_files() {
    let logged = "\"spin-matched-route\": \"/rust/...\"";
    // Default: the terminal and `.spin/logs/<id>_stdout.txt` beside the manifest.
    let app = legacy_app();
    let spin = Spin::up(app.path(), &[]);
    assert_eq!(spin.get("/rust").status, 200);
    assert!(spin.wait_for_output(logged, 1, Duration::from_secs(10)));
    let file = app.path().join(".spin/logs/rust_stdout.txt");
    assert_contains(&std::fs::read_to_string(&file).unwrap(), logged);
    assert!(app.path().join(".spin/logs/go_stderr.txt").is_file());
    drop(spin);

    // --quiet keeps it off the terminal; --log-dir moves the files.
    let logs = tempfile::tempdir().unwrap();
    let app = legacy_app();
    let spin = Spin::up(
        app.path(),
        &["--quiet", "--log-dir", logs.path().to_str().unwrap()],
    );
    assert_eq!(spin.get("/rust").status, 200);
    let file = logs.path().join("rust_stdout.txt");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&file).is_ok_and(|t| t.contains(logged)) {
        assert!(
            std::time::Instant::now() < deadline,
            "nothing in {}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!spin.stdout().contains(logged), "{}", spin.stdout());
    assert!(!app.path().join(".spin/logs").exists());
    drop(spin);

    // An empty --log-dir writes no files.
    let app = legacy_app();
    let spin = Spin::up(app.path(), &["--log-dir", ""]);
    assert_eq!(spin.get("/rust").status, 200);
    assert!(spin.wait_for_output(logged, 1, Duration::from_secs(10)));
    assert!(!app.path().join(".spin/logs").exists());
}

#[test]
fn spin_09_modules_run_from_a_v2_manifest_and_a_registry_round_trip() {
    let v2 = format!(
        r#"spin_manifest_version = 2
[application]
name = "legacy-v2"
[[trigger.http]]
route = "/golang/..."
component = "go"
[[trigger.http]]
route = "/rust/..."
component = "rust"
[component.go]
source = {go:?}
[component.rust]
source = {rust:?}
"#,
        go = legacy_fixture("legacy-go.wasm"),
        rust = legacy_fixture("legacy-rust.wasm"),
    );
    let app = app_dir(&[("spin.toml", v2.as_bytes())]);
    let spin = Spin::up(app.path(), &[]);
    assert_legacy_answers(&spin);
    drop(spin);

    let registry = Registry::start();
    let user = Sandbox::with_open_policy();
    let reference = format!("{}/legacy/app:v1", registry.host());
    let v1 = legacy_app();
    user.push(v1.path(), &reference);
    let spin = user.serve(&reference, &["--insecure"]);
    assert_legacy_answers(&spin);
}

fn abi_app(wasm: &Path, upstream: u16) -> tempfile::TempDir {
    // A v1 manifest, as Spin 1.x apps were written: `[component.config]`,
    // `allowed_http_hosts`, the app-wide trigger.
    let manifest = format!(
        r#"spin_version = "1"
name = "old-abi"
trigger = {{ type = "http", base = "/" }}
version = "1.0.0"
[variables]
who = {{ default = "world" }}
[[component]]
id = "abi"
source = {wasm:?}
key_value_stores = ["default"]
allowed_http_hosts = ["127.0.0.1:{upstream}"]
[component.trigger]
route = "/abi/..."
[component.config]
greeting = "hello, {{{{ who }}}}"
"#
    );
    app_dir(&[("spin.toml", manifest.as_bytes())])
}

#[test]
fn the_old_abi_imports_reach_the_same_capabilities_as_components() {
    let upstream = Upstream::start();
    let app = abi_app(&component("legacy-abi"), upstream.port);
    let spin = Spin::up(app.path(), &["--variable", "who=modules"]);

    let config = spin.get("/abi/c");
    assert_eq!(
        (config.status, config.text()),
        (200, "hello, modules".into())
    );

    let kv = spin.request("POST", "/abi/k", b"stored by an old module");
    assert_eq!(
        (kv.status, kv.text()),
        (200, "stored by an old module".into())
    );
    assert_eq!(spin.get("/abi/x").text(), "1");
    assert_eq!(
        spin.get("/abi/n").status,
        504,
        "get of an absent key: no-such-key"
    );
    assert_eq!(
        spin.get("/abi/d").status,
        502,
        "an unlisted store: access-denied"
    );
    assert!(spin.wait_for_log("add it to `key_value_stores` of component `abi`"));

    let allowed = format!("http://127.0.0.1:{}/from-module", upstream.port);
    let out = spin.request("POST", "/abi/o", allowed.as_bytes());
    assert_eq!(
        (out.status, out.text()),
        (200, "upstream saw GET /from-module".into())
    );
    let denied = spin.request("POST", "/abi/o", b"http://127.0.0.2:1/nope");
    assert_eq!(denied.status, 521, "destination-not-allowed");
    assert!(spin.wait_for_log("outbound request to http://127.0.0.2:1 denied"));
    assert_eq!(upstream.hits(), 1, "the denied request never left");

    assert_eq!(
        spin.get("/abi/r").status,
        503,
        "outbound-redis returns the interface's error"
    );
    // A v1 manifest allows every database address, as Spin 1.x did: the call was made and
    // failed (nothing listens on port 1).
    assert!(spin.wait_for_log("fermyon:spin/redis get failed"));
    // Spin 0.x's `outbound-pg::query` (no address): the module loaded, the call fails.
    assert_eq!(spin.get("/abi/p").status, 500);
    assert!(spin.wait_for_log(
        "`outbound-pg::query` has a signature this runtime does not serve (5 parameters)"
    ));
    assert_eq!(
        spin.get("/abi/s").status,
        500,
        "a malformed status is a 500"
    );
    // A module that lies about where its body is gets a 500; the host reads nothing
    // outside the module's memory.
    assert_eq!(spin.get("/abi/b").status, 500);
    assert!(spin.wait_for_log("outside its memory"));

    let echo = spin.request("PUT", "/abi/e?q=1", b"");
    assert_eq!((echo.status, echo.text()), (200, "/abi/e?q=1".into()));
    assert_eq!(echo.header("x-method"), Some("2"));
}

/// A wit-bindgen 0.5+ module exporting Spin's unversioned `fermyon:spin/inbound-http` (as
/// Spin 1.x SDKs and Spin 2's Go SDK build them): componentized at load, served through
/// Spin's interface, its imports over the same capabilities.
#[test]
fn a_module_exporting_spins_own_http_interface_is_served() {
    let upstream = Upstream::start();
    let app = app_dir(&[(
        "spin.toml",
        format!(
            r#"spin_manifest_version = 2
[application]
name = "spin-v1"
[[trigger.http]]
route = "/v1/..."
component = "v1"
[component.v1]
source = {wasm:?}
key_value_stores = ["default"]
allowed_outbound_hosts = ["http://127.0.0.1:{port}"]
[component.v1.variables]
greeting = "hello from config"
"#,
            wasm = component("spin-v1.core"),
            port = upstream.port,
        )
        .as_bytes(),
    )]);
    let spin = Spin::up(app.path(), &[]);
    assert_eq!(
        spin.get("/v1/hello").text(),
        "Hello from Spin's own interface!"
    );
    assert_eq!(spin.get("/v1/config").text(), "hello from config");
    let kv = spin.request("POST", "/v1/kv", b"kept by a Spin 1 module");
    assert_eq!(
        (kv.status, kv.text()),
        (200, "kept by a Spin 1 module".into())
    );
    assert_eq!(spin.get("/v1/missing").text(), "error 4", "no-such-key");
    assert_eq!(spin.get("/v1/denied").text(), "error 2", "access-denied");
    let url = format!("http://127.0.0.1:{}/via-v1", upstream.port);
    let out = spin.request("POST", "/v1/outbound", url.as_bytes());
    assert_eq!(
        (out.status, out.text()),
        (200, "upstream saw GET /via-v1".into())
    );
    let denied = spin.request("POST", "/v1/outbound", b"http://127.0.0.2:9/");
    assert_eq!((denied.status, denied.text()), (502, "error 1".into()));
    assert_eq!(upstream.hits(), 1);
    let echo = spin.get("/v1/echo/tail?x=1");
    assert_eq!(echo.text(), "/v1/echo/tail?x=1");
    assert_eq!(echo.header("x-path-info"), Some("/echo/tail"));
    assert_eq!(spin.request("TRACE", "/v1/hello", b"").status, 405);
}

#[test]
fn a_store_written_by_an_old_module_is_read_by_a_component() {
    let app = app_dir(&[(
        "spin.toml",
        format!(
            r#"spin_manifest_version = 2
[application]
name = "shared-kv"
[[trigger.http]]
route = "/abi/..."
component = "abi"
[[trigger.http]]
route = "/c/..."
component = "c"
[component.abi]
source = {abi:?}
key_value_stores = ["default"]
[component.c]
source = {c:?}
key_value_stores = ["default"]
"#,
            abi = component("legacy-abi"),
            c = component("testbed"),
        )
        .as_bytes(),
    )]);
    let spin = Spin::up(app.path(), &[]);
    assert_eq!(spin.request("POST", "/abi/k", b"shared").status, 200);
    assert_eq!(spin.get("/c/kv/k").text(), "shared");
}

#[test]
fn a_wit_bindgen_core_module_is_componentized_and_cached() {
    let wasm = component("testbed.core");
    let app = app_dir(&[(
        "spin.toml",
        format!(
            r#"spin_manifest_version = 2
[application]
name = "core"
[[trigger.http]]
route = "/..."
component = "c"
[component.c]
source = {wasm:?}
key_value_stores = ["default"]
"#
        )
        .as_bytes(),
    )]);
    let cache = tempfile::tempdir().unwrap();
    let cache_arg = cache.path().to_str().unwrap();
    for run in ["cold", "warm"] {
        let spin = Spin::up(app.path(), &["--cache-dir", cache_arg]);
        let hello = spin.get("/hello");
        assert_eq!(
            (hello.status, hello.text()),
            (200, "Hello from C!\n".into()),
            "{run}"
        );
        assert_eq!(spin.request("PUT", "/kv/a", b"v").text(), "ok");
        assert_eq!(spin.get("/kv/a").text(), "v");
    }
    let entries: Vec<_> = walkdir(cache.path())
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert_eq!(entries.len(), 1, "one compiled entry: {entries:?}");
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walkdir(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn wagi_commands_speak_cgi() {
    wagi_program_speaks_cgi(&component("wagi"));
}

/// The same C program as a WASI command component (`wasi:cli/run`), as Spin runs WAGI
/// components.
#[test]
fn wagi_command_components_speak_cgi() {
    wagi_program_speaks_cgi(&component("wagi.component"));
}

/// Entry points are for core modules; a component that is not a command is refused.
#[test]
fn wagi_components_must_be_commands() {
    let manifest = |source: &Path, executor: &str| {
        format!(
            "spin_manifest_version = 2\n[application]\nname = \"w\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\nexecutor = {executor}\n[component.c]\nsource = {source:?}\n"
        )
    };
    let cases = [
        (
            component("wagi.component"),
            r#"{ type = "wagi", entrypoint = "main" }"#,
            "the WAGI `entrypoint` \"main\" applies to core modules only",
        ),
        (
            component("hello"),
            r#"{ type = "wagi" }"#,
            "uses the WAGI executor but does not export `wasi:cli/run`",
        ),
    ];
    for (source, executor, expected) in cases {
        let app = app_dir(&[("spin.toml", manifest(&source, executor).as_bytes())]);
        let err = Spin::start(app.path(), &[], &[]).err().expect("refused");
        assert_contains(&err, expected);
    }
}

fn wagi_program_speaks_cgi(wasm: &Path) {
    let app = app_dir(&[(
        "spin.toml",
        format!(
            r#"spin_manifest_version = 2
[application]
name = "wagi"
[[trigger.http]]
route = "/cgi/:name/..."
component = "cgi"
executor = {{ type = "wagi" }}
[[trigger.http]]
route = "/argv/..."
component = "argv"
executor = {{ type = "wagi", argv = "prog --flag ${{ARGS}}" }}
[component.cgi]
source = {wasm:?}
environment = {{ WHO = "env from the manifest" }}
[component.argv]
source = {wasm:?}
"#
        )
        .as_bytes(),
    )]);
    let spin = Spin::up(app.path(), &[]);
    let url = spin.url("/cgi/ada/tail?x=1&flag");
    let r = spin_tests::http(
        "POST",
        &url,
        &[
            ("x-custom", "custom value"),
            ("authorization", "secret"),
            ("content-type", "text/plain"),
        ],
        b"the request body",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(r.header("x-wagi"), Some("yes"));
    let text = r.text();
    let port = url.split(':').nth(2).unwrap().split('/').next().unwrap();
    for line in [
        "argv[0]=/cgi/ada/tail".to_string(),
        "argv[1]=x".into(),
        "argv[2]=1".into(),
        "argv[3]=flag".into(),
        "REQUEST_METHOD=POST".into(),
        "PATH_INFO=/tail".into(),
        "QUERY_STRING=x=1&flag".into(),
        "SCRIPT_NAME=/cgi/:name".into(),
        format!("X_FULL_URL=http://127.0.0.1:{port}/cgi/ada/tail?x=1&flag"),
        "X_MATCHED_ROUTE=/cgi/:name/...".into(),
        "SERVER_NAME=127.0.0.1".into(),
        format!("SERVER_PORT={port}"),
        "SERVER_PROTOCOL=HTTP/1.1".into(),
        "GATEWAY_INTERFACE=CGI/1.1".into(),
        "CONTENT_LENGTH=16".into(),
        "CONTENT_TYPE=text/plain".into(),
        "REMOTE_ADDR=127.0.0.1".into(),
        "HTTP_X_CUSTOM=custom value".into(),
        "HTTP_AUTHORIZATION=(unset)".into(),
        "X_PATH_MATCH_NAME=ada".into(),
        "WHO=env from the manifest".into(),
        "stdin=the request body".into(),
    ] {
        assert_contains(&text, format!("{line}\n"));
    }

    let argv = spin.get("/argv/?a=b").text();
    assert_contains(
        &argv,
        "argv[0]=prog\nargv[1]=--flag\nargv[2]=a\nargv[3]=b\n",
    );

    let redirect = spin.get("/cgi/x/redirect");
    assert_eq!(redirect.status, 302);
    assert_eq!(redirect.header("location"), Some("/elsewhere"));
    let teapot = spin.get("/cgi/x/status");
    assert_eq!(
        (teapot.status, teapot.text()),
        (418, "short and stout\n".into())
    );
    assert_eq!(spin.get("/cgi/x/garbage").status, 500);
    assert!(spin.wait_for_log("wrote an unusable response"));
    assert_eq!(spin.get("/cgi/x/fail").status, 500);
    drop(spin);

    // The same program from a Spin 0.x manifest: `executor` in `[component.trigger]`.
    let v1 = app_dir(&[(
        "spin.toml",
        format!(
            r#"spin_version = "1"
name = "wagi-v1"
trigger = {{ type = "http", base = "/" }}
version = "0.1.0"
[[component]]
id = "cgi"
source = {wasm:?}
environment = {{ WHO = "v1" }}
[component.trigger]
route = "/cgi/..."
executor = {{ type = "wagi", argv = "${{SCRIPT_NAME}} v1 ${{ARGS}}" }}
"#
        )
        .as_bytes(),
    )]);
    let spin = Spin::up(v1.path(), &[]);
    let text = spin.get("/cgi/x?k=v").text();
    assert_contains(&text, "argv[0]=/cgi/x\nargv[1]=v1\nargv[2]=k\nargv[3]=v\n");
    assert_contains(&text, "WHO=v1\n");
    assert_contains(&text, "X_MATCHED_ROUTE=/cgi/...\n");
}

/// As Spin 4 chooses the handler by export, a component exporting two is refused, naming
/// both.
#[test]
fn a_component_exporting_two_http_handlers_is_refused() {
    let err = Spin::start(&component("two-handlers.core"), &[], &[])
        .err()
        .expect("refused");
    assert_contains(&err, "exports more than one HTTP handler");
    assert_contains(&err, "`wasi:http/incoming-handler@0.2.x`");
    assert_contains(&err, "`fermyon:spin/inbound-http`");
}

#[test]
fn modules_that_serve_nothing_say_what_they_export() {
    // In the text format, which `spin up -f` also takes.
    let app = app_dir(&[(
        "lib.wat",
        br#"(module (memory (export "memory") 1) (func (export "do-something")))"#,
    )]);
    let err = Spin::start(&app.path().join("lib.wat"), &[], &[])
        .err()
        .expect("must not start");
    assert_contains(&err, "is a core module exporting `do-something`");
    assert_contains(&err, "handle-http-request");
}
