//! Outbound PostgreSQL against Debian's server, started in a temporary data directory: the
//! Spin 3 Python SDK (spin-sdk 3.4.1: `fermyon:spin/postgres@2.0.0`, `spin:postgres@3.0.0`
//! and `@4.0.0`) and Spin 4's (spin-sdk 5.0.0: `spin:postgres@4.2.0`'s async functions)
//! write and read every type their version defines; SQL errors (structured in 4.x), wrong
//! passwords, bad parameters and denied hosts are the interfaces' errors; TLS per `sslmode`
//! with the server's CA given through the connection builder; connections are reused across
//! requests and reset between them.

use serde_json::{Value, json};
use spin_tests::postgres::Postgres;
use spin_tests::{Spin, app_dir, built_component};

fn app(port: u16) -> tempfile::TempDir {
    let mut manifest =
        String::from("spin_manifest_version = 2\n[application]\nname = \"postgres\"\n");
    for (id, wasm) in [("py", "python"), ("sdk5", "spin4-sdk5"), ("js", "js")] {
        manifest += &format!(
            "[[trigger.http]]\nroute = \"/{id}/...\"\ncomponent = \"{id}\"\n[component.{id}]\nsource = {:?}\nallowed_outbound_hosts = [\"postgres://127.0.0.1:{port}\"]\n",
            built_component(wasm)
        );
    }
    app_dir(&[("spin.toml", manifest.as_bytes())])
}

