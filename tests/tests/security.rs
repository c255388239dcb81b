//! What an attacker controls cannot break the store's guarantees or take the machine down:
//! a malicious registry (`tests/interop/evil_registry.py`), crafted OCI layouts and
//! locked apps, and a manifest that maps two files to one path. For each, the command
//! fails (or succeeds harmlessly) with the error it must print, nothing is written outside
//! the store and state directories, no store object changes (every blob is hashed after the
//! run), and the process's peak memory stays under [`RSS_BOUND`] (measured by the kernel).

use serde_json::{Value, json};
use spin_tests::registry::{EvilRegistry, Registry, assert_store_intact, tree_size};
use spin_tests::sandbox::Sandbox;
use spin_tests::sigstore::LocalSigstore;
use spin_tests::{pushed_digest, sha256_hex};
use std::path::{Path, PathBuf};

/// Peak resident memory allowed for a command fed hostile input. A normal pull of a small
/// app peaks near 30 MB; the attacks this guards against reached 2–14 GB.
const RSS_BOUND: u64 = 200 << 20;

fn assert_bounded(done: &spin_tests::sandbox::Done) {
    assert!(
        done.peak_rss < RSS_BOUND,
        "peak RSS {} MB is over the {} MB bound:\n{}",
        done.peak_rss >> 20,
        RSS_BOUND >> 20,
        done.report()
    );
}

#[test]
fn a_malicious_registry_is_refused_within_bounds() {
    let evil = EvilRegistry::start();
    let user = Sandbox::with_open_policy();
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "huge",
            &[],
            "sent a manifest over the 4 MiB limit; refusing it",
        ),
        (
            "endless",
            &[],
            "sent a manifest over the 4 MiB limit; refusing it",
        ),
        (
            "gzip",
            &[],
            "sent a `Content-Encoding: gzip` body, which was not asked for; refusing it",
        ),
        (
            "redirect",
            &[],
            "answered with a redirect (HTTP 307) without a Location",
        ),
        (
            "drip",
            &["--registry-timeout", "1s"],
            "slower than the minimum of 16384 bytes/s; giving up",
        ),
        (
            "stall",
            &["--registry-timeout", "1s"],
            "sent nothing for 1s; giving up",
        ),
        (
            "silent",
            &["--registry-timeout", "1s"],
            "did not answer within 1s; giving up",
        ),
        ("bomb", &[], "is larger than the 64 MiB limit; refusing it"),
        (
            "entries",
            &[],
            "its number of entries is over the limit of 100000; refusing it",
        ),
        ("oversize", &[], "bytes the manifest declares; refusing it"),
    ];
    for (case, extra, expected) in cases {
        let done = user
            .spin(&["registry", "pull", &evil.reference(case)])
            .insecure()
            .cache()
            .args(extra)
            .fails();
        let err = done.stderr();
        assert!(
            err.contains(expected),
            "{case}: expected {expected:?}\n{}",
            done.report()
        );
        assert!(
            !err.contains("error decoding response body") && err.matches("help:").count() <= 1,
            "{case}: {err}"
        );
        if extra.contains(&"--registry-timeout") {
            // Timeouts are retried, within the attempts and the command's retry budget.
            assert!(
                err.contains("(attempt 5 of 6; retrying in"),
                "{case}: {err}"
            );
        }
        assert_bounded(&done);
        assert_store_intact(&user.cache());
        let used = tree_size(&user.cache());
        assert!(used < 8 << 20, "{case}: the cache holds {used} bytes");
        assert!(
            std::fs::read_dir(user.work()).unwrap().next().is_none(),
            "{case}: wrote into the working directory"
        );
    }

    // `spin verify` reads referrer lists and fallback tags capped the same way (exit 2:
    // an error, not a decision).
    let policy = user.home().join("policy.toml");
    std::fs::write(
        &policy,
        "version = 1\n[[rule]]\nscope = \"*\"\nallow_unsigned = true\n",
    )
    .unwrap();
    for (case, expected) in [
        ("referrers", "sent a referrers index over the 4 MiB limit"),
        ("tag", "sent a manifest over the 4 MiB limit"),
    ] {
        let done = user
            .spin(&[
                "verify",
                &evil.reference(case),
                "--policy",
                policy.to_str().unwrap(),
            ])
            .insecure()
            .run();
        assert_eq!(
            done.output.status.code(),
            Some(2),
            "{case}:\n{}",
            done.report()
        );
        assert!(
            done.stderr().contains(expected),
            "{case}:\n{}",
            done.report()
        );
        assert_bounded(&done);
    }
}

