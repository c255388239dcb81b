//! Outbound HTTP policed by `allowed_outbound_hosts`, against a real local HTTP server.

use spin_tests::{Spin, Upstream, app_dir, assert_contains, component};

fn app(allowed: &[&str]) -> tempfile::TempDir {
    let allowed = allowed
        .iter()
        .map(|a| format!("{a:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "outbound"
[variables]
upstream_port = {{ required = true }}
[[trigger.http]]
route = "/..."
component = "tb"
[component.tb]
source = {:?}
allowed_outbound_hosts = [{allowed}]
"#,
        component("testbed")
    );
    app_dir(&[("spin.toml", manifest.as_bytes())])
}

fn up(allowed: &[&str], upstream: &Upstream) -> (tempfile::TempDir, Spin) {
    let dir = app(allowed);
    let var = format!("upstream_port={}", upstream.port);
    let spin = Spin::up(dir.path(), &["--variable", &var]);
    (dir, spin)
}

#[test]
fn allowed_host_from_a_template_reaches_the_upstream() {
    let upstream = Upstream::start();
    let (_dir, spin) = up(&["http://127.0.0.1:{{ upstream_port }}"], &upstream);
    let r = spin.get(&format!(
        "/outbound?http://127.0.0.1:{}/some/path",
        upstream.port
    ));
    assert_eq!(r.text(), "200\nupstream saw GET /some/path");
    assert_eq!(upstream.hits(), 1);
}

#[test]
fn denied_host_gets_the_wasi_error_and_a_log_naming_the_rule() {
    let allowed = Upstream::start();
    let other = Upstream::start();
    let (_dir, spin) = up(&["http://127.0.0.1:{{ upstream_port }}"], &allowed);
    let r = spin.get(&format!("/outbound?http://127.0.0.1:{}/x", other.port));
    // From the response future, as Spin reports it (from `handle` the guest would answer
    // "handle: HTTP-request-denied").
    assert_eq!((r.status, r.text().as_str()), (502, "HTTP-request-denied"));
    assert_eq!(other.hits(), 0, "a denied request must not leave the host");
    let expected = format!(
        "outbound request to http://127.0.0.1:{port} denied: add \"http://127.0.0.1:{port}\" to allowed_outbound_hosts of component `tb`",
        port = other.port
    );
    assert!(spin.wait_for_log(&expected), "{}", spin.stderr());
    // A scheme the rule does not name is denied too.
    let r = spin.get(&format!("/outbound?https://127.0.0.1:{}/x", allowed.port));
    assert_eq!(r.text(), "HTTP-request-denied");
}

#[test]
fn no_rules_means_no_outbound_at_all() {
    let upstream = Upstream::start();
    let (_dir, spin) = up(&[], &upstream);
    let r = spin.get(&format!("/outbound?http://127.0.0.1:{}/", upstream.port));
    assert_eq!(r.text(), "HTTP-request-denied");
    assert_eq!(spin.get("/outbound?/hello").text(), "HTTP-request-denied");
    assert!(
        spin.wait_for_log("add \"http://self\" to allowed_outbound_hosts"),
        "{}",
        spin.stderr()
    );
    assert_eq!(upstream.hits(), 0);
}

#[test]
fn wildcard_port_and_cidr_rules() {
    let upstream = Upstream::start();
    for rule in [
        "http://127.0.0.1:*",
        "http://127.0.0.0/8:*",
        "*://127.0.0.1:*",
        "http://localhost:*",
    ] {
        let (_dir, spin) = up(&[rule], &upstream);
        let host = if rule.contains("localhost") {
            "localhost"
        } else {
            "127.0.0.1"
        };
        let r = spin.get(&format!("/outbound?http://{host}:{}/r", upstream.port));
        assert_eq!(r.text(), "200\nupstream saw GET /r", "rule {rule}");
    }
}

#[test]
fn self_requests_reach_the_app_itself() {
    let upstream = Upstream::start();
    let (_dir, spin) = up(&["http://self"], &upstream);
    assert_eq!(spin.get("/outbound?/hello").text(), "200\nHello from C!\n");
}

#[test]
fn invalid_rule_is_a_located_manifest_error() {
    let upstream = Upstream::start();
    let dir = app(&["127.0.0.1:8080"]);
    let var = format!("upstream_port={}", upstream.port);
    let err = Spin::start(dir.path(), &["--variable", &var], &[])
        .err()
        .unwrap();
    assert_contains(
        &err,
        "spin.toml:11:27: invalid `allowed_outbound_hosts` entry: \"127.0.0.1:8080\" has no scheme",
    );
}
