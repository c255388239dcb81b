//! Outbound MQTT from real guests to Debian's `mosquitto` broker: the Spin 3 Python SDK
//! (`fermyon:spin/mqtt@2.0.0`) and Spin 4's (spin-sdk 5.0.0 and 4.0.0: `spin:mqtt@3.0.0`)
//! publish at every QoS, seen by `mosquitto_sub`; credentials; addresses policed by
//! `allowed_outbound_hosts`; an unreachable broker.

use serde_json::json;
use spin_tests::{Spin, app_dir, built_component, free_port, wait_for_port};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// (route, component source)
const GUESTS: [(&str, &str); 4] = [
    ("py", "python"),
    ("sdk5", "spin4-sdk5"),
    ("sdk4", "spin4-sdk4"),
    ("js", "js"),
];

/// A `mosquitto` broker on a free loopback port; with `user`, only that user (password
/// `secret`) may connect.
struct Broker {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Broker {
    fn start(user: Option<&str>) -> Self {
        Self::with_tls(user, None)
    }

    /// With `tls_port`, also a TLS listener there (a certificate for 127.0.0.1 from a CA
    /// made here, `ca.pem` in the broker's directory).
    fn with_tls(user: Option<&str>, tls_port: Option<u16>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut config = format!("listener {port} 127.0.0.1\n");
        if let Some(tls) = tls_port {
            spin_tests::registry::server_certificate(dir.path());
            // Started as root, mosquitto reads them as its own user.
            use std::os::unix::fs::PermissionsExt;
            let readable = std::fs::Permissions::from_mode(0o755);
            std::fs::set_permissions(dir.path(), readable.clone()).unwrap();
            std::fs::set_permissions(dir.path().join("server.key"), readable).unwrap();
            let file = |name: &str| dir.path().join(name).display().to_string();
            config += &format!(
                "listener {tls} 127.0.0.1\ncafile {}\ncertfile {}\nkeyfile {}\n",
                file("ca.pem"),
                file("server.pem"),
                file("server.key")
            );
        }
        match user {
            Some(user) => {
                let passwords = dir.path().join("passwords");
                let made = Command::new("mosquitto_passwd")
                    .args(["-c", "-b"])
                    .arg(&passwords)
                    .args([user, "secret"])
                    .status()
                    .expect("mosquitto_passwd (Debian's mosquitto; tests/setup.sh installs it)");
                assert!(made.success());
                config += &format!(
                    "allow_anonymous false\npassword_file {}\n",
                    passwords.display()
                );
            }
            None => config += "allow_anonymous true\n",
        }
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(&conf, config).unwrap();
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto (Debian package; tests/setup.sh installs it)");
        wait_for_port(port, "mosquitto", &Default::default());
        if let Some(tls) = tls_port {
            wait_for_port(tls, "mosquitto (TLS)", &Default::default());
        }
        Self {
            child,
            port,
            _dir: dir,
        }
    }

