//! Spin 4's Python SDK (WASI P3) as a new Spin user gets it, built by `tests/setup.sh` from
//! pinned releases: spin-sdk 5.0.0 + componentize-py 0.25.1 (`spin:up/http-trigger@4.1.0`:
//! exports `wasi:http/handler@0.3.0`, imports both WASI 0.3.0 and its release candidate) and
//! spin-sdk 4.0.0 + componentize-py 0.23.0 (`spin:up/http-trigger@4.0.0`: everything at
//! `0.3.0-rc-2026-03-15`). Both run hello, `spin:key-value@3.0.0` (get-keys as a stream, a
//! 200 KB value), `spin:variables@3.0.0`, allowed and denied `wasi:http/client` requests and a
//! stand-in's error, next to a Spin 3 SDK (P2) component that shares their store.

use spin_tests::{Spin, Upstream, app_dir, assert_contains, built_component};

const SDKS: [&str; 2] = ["sdk5", "sdk4"];

fn app(upstream: u16) -> tempfile::TempDir {
    let mut manifest = String::from(
        r#"spin_manifest_version = 2
[application]
name = "spin4"
[variables]
greeting = { default = "hello from a variable" }
[[trigger.http]]
route = "/py/..."
component = "py"
[component.py]
source = "PY"
key_value_stores = ["default"]
"#,
    )
    .replace("PY", built_component("python").to_str().unwrap());
    for sdk in SDKS {
        manifest += &format!(
            r#"[[trigger.http]]
route = "/{sdk}/..."
component = "{sdk}"
[component.{sdk}]
source = {source:?}
key_value_stores = ["default"]
allowed_outbound_hosts = ["http://127.0.0.1:{upstream}"]
[component.{sdk}.variables]
greeting = "{{{{ greeting }}}}"
"#,
            source = built_component(&format!("spin4-{sdk}")),
        );
    }
    app_dir(&[("spin.toml", manifest.as_bytes())])
}

#[test]
fn spin_4_python_guests_serve_key_value_variables_and_outbound_http() {
    let upstream = Upstream::start();
    let app = app(upstream.port);
    let spin = Spin::up(app.path(), &[]);
    let big: Vec<u8> = (0..200 * 1024u32).map(|i| (i * 7 % 251) as u8).collect();
    for sdk in SDKS {
        let at = |path: &str| format!("/{sdk}/{path}");
        let get = |path: &str| {
            let r = spin.get(&at(path));
            (r.status, r.text())
        };
        assert_eq!(get("hello"), (200, "Hello from Spin 4 Python!\n".into()));

        // Key/value: set, get, exists, get-keys, delete, a 200 KB value.
        let key = format!("key-{sdk}");
        assert_eq!(
            spin.request("PUT", &at(&format!("kv/{key}")), b"v1").status,
            200
        );
        assert_eq!(get(&format!("kv/{key}")), (200, "v1".into()));
        assert_eq!(get(&format!("exists/{key}")), (200, "true".into()));
        assert_contains(&get("keys").1, &key);
        assert_eq!(spin.request("PUT", &at("kv/big"), &big).status, 200);
        let back = spin.get(&at("kv/big"));
        assert!(
            back.body == big,
            "{sdk}: 200 KB value came back as {} bytes",
            back.body.len()
        );
        assert_eq!(
            spin.request("DELETE", &at(&format!("kv/{key}")), b"")
                .status,
            200
        );
        assert_eq!(get(&format!("exists/{key}")), (200, "false".into()));
        assert_eq!(get(&format!("kv/{key}")).0, 404);
        assert_eq!(get("store/unlisted"), (500, "access-denied".into()));

        // Variables.
        assert_eq!(get("var/greeting"), (200, "hello from a variable".into()));
        assert_eq!(get("var/missing"), (500, "undefined".into()));
        assert_eq!(get("var/Not-Snake"), (500, "invalid-name".into()));

        // Outbound HTTP: allowed reaches the upstream, denied never leaves.
        let hits = upstream.hits();
        let allowed = get(&format!(
            "fetch?http://127.0.0.1:{}/from-{sdk}",
            upstream.port
        ));
        assert_eq!(allowed, (200, format!("200 upstream saw GET /from-{sdk}")));
        assert_eq!(
            get("fetch?http://127.0.0.2:9/nope"),
            (500, "http-request-denied".into())
        );
        assert_eq!(
            upstream.hits(),
            hits + 1,
            "{sdk}: the denied request never left"
        );

        // An interface not provided yet answers with its own error, not a trap.
        assert_eq!(get("llm"), (500, "runtime-error".into()));
    }
    assert!(spin.wait_for_log("outbound request to http://127.0.0.2:9 denied"));
    assert!(
        spin.wait_for_log("`fermyon:spin/llm@2.0.0#infer` is not supported by this runtime yet")
    );
}

#[test]
fn p2_and_p3_components_of_one_app_share_a_key_value_store() {
    let app = app(9);
    let spin = Spin::up(app.path(), &[]);
    assert_eq!(
        spin.request("PUT", "/sdk5/kv/from-p3", b"written by P3")
            .status,
        200
    );
    assert_eq!(
        spin.request("PUT", "/py/kv/from-p2", b"written by P2")
            .status,
        200
    );
    assert_eq!(spin.get("/py/kv/from-p3").text(), "written by P3");
    assert_eq!(spin.get("/sdk4/kv/from-p2").text(), "written by P2");
    for path in ["/py/keys", "/sdk5/keys", "/sdk4/keys"] {
        assert_eq!(spin.get(path).text(), "from-p2\nfrom-p3", "{path}");
    }
    assert_eq!(spin.request("DELETE", "/sdk4/kv/from-p2", b"").status, 200);
    assert_eq!(spin.get("/py/exists/from-p2").text(), "false");
}
