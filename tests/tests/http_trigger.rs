//! The HTTP trigger end to end: routing rules, Spin's request headers, well-known
//! endpoints, and the failure paths (trap, no response, timeout, memory, body size,
//! graceful shutdown). Guests: the committed WAT components and the C testbed.

use spin_tests::{Spin, app_dir, assert_contains, component, http};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

fn testbed_component(id: &str) -> String {
    format!(
        "[component.{id}]\nsource = {:?}\nenvironment = {{ WHO = \"{id}\" }}\n",
        component("testbed")
    )
}

fn routing_app() -> tempfile::TempDir {
    let mut manifest = String::from(
        "spin_manifest_version = 2\n[application]\nname = \"routing\"\nversion = \"0.3.0\"\n",
    );
    for (route, id) in [
        ("\"/...\"", "fallback"),
        ("\"/exact\"", "exact"),
        ("\"/api/...\"", "api"),
        ("\"/api/v2/...\"", "api-v2"),
        ("\"/users/:id/...\"", "users"),
        ("{ private = true }", "hidden"),
    ] {
        manifest += &format!("[[trigger.http]]\nroute = {route}\ncomponent = \"{id}\"\n");
    }
    for id in ["exact", "hidden"] {
        manifest += &format!("[component.{id}]\nsource = {:?}\n", component("hello"));
    }
    for id in ["fallback", "api", "api-v2", "users"] {
        manifest += &testbed_component(id);
    }
    app_dir(&[("spin.toml", manifest.as_bytes())])
}

#[test]
fn routes_pick_exact_then_longest_prefix() {
    let app = routing_app();
    let spin = Spin::up(app.path(), &[]);
    // `/env/WHO` names the component; any other unknown path is a 404 that names it too.
    let who = |path: &str| {
        let r = spin.get(path);
        match r.status {
            200 => r.text(),
            404 => r
                .text()
                .rsplit_once("(WHO=")
                .map(|(_, w)| w.trim_end_matches(')').to_string())
                .unwrap_or_default(),
            other => panic!("{path}: {other} {}", r.text()),
        }
    };
    assert_eq!(spin.get("/exact").text(), "Hello from WAT!\n");
    assert_eq!(spin.get("/exact/").text(), "Hello from WAT!\n");
    assert_eq!(who("/api/env/WHO"), "api");
    assert_eq!(who("/api/v2/env/WHO"), "api-v2");
    assert_eq!(who("/apix/env/WHO"), "fallback");
    assert_eq!(who("/api/v22"), "api");
    assert_eq!(who("/api"), "api");
    assert_eq!(who("/api/v2"), "api-v2");
    assert_eq!(who("/users/7/env/WHO"), "users");
    assert_eq!(who("/env/WHO"), "fallback");
    // The private component has no public route.
    assert!(spin.banner.contains("exact: "), "{}", spin.banner);
    assert!(!spin.banner.contains("hidden"), "{}", spin.banner);
}

#[test]
fn spin_headers_are_exactly_the_documented_set() {
    let app = routing_app();
    let spin = Spin::up(app.path(), &[]);
    let url = spin.url("/users/42/headers?x=1&y=2");
    let r = http(
        "GET",
        &url,
        &[("spin-client-addr", "6.6.6.6:1"), ("spin-evil", "forged")],
        b"",
    );
    assert_eq!(r.status, 200);
    let mut lines: Vec<(String, String)> = r
        .text()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(": ").unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    lines.sort();
    let port = spin.base.rsplit(':').next().unwrap().to_string();
    let client = lines
        .iter()
        .find(|(k, _)| k == "spin-client-addr")
        .map(|(_, v)| v.clone())
        .unwrap();
    assert!(client.starts_with("127.0.0.1:"), "{client}");
    let expected = vec![
        ("spin-base-path", "/".to_string()),
        ("spin-client-addr", client.clone()),
        ("spin-component-route", "/users/:id".to_string()),
        (
            "spin-full-url",
            format!("http://127.0.0.1:{port}/users/42/headers?x=1&y=2"),
        ),
        ("spin-matched-route", "/users/:id/...".to_string()),
        ("spin-path-info", "/headers".to_string()),
        ("spin-path-match-id", "42".to_string()),
        ("spin-raw-component-route", "/users/:id/...".to_string()),
    ];
    let expected: Vec<(String, String)> = expected
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    assert_eq!(lines, expected);
}

