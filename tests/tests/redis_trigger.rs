//! The Redis trigger against a real `redis-server`: a Spin 3 Python SDK component
//! (`fermyon:spin/inbound-redis`, built with `-w spin-all`, so it serves HTTP too)
//! records each message in its key/value store; guest errors and traps are logged and the
//! subscription goes on; a server restart is survived; v1 manifests and `{{ variables }}`.

use spin_tests::{Redis, Spin, app_dir, assert_contains, built_component, component};
use std::time::{Duration, Instant};

fn v2_app(port: u16) -> tempfile::TempDir {
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "redis-trigger"
[application.trigger.redis]
address = "redis://127.0.0.1:{port}"
[variables]
channel = {{ default = "messages" }}
[[trigger.http]]
route = "/py/..."
component = "py"
[[trigger.redis]]
channel = "{{{{ channel }}}}"
component = "py"
[component.py]
source = {:?}
key_value_stores = ["default"]
"#,
        built_component("python")
    );
    app_dir(&[("spin.toml", manifest.as_bytes())])
}

fn publish(redis: &Redis, channel: &str, message: &str) -> Vec<u8> {
    redis.command(&[b"PUBLISH", channel.as_bytes(), message.as_bytes()])
}

/// What the component recorded, once it contains `until` (or after 20 s).
fn recorded(spin: &Spin, until: &str) -> String {
    let start = Instant::now();
    loop {
        let text = spin.get("/py/kv/redis-messages").text();
        if text.contains(until) || start.elapsed() > Duration::from_secs(20) {
            return text;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn messages_reach_the_component_and_its_failures_do_not_stop_the_subscription() {
    let redis = Redis::start();
    let app = v2_app(redis.port);
    let spin = Spin::up(app.path(), &[]);
    let address = format!("redis://127.0.0.1:{}", redis.port);
    assert_contains(
        &spin.stdout(),
        format!("Active Channels on {address}:\n\t{address}/messages: [py]"),
    );
    assert!(
        spin.wait_for_log("subscribed to `messages`"),
        "{}",
        spin.stderr()
    );
    for message in ["hello", "fail", "trap", "after"] {
        assert_eq!(
            publish(&redis, "messages", message),
            b":1\r\n",
            "one subscriber"
        );
    }
    assert_eq!(recorded(&spin, "after"), "hello\nfail\ntrap\nafter\n");
    assert!(spin.wait_for_log("component `py` returned an error for a message on `messages`"));
    assert!(spin.wait_for_log("component `py` failed on a message on `messages`"));
    // HTTP is served beside it.
    assert_eq!(spin.get("/py/hello").status, 200);
}

#[test]
fn the_subscription_survives_a_redis_restart() {
    let mut redis = Redis::start();
    let app = v2_app(redis.port);
    let spin = Spin::up(app.path(), &[]);
    assert!(spin.wait_for_log("subscribed to `messages`"));
    publish(&redis, "messages", "before");
    assert_eq!(recorded(&spin, "before"), "before\n");
    redis.restart();
    // Published until the subscriber is back (its first retry comes after 1 s).
    let start = Instant::now();
    while publish(&redis, "messages", "again") != b":1\r\n" {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{}",
            spin.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(recorded(&spin, "again"), "before\nagain\n");
    assert!(spin.wait_for_log("reconnecting to redis://127.0.0.1:"));
}

#[test]
fn a_v1_redis_app_runs_as_spin_1_wrote_it() {
    let redis = Redis::start();
    let manifest = format!(
        r#"spin_manifest_version = "1"
name = "v1-redis"
trigger = {{ type = "redis", address = "redis://127.0.0.1:{}" }}
[[component]]
id = "py"
source = {:?}
key_value_stores = ["default"]
[component.trigger]
channel = "legacy"
"#,
        redis.port,
        built_component("python")
    );
    let app = app_dir(&[("spin.toml", manifest.as_bytes())]);
    let spin = Spin::up(app.path(), &[]);
    assert!(
        spin.wait_for_log("subscribed to `legacy`"),
        "{}",
        spin.stderr()
    );
    assert_eq!(publish(&redis, "legacy", "from v1"), b":1\r\n");
    // A v1 app has one trigger type, so no HTTP route can read the store back: the value
    // is read from the store's SQLite database (Spin's layout) while the app runs.
    let start = Instant::now();
    let db = app.path().join(".spin/sqlite_key_value.db");
    let stored = || -> Option<Vec<u8>> {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
        let conn = rusqlite::Connection::open_with_flags(&db, flags).ok()?;
        conn.query_row(
            "SELECT value FROM spin_key_value WHERE store = 'default' AND key = 'redis-messages'",
            [],
            |r| r.get(0),
        )
        .ok()
    };
    loop {
        if stored().is_some_and(|v| v.windows(8).any(|w| w == b"from v1\n")) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{}",
            spin.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_component_without_a_redis_handler_is_refused_at_start_up() {
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"x\"\n[[trigger.redis]]\naddress = \"redis://127.0.0.1:9\"\nchannel = \"c\"\ncomponent = \"web\"\n[component.web]\nsource = {:?}\n",
        component("hello")
    );
    let app = app_dir(&[("spin.toml", manifest.as_bytes())]);
    let out = spin_tests::spin(&["up", "--listen", "127.0.0.1:0"], app.path());
    assert!(!out.status.success());
    let text = spin_tests::output_text(&out);
    assert_contains(&text, "component `web`");
    assert_contains(
        &text,
        "is subscribed to a Redis channel but exports no Redis handler",
    );
    assert_contains(
        &text,
        "`spin:redis/inbound-redis@3.0.0` or `fermyon:spin/inbound-redis`",
    );
}

/// Spin 4's async `spin:redis/inbound-redis@3.0.0` (spin-sdk 5.0.0) and the Spin 3 SDK's
/// component on one channel: both get every message.
#[test]
fn p2_and_p3_components_share_a_channel() {
    let redis = Redis::start();
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "both"
[[trigger.http]]
route = "/py/..."
component = "py"
[[trigger.redis]]
address = "redis://127.0.0.1:{port}"
channel = "messages"
component = "py"
[[trigger.redis]]
address = "redis://127.0.0.1:{port}"
channel = "messages"
component = "p3"
[component.py]
source = {py:?}
key_value_stores = ["default"]
[component.p3]
source = {p3:?}
key_value_stores = ["default"]
"#,
        port = redis.port,
        py = built_component("python"),
        p3 = built_component("spin4-redis-sdk5"),
    );
    let app = app_dir(&[("spin.toml", manifest.as_bytes())]);
    let spin = Spin::up(app.path(), &[]);
    assert!(
        spin.wait_for_log("subscribed to `messages`"),
        "{}",
        spin.stderr()
    );
    for message in ["one", "fail", "two"] {
        assert_eq!(
            publish(&redis, "messages", message),
            b":1\r\n",
            "one connection"
        );
    }
    assert_eq!(recorded(&spin, "two"), "one\nfail\ntwo\n");
    let start = Instant::now();
    loop {
        let p3 = spin.get("/py/kv/redis3-messages").text();
        if p3 == "one\nfail\ntwo\n" {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "P3 recorded {p3:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(spin.wait_for_log("component `p3` returned an error for a message on `messages`"));
}
