//! SQLite as Spin apps use it, from real guests: the Spin 3 Python SDK's component
//! (`fermyon:spin/sqlite@2.0.0`, and `spin:sqlite@3.0.0`'s synchronous functions) and Spin
//! 4's (spin-sdk 5.0.0 and 4.0.0: `spin:sqlite@3.1.0`, rows streamed by `execute-async`).
//! Every value type both ways, `last-insert-rowid` and `changes`, `sqlite_databases`
//! permissions, `spin up --sqlite`, a runtime-config database, and data that outlives a
//! restart in Spin's file `<state-dir>/sqlite_db.db`.

use serde_json::{Value, json};
use spin_tests::{Spin, app_dir, assert_contains, built_component};

/// `/<route>/sql/<db>` for every interface version: (route, guest's path segment).
const GUESTS: [(&str, &str); 4] = [
    ("py", "sql"),
    ("py", "sql3"),
    ("sdk5", "sql"),
    ("sdk4", "sql"),
];

fn app() -> tempfile::TempDir {
    let mut manifest =
        String::from("spin_manifest_version = 2\n[application]\nname = \"sqlite\"\n");
    for (id, wasm) in [
        ("py", "python"),
        ("sdk5", "spin4-sdk5"),
        ("sdk4", "spin4-sdk4"),
        ("js", "js"),
    ] {
        let databases = if id == "sdk4" {
            r#"["default", "extra", "unconfigured"]"#
        } else {
            r#"["default"]"#
        };
        manifest += &format!(
            "[[trigger.http]]\nroute = \"/{id}/...\"\ncomponent = \"{id}\"\n[component.{id}]\nsource = {:?}\nsqlite_databases = {databases}\n",
            built_component(wasm)
        );
    }
    let schema = b"CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB);\nINSERT INTO things (name) VALUES ('from the file');\n";
    let runtime_config = b"[sqlite_database.extra]\ntype = \"spin\"\npath = \"extra/extra.db\"\n";
    app_dir(&[
        ("spin.toml", manifest.as_bytes()),
        ("schema.sql", schema),
        ("runtime-config.toml", runtime_config),
    ])
}

fn sql(spin: &Spin, route: &str, query: Value) -> (u16, Value) {
    let r = spin.request("POST", route, query.to_string().as_bytes());
    let body = serde_json::from_slice(&r.body).unwrap_or(Value::String(r.text()));
    (r.status, body)
}

/// `spin up` with the app's runtime config; `@schema.sql` in `extra` is the app's file.
fn start(app: &std::path::Path, extra: &[&str]) -> Spin {
    let config = app.join("runtime-config.toml").display().to_string();
    let schema = format!("@{}", app.join("schema.sql").display());
    let mut flags = vec!["--runtime-config-file", config.as_str()];
    flags.extend(extra.iter().map(|f| {
        if *f == "@schema.sql" {
            schema.as_str()
        } else {
            f
        }
    }));
    Spin::up(app, &flags)
}

#[test]
fn every_interface_version_reads_and_writes_every_value_type() {
    let app = app();
    let spin = start(app.path(), &["--sqlite", "@schema.sql"]);
    let insert = "INSERT INTO things (name, score, data) VALUES (?, ?, ?)";
    for (n, (id, path)) in GUESTS.into_iter().enumerate() {
        let route = format!("/{id}/{path}/default");
        let name = format!("{id}-{path}");
        let (status, out) = sql(
            &spin,
            &route,
            json!({"sql": insert, "params": [name, 0.5 + n as f64, {"blob": "00ff10"}]}),
        );
        assert_eq!(status, 200, "{route}: {out}");
        let rowid = 2 + n as i64;
        if path == "sql3" || id != "py" {
            // Versions with counters: this connection's insert, and one row changed.
            assert_eq!(
                (&out["last_insert_rowid"], &out["changes"]),
                (&json!(rowid), &json!(1)),
                "{route}"
            );
        }
        let (_, row) = sql(
            &spin,
            &route,
            json!({"sql": "SELECT id, name, score, data, NULL AS empty FROM things WHERE id = ?", "params": [rowid]}),
        );
        assert_eq!(
            row["columns"],
            json!(["id", "name", "score", "data", "empty"])
        );
        assert_eq!(
            row["rows"],
            json!([[rowid, name, 0.5 + n as f64, {"blob": "00ff10"}, null]]),
            "{route}"
        );
    }
    // Everyone sees every row: the file's, then one per guest.
    let (_, all) = sql(
        &spin,
        "/sdk4/sql/default",
        json!({"sql": "SELECT name FROM things ORDER BY id"}),
    );
    assert_eq!(
        all["rows"],
        json!([
            ["from the file"],
            ["py-sql"],
            ["py-sql3"],
            ["sdk5-sql"],
            ["sdk4-sql"]
        ])
    );
    // A read leaves a fresh connection's counters at 0 (the database's connection is shared).
    assert_eq!(
        (&all["last_insert_rowid"], &all["changes"]),
        (&json!(0), &json!(0))
    );
}