#[test]
fn path_info_for_wildcards_and_exact_routes() {
    let app = routing_app();
    let spin = Spin::up(app.path(), &[]);
    let header = |path: &str, name: &str| -> String {
        spin.get(path)
            .text()
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(String::from))
            .unwrap_or_default()
    };
    assert_eq!(header("/api/headers", "spin-path-info"), "/headers");
    assert_eq!(header("/api/headers/", "spin-path-info"), "/headers/");
    assert_eq!(
        header("/api/v2/headers", "spin-matched-route"),
        "/api/v2/..."
    );
    assert_eq!(header("/api/v2/headers", "spin-component-route"), "/api/v2");
    assert_eq!(header("/headers", "spin-matched-route"), "/...");
}

#[test]
fn well_known_endpoints_and_404() {
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"wk\"\nversion = \"2.0.1\"\n[[trigger.http]]\nroute = \"/only\"\ncomponent = \"hello\"\n[component.hello]\nsource = {:?}\n",
        component("hello")
    );
    let app = app_dir(&[("spin.toml", manifest.as_bytes())]);
    let spin = Spin::up(app.path(), &[]);
    let health = spin.get("/.well-known/spin/health");
    assert_eq!((health.status, health.text().as_str()), (200, "OK"));
    let info = spin.get("/.well-known/spin/info");
    assert_eq!(info.status, 200);
    let json: serde_json::Value = serde_json::from_slice(&info.body).unwrap();
    assert_eq!(json, serde_json::json!({"name": "wk", "version": "2.0.1"}));
    assert_eq!(spin.get("/.well-known/spin/nope").status, 404);
    assert_eq!(spin.get("/nope").status, 404);
    assert_eq!(spin.get("/only/more").status, 404);
    assert_eq!(spin.get("/only").status, 200);
}

#[test]
fn v1_manifest_with_base_runs() {
    let manifest = format!(
        r#"spin_manifest_version = "1"
name = "old-style"
version = "1.0.0"
trigger = {{ type = "http", base = "/base" }}

[[component]]
id = "hello_world"
source = {:?}
[component.trigger]
route = "/hello/..."
"#,
        component("testbed")
    );
    let app = app_dir(&[("spin.toml", manifest.as_bytes())]);
    let spin = Spin::up(app.path(), &[]);
    let r = spin.get("/base/hello/headers");
    assert_eq!(r.status, 200);
    let text = r.text();
    assert_contains(&text, "spin-matched-route: /base/hello/...\n");
    assert_contains(&text, "spin-raw-component-route: /hello/...\n");
    assert_contains(&text, "spin-path-info: /headers\n");
    assert_eq!(spin.get("/hello/headers").status, 404);
    assert!(spin.banner.contains("hello-world: "), "{}", spin.banner);
}

fn limits_app() -> tempfile::TempDir {
    let mut manifest =
        String::from("spin_manifest_version = 2\n[application]\nname = \"limits\"\n");
    for (id, route, wasm) in [
        ("trap", "/trap", "trap"),
        ("loop", "/loop", "spin"),
        ("mem", "/mem", "memhog"),
        ("none", "/none", "noresponse"),
        ("tb", "/tb/...", "testbed"),
    ] {
        manifest.push_str(&format!(
            "[[trigger.http]]\nroute = \"{route}\"\ncomponent = \"{id}\"\n[component.{id}]\nsource = {:?}\n",
            component(wasm)
        ));
    }
    app_dir(&[("spin.toml", manifest.as_bytes())])
}

const LIMIT_FLAGS: &[&str] = &[
    "--request-timeout",
    "1s",
    "--max-memory",
    "64MiB",
    "--max-request-body",
    "1KiB",
];

