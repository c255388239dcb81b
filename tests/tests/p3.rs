//! WASI P3 components (`wasi:http/handler@0.3.0`, Spin 4's default), from a real toolchain:
//! a plain componentize-py 0.25.1 service built by `tests/setup.sh`. Hello, a streaming echo
//! of 10 MB, outbound requests through `wasi:http/client@0.3.0` under the same rules as P2,
//! and the request timeout and memory limit, next to a P2 component of the same app.

use spin_tests::{Spin, Upstream, app_dir, assert_contains, built_component, component, http};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// POST `body` to `url` and read the response while still sending, as a streaming echo
/// needs (a client that sends everything before reading would deadlock against one that
/// answers as it reads); the status and the de-chunked body.
fn full_duplex_post(url: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, path) = rest.split_at(rest.find('/').unwrap());
    let stream = TcpStream::connect(authority).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {authority}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let mut writer = stream.try_clone().unwrap();
    let body = body.to_vec();
    let sender = std::thread::spawn(move || {
        writer.write_all(head.as_bytes()).unwrap();
        for chunk in body.chunks(64 * 1024) {
            writer.write_all(chunk).unwrap();
        }
    });
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status: u16 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut chunked = false;
    let mut length = None;
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let l = line.trim_end().to_ascii_lowercase();
        if l.is_empty() {
            break;
        }
        chunked |= l == "transfer-encoding: chunked";
        if let Some(n) = l.strip_prefix("content-length: ") {
            length = Some(n.parse::<usize>().unwrap());
        }
    }
    let mut out = Vec::new();
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            let size = usize::from_str_radix(line.trim(), 16).unwrap();
            if size == 0 {
                break;
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).unwrap();
            out.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(n) = length {
        out.resize(n, 0);
        reader.read_exact(&mut out).unwrap();
    } else {
        reader.read_to_end(&mut out).unwrap();
    }
    sender.join().unwrap();
    (status, out)
}

fn p3_app(upstream: u16) -> tempfile::TempDir {
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "p3"
[[trigger.http]]
route = "/..."
component = "p3"
[[trigger.http]]
route = "/tb/..."
component = "tb"
[component.p3]
source = {p3:?}
allowed_outbound_hosts = ["http://127.0.0.1:{upstream}"]
[component.tb]
source = {tb:?}
"#,
        p3 = built_component("p3"),
        tb = component("testbed"),
    );
    app_dir(&[("spin.toml", manifest.as_bytes())])
}

/// Both ways of running P3: reused instances (the default) and a fresh one per request.
#[test]
fn a_p3_component_answers_and_streams_a_10_mb_body_back() {
    let upstream = Upstream::start();
    let app = p3_app(upstream.port);
    let big: Vec<u8> = (0..10 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for flags in [&[][..], &["--max-instance-reuse-count", "1"][..]] {
        let mut spin = Spin::up(app.path(), flags);
        let hello = spin.get("/");
        assert_eq!(
            (hello.status, hello.text()),
            (200, "Hello from a P3 component!\n".into()),
            "{flags:?}"
        );
        assert_eq!(hello.header("content-type"), Some("text/plain"));
        let (status, echoed) = full_duplex_post(&spin.url("/echo"), &big);
        assert_eq!(status, 200, "{flags:?}");
        assert!(
            echoed == big,
            "{flags:?}: 10 MB echo differs ({} bytes back)",
            echoed.len()
        );
        // The P2 component of the same app is unaffected.
        assert_eq!(spin.get("/tb/hello").text(), "Hello from C!\n");
        // Ctrl-C with idle instances kept for reuse: a clean stop, no error about them.
        assert!(spin.interrupt().success());
        assert!(!spin.stderr().contains("ERROR"), "{}", spin.stderr());
    }
}

#[test]
fn p3_outbound_requests_follow_allowed_outbound_hosts() {
    let upstream = Upstream::start();
    let app = p3_app(upstream.port);
    let spin = Spin::up(app.path(), &[]);
    let allowed = spin.get(&format!(
        "/outbound?http://127.0.0.1:{}/from-p3",
        upstream.port
    ));
    assert_eq!(
        (allowed.status, allowed.text()),
        (200, "200\nupstream saw GET /from-p3".into())
    );
    let denied = spin.get("/outbound?http://127.0.0.2:9/nope");
    assert_eq!(denied.status, 502);
    assert_contains(&denied.text(), "HttpRequestDenied");
    assert!(spin.wait_for_log("outbound request to http://127.0.0.2:9 denied"));
    assert_eq!(upstream.hits(), 1, "the denied request never left");
}

#[test]
fn a_looping_p3_component_is_stopped_while_others_are_served() {
    let app = p3_app(9);
    let spin = Spin::up(app.path(), &["--request-timeout", "2s"]);
    let looping = {
        let url = spin.url("/loop");
        std::thread::spawn(move || http("GET", &url, &[], b""))
    };
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(spin.get("/").status, 200);
    assert_eq!(spin.get("/tb/hello").status, 200);
    let r = looping.join().unwrap();
    assert_eq!(r.status, 504, "{}", r.text());
    assert!(spin.wait_for_log("component `p3` exceeded the request timeout"));
    assert_eq!(spin.get("/").status, 200);
}

#[test]
fn a_p3_memory_bomb_hits_the_limit() {
    let app = p3_app(9);
    let spin = Spin::up(app.path(), &["--max-memory", "160MiB"]);
    let r = spin.get("/bomb");
    assert_eq!(r.status, 500, "{}", r.text());
    assert!(
        spin.wait_for_log("component `p3` exceeded the memory limit of 160 MiB"),
        "{}",
        spin.stderr()
    );
    assert_eq!(spin.get("/").status, 200);
}

fn counts(spin: &Spin, n: usize) -> Vec<u32> {
    (0..n)
        .map(|_| spin.get("/count").text().parse().expect("a count"))
        .collect()
}

/// As Spin 4: an instance serves many requests (`--max-instance-reuse-count`, default 128),
/// `1` means a fresh instance per request, and an idle instance is dropped
/// (`--idle-instance-timeout`, default 1s). Which instance takes a request is the pool's
/// choice (a busy one may make it start another), so reuse is asserted by its bounds.
#[test]
fn p3_instances_are_reused_as_the_flags_say() {
    let app = p3_app(9);
    let spin = Spin::up(app.path(), &[]);
    let seen = counts(&spin, 8);
    assert!(seen.iter().any(|&c| c >= 3), "instances reused: {seen:?}");
    drop(spin);

    let spin = Spin::up(app.path(), &["--max-instance-reuse-count", "1"]);
    assert_eq!(counts(&spin, 3), [1, 1, 1], "a fresh instance per request");
    drop(spin);

    let spin = Spin::up(app.path(), &["--max-instance-reuse-count", "2"]);
    let seen = counts(&spin, 6);
    assert!(
        seen.iter().all(|&c| c <= 2),
        "at most 2 per instance: {seen:?}"
    );
    assert!(seen.contains(&2), "reused once: {seen:?}");
    drop(spin);

    let spin = Spin::up(app.path(), &["--idle-instance-timeout", "200ms"]);
    let seen = counts(&spin, 4);
    assert!(seen.iter().any(|&c| c >= 2), "reused while busy: {seen:?}");
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(counts(&spin, 1), [1], "the idle instances were dropped");
}