#[test]
fn the_javascript_toolchain_reads_and_writes_every_value_type() {
    let app = app();
    let spin = start(app.path(), &["--sqlite", "@schema.sql"]);
    let insert = json!({"sql": "INSERT INTO things (id, name, score, data) VALUES (?, ?, ?, ?)",
        "params": [["integer", "9007199254740993"], ["text", "from js"], ["real", 1.5], ["blob", "00ff10"]]});
    assert_eq!(sql(&spin, "/js/sql/default", insert).0, 200);
    let (status, out) = sql(
        &spin,
        "/js/sql/default",
        json!({"sql": "SELECT id, name, score, data, NULL FROM things WHERE name = ?", "params": [["text", "from js"]]}),
    );
    assert_eq!(status, 200, "{out}");
    assert_eq!(
        out["rows"],
        // 64-bit integers beyond 2^53 travel as text in the guest's JSON.
        json!([[
            ["integer", "9007199254740993"],
            ["text", "from js"],
            ["real", 1.5],
            ["blob", "00ff10"],
            ["null"]
        ]])
    );
    let (_, seen) = sql(
        &spin,
        "/py/sql/default",
        json!({"sql": "SELECT id FROM things WHERE name = 'from js'"}),
    );
    assert_eq!(seen["rows"], json!([[9_007_199_254_740_993i64]]));
}

#[test]
fn permissions_and_sql_errors_are_the_interfaces_errors() {
    let app = app();
    let spin = start(app.path(), &["--sqlite", "@schema.sql"]);
    let select = json!({"sql": "SELECT 1"});
    for (id, path) in GUESTS {
        let at = |db: &str| format!("/{id}/{path}/{db}");
        if id != "sdk4" {
            assert_eq!(
                sql(&spin, &at("extra"), select.clone()),
                (500, json!("access-denied")),
                "{id}"
            );
        }
        let (status, err) = sql(&spin, &at("default"), json!({"sql": "SELEC nonsense"}));
        assert_eq!((status, err), (500, json!("io")), "{id}/{path}");
    }
    assert_eq!(
        sql(&spin, "/sdk4/sql/unconfigured", select.clone()),
        (500, json!("no-such-database"))
    );
    // A runtime-config database is its own file.
    let (status, _) = sql(
        &spin,
        "/sdk4/sql/extra",
        json!({"sql": "CREATE TABLE x (v TEXT)"}),
    );
    assert_eq!(status, 200);
    assert!(app.path().join("extra/extra.db").is_file());
    assert!(spin.wait_for_log(
        "SQLite database `extra` denied: add it to `sqlite_databases` of component `py`"
    ));
    assert!(spin.wait_for_log("SQLite database `unconfigured` is not configured"));
}

#[test]
fn data_outlives_a_restart_in_spins_file() {
    let app = app();
    {
        let mut spin = start(
            app.path(),
            &[
                "--sqlite",
                "CREATE TABLE notes (text TEXT)",
                "--sqlite",
                "INSERT INTO notes VALUES ('first')",
            ],
        );
        let (status, _) = sql(
            &spin,
            "/sdk5/sql/default",
            json!({"sql": "INSERT INTO notes VALUES (?)", "params": ["second"]}),
        );
        assert_eq!(status, 200);
        assert_contains(&spin.stdout(), "SQLite database `default`: ");
        spin.interrupt();
    }
    let file = std::fs::read(app.path().join(".spin/sqlite_db.db")).unwrap();
    assert!(file.starts_with(b"SQLite format 3\0"));
    let spin = start(app.path(), &[]);
    let (_, notes) = sql(
        &spin,
        "/py/sql/default",
        json!({"sql": "SELECT text FROM notes ORDER BY rowid"}),
    );
    assert_eq!(notes["rows"], json!([["first"], ["second"]]));
}

#[test]
fn a_failing_sqlite_statement_stops_start_up_naming_it() {
    let app = app();
    let out = spin_tests::spin(
        &["up", "--sqlite", "CREATE TABLE", "--listen", "127.0.0.1:0"],
        app.path(),
    );
    assert!(!out.status.success());
    let text = spin_tests::output_text(&out);
    assert_contains(
        &text,
        "--sqlite \"CREATE TABLE\" failed on the default SQLite database",
    );
    let out = spin_tests::spin(&["up", "--sqlite", "@missing.sql"], app.path());
    assert_contains(
        &spin_tests::output_text(&out),
        "reading the SQL file missing.sql of --sqlite",
    );
}
