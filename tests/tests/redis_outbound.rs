//! Outbound Redis from real guests against a real `redis-server`: the Spin 3 Python SDK
//! (`fermyon:spin/redis@2.0.0`) and Spin 4's (spin-sdk 5.0.0 and 4.0.0:
//! `spin:redis/redis@3.0.0`), every operation, and addresses policed by
//! `allowed_outbound_hosts` like any outbound request.

use spin_tests::{Redis, Spin, app_dir, assert_contains, built_component, free_port};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// (route, component source, key prefix its guest uses)
const GUESTS: [(&str, &str, &str); 3] = [
    ("py", "python", "p2"),
    ("sdk5", "spin4-sdk5", "p3"),
    ("sdk4", "spin4-sdk4", "p3"),
];

fn app(rules: &[String]) -> tempfile::TempDir {
    let rules = rules
        .iter()
        .map(|r| format!("{r:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut manifest = String::from("spin_manifest_version = 2\n[application]\nname = \"redis\"\n");
    for (id, wasm, _) in GUESTS {
        manifest += &format!(
            "[[trigger.http]]\nroute = \"/{id}/...\"\ncomponent = \"{id}\"\n[component.{id}]\nsource = {:?}\nallowed_outbound_hosts = [{rules}]\n",
            built_component(wasm)
        );
    }
    app_dir(&[("spin.toml", manifest.as_bytes())])
}

/// A raw RESP subscriber: `SUBSCRIBE channel`, then the next message's payload.
struct Subscriber(TcpStream);

impl Subscriber {
    fn start(port: u16, channel: &str) -> Self {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let cmd = format!(
            "*2\r\n$9\r\nSUBSCRIBE\r\n${}\r\n{channel}\r\n",
            channel.len()
        );
        s.write_all(cmd.as_bytes()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut confirm = [0u8; 256];
        let n = s.read(&mut confirm).unwrap();
        assert!(String::from_utf8_lossy(&confirm[..n]).contains("subscribe"));
        Self(s)
    }

    fn next(&mut self) -> String {
        let mut buf = [0u8; 1024];
        let n = self.0.read(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

#[test]
fn every_operation_from_the_spin_3_and_spin_4_sdks() {
    let redis = Redis::start();
    let address = format!("redis://127.0.0.1:{}", redis.port);
    let app = app(std::slice::from_ref(&address));
    let spin = Spin::up(app.path(), &[]);
    for (id, _, p) in GUESTS {
        redis.command(&[b"FLUSHALL"]);
        let mut subscriber = Subscriber::start(redis.port, &format!("{p}:chan"));
        let r = spin.get(&format!("/{id}/redis?{address}"));
        let expected = [
            "get=v",
            "missing=None",
            "incr=1,2",
            "sadd=2",
            "smembers=a,b",
            "srem=1",
            "del=2",
            // As Spin: `nil` and `OK` replies are left out of `execute`'s list.
            "exec-set=",
            "exec-get=binary:x",
            "exec-incrby=int64:5",
            "exec-lrange=binary:one,binary:two",
            "publish=ok",
            // As Spin: only a client-side type error is `type-error`.
            "wrongtype=other",
        ];
        assert_eq!((r.status, r.text()), (200, expected.join("\n")), "{id}");
        // The server holds what the guest wrote, and the subscriber got the message.
        assert_eq!(
            redis.command(&[b"GET", format!("{p}:e").as_bytes()]),
            b"$1\r\nx\r\n"
        );
        assert_eq!(
            redis.command(&[b"SMEMBERS", format!("{p}:s").as_bytes()]),
            b"*1\r\n$1\r\nb\r\n"
        );
        assert_contains(&subscriber.next(), "hello");
    }
}

#[test]
fn the_javascript_toolchain_reaches_redis_too() {
    let redis = Redis::start();
    let address = format!("redis://127.0.0.1:{}", redis.port);
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"redis-js\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"js\"\n[component.js]\nsource = {:?}\nallowed_outbound_hosts = [{address:?}]\n",
        built_component("js")
    );
    let app = app_dir(&[("spin.toml", manifest.as_bytes())]);
    let spin = Spin::up(app.path(), &[]);
    redis.command(&[b"SET", b"js:n", b"41"]);
    let r = spin.get(&format!("/redis?{address}"));
    let expected = [
        "get=v",
        "incr=42",
        "sadd=2",
        "smembers=a,b",
        "srem=1",
        "del=3",
        "missing=none",
    ];
    assert_eq!((r.status, r.text()), (200, expected.join("\n")));
    assert_eq!(
        redis.command(&[b"EXISTS", b"js:k", b"js:n", b"js:s"]),
        b":0\r\n"
    );
}

#[test]
fn a_spin_1_component_uses_the_unversioned_interface() {
    let redis = Redis::start();
    let address = format!("redis://127.0.0.1:{}", redis.port);
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"redis-v1\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"v1\"\n[component.v1]\nsource = {:?}\nallowed_outbound_hosts = [{address:?}]\n",
        spin_tests::component("spin-v1.core")
    );
    let app = app_dir(&[("spin.toml", manifest.as_bytes())]);
    let spin = Spin::up(app.path(), &[]);
    let mut subscriber = Subscriber::start(redis.port, "v1:chan");
    let r = spin.request("POST", "/v1/redis", address.as_bytes());
    let expected = [
        "set=ok",
        "get=v",
        "incr=1",
        "sadd=2",
        "smembers=2",
        "srem=1",
        "del=2",
        "execute=1:5",
        "publish=ok",
    ];
    assert_eq!((r.status, r.text()), (200, expected.join("\n")));
    assert_eq!(redis.command(&[b"GET", b"v1:e"]), b"$1\r\n5\r\n");
    assert_eq!(redis.command(&[b"SMEMBERS", b"v1:s"]), b"*1\r\n$1\r\nb\r\n");
    assert_contains(&subscriber.next(), "hello");
    // A server no rule allows: each call is the interface's one error, and is logged.
    let r = spin.request("POST", "/v1/redis", b"redis://127.0.0.2:6379");
    assert!(
        r.text().starts_with("set=error 1\nget=error 1"),
        "{}",
        r.text()
    );
    assert!(spin.wait_for_log("outbound request to redis://127.0.0.2:6379 denied"));
}

/// A TLS-only `redis-server` with a certificate for 127.0.0.1 from a CA made here.
struct TlsRedis(std::process::Child, tempfile::TempDir, u16);

impl TlsRedis {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        spin_tests::registry::server_certificate(dir.path());
        let port = free_port();
        let file = |name: &str| dir.path().join(name).display().to_string();
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                "0",
                "--bind",
                "127.0.0.1",
                "--tls-auth-clients",
                "no",
            ])
            .args(["--save", "", "--appendonly", "no"])
            .args(["--tls-port", &port.to_string()])
            .args([
                "--tls-cert-file",
                &file("server.pem"),
                "--tls-key-file",
                &file("server.key"),
            ])
            .args(["--tls-ca-cert-file", &file("ca.pem")])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        spin_tests::wait_for_port(port, "redis-server --tls-port", &Default::default());
        Self(child, dir, port)
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn rediss_verifies_the_server_against_the_trusted_roots() {
    let server = TlsRedis::start();
    let address = format!("rediss://127.0.0.1:{}", server.2);
    let app = app(std::slice::from_ref(&address));
    // The system's roots, replaced by the test CA (as `SSL_CERT_FILE` does for OpenSSL).
    let ca = server.1.path().join("ca.pem").display().to_string();
    let spin = Spin::start(app.path(), &[], &[("SSL_CERT_FILE", &ca)]).unwrap();
    let r = spin.get(&format!("/py/redis?{address}"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_contains(&r.text(), "get=v\nmissing=None\nincr=1,2");
    drop(spin);
    // Without the CA the server is not trusted: the connection fails.
    let spin = Spin::up(app.path(), &[]);
    let r = spin.get(&format!("/py/redis?{address}"));
    assert_eq!((r.status, r.text()), (500, "other".into()));
}

#[test]
fn addresses_are_policed_and_failures_are_the_interfaces_errors() {
    let closed = free_port();
    let app = app(&[format!("redis://127.0.0.1:{closed}")]);
    let spin = Spin::up(app.path(), &[]);
    for (id, _, _) in GUESTS {
        let get = |q: &str| {
            let r = spin.get(&format!("/{id}/redis?{q}"));
            (r.status, r.text())
        };
        // Not allowed (the password never reaches the log), not a Redis URL, unreachable.
        let denied = get("redis://user:sekrit@127.0.0.2:6379");
        assert_eq!(denied, (500, "invalid-address".into()), "{id}");
        assert_eq!(
            get("http://127.0.0.1:6379"),
            (500, "invalid-address".into()),
            "{id}"
        );
        assert_eq!(
            get(&format!("redis://127.0.0.1:{closed}")),
            (500, "other".into()),
            "{id}"
        );
    }
    assert!(spin.wait_for_log(
        "outbound request to redis://127.0.0.2:6379 denied: add \"redis://127.0.0.2\" to allowed_outbound_hosts of component `py`"
    ));
    assert!(!spin.stderr().contains("sekrit"), "{}", spin.stderr());
}