/// Write an OCI layout holding a Spin app whose locked app is `locked` and whose other
/// layers are `blobs`; the layout directory.
fn layout(dir: &Path, locked: &Value, blobs: &[&[u8]]) -> PathBuf {
    let out = dir.join("layout");
    let blob_dir = out.join("blobs/sha256");
    std::fs::create_dir_all(&blob_dir).unwrap();
    let put = |bytes: &[u8]| {
        let hex = sha256_hex(bytes);
        std::fs::write(blob_dir.join(&hex), bytes).unwrap();
        json!({"digest": format!("sha256:{hex}"), "size": bytes.len()})
    };
    let locked = serde_json::to_vec(locked).unwrap();
    let config = br#"{"architecture":"wasm","os":"wasip1"}"#;
    let mut layers: Vec<Value> = blobs
        .iter()
        .map(|b| {
            let mut d = put(b);
            d["mediaType"] = "application/vnd.wasm.content.layer.v1+data".into();
            d
        })
        .collect();
    let mut l = put(&locked);
    l["mediaType"] = "application/vnd.fermyon.spin.application.v1+config".into();
    layers.push(l);
    let mut c = put(config);
    c["mediaType"] = "application/vnd.oci.image.config.v1+json".into();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": c,
        "layers": layers,
    }))
    .unwrap();
    let mut m = put(&manifest);
    m["mediaType"] = "application/vnd.oci.image.manifest.v1+json".into();
    std::fs::write(out.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    std::fs::write(
        out.join("index.json"),
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [m]})).unwrap(),
    )
    .unwrap();
    out
}

/// A locked app with one component (`id`, source `wasm`) and `files`.
fn locked(id: &str, wasm: &[u8], files: Value) -> Value {
    json!({
        "spin_lock_version": 1,
        "metadata": {"name": "crafted"},
        "triggers": [{"id": "t", "trigger_type": "http", "trigger_config": {"component": id, "route": "/..."}}],
        "components": [{
            "id": id,
            "source": {"content_type": "application/wasm", "digest": format!("sha256:{}", sha256_hex(wasm))},
            "files": files,
        }],
    })
}