/// POST a statement to a guest route (`py/pg/2`, `sdk5/pg`, ...): (status, JSON reply).
fn pg(spin: &Spin, route: &str, body: Value) -> (u16, Value) {
    let r = spin.request("POST", &format!("/{route}"), body.to_string().as_bytes());
    let text = r.text();
    (
        r.status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn types(out: &Value) -> Vec<String> {
    out["columns"]
        .as_array()
        .unwrap_or_else(|| panic!("{out}"))
        .iter()
        .map(|c| c[1].as_str().unwrap().to_string())
        .collect()
}

const ALL_TYPES: &str = "CREATE TABLE t (id INT PRIMARY KEY, b BOOLEAN, i16 SMALLINT, i32 INT, \
    i64 BIGINT, f32 REAL, f64 DOUBLE PRECISION, s TEXT, vc VARCHAR(10), bin BYTEA, d DATE, \
    tm TIME, ts TIMESTAMP, tz TIMESTAMPTZ, u UUID, j JSONB, n NUMERIC, r4 INT4RANGE, \
    r8 INT8RANGE, rn NUMRANGE, a4 INT4[], a8 INT8[], an NUMERIC[], ast TEXT[], iv INTERVAL, \
    inet INET, nul INT)";

#[test]
fn every_type_of_spin_4_both_ways() {
    let db = Postgres::start();
    db.admin(ALL_TYPES);
    db.admin("ALTER TABLE t OWNER TO spin");
    let app = app(db.port);
    let spin = Spin::up(app.path(), &[]);
    let big = "123456789012345678901234567890.000000001";
    let params = json!([
        ["int32", 1],
        ["boolean", true],
        ["int16", -16],
        ["int32", -32],
        ["int64", -6_400_000_000i64],
        ["floating32", 1.5],
        ["floating64", 2.25],
        ["str", "text ✓"],
        ["str", "varchar"],
        ["binary", "00ff10"],
        ["date", [2026, 12, 7]],
        ["time", [23, 59, 58, 123_456_000]],
        ["datetime", [2026, 12, 7, 22, 55, 2, 500_000_000]],
        ["timestamp", 1_765_148_102],
        ["uuid", "6f1c9a4e-2b7d-4c1e-9f3a-0d2e4b6a8c10"],
        ["jsonb", "{\"a\": [1, 2, null]}"],
        ["decimal", big],
        ["range-int32", [[1, true], [10, false]]],
        ["range-int64", [null, [5_000_000_000i64, true]]],
        ["range-decimal", [["1.5", false], null]],
        ["array-int32", [1, null, 3]],
        ["array-int64", [9_000_000_000i64]],
        ["array-decimal", ["1.10", null]],
        ["array-str", ["a", null, "c,d"]],
        ["interval", [3_600_000_001i64, 2, 14]],
        ["str", "10.1.2.3"],
        ["db-null"]
    ]);
    let placeholders: Vec<String> = (1..=27).map(|i| format!("${i}")).collect();
    let insert = json!({"address": db.url("secret", ""),
        "sql": format!("INSERT INTO t VALUES ({})", placeholders.join(", ")), "params": params});
    // INET has no case of its own: a string parameter cannot be one.
    let (status, out) = pg(&spin, "sdk5/pg", insert.clone());
    assert_eq!(status, 500, "{out}");
    assert_eq!(out["error"], "bad-parameter", "{out}");
    assert!(
        out["message"].as_str().unwrap().contains("$26")
            && out["message"].as_str().unwrap().contains("inet"),
        "{out}"
    );
    let mut insert = insert;
    insert["sql"] = json!(format!(
        "INSERT INTO t VALUES ({}, $26::text::inet, $27)",
        placeholders[..25].join(", ")
    ));
    assert_eq!(pg(&spin, "sdk5/pg", insert), (200, json!({"affected": 1})));

    let (status, out) = pg(
        &spin,
        "sdk5/pg",
        json!({"address": db.url("secret", ""), "query": true, "sql": "SELECT * FROM t"}),
    );
    assert_eq!(status, 200, "{out}");
    assert_eq!(
        types(&out),
        [
            "int32",
            "boolean",
            "int16",
            "int32",
            "int64",
            "floating32",
            "floating64",
            "str",
            "str",
            "binary",
            "date",
            "time",
            "datetime",
            "datetime",
            "uuid",
            "jsonb",
            "decimal",
            "range-int32",
            "range-int64",
            "range-decimal",
            "array-int32",
            "array-int64",
            "array-decimal",
            "array-str",
            "interval",
            "other:inet",
            "int32"
        ]
    );
    assert_eq!(
        out["rows"][0],
        json!([
            ["int32", 1],
            ["boolean", true],
            ["int16", -16],
            ["int32", -32],
            ["int64", -6_400_000_000i64],
            ["floating32", 1.5],
            ["floating64", 2.25],
            ["str", "text ✓"],
            ["str", "varchar"],
            ["binary", "00ff10"],
            ["date", [2026, 12, 7]],
            ["time", [23, 59, 58, 123_456_000]],
            ["datetime", [2026, 12, 7, 22, 55, 2, 500_000_000]],
            ["datetime", [2025, 12, 7, 22, 55, 2, 0]],
            ["uuid", "6f1c9a4e-2b7d-4c1e-9f3a-0d2e4b6a8c10"],
            ["jsonb", "{\"a\": [1, 2, null]}"],
            ["decimal", big],
            // PostgreSQL normalises discrete ranges to [lower, upper).
            ["range-int32", [[1, "inclusive"], [10, "exclusive"]]],
            ["range-int64", [null, [5_000_000_001i64, "exclusive"]]],
            ["range-decimal", [["1.5", "exclusive"], null]],
            ["array-int32", [1, null, 3]],
            ["array-int64", [9_000_000_000i64]],
            ["array-decimal", ["1.10", null]],
            ["array-str", ["a", null, "c,d"]],
            ["interval", [3_600_000_001i64, 2, 14]],
            // INET's binary form: family, bits, is-cidr, length, address.
            ["unsupported", "022000040a010203"],
            ["db-null"]
        ])
    );
    // What the server itself stored, in its own text forms.
    assert_eq!(
        db.admin("SELECT d, tm, ts, tz AT TIME ZONE 'UTC', n, iv, j FROM t"),
        format!(
            "2026-12-07|23:59:58.123456|2026-12-07 22:55:02.5|2025-12-07 22:55:02|{big}|1 year 2 mons 2 days 01:00:00.000001|{{\"a\": [1, 2, null]}}"
        )
    );

    // A query that matches no row still names its columns; NaN and infinities are decimals.
    let (status, out) = pg(
        &spin,
        "sdk5/pg",
        json!({"address": db.url("secret", ""), "query": true,
               "sql": "SELECT id, n FROM t WHERE id = $1 UNION ALL SELECT 0, 'NaN' WHERE $1 < 0",
               "params": [["int64", -1]]}),
    );
    assert_eq!(status, 200, "{out}");
    assert_eq!(types(&out), ["int32", "decimal"]);
    assert_eq!(out["rows"], json!([[["int32", 0], ["decimal", "NaN"]]]));
    let (_, out) = pg(
        &spin,
        "sdk5/pg",
        json!({"address": db.url("secret", ""), "query": true, "sql": "SELECT id FROM t WHERE id = 99"}),
    );
    assert_eq!(out, json!({"columns": [["id", "int32"]], "rows": []}));
}

#[test]
fn the_spin_3_sdk_through_versions_2_3_and_4() {
    let db = Postgres::start();
    db.admin("CREATE TABLE v (id INT, s TEXT, d DATE, u UUID, big BIGINT, bin BYTEA, nul TEXT)");
    db.admin("ALTER TABLE v OWNER TO spin");
    let app = app(db.port);
    let spin = Spin::up(app.path(), &[]);
    let address = db.url("secret", "");
    for version in [2, 3, 4] {
        // An int32 parameter fits a BIGINT column; the server's own count comes back.
        let insert = json!({"address": address,
            "sql": "INSERT INTO v VALUES ($1, $2, '2026-12-07', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', $3, $4, $5)",
            "params": [["int32", version], ["str", format!("v{version}")], ["int32", 7], ["binary", "cafe"], ["db-null"]]});
        assert_eq!(
            pg(&spin, &format!("py/pg/{version}"), insert),
            (200, json!({"affected": 1})),
            "version {version}"
        );
        let (status, out) = pg(
            &spin,
            &format!("py/pg/{version}"),
            json!({"address": address, "query": true, "params": [["int32", version]],
                   "sql": "SELECT id, s, d, u, big, bin, nul FROM v WHERE id = $1"}),
        );
        assert_eq!(status, 200, "version {version}: {out}");
        // Each version has cases for what it defines; the rest are `unsupported`/`other`.
        let (date_type, date, uuid_type, uuid) = match version {
            2 => (
                "other",
                json!(["unsupported"]),
                "other",
                json!(["unsupported"]),
            ),
            3 => (
                "date",
                json!(["date", [2026, 12, 7]]),
                "other",
                json!(["unsupported"]),
            ),
            _ => (
                "date",
                json!(["date", [2026, 12, 7]]),
                "uuid",
                json!(["uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]),
            ),
        };
        assert_eq!(
            types(&out),
            [
                "int32", "str", date_type, uuid_type, "int64", "binary", "str"
            ],
            "version {version}"
        );
        assert_eq!(
            out["rows"],
            json!([[
                ["int32", version],
                ["str", format!("v{version}")],
                date,
                uuid,
                ["int64", 7],
                ["binary", "cafe"],
                ["db-null"]
            ]]),
            "version {version}"
        );
    }
    assert_eq!(db.admin("SELECT count(*) FROM v"), "3");
}

#[test]
fn the_javascript_toolchain_through_version_2() {
    let db = Postgres::start();
    db.admin(
        "CREATE TABLE j (id BIGINT, s TEXT, f DOUBLE PRECISION, b BOOLEAN, bin BYTEA, d DATE)",
    );
    db.admin("ALTER TABLE j OWNER TO spin");
    let app = app(db.port);
    let spin = Spin::up(app.path(), &[]);
    let address = db.url("secret", "");
    let insert = json!({"address": address,
        "sql": "INSERT INTO j VALUES ($1, $2, $3, $4, $5, '2026-12-07'), ($1 + 1, NULL, NULL, NULL, NULL, NULL)",
        "params": [["int64", "9007199254740993"], ["str", "from js"], ["floating64", 0.25], ["boolean", true], ["binary", "beef"]]});
    assert_eq!(pg(&spin, "js/pg", insert), (200, json!({"affected": 2})));
    let (status, out) = pg(
        &spin,
        "js/pg",
        json!({"address": address, "query": true, "sql": "SELECT * FROM j ORDER BY id"}),
    );
    assert_eq!(status, 200, "{out}");
    assert_eq!(
        out,
        json!({
            "columns": [["id", "int64"], ["s", "str"], ["f", "floating64"], ["b", "boolean"],
                        ["bin", "binary"], ["d", "other"]],
            "rows": [
                [["int64", "9007199254740993"], ["str", "from js"], ["floating64", 0.25],
                 ["boolean", true], ["binary", "beef"], ["unsupported"]],
                [["int64", "9007199254740994"], ["db-null"], ["db-null"], ["db-null"],
                 ["db-null"], ["db-null"]]
            ]
        })
    );
    let (status, out) = pg(
        &spin,
        "js/pg",
        json!({"address": address, "query": true, "sql": "SELECT nope FROM j"}),
    );
    assert_eq!((status, out["error"].as_str()), (500, Some("query-failed")));
    assert_eq!(
        out["message"],
        "ERROR: column \"nope\" does not exist (SQLSTATE 42703)"
    );
}

#[test]
fn sql_errors_bad_parameters_credentials_and_policy_are_the_interfaces_errors() {
    let db = Postgres::start();
    let app = app(db.port);
    let spin = Spin::up(app.path(), &[]);
    let address = db.url("secret", "");
    // Spin 4: the server's structured error.
    let (status, out) = pg(
        &spin,
        "sdk5/pg",
        json!({"address": address, "query": true, "sql": "SELECT * FROM missing"}),
    );
    assert_eq!(status, 500);
    assert_eq!(out["error"], "query-failed");
    assert_eq!(out["code"], "42P01", "{out}");
    assert_eq!(out["severity"], "ERROR");
    assert_eq!(out["message"], "relation \"missing\" does not exist");
    // Older versions: the same as text.
    for version in [2, 3] {
        let (status, out) = pg(
            &spin,
            &format!("py/pg/{version}"),
            json!({"address": address, "query": true, "sql": "SELECT * FROM missing"}),
        );
        assert_eq!(status, 500);
        assert_eq!(out["error"], "query-failed");
        assert_eq!(
            out["message"],
            "ERROR: relation \"missing\" does not exist (SQLSTATE 42P01)"
        );
    }
    let cases = [
        (
            json!({"address": address, "sql": "SELECT $1::int", "params": [["str", "x"]], "query": true}),
            "bad-parameter",
            "parameter $1: a str value cannot be stored as int4",
        ),
        (
            json!({"address": address, "sql": "SELECT $1::smallint", "params": [["int64", 70000]], "query": true}),
            "bad-parameter",
            "parameter $1: 70000 is out of range for int2",
        ),
        (
            json!({"address": address, "sql": "SELECT $1::int, $2::int", "params": [["int32", 1]], "query": true}),
            "bad-parameter",
            "the statement has 2 placeholder(s) but 1 parameter(s) were given",
        ),
        (
            json!({"address": address, "sql": "SELECT $1::date", "params": [["date", [2026, 2, 30]]], "query": true}),
            "bad-parameter",
            "parameter $1: 2026-02-30 is not a date",
        ),
        (
            json!({"address": address, "sql": "SELECT $1::jsonb", "params": [["jsonb", "{nope"]], "query": true}),
            "bad-parameter",
            "parameter $1: the JSON value is not valid JSON",
        ),
    ];
    for (body, error, message) in cases {
        let (status, out) = pg(&spin, "sdk5/pg", body);
        assert_eq!((status, out["error"].as_str()), (500, Some(error)), "{out}");
        assert!(
            out["message"].as_str().unwrap().starts_with(message),
            "{out}"
        );
    }
    let (status, out) = pg(
        &spin,
        "sdk5/pg",
        json!({"address": db.url("wrong", ""), "sql": "SELECT 1", "query": true}),
    );
    assert_eq!(
        (status, out["error"].as_str()),
        (500, Some("connection-failed"))
    );
    assert!(
        out["message"]
            .as_str()
            .unwrap()
            .contains("password authentication failed"),
        "{out}"
    );
    for route in ["sdk5/pg", "py/pg/2"] {
        let denied =
            json!({"address": "postgres://spin:secret@127.0.0.2:5432/spin", "sql": "SELECT 1"});
        let (status, out) = pg(&spin, route, denied);
        assert_eq!(
            (status, out["error"].as_str()),
            (500, Some("connection-failed"))
        );
        assert_eq!(
            out["message"],
            "address postgres://127.0.0.2:5432 is not permitted"
        );
    }
    // `hostaddr` is where libpq's form connects: an allowed `host` does not cover it.
    let (_, out) = pg(
        &spin,
        "sdk5/pg",
        json!({"address": format!("host=127.0.0.1 hostaddr=127.0.0.2 port={} user=spin password=secret", db.port),
               "sql": "SELECT 1"}),
    );
    assert_eq!(
        (out["error"].as_str(), out["message"].as_str()),
        (
            Some("connection-failed"),
            Some(format!("address postgres://127.0.0.2:{} is not permitted", db.port).as_str())
        )
    );
    let unix = json!({"address": "host=/var/run/postgresql user=spin", "sql": "SELECT 1"});
    let (_, out) = pg(&spin, "sdk5/pg", unix);
    assert_eq!(out["error"], "connection-failed");
    assert!(
        spin.wait_for_log(
            "outbound request to postgres://127.0.0.2:5432 denied: add \"postgres://127.0.0.2\" to allowed_outbound_hosts of component `sdk5`"
        ),
        "{}",
        spin.stderr()
    );
    assert!(!spin.stderr().contains("secret"), "{}", spin.stderr());
}

#[test]
fn tls_per_sslmode_with_the_servers_ca_from_the_connection_builder() {
    let db = Postgres::start_tls();
    let ca = db.ca.clone().unwrap();
    let app = app(db.port);
    let spin = Spin::up(app.path(), &[]);
    let ssl = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
    // The server's certificate is checked against the CA given.
    let (status, out) = pg(
        &spin,
        "sdk5/pg",
        json!({"address": db.url("secret", "?sslmode=require"), "ca": ca, "query": true, "sql": ssl}),
    );
    assert_eq!(
        (status, &out["rows"]),
        (200, &json!([[["boolean", true]]])),
        "{out}"
    );
    // Without it the certificate is not trusted, whether TLS is required or preferred.
    for mode in ["require", "prefer"] {
        let (status, out) = pg(
            &spin,
            "sdk5/pg",
            json!({"address": db.url("secret", &format!("?sslmode={mode}")), "query": true, "sql": ssl}),
        );
        assert_eq!(
            (status, out["error"].as_str()),
            (500, Some("connection-failed")),
            "{mode}"
        );
        assert!(
            out["message"].as_str().unwrap().contains("set-ca-root"),
            "{out}"
        );
    }
    // sslmode=disable is plain TCP.
    let (status, out) = pg(
        &spin,
        "sdk5/pg",
        json!({"address": db.url("secret", "?sslmode=disable"), "query": true, "sql": ssl}),
    );
    assert_eq!(
        (status, &out["rows"]),
        (200, &json!([[["boolean", false]]])),
        "{out}"
    );
    // A CA that is not PEM is the builder's error.
    let (_, out) = pg(
        &spin,
        "sdk5/pg",
        json!({"address": db.url("secret", ""), "ca": "not a certificate", "sql": "SELECT 1"}),
    );
    assert_eq!(out["error"], "other", "{out}");
}

#[test]
fn connections_are_reused_across_requests_and_reset_between_them() {
    let db = Postgres::start();
    // A type of its own per request: each is looked up by the client on first use, with a
    // statement it prepared once (which the reset between requests must leave in place).
    for i in 0..20 {
        db.admin(&format!("CREATE TYPE mood{i} AS ENUM ('sad', 'ok')"));
    }
    let app = app(db.port);
    let spin = Spin::up(app.path(), &[]);
    let address = db.url("secret", "");
    let mut pids = std::collections::HashSet::new();
    let mut reused = false;
    for i in 0..20 {
        // Each request leaves a setting and a prepared statement behind.
        let (status, out) = pg(
            &spin,
            "sdk5/pg",
            json!({"address": address, "query": true,
                   "sql": format!("SELECT pg_backend_pid(), current_setting('application_name'), 'ok'::mood{i}, \
                                   (SELECT count(*)::int4 FROM pg_prepared_statements WHERE from_sql)")}),
        );
        assert_eq!(status, 200, "{out}");
        assert_eq!(
            out["rows"][0][1],
            json!(["str", ""]),
            "a setting leaked from an earlier request"
        );
        assert_eq!(out["rows"][0][2], json!(["str", "ok"]));
        assert_eq!(
            out["rows"][0][3],
            json!(["int32", 0]),
            "a statement the guest prepared leaked from an earlier request"
        );
        let pid = out["rows"][0][0][1].as_i64().unwrap();
        for sql in [
            "SET application_name = 'leaked'",
            "PREPARE leaked AS SELECT 1",
        ] {
            let (status, out) = pg(&spin, "sdk5/pg", json!({"address": address, "sql": sql}));
            assert_eq!(status, 200, "{out}");
        }
        if !pids.insert(pid) {
            reused = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(reused, "every request opened a new connection: {pids:?}");
}
