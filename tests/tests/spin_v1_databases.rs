//! Spin 1.x's databases, from one C guest (tests/guests/modules/spin-v1.c) built twice: as a
//! module of the unversioned `fermyon:spin` interfaces (componentized at load), and as a
//! module of the pre-component ABI (`outbound-redis`, `outbound-pg`, `outbound-mysql`,
//! `sqlite` imports, `handle-http-request` export). Both against real Redis, PostgreSQL and
//! MariaDB servers, and the app's SQLite database; the answers must be the same.

use spin_tests::mysql::MariaDb;
use spin_tests::postgres::Postgres;
use spin_tests::{Redis, Spin, app_dir, component};

/// The two builds of the guest.
const BUILDS: [&str; 2] = ["spin-v1.core", "spin-v1.legacy"];

fn app(wasm: &str, rules: &[String]) -> tempfile::TempDir {
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"v1-db\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"v1\"\n[component.v1]\nsource = {:?}\nallowed_outbound_hosts = {rules:?}\nsqlite_databases = [\"default\"]\n",
        component(wasm)
    );
    app_dir(&[("spin.toml", manifest.as_bytes())])
}

fn post(spin: &Spin, path: &str, body: &str) -> String {
    let r = spin.request("POST", path, body.as_bytes());
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    r.text()
}

#[test]
fn postgres_every_rdbms_type_a_transaction_across_calls_and_errors() {
    let db = Postgres::start();
    let address = db.url("secret", "?sslmode=disable");
    for wasm in BUILDS {
        let app = app(wasm, &[format!("postgres://127.0.0.1:{}", db.port)]);
        let spin = Spin::up(app.path(), &[]);
        let out = post(&spin, "/v1/pg", &address);
        let expected = [
            "insert=2",
            // name:db-data-type (boolean 0 … int16 2, int32 3, int64 4, floating32 9,
            // floating64 10, str 11, binary 12, other 13)
            "columns=id:3,name:11,big:4,f:10,ok:0,data:12,small:2,r:9,d:13",
            "row=i32:1,str:one ✓,i64:-1099511627776,f64:2.25,bool:1,bin:00ff10,i16:-7,f32:1.5,null",
            "row=i32:2,null,null,null,null,null,null,null,unsupported",
            "bad=error 3: ERROR: relation \"nowhere\" does not exist (SQLSTATE 42P01)",
        ];
        assert_eq!(out, expected.join("\n"), "{wasm}");
        // The address is not allowed: connection-failed, naming it without the password.
        let denied = address.replace("127.0.0.1", "localhost");
        let out = post(&spin, "/v1/pg", &denied);
        assert!(
            out.starts_with("drop=error 1: address postgres://localhost:"),
            "{wasm}: {out}"
        );
        assert!(!out.contains("secret"), "{out}");
    }
}

#[test]
fn mysql_every_rdbms_type_and_errors() {
    let db = MariaDb::start();
    for wasm in BUILDS {
        let app = app(wasm, &[format!("mysql://127.0.0.1:{}", db.port)]);
        let spin = Spin::up(app.path(), &[]);
        let out = post(&spin, "/v1/mysql", &db.url("secret"));
        let expected = [
            "insert=ok",
            // int32 3, str 11, int64 4, floating64 10, int8 1, uint32 7, binary 12, int32 3
            "columns=id:3,name:11,big:4,f:10,small:1,u:7,data:12,n:3",
            "row=i32:1,str:one ✓,i64:-1099511627776,f64:2.25,i8:-7,u32:4000000000,bin:00ff10,null",
            "bad=error 3: ERROR 1146 (42S02): Table 'spin.nowhere' doesn't exist",
        ];
        assert_eq!(out, expected.join("\n"), "{wasm}");
        let out = post(&spin, "/v1/mysql", &db.url("wrong"));
        assert!(out.starts_with("drop=error 1: "), "{wasm}: {out}");
    }
}

#[test]
fn sqlite_values_permissions_and_connection_numbers() {
    for wasm in BUILDS {
        let app = app(wasm, &[]);
        let spin = Spin::up(app.path(), &[]);
        let out = post(&spin, "/v1/sqlite", "");
        let expected = [
            // `secret` is not in sqlite_databases: access-denied (1).
            "secret=error 1",
            "columns=c,i,r,t,hex(b),n",
            "row=int:1,int:-1099511627776,real:2.25,text:text ✓,text:00FF,null",
            "bad=error 4: no such table: nowhere",
            // After close, the number names nothing: invalid-connection (2).
            "closed=error 2",
        ];
        assert_eq!(out, expected.join("\n"), "{wasm}");
        // The same file the next time round: two rows now.
        let out = post(&spin, "/v1/sqlite", "");
        assert!(out.contains("\nrow=int:2,"), "{wasm}: {out}");
    }
}

#[test]
fn redis_every_operation_through_the_old_abi() {
    let redis = Redis::start();
    let address = format!("redis://127.0.0.1:{}", redis.port);
    let app = app("spin-v1.legacy", std::slice::from_ref(&address));
    let spin = Spin::up(app.path(), &[]);
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
    assert_eq!(post(&spin, "/v1/redis", &address), expected.join("\n"));
    assert_eq!(redis.command(&[b"GET", b"v1:e"]), b"$1\r\n5\r\n");
    let out = post(&spin, "/v1/redis", "redis://127.0.0.2:6379");
    assert!(out.starts_with("set=error 1\nget=error 1"), "{out}");
}