#[test]
fn crafted_layouts_are_refused_before_anything_is_written() {
    let user = Sandbox::new();
    let wasm = std::fs::read(spin_tests::component("hello")).unwrap();
    let big = vec![b'x'; 4096];
    let big_digest = format!("sha256:{}", sha256_hex(&big));
    let escape = user.home().join("escaped");
    let inline = |path: &str| json!({"inline": "cHduZWQ", "path": path});
    let cases: Vec<(Value, &str)> = vec![
        (
            locked("../../escaped", &wasm, json!([inline("/x")])),
            "components[0].id: component id \"../../escaped\" is not a valid id",
        ),
        (
            locked(escape.to_str().unwrap(), &wasm, json!([inline("/x")])),
            "components[0].id",
        ),
        (
            locked("c", &wasm, json!([inline("/../../escaped")])),
            "components[0].files[0].path",
        ),
        (
            locked(
                "c",
                &wasm,
                json!([{"digest": big_digest, "path": "/x"}, inline("/./x")]),
            ),
            "components[0].files[1].path: \"/./x\" is the same path as files[0] (\"/x\")",
        ),
        (
            locked(
                "c",
                &wasm,
                json!([{"digest": big_digest, "path": "/x"}, {"digest": big_digest, "path": "//x/"}]),
            ),
            "components[0].files[1].path",
        ),
        (
            locked("c", &wasm, json!([{"digest": "sha256:XYZ", "path": "/x"}])),
            "components[0].files[0]: digest \"sha256:XYZ\"",
        ),
        (
            {
                let mut l = locked("c", &wasm, json!([]));
                l["components"][0]["source"]["content_type"] = "text/html".into();
                l
            },
            "components[0].source.content_type",
        ),
        (
            {
                let mut l = locked("c", &wasm, json!([]));
                l["triggers"][0]["trigger_config"]["component"] = "other".into();
                l
            },
            "triggers[0].trigger_config.component",
        ),
    ];
    for (n, (app, expected)) in cases.iter().enumerate() {
        let dir = user.home().join(format!("case{n}"));
        let layout = layout(&dir, app, &[&wasm, &big]);
        let done = user
            .spin(&[
                "up",
                "-f",
                layout.to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
            ])
            .cache()
            .fails();
        assert!(
            done.stderr().contains(expected),
            "case {n}: expected {expected:?}\n{}",
            done.report()
        );
        assert!(
            !escape.exists(),
            "case {n} wrote outside the state directory"
        );
        assert!(
            !layout.join(".spin").exists(),
            "case {n} created state before the check"
        );
        assert_bounded(&done);
        assert_store_intact(&user.cache());
    }
}

#[test]
fn two_files_at_one_path_are_a_manifest_error_and_sources_stay_untouched() {
    let user = Sandbox::new();
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"dup\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\n[component.c]\nsource = {:?}\nfiles = [\n  {{ source = \"a.txt\", destination = \"/x\" }},\n  {{ source = \"b.txt\", destination = \"/./x\" }},\n]\n",
        spin_tests::component("hello")
    );
    let app = spin_tests::app_dir(&[
        ("spin.toml", manifest.as_bytes()),
        ("a.txt", b"a's content"),
        ("b.txt", b"b's content"),
    ]);
    let done = user
        .spin(&["up", "--listen", "127.0.0.1:0"])
        .cwd(app.path())
        .cache()
        .fails();
    let err = done.stderr();
    assert!(
        err.contains("spin.toml:11:3: { source = \"b.txt\", destination = \"/./x\" } is mounted at /x, where { source = \"a.txt\", destination = \"/x\" } is already mounted"),
        "{}",
        done.report()
    );
    let doctor = user.spin(&["doctor"]).cwd(app.path()).run();
    assert!(
        doctor.stdout().contains("is already mounted")
            || doctor.stderr().contains("is already mounted"),
        "{}",
        doctor.report()
    );
    assert_eq!(
        std::fs::read(app.path().join("b.txt")).unwrap(),
        b"b's content"
    );
    assert!(!app.path().join(".spin").exists());

    // Two globs that reach one guest path from different files: found when locking.
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"dup\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\n[component.c]\nsource = {:?}\nfiles = [\"static/*\", {{ source = \"other\", destination = \"/static\" }}]\n",
        spin_tests::component("hello")
    );
    let app = spin_tests::app_dir(&[
        ("spin.toml", manifest.as_bytes()),
        ("static/a.txt", b"one"),
        ("other/a.txt", b"two"),
    ]);
    let done = user
        .spin(&["up", "--listen", "127.0.0.1:0"])
        .cwd(app.path())
        .cache()
        .fails();
    assert!(
        done.stderr()
            .contains("would both be mounted at /static/a.txt"),
        "{}",
        done.report()
    );
    let doctor = user.spin(&["doctor"]).cwd(app.path()).run();
    assert!(
        doctor.stdout().contains("/static/a.txt"),
        "{}",
        doctor.report()
    );
    assert_eq!(
        std::fs::read(app.path().join("static/a.txt")).unwrap(),
        b"one"
    );
    assert_eq!(
        std::fs::read(app.path().join("other/a.txt")).unwrap(),
        b"two"
    );
}