    /// Subscribe to `topic` (as `user`), and return the first message once `publish` (called
    /// until the subscriber has one, as it may subscribe late) got it there.
    fn first_message(&self, topic: &str, user: Option<&str>, mut publish: impl FnMut()) -> String {
        let mut sub = Command::new("mosquitto_sub");
        sub.args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-t",
            topic,
            "-C",
            "1",
            "-v",
        ]);
        if let Some(user) = user {
            sub.args(["-u", user, "-P", "secret"]);
        }
        let sub = sub.stdout(Stdio::piped()).spawn().unwrap();
        let start = Instant::now();
        let pid = sub.id();
        loop {
            publish();
            std::thread::sleep(Duration::from_millis(200));
            let exited = std::fs::metadata(format!("/proc/{pid}")).is_err()
                || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .is_ok_and(|s| s.contains(") Z "));
            if exited {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no message on {topic}"
            );
        }
        let out = sub.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn app(ports: &[u16]) -> tempfile::TempDir {
    let rules = ports
        .iter()
        .map(|p| format!("\"mqtt://127.0.0.1:{p}\""))
        .collect::<Vec<_>>()
        .join(", ");
    app_with_rules(&rules)
}

/// Every guest, each allowed `rules` (TOML strings, comma-separated).
fn app_with_rules(rules: &str) -> tempfile::TempDir {
    let mut manifest = String::from("spin_manifest_version = 2\n[application]\nname = \"mqtt\"\n");
    for (id, wasm) in GUESTS {
        manifest += &format!(
            "[[trigger.http]]\nroute = \"/{id}/...\"\ncomponent = \"{id}\"\n[component.{id}]\nsource = {:?}\nallowed_outbound_hosts = [{rules}]\n",
            built_component(wasm)
        );
    }
    app_dir(&[("spin.toml", manifest.as_bytes())])
}

fn publish(spin: &Spin, id: &str, body: serde_json::Value) -> (u16, String) {
    let r = spin.request("POST", &format!("/{id}/mqtt"), body.to_string().as_bytes());
    (r.status, r.text())
}

#[test]
fn every_sdk_publishes_at_every_qos() {
    let broker = Broker::start(None);
    let app = app(&[broker.port]);
    let spin = Spin::up(app.path(), &[]);
    for (id, _) in GUESTS {
        for qos in 0..3 {
            let topic = format!("spin/{id}/{qos}");
            let got = broker.first_message(&topic, None, || {
                let body = json!({
                    "address": format!("mqtt://127.0.0.1:{}?client_id={id}-{qos}", broker.port),
                    "topic": topic, "payload": format!("hello at qos {qos}"), "qos": qos,
                });
                assert_eq!(
                    publish(&spin, id, body),
                    (200, "ok".into()),
                    "{id} qos {qos}"
                );
            });
            assert_eq!(got, format!("{topic} hello at qos {qos}"));
        }
    }
}

#[test]
fn mqtts_verifies_the_broker_against_the_trusted_roots() {
    let tls = free_port();
    let broker = Broker::with_tls(None, Some(tls));
    let app = app_with_rules(&format!("\"mqtts://127.0.0.1:{tls}\""));
    let body = |id: &str| {
        json!({"address": format!("mqtts://127.0.0.1:{tls}?client_id={id}-tls"),
               "topic": "spin/tls", "payload": format!("over tls from {id}"), "qos": 1})
    };
    // The system's roots, replaced by the test CA.
    let ca = broker._dir.path().join("ca.pem").display().to_string();
    let spin = Spin::start(app.path(), &[], &[("SSL_CERT_FILE", &ca)]).unwrap();
    for (id, _) in [GUESTS[0], GUESTS[1]] {
        let got = broker.first_message("spin/tls", None, || {
            assert_eq!(publish(&spin, id, body(id)), (200, "ok".into()), "{id}");
        });
        assert_eq!(got, format!("spin/tls over tls from {id}"));
    }
    drop(spin);
    // Without the CA the broker is not trusted.
    let spin = Spin::up(app.path(), &[]);
    assert_eq!(
        publish(&spin, "py", body("py")),
        (500, "connection-failed".into())
    );
}

#[test]
fn credentials_policy_and_unreachable_brokers_are_the_interfaces_errors() {
    let broker = Broker::start(Some("spin"));
    let closed = free_port();
    let app = app(&[broker.port, closed]);
    let spin = Spin::up(app.path(), &[]);
    let address = |port: u16, id: &str| format!("mqtt://127.0.0.1:{port}?client_id={id}");
    for (id, _) in GUESTS {
        // The right password.
        let got = broker.first_message("spin/auth", Some("spin"), || {
            let body = json!({"address": address(broker.port, id), "username": "spin", "password": "secret",
                              "topic": "spin/auth", "payload": id, "qos": 1});
            assert_eq!(publish(&spin, id, body), (200, "ok".into()), "{id}");
        });
        assert_eq!(got, format!("spin/auth {id}"));
        let failed = |body| publish(&spin, id, body);
        // A wrong one, a closed port, a denied host, an address without a client id.
        let wrong = json!({"address": address(broker.port, id), "username": "spin", "password": "nope", "topic": "t", "payload": "x"});
        assert_eq!(failed(wrong), (500, "connection-failed".into()), "{id}");
        let unreachable = json!({"address": address(closed, id), "topic": "t", "payload": "x"});
        assert_eq!(
            failed(unreachable),
            (500, "connection-failed".into()),
            "{id}"
        );
        let denied = json!({"address": address(1883, id), "topic": "t", "payload": "x"});
        assert_eq!(failed(denied), (500, "connection-failed".into()), "{id}");
        let no_client_id = json!({"address": format!("mqtt://127.0.0.1:{}", broker.port), "topic": "t", "payload": "x"});
        assert_eq!(
            failed(no_client_id),
            (500, "invalid-address".into()),
            "{id}"
        );
    }
    assert!(spin.wait_for_log(
        "outbound request to mqtt://127.0.0.1:1883 denied: add \"mqtt://127.0.0.1\" to allowed_outbound_hosts of component `py`"
    ), "{}", spin.stderr());
}
