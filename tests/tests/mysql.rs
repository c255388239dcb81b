//! Outbound MySQL against Debian's MariaDB, started in a temporary data directory: the
//! Spin 3 Python SDK (`fermyon:spin/mysql@2.0.0`) and Spin 4's (spin-sdk 5.0.0:
//! `spin:mysql@3.0.0`, rows streamed) write and read every type the interfaces define;
//! SQL errors, a wrong password, and a server the rules do not allow are the interfaces'
//! errors.

use serde_json::{Value, json};
use spin_tests::mysql::MariaDb;
use spin_tests::{Spin, app_dir, built_component};

/// (route, component source)
const GUESTS: [(&str, &str); 2] = [("py", "python"), ("sdk5", "spin4-sdk5")];

fn app(port: u16) -> tempfile::TempDir {
    let mut manifest = String::from("spin_manifest_version = 2\n[application]\nname = \"mysql\"\n");
    for (id, wasm) in GUESTS {
        manifest += &format!(
            "[[trigger.http]]\nroute = \"/{id}/...\"\ncomponent = \"{id}\"\n[component.{id}]\nsource = {:?}\nallowed_outbound_hosts = [\"mysql://127.0.0.1:{port}\"]\n",
            built_component(wasm)
        );
    }
    app_dir(&[("spin.toml", manifest.as_bytes())])
}

fn sql(spin: &Spin, id: &str, body: Value) -> (u16, Value) {
    let r = spin.request("POST", &format!("/{id}/mysql"), body.to_string().as_bytes());
    let text = r.text();
    (
        r.status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[test]
fn every_type_both_ways_from_the_spin_3_and_spin_4_sdks() {
    let db = MariaDb::start();
    db.root(
        "CREATE TABLE spin.t (id INT PRIMARY KEY, b BOOLEAN, i8 TINYINT, i16 SMALLINT, i32 INT, i64 BIGINT, \
         u8 TINYINT UNSIGNED, u16 SMALLINT UNSIGNED, u32 INT UNSIGNED, u64 BIGINT UNSIGNED, \
         f32 FLOAT, f64 DOUBLE, s VARCHAR(20), bin VARBINARY(8), d DATE, n INT NULL)",
    );
    let app = app(db.port);
    let spin = Spin::up(app.path(), &[]);
    let address = db.url("secret");
    for (n, (id, _)) in GUESTS.into_iter().enumerate() {
        let row = n as i64 + 1;
        let insert = json!({"address": address, "sql": "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            "params": [["int32", row], ["boolean", true], ["int8", -8], ["int16", -16], ["int32", -32], ["int64", -64],
                       ["uint8", 8], ["uint16", 16], ["uint32", 32], ["uint64", 18446744073709551615u64],
                       ["floating32", 1.5], ["floating64", 2.25], ["str", format!("from {id}")],
                       ["binary", "00ff10"], ["str", "2026-12-07"], ["null"]]});
        assert_eq!(sql(&spin, id, insert), (200, json!("ok")), "{id}");
        let (status, out) = sql(
            &spin,
            id,
            json!({"address": address, "query": true,
            "sql": "SELECT * FROM t WHERE id = ?", "params": [["int32", row]]}),
        );
        assert_eq!(status, 200, "{id}: {out}");
        let types: Vec<&str> = out["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c[1].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "int32",
                "int8",
                "int8",
                "int16",
                "int32",
                "int64",
                "uint8",
                "uint16",
                "uint32",
                "uint64",
                "floating32",
                "floating64",
                "str",
                "binary",
                "other",
                "int32"
            ],
            "{id}: BOOLEAN is TINYINT(1) in MariaDB"
        );
        assert_eq!(
            out["rows"],
            json!([[
                ["int32", row],
                ["int8", 1],
                ["int8", -8],
                ["int16", -16],
                ["int32", -32],
                ["int64", -64],
                ["uint8", 8],
                ["uint16", 16],
                ["uint32", 32],
                ["uint64", 18446744073709551615u64],
                ["floating32", 1.5],
                ["floating64", 2.25],
                ["str", format!("from {id}")],
                ["binary", "00ff10"],
                ["str", "2026-12-07"],
                ["dbnull"]
            ]]),
            "{id}"
        );
    }
    assert_eq!(
        db.root("SELECT s FROM spin.t ORDER BY id"),
        "from py\nfrom sdk5\n"
    );
}

#[test]
fn the_javascript_toolchain_reads_and_writes_mysql() {
    let db = MariaDb::start();
    db.root(
        "CREATE TABLE spin.j (id BIGINT UNSIGNED, s VARCHAR(20), bin VARBINARY(4), n INT NULL)",
    );
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"mysql-js\"\n[[trigger.http]]\nroute = \"/js/...\"\ncomponent = \"js\"\n[component.js]\nsource = {:?}\nallowed_outbound_hosts = [\"mysql://127.0.0.1:{}\"]\n",
        built_component("js"),
        db.port
    );
    let app = app_dir(&[("spin.toml", manifest.as_bytes())]);
    let spin = Spin::up(app.path(), &[]);
    // (64-bit values travel as decimal text: JSON numbers lose precision in JavaScript.)
    let insert = json!({"address": db.url("secret"), "sql": "INSERT INTO j VALUES (?, ?, ?, ?)",
        "params": [["uint64", "18446744073709551615"], ["str", "from js"], ["binary", "cafe"], ["null"]]});
    assert_eq!(sql(&spin, "js", insert), (200, json!({"affected": null})));
    let (status, out) = sql(
        &spin,
        "js",
        json!({"address": db.url("secret"), "query": true, "sql": "SELECT * FROM j"}),
    );
    assert_eq!(status, 200, "{out}");
    assert_eq!(
        out,
        json!({"columns": [["id", "uint64"], ["s", "str"], ["bin", "binary"], ["n", "int32"]],
               "rows": [[["uint64", "18446744073709551615"], ["str", "from js"], ["binary", "cafe"], ["db-null"]]]})
    );
    assert_eq!(db.root("SELECT s FROM spin.j"), "from js\n");
}

#[test]
fn sql_errors_credentials_and_policy_are_the_interfaces_errors() {
    let db = MariaDb::start();
    let app = app(db.port);
    let spin = Spin::up(app.path(), &[]);
    for (id, _) in GUESTS {
        let bad_sql = json!({"address": db.url("secret"), "sql": "SELEC nonsense", "query": true});
        assert_eq!(
            sql(&spin, id, bad_sql),
            (500, json!("query-failed")),
            "{id}"
        );
        let wrong = json!({"address": db.url("nope"), "sql": "SELECT 1", "query": true});
        assert_eq!(
            sql(&spin, id, wrong),
            (500, json!("connection-failed")),
            "{id}"
        );
        let denied =
            json!({"address": "mysql://spin:secret@127.0.0.2:3306/spin", "sql": "SELECT 1"});
        assert_eq!(
            sql(&spin, id, denied),
            (500, json!("connection-failed")),
            "{id}"
        );
    }
    // An allowed address naming a Unix socket (the server's own, which would take the
    // login) is refused before anything connects.
    let path = db.socket();
    let socket = json!({"address": format!("{}?socket={}", db.url("secret"), path.display()), "sql": "SELECT 1"});
    assert_eq!(sql(&spin, "py", socket), (500, json!("connection-failed")));
    assert!(spin.wait_for_log(
        "outbound request to mysql://127.0.0.2:3306 denied: add \"mysql://127.0.0.2\" to allowed_outbound_hosts of component `py`"
    ), "{}", spin.stderr());
    assert!(!spin.stderr().contains("secret"));
}