#[test]
fn a_verified_app_cannot_be_poisoned_through_the_shared_store() {
    let registry = Registry::start();
    let sigstore = LocalSigstore::start();
    let user = Sandbox::new();
    // The victim: a key-signed app with a component and a static file, allowed by policy.
    let page = format!("<h1>the real page</h1>{}", "-".repeat(200));
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"victim\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"web\"\n[component.web]\nsource = {:?}\nfiles = [{{ source = \"page.html\", destination = \"/page.html\" }}]\n",
        spin_tests::component("testbed")
    );
    let app = spin_tests::app_dir(&[
        ("spin.toml", manifest.as_bytes()),
        ("page.html", page.as_bytes()),
    ]);
    let reference = format!("{}/acme/victim:v1", registry.host());
    let pushed = user
        .spin(&["registry", "push", &reference])
        .cwd(app.path())
        .insecure()
        .cache()
        .ok();
    let digest = pushed_digest(&pushed.stdout());
    let keys = user.home().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    user.spin(&["signing", "generate-key-pair", "--output-key-prefix", "ops"])
        .cwd(&keys)
        .env("COSIGN_PASSWORD", "pw")
        .ok();
    let (tr, sc) = (sigstore.trusted_root(), sigstore.signing_config());
    user.spin(&[
        "sign",
        &reference,
        "--key",
        keys.join("ops.key").to_str().unwrap(),
    ])
    .args(&[
        "--trusted-root",
        tr.to_str().unwrap(),
        "--signing-config",
        sc.to_str().unwrap(),
    ])
    .insecure()
    .env("COSIGN_PASSWORD", "pw")
    .ok();
    let policy = user.home().join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "version = 1\n[[rule]]\nscope = \"{}/acme/*\"\ntrusted_root = {:?}\n[[rule.authority]]\nkey = {:?}\n",
            registry.host(),
            tr,
            keys.join("ops.pub")
        ),
    )
    .unwrap();
    let cache = user.cache().display().to_string();
    let serve_victim = || {
        user.up(
            Path::new(&reference),
            &[
                "--insecure",
                "--policy",
                policy.to_str().unwrap(),
                "--cache-dir",
                &cache,
            ],
        )
    };
    let victim = serve_victim().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(victim.get("/file/page.html").text(), page);
    drop(victim);
    let blobs_before = assert_store_intact(&user.cache());

    // The attacker: an unsigned layout app (layouts are not policy-gated) that mounts the
    // victim's page blob, then inline bytes at the same path, and reuses its component.
    let page_digest = format!("sha256:{}", sha256_hex(page.as_bytes()));
    let testbed = std::fs::read(spin_tests::component("testbed")).unwrap();
    let attack = locked(
        "web",
        &testbed,
        json!([{"digest": page_digest, "path": "/page.html"}, {"inline": "cHduZWQ", "path": "/./page.html"}]),
    );
    let evil = layout(
        &user.home().join("attacker"),
        &attack,
        &[&testbed, page.as_bytes()],
    );
    let done = user
        .spin(&[
            "up",
            "-f",
            evil.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .cache()
        .fails();
    assert!(
        done.stderr().contains("components[0].files[1].path"),
        "{}",
        done.report()
    );
    // A variant that passes the checks (distinct paths) runs harmlessly: read-only files.
    let harmless = locked(
        "web",
        &testbed,
        json!([{"digest": page_digest, "path": "/page.html"}, {"inline": "cHduZWQ", "path": "/other.html"}]),
    );
    let ok = layout(
        &user.home().join("harmless"),
        &harmless,
        &[&testbed, page.as_bytes()],
    );
    let spin = user
        .up(&ok, &["--cache-dir", &cache])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spin.get("/file/page.html").text(), page);
    assert_eq!(spin.get("/file/other.html").text(), "pwned");
    assert_eq!(
        spin.get("/write/page.html").text(),
        "denied",
        "a guest wrote a mounted file"
    );
    drop(spin);
    // The layouts added their own blobs; none of the victim's changed.
    assert!(assert_store_intact(&user.cache()) > blobs_before);

    // The victim again: its own content.
    let victim = serve_victim().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(victim.get("/file/page.html").text(), page);
    drop(victim);

    // A blob changed behind the tool's back (not through it) is refused by name.
    let blob = user
        .cache()
        .join("registry/blobs/sha256")
        .join(sha256_hex(page.as_bytes()));
    std::fs::write(&blob, b"changed on disk").unwrap();
    let err = serve_victim().map(|_| ()).unwrap_err();
    assert!(
        err.contains(&format!(
            "blob {page_digest} in the store at {}",
            blob.display()
        )) && err.contains("was modified after it was stored"),
        "{err}"
    );
    assert!(
        err.contains(&digest[..15]) || err.contains("ALLOW"),
        "{err}"
    );
}

