//! `wasi:sockets` from a real guest (Python's `socket` module in the spin-sdk 3.4.1 guest,
//! through wasi-libc) to TCP and UDP echo servers, granted by `allowed_outbound_hosts` as in
//! Spin: exact addresses, CIDR ranges, port ranges, variable templates and host names;
//! each denied case (its no-permission twin) fails in the guest, never reaches the server,
//! and is logged with the rule that would allow it.

use spin_tests::{Echo, Spin, app_dir, built_component};

/// One component per rule set, routed at `/<id>/...`, and the app's `variables` (TOML).
fn app(components: &[(&str, &str)], variables: &str) -> tempfile::TempDir {
    let mut manifest =
        String::from("spin_manifest_version = 2\n[application]\nname = \"sockets\"\n");
    for (id, rules) in components {
        manifest += &format!(
            "[[trigger.http]]\nroute = \"/{id}/...\"\ncomponent = \"{id}\"\n[component.{id}]\nsource = {:?}\nallowed_outbound_hosts = [{rules}]\n",
            built_component("python")
        );
    }
    manifest += variables;
    app_dir(&[("spin.toml", manifest.as_bytes())])
}

fn call(spin: &Spin, route: &str) -> (u16, String) {
    let r = spin.get(route);
    (r.status, r.text())
}

#[test]
fn tcp_and_udp_are_granted_by_address_range_port_and_name() {
    let echo = Echo::start();
    let p = echo.port;
    let app = app(
        &[
            (
                "exact",
                &format!("\"tcp://127.0.0.1:{p}\", \"udp://127.0.0.1:{p}\""),
            ),
            (
                "cidr",
                &format!("\"tcp://127.0.0.0/8:{}..{}\"", p - 1, p + 1),
            ),
            ("named", &format!("\"tcp://localhost:{p}\"")),
            ("http", "\"https://127.0.0.1:443\""),
        ],
        "",
    );
    let spin = Spin::up(app.path(), &[]);
    let tcp = format!("tcp?127.0.0.1:{p}");
    assert_eq!(
        call(&spin, &format!("/exact/{tcp}")),
        (200, "echo:ping\n".into())
    );
    assert_eq!(
        call(&spin, &format!("/exact/udp?127.0.0.1:{p}")),
        (200, "echo:ping\n".into())
    );
    assert_eq!(
        call(&spin, &format!("/cidr/{tcp}")),
        (200, "echo:ping\n".into())
    );
    // A name a rule allows is looked up, and the addresses it resolves to are allowed
    // through the rule (by name or by address).
    assert_eq!(
        call(&spin, &format!("/named/tcp?localhost:{p}")),
        (200, "echo:ping\n".into())
    );
    assert_eq!(
        call(&spin, &format!("/named/{tcp}")),
        (200, "echo:ping\n".into())
    );
    assert_eq!(echo.hits(), 5);

    // The twins: another port, UDP under a TCP rule, an address or name no rule names, and
    // a component whose rules are all HTTP.
    let denied = [
        (
            format!("/exact/tcp?127.0.0.1:{}", p + 1),
            "connect: PermissionError",
        ),
        (
            format!("/exact/udp?127.0.0.1:{}", p + 1),
            "send: PermissionError",
        ),
        // No UDP rule at all: not even a UDP socket.
        (
            format!("/cidr/udp?127.0.0.1:{p}"),
            "connect: PermissionError",
        ),
        (
            format!("/named/tcp?localhost:{}", p + 1),
            "connect: PermissionError",
        ),
        (
            format!("/exact/tcp?localhost:{p}"),
            "resolve: PermissionError",
        ),
        // No TCP or UDP rule: no name lookups either, nor sockets.
        (format!("/http/{tcp}"), "resolve: gaierror"),
    ];
    let got: Vec<(String, (u16, String))> = denied
        .iter()
        .map(|(route, _)| (route.clone(), call(&spin, route)))
        .collect();
    let want: Vec<(String, (u16, String))> = denied
        .iter()
        .map(|(route, error)| (route.clone(), (500, error.to_string())))
        .collect();
    assert_eq!(got, want);
    assert_eq!(echo.hits(), 5, "a denied socket reached the server");
    for line in [
        format!(
            "outbound request to tcp://127.0.0.1:{} denied: add \"tcp://127.0.0.1:{}\" to allowed_outbound_hosts of component `exact`",
            p + 1,
            p + 1
        ),
        format!(
            "outbound request to udp://127.0.0.1:{} denied: add \"udp://127.0.0.1:{}\" to allowed_outbound_hosts of component `exact`",
            p + 1,
            p + 1
        ),
        "name lookup of localhost denied: add \"tcp://localhost:<port>\"".to_string(),
    ] {
        assert!(spin.wait_for_log(&line), "{line}\n{}", spin.stderr());
    }
}

#[test]
fn rules_with_variable_templates_grant_sockets() {
    let echo = Echo::start();
    let variables = format!(
        "[variables]\nhost = {{ default = \"127.0.0.1\" }}\nport = {{ default = \"{}\" }}\n",
        echo.port
    );
    let app = app(&[("tpl", "\"tcp://{{ host }}:{{ port }}\"")], &variables);
    let spin = Spin::up(app.path(), &[]);
    assert_eq!(
        call(&spin, &format!("/tpl/tcp?127.0.0.1:{}", echo.port)),
        (200, "echo:ping\n".into())
    );
    let (status, _) = call(&spin, &format!("/tpl/tcp?127.0.0.2:{}", echo.port));
    assert_eq!(status, 500);
    assert_eq!(echo.hits(), 1);
}