#[test]
fn trap_gives_500_and_a_log_line_naming_the_component() {
    let app = limits_app();
    let spin = Spin::up(app.path(), LIMIT_FLAGS);
    let r = spin.get("/trap");
    assert_eq!(r.status, 500);
    assert!(
        spin.wait_for_log("component `trap` trapped"),
        "{}",
        spin.stderr()
    );
    assert!(spin.stderr().contains("unreachable"), "{}", spin.stderr());
    assert_eq!(spin.get("/tb/hello").text(), "Hello from C!\n");
}

#[test]
fn missing_response_gives_500() {
    let app = limits_app();
    let spin = Spin::up(app.path(), LIMIT_FLAGS);
    assert_eq!(spin.get("/none").status, 500);
    assert!(
        spin.wait_for_log("component `none` returned without setting a response"),
        "{}",
        spin.stderr()
    );
}

#[test]
fn infinite_loop_is_stopped_by_the_timeout_and_the_server_keeps_serving() {
    let app = limits_app();
    let spin = Spin::up(app.path(), LIMIT_FLAGS);
    let looping = {
        let url = spin.url("/loop");
        std::thread::spawn(move || http("GET", &url, &[], b""))
    };
    // While one instance spins, others are still served.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(spin.get("/tb/hello").status, 200);
    let r = looping.join().unwrap();
    assert_eq!(r.status, 504, "{}", r.text());
    assert!(
        spin.wait_for_log("component `loop` exceeded the request timeout of 1s"),
        "{}",
        spin.stderr()
    );
    assert_eq!(spin.get("/tb/hello").text(), "Hello from C!\n");
}

#[test]
fn a_guest_waiting_on_the_host_is_also_timed_out() {
    let app = limits_app();
    let spin = Spin::up(app.path(), LIMIT_FLAGS);
    let r = spin.get("/tb/sleep/5000");
    assert_eq!(r.status, 504);
    assert!(
        spin.wait_for_log("component `tb` exceeded the request timeout"),
        "{}",
        spin.stderr()
    );
}

#[test]
fn memory_limit_is_enforced_per_instance() {
    let app = limits_app();
    let spin = Spin::up(app.path(), LIMIT_FLAGS);
    let r = spin.get("/mem");
    assert_eq!(r.status, 500);
    assert!(r.text().contains("memory limit exceeded"), "{}", r.text());
    assert!(
        spin.wait_for_log("component `mem` exceeded the memory limit of 64 MiB"),
        "{}",
        spin.stderr()
    );
    // The same component is fine again with a fresh instance, and others are unaffected.
    assert_eq!(spin.get("/tb/hello").status, 200);
}

#[test]
fn request_body_limit_gives_413_for_declared_and_chunked_bodies() {
    let app = limits_app();
    let spin = Spin::up(app.path(), LIMIT_FLAGS);
    let small = spin.request("POST", "/tb/echo", b"small body");
    assert_eq!((small.status, small.text().as_str()), (200, "small body"));
    let big = spin.request("POST", "/tb/echo", &[b'x'; 2048]);
    assert_eq!(big.status, 413);

    // Chunked: no content-length, so the limit is found while the guest reads.
    let addr = spin.base.trim_start_matches("http://").to_string();
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    let chunk = "y".repeat(600);
    let mut req = format!(
        "POST /tb/echo HTTP/1.1\r\nhost: {addr}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    for _ in 0..3 {
        req.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    req.push_str("0\r\n\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 413"), "{resp}");
    assert!(
        spin.wait_for_log("request body exceeded 1024 bytes"),
        "{}",
        spin.stderr()
    );
}

#[test]
fn ctrl_c_lets_in_flight_requests_finish() {
    let app = limits_app();
    let mut spin = Spin::up(app.path(), &["--request-timeout", "10s"]);
    let url = spin.url("/tb/sleep/1500");
    let started = Instant::now();
    let in_flight = std::thread::spawn(move || http("GET", &url, &[], b""));
    std::thread::sleep(Duration::from_millis(400));
    let status = spin.interrupt();
    let r = in_flight.join().unwrap();
    assert_eq!((r.status, r.text().as_str()), (200, "slept"));
    assert!(started.elapsed() >= Duration::from_millis(1400));
    assert!(status.success(), "exit status {status}");
    assert!(std::net::TcpStream::connect(spin.base.trim_start_matches("http://")).is_err());
}
