//! Manifest parsing: valid v1/v2 apps, v1 → v2 normalization, locking into Spin's locked
//! app format, and every malformed manifest in `manifests/invalid/` with its exact error
//! (`<name>.err` next to `<name>.toml`).

use spin_app::lock::{LockOptions, lock};
use spin_app::manifest::{self, ComponentSource, FileMount, HttpRoute};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    // At run time (cargo and nextest set it), so a build shared by several checkouts
    // reads this checkout's files.
    let dir = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or(env!("CARGO_MANIFEST_DIR").into());
    Path::new(&dir).join("tests/manifests")
}

fn parse_fixture(name: &str) -> Result<manifest::AppManifest, manifest::LocatedError> {
    let text = std::fs::read_to_string(fixtures().join(name)).unwrap();
    manifest::parse(Path::new("spin.toml"), &text)
}

#[test]
fn every_invalid_manifest_fails_with_its_exact_located_error() {
    let dir = fixtures().join("invalid");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 15,
        "only {} malformed manifests",
        cases.len()
    );
    for case in cases {
        let text = std::fs::read_to_string(&case).unwrap();
        let expected = std::fs::read_to_string(case.with_extension("err")).unwrap();
        let err = manifest::parse(Path::new("spin.toml"), &text)
            .err()
            .unwrap_or_else(|| panic!("{} parsed but must fail", case.display()));
        assert_eq!(
            format!("{err}\n"),
            expected,
            "{}",
            case.file_name().unwrap().to_string_lossy()
        );
        let location = err.location().expect("a content error has a location");
        assert!(location.line >= 1 && location.column >= 1);
    }
}

#[test]
fn full_v2_manifest_normalizes() {
    let m = parse_fixture("valid/full-v2.toml").unwrap();
    assert_eq!(m.name, "full");
    assert_eq!(m.authors, ["Ada <ada@example.com>"]);
    assert!(m.variables["token"].required);
    assert_eq!(
        m.variables["api_host"].default.as_deref(),
        Some("api.example.com")
    );
    // Generated trigger ids follow Spin; the inline component is moved into [component].
    let ids: Vec<_> = m.http_triggers.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "hello-http-trigger",
            "static-files",
            "http-trigger1",
            "backend-http-trigger"
        ]
    );
    assert_eq!(m.http_triggers[2].component, "http-trigger1-component");
    assert_eq!(m.http_triggers[3].route, HttpRoute::Private);
    let ids: Vec<_> = m.components.keys().map(String::as_str).collect();
    assert_eq!(ids, ["hello", "backend", "http-trigger1-component"]);
    let hello = &m.components["hello"];
    assert_eq!(
        hello.allowed_outbound_hosts,
        [
            "https://{{ api_host }}",
            "http://self",
            "*://127.0.0.1:3000..3010",
            "http://legacy.example.com:8080",
            "https://legacy.example.com:8080"
        ]
    );
    assert_eq!(
        hello.files,
        [
            FileMount::Pattern("assets/*.txt".into()),
            FileMount::Placement {
                source: "static".into(),
                destination: "/static".into()
            }
        ]
    );
    let build = hello.build.as_ref().unwrap();
    assert_eq!(build.commands, ["make", "make test"]);
    assert_eq!(build.workdir.as_deref(), Some("hello"));
    assert_eq!(build.watch, ["src/**/*.c"]);
    assert!(
        matches!(&m.components["backend"].source, ComponentSource::Remote { url, .. } if url == "https://example.com/backend.wasm")
    );
}

#[test]
fn v1_manifest_normalizes_to_its_v2_equivalent() {
    let v1 = parse_fixture("valid/v1-app.toml").unwrap();
    let v2 = parse_fixture("valid/v1-app-as-v2.toml").unwrap();
    assert_eq!(v1, v2);
}

#[test]
fn locking_produces_spins_locked_app_format() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let write = |p: &str, data: &[u8]| {
        let path = root.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    };
    write("hello.wasm", b"\0asm fake");
    write("assets/a.txt", b"a");
    write("assets/secret.txt", b"secret");
    write("static/index.html", b"<html>");
    let manifest_text = r#"spin_manifest_version = 2
[application]
name = "locked"
version = "2.0.0"
[variables]
who = { default = "world" }
[[trigger.http]]
route = "/hello/..."
component = "hello"
[component.hello]
source = "hello.wasm"
files = ["assets/*.txt", { source = "static", destination = "/web" }]
exclude_files = ["assets/secret.txt"]
allowed_outbound_hosts = ["https://example.com"]
key_value_stores = ["default"]
environment = { A = "1" }
[component.hello.variables]
greeting = "hello, {{ who }}"
"#;
    write("spin.toml", manifest_text.as_bytes());
    let manifest_path = root.join("spin.toml");
    let m = manifest::load(&manifest_path).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let options = LockOptions {
        download_cache: root.join("cache"),
    };
    let locked = rt.block_on(lock(&m, &manifest_path, &options)).unwrap();
    let json = String::from_utf8(locked.to_json()).unwrap();
    let canonical_root = root.canonicalize().unwrap();
    let json = json
        .replace(
            &format!("file://{}", canonical_root.display()),
            "file://<root>",
        )
        .replace(&format!("file://{}", root.display()), "file://<root>");
    let sha = |b: &[u8]| spin_app::Digest::of_bytes(b).to_string();
    let expected = serde_json::json!({
        "spin_lock_version": 0,
        "metadata": {
            "name": "locked",
            "version": "2.0.0",
            "origin": "file://<root>/spin.toml",
            "trigger": { "type": "http" },
            "triggers": {}
        },
        "variables": { "who": { "default": "world" } },
        "triggers": [{
            "id": "hello-http-trigger",
            "trigger_type": "http",
            "trigger_config": { "component": "hello", "route": "/hello/..." }
        }],
        "components": [{
            "id": "hello",
            "metadata": {
                "allowed_outbound_hosts": ["https://example.com"],
                "key_value_stores": ["default"]
            },
            "source": {
                "content_type": "application/wasm",
                "source": "file://<root>/hello.wasm",
                "digest": sha(b"\0asm fake")
            },
            "env": { "A": "1" },
            "files": [
                { "source": "file://<root>/assets/a.txt", "digest": sha(b"a"), "path": "/assets/a.txt" },
                { "source": "file://<root>/static/index.html", "digest": sha(b"<html>"), "path": "/web/index.html" }
            ],
            "config": { "greeting": "hello, {{ who }}" }
        }]
    });
    let actual: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(actual, expected, "{json}");
}

#[test]
fn missing_component_source_says_to_build() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spin.toml");
    std::fs::write(
        &path,
        "spin_manifest_version = 2\n[application]\nname = \"x\"\n[[trigger.http]]\nroute = \"/\"\ncomponent = \"c\"\n[component.c]\nsource = \"target/c.wasm\"\n",
    )
    .unwrap();
    let m = manifest::load(&path).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt
        .block_on(lock(
            &m,
            &path,
            &LockOptions {
                download_cache: dir.path().join("c"),
            },
        ))
        .unwrap_err()
        .to_string();
    assert!(err.contains("component `c`: source file"), "{err}");
    assert!(
        err.contains("build the component first (`spin build`)"),
        "{err}"
    );
}
