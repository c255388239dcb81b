//! The shared store: a verified app cannot be poisoned through blobs another (unverified)
//! app put in the same store, and what killed runs leave behind is cleaned up.

use serde_json::json;
use spin_tests::hostile::{assert_store_intact, layout, locked};
use spin_tests::registry::Registry;
use spin_tests::sandbox::Sandbox;
use spin_tests::sigstore::LocalSigstore;
use spin_tests::{assert_contains, pushed_digest, sha256_hex};
use std::path::Path;

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
    assert_contains(
        &err,
        format!("blob {page_digest} in the store at {}", blob.display()),
    );
    assert_contains(&err, "was modified after it was stored");
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