#[test]
fn leftovers_of_killed_runs_are_cleaned_up() {
    let user = Sandbox::new();
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"files\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\n[component.c]\nsource = {:?}\nfiles = [\"a.txt\"]\n",
        spin_tests::component("testbed")
    );
    let app = spin_tests::app_dir(&[("spin.toml", manifest.as_bytes()), ("a.txt", b"a")]);
    let cache = user.cache().display().to_string();
    let files_dirs = || {
        std::fs::read_dir(app.path().join(".spin"))
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with("files-"))
                    .count()
            })
            .unwrap_or(0)
    };
    for _ in 0..3 {
        let spin = user
            .up(&app.path().join("spin.toml"), &["--cache-dir", &cache])
            .unwrap();
        assert_eq!(spin.get("/file/a.txt").text(), "a");
        let pid = spin.pid();
        std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap();
        drop(spin);
    }
    let spin = user
        .up(&app.path().join("spin.toml"), &["--cache-dir", &cache])
        .unwrap();
    assert_eq!(
        files_dirs(),
        1,
        "the killed runs' directories are removed by the next run"
    );
    drop(spin);

    // An interrupted pull leaves no empty partial downloads or lock files behind.
    let partial = user.cache().join("registry/partial");
    std::fs::create_dir_all(&partial).unwrap();
    let hex = "0".repeat(64);
    std::fs::write(partial.join(&hex), b"").unwrap();
    std::fs::write(partial.join(format!("{hex}.lock")), b"").unwrap();
    let registry = Registry::start();
    let missing = format!("{}/none/none:v1", registry.host());
    user.spin(&["registry", "pull", &missing])
        .insecure()
        .cache()
        .fails();
    let left: Vec<_> = std::fs::read_dir(&partial)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_slow_but_steady_link_is_not_cut_off() {
    // The stall timeout bounds silence, not the length of a transfer: 1 MiB through a link
    // of 128 KiB/s takes about 8 s, four times the timeout, and must still go through.
    let registry = Registry::start();
    let proxy = spin_tests::SlowProxy::start(registry.port, 128 << 10);
    let user = Sandbox::new();
    let big: Vec<u8> = (0..1u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let manifest = "spin_manifest_version = 2\n[application]\nname = \"slow\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\n[component.c]\nsource = \"c.wasm\"\n";
    let app = spin_tests::app_dir(&[("spin.toml", manifest.as_bytes()), ("c.wasm", &big)]);
    let reference = format!("127.0.0.1:{}/acme/slow:v1", proxy.port);
    let timeout = ["--registry-timeout", "2s"];
    let pushed = user
        .spin(&["registry", "push", &reference])
        .cwd(app.path())
        .insecure()
        .cache()
        .args(&timeout)
        .ok();
    let digest = pushed_digest(&pushed.stdout());
    let other = Sandbox::new();
    let pulled = other
        .spin(&["registry", "pull", &reference])
        .insecure()
        .cache()
        .args(&timeout)
        .ok();
    assert!(pulled.stdout().contains(&digest), "{}", pulled.report());
    assert!(!pulled.stderr().contains("retrying"), "{}", pulled.report());
}
