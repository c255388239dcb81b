//! Distribution end to end against a real `docker-registry` (distribution 2.8) on
//! 127.0.0.1: push, pull into an empty store, run, reproducibility, interop with skopeo
//! and the `oras` client, TLS + basic auth, credentials, faults and tampering, OCI layouts,
//! CNCF Wasm component artifacts.

use spin_tests::registry::{Registry, oras};
use spin_tests::{Spin, app_dir, component, pushed_digest, spin_bin};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// An isolated user: its own config (credentials), Docker config and cache.
struct User {
    home: tempfile::TempDir,
}

impl User {
    /// A user whose default policy (`~/.config/spin/policy.toml`) lets every registry app
    /// run unsigned: these tests are about distribution, not signatures.
    fn new() -> Self {
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join("docker")).unwrap();
        let config = home.path().join("config/spin");
        std::fs::create_dir_all(&config).unwrap();
        std::fs::write(
            config.join("policy.toml"),
            "version = 1\n[[rule]]\nname = \"distribution tests\"\nscope = \"*\"\nallow_unsigned = true\n",
        )
        .unwrap();
        Self { home }
    }

    fn cache(&self) -> PathBuf {
        self.home.path().join("cache")
    }

    fn env(&self) -> Vec<(String, String)> {
        let h = self.home.path();
        vec![
            ("HOME".into(), h.display().to_string()),
            (
                "XDG_CONFIG_HOME".into(),
                h.join("config").display().to_string(),
            ),
            (
                "XDG_CACHE_HOME".into(),
                h.join("xdg-cache").display().to_string(),
            ),
            (
                "DOCKER_CONFIG".into(),
                h.join("docker").display().to_string(),
            ),
            ("SPIN_DISABLE_KEYRING".into(), "1".into()),
        ]
    }

    fn spin(&self, args: &[&str], cwd: &Path) -> Output {
        self.spin_with_stdin(args, cwd, None)
    }

    fn spin_with_stdin(&self, args: &[&str], cwd: &Path, stdin: Option<&str>) -> Output {
        use std::io::Write;
        let mut cmd = Command::new(spin_bin());
        cmd.args(args).current_dir(cwd).envs(self.env());
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    }

    /// `spin registry …` that must succeed; returns stdout.
    fn ok(&self, args: &[&str], cwd: &Path) -> String {
        let out = self.spin(args, cwd);
        assert!(
            out.status.success(),
            "spin {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `spin registry …` that must fail; returns stderr.
    fn fails(&self, args: &[&str], cwd: &Path) -> String {
        let out = self.spin(args, cwd);
        assert!(
            !out.status.success(),
            "spin {args:?} should have failed:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn up(&self, app: &str, extra: &[&str]) -> Spin {
        let env: Vec<(String, String)> = self.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        Spin::start(Path::new(app), extra, &env)
            .unwrap_or_else(|e| panic!("spin up -f {app} failed:\n{e}"))
    }
}

/// Two components (WAT hello, C testbed) and static files, one small enough to be inlined.
fn two_component_app() -> tempfile::TempDir {
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "shipped"
version = "1.0.0"
description = "two components and files"
authors = ["Ada", "Grace"]
[variables]
who = {{ default = "registry" }}
[[trigger.http]]
route = "/hello"
component = "hello"
[[trigger.http]]
route = "/tb/..."
component = "tb"
[component.hello]
source = {hello:?}
[component.tb]
source = {testbed:?}
files = [{{ source = "static", destination = "/static" }}]
key_value_stores = ["default"]
environment = {{ WHO = "tb" }}
[component.tb.variables]
greeting = "hello, {{{{ who }}}}"
"#,
        hello = component("hello"),
        testbed = component("testbed"),
    );
    let big: Vec<u8> = (0..5000u32).flat_map(|i| i.to_le_bytes()).collect();
    app_dir(&[
        ("spin.toml", manifest.as_bytes()),
        ("static/big.bin", &big),
        ("static/small.txt", b"tiny"),
        ("static/sub/page.html", "<p>a page long enough not to be inlined into the locked app, which takes at most 128 bytes</p>".repeat(2).as_bytes()),
    ])
}

const PATHS: &[&str] = &[
    "/hello",
    "/tb/hello",
    "/tb/file/static/big.bin",
    "/tb/file/static/small.txt",
    "/tb/file/static/sub/page.html",
    "/tb/env/WHO",
    "/tb/var/greeting",
    "/tb/file/static/missing",
];

fn responses(spin: &Spin) -> Vec<(u16, Vec<u8>)> {
    PATHS
        .iter()
        .map(|p| {
            let r = spin.get(p);
            (r.status, r.body)
        })
        .collect()
}

#[test]
fn round_trip_push_pull_run_matches_the_local_app() {
    let registry = Registry::start();
    let app = two_component_app();
    let user = User::new();
    let reference = format!("{}/acme/shipped:v1", registry.host());
    let cache = user.cache().display().to_string();
    let out = user.ok(
        &[
            "registry",
            "push",
            &reference,
            "--insecure",
            "--cache-dir",
            &cache,
        ],
        app.path(),
    );
    let digest = pushed_digest(&out);

    let local = Spin::up(app.path(), &[]);
    let expected = responses(&local);
    assert_eq!(expected[2].0, 200);
    drop(local);

    // A different user with an empty store pulls and runs it by digest.
    let other = User::new();
    let pinned = format!("{}/acme/shipped@{digest}", registry.host());
    let pulled = other.ok(
        &[
            "registry",
            "pull",
            &pinned,
            "--insecure",
            "--cache-dir",
            &other.cache().display().to_string(),
        ],
        app.path(),
    );
    assert!(pulled.contains(&format!("Pulled {pinned}")), "{pulled}");
    let remote = other.up(&reference, &["--insecure"]);
    assert_eq!(responses(&remote), expected);
    let info: serde_json::Value =
        serde_json::from_slice(&remote.get("/.well-known/spin/info").body).unwrap();
    assert_eq!(info["oci_image_digest"], digest.as_str());
    // The user's default policy allowed it, and said which rule did.
    assert!(
        remote
            .stderr()
            .contains(&format!("ALLOW {}/acme/shipped@{digest}", registry.host()))
            && remote.stderr().contains("rule \"distribution tests\""),
        "{}",
        remote.stderr()
    );
}

#[test]
fn registry_apps_do_not_run_without_a_policy() {
    let registry = Registry::start();
    let user = User::new();
    std::fs::remove_file(user.home.path().join("config/spin/policy.toml")).unwrap();
    let reference = format!("{}/acme/nothing:v1", registry.host());
    let err = user.fails(&["up", "-f", &reference, "--insecure"], Path::new("."));
    assert!(err.contains("no verification policy"), "{err}");
    assert!(err.contains("--policy FILE, set SPIN_POLICY"), "{err}");
    assert!(err.contains("[[rule.authority]]"), "{err}");
}

#[test]
fn pushes_are_reproducible_and_unchanged_repushes_upload_nothing() {
    let registry = Registry::start();
    let app = two_component_app();
    let user = User::new();
    let cache = user.cache().display().to_string();
    let push = |tag: &str| {
        let reference = format!("{}/acme/repro:{tag}", registry.host());
        pushed_digest(&user.ok(
            &[
                "registry",
                "push",
                &reference,
                "--insecure",
                "--cache-dir",
                &cache,
            ],
            app.path(),
        ))
    };
    let first = push("one");
    let uploads_after_first = registry.upload_requests();
    assert!(uploads_after_first > 0, "the first push must upload");
    let second = push("two");
    assert_eq!(first, second, "same app, same digest");
    assert_eq!(
        registry.upload_requests(),
        uploads_after_first,
        "the second push uploaded blobs:\n{}",
        registry.log()
    );

    // The manifest's `created` comes from SOURCE_DATE_EPOCH when set.
    let out = Command::new(spin_bin())
        .args([
            "registry",
            "inspect",
            &format!("{}/acme/repro:one", registry.host()),
            "--insecure",
            "--json",
            "--cache-dir",
            &cache,
        ])
        .envs(user.env())
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let annotations = &json["manifest"]["annotations"];
    assert_eq!(annotations["org.opencontainers.image.title"], "shipped");
    assert_eq!(
        annotations["org.opencontainers.image.authors"],
        "Ada, Grace"
    );
    assert!(annotations["org.opencontainers.image.created"].is_string());

    let reference = format!("{}/acme/repro:epoch", registry.host());
    let out = Command::new(spin_bin())
        .args([
            "registry",
            "push",
            &reference,
            "--insecure",
            "--cache-dir",
            &cache,
            "--annotation",
            "org.example.team=shipping",
        ])
        .current_dir(app.path())
        .envs(user.env())
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let inspect = user.ok(
        &[
            "registry",
            "inspect",
            &reference,
            "--insecure",
            "--cache-dir",
            &cache,
        ],
        app.path(),
    );
    assert!(
        inspect.contains("org.opencontainers.image.created: 2023-11-14T22:13:20Z"),
        "{inspect}"
    );
    assert!(inspect.contains("org.example.team: shipping"), "{inspect}");
}

#[test]
fn layers_follow_spins_layout() {
    let registry = Registry::start();
    let app = two_component_app();
    let user = User::new();
    let cache = user.cache().display().to_string();
    let reference = format!("{}/acme/layout:v1", registry.host());
    user.ok(
        &[
            "registry",
            "push",
            &reference,
            "--insecure",
            "--cache-dir",
            &cache,
        ],
        app.path(),
    );
    let json: serde_json::Value = serde_json::from_str(&user.ok(
        &[
            "registry",
            "inspect",
            &reference,
            "--insecure",
            "--json",
            "--cache-dir",
            &cache,
        ],
        app.path(),
    ))
    .unwrap();
    let m = &json["manifest"];
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(
        m["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    let types: Vec<&str> = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["mediaType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "application/vnd.wasm.content.layer.v1+wasm",
            "application/vnd.wasm.content.layer.v1+wasm",
            "application/vnd.wasm.content.layer.v1+data",
            "application/vnd.wasm.content.layer.v1+data",
            "application/vnd.fermyon.spin.application.v1+config",
        ],
        "two components, two files (the 4-byte one is inlined), the locked app last"
    );
    let locked = &json["locked_app"];
    let tb = locked["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "tb")
        .unwrap();
    let small = tb["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "static/small.txt")
        .unwrap();
    assert_eq!(
        small["inline"], "dGlueQ",
        "≤128-byte files are inlined (base64, no padding)"
    );
    // The config points at the locked app layer.
    let config_digest = m["config"]["digest"].as_str().unwrap();
    let config = std::fs::read(
        user.cache()
            .join("registry/blobs/sha256")
            .join(config_digest.trim_start_matches("sha256:")),
    )
    .unwrap();
    let config: serde_json::Value = serde_json::from_slice(&config).unwrap();
    assert_eq!(config["architecture"], "wasm");
    assert_eq!(config["os"], "wasip1");
    assert_eq!(
        config["config"]["Labels"]["com.fermyon.spin.lockedAppDigest"],
        m["layers"][4]["digest"]
    );
}

fn skopeo(args: &[&str]) -> Output {
    Command::new("skopeo")
        .args(args)
        .output()
        .expect("skopeo (Debian package) is needed; tests/setup.sh installs it")
}

#[test]
fn skopeo_and_oras_read_our_artifact_with_the_same_digests() {
    let registry = Registry::start();
    let app = two_component_app();
    let user = User::new();
    let cache = user.cache().display().to_string();
    let reference = format!("{}/acme/interop:v1", registry.host());
    let digest = pushed_digest(&user.ok(
        &[
            "registry",
            "push",
            &reference,
            "--insecure",
            "--cache-dir",
            &cache,
        ],
        app.path(),
    ));

    let raw = skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--raw",
        &format!("docker://{reference}"),
    ]);
    assert!(
        raw.status.success(),
        "{}",
        String::from_utf8_lossy(&raw.stderr)
    );
    assert_eq!(spin_app::Digest::of_bytes(&raw.stdout).to_string(), digest);
    let manifest: serde_json::Value = serde_json::from_slice(&raw.stdout).unwrap();

    let oras_digest = oras(&["manifest-digest", &reference]);
    assert!(
        oras_digest.status.success(),
        "{}",
        String::from_utf8_lossy(&oras_digest.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&oras_digest.stdout).trim(), digest);
    let out = tempfile::tempdir().unwrap();
    let pulled = oras(&["pull", &reference, out.path().to_str().unwrap()]);
    assert!(
        pulled.status.success(),
        "{}",
        String::from_utf8_lossy(&pulled.stderr)
    );
    let theirs: Vec<String> = String::from_utf8_lossy(&pulled.stdout)
        .lines()
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect();
    let ours: Vec<String> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(theirs, ours, "oras computes the same layer digests");

    // skopeo copies it into an OCI layout without changing a byte; we run that layout.
    let layout = tempfile::tempdir().unwrap();
    let dest = format!("oci:{}:v1", layout.path().display());
    let copy = skopeo(&[
        "copy",
        "--src-tls-verify=false",
        "--preserve-digests",
        &format!("docker://{reference}"),
        &dest,
    ]);
    assert!(
        copy.status.success(),
        "{}",
        String::from_utf8_lossy(&copy.stderr)
    );
    let index = std::fs::read_to_string(layout.path().join("index.json")).unwrap();
    assert!(index.contains(&digest), "{index}");
    let spin = user.up(layout.path().to_str().unwrap(), &[]);
    assert_eq!(spin.get("/hello").text(), "Hello from WAT!\n");
}

#[test]
fn an_oras_pushed_wasm_component_runs_and_ours_reads_back() {
    let registry = Registry::start();
    let user = User::new();
    let cache = user.cache().display().to_string();
    let theirs = format!("{}/acme/from-oras:v1", registry.host());
    let pushed = oras(&["push-wasm", &theirs, component("hello").to_str().unwrap()]);
    assert!(
        pushed.status.success(),
        "{}",
        String::from_utf8_lossy(&pushed.stderr)
    );
    let spin = user.up(&theirs, &["--insecure"]);
    assert_eq!(spin.get("/anything").text(), "Hello from WAT!\n");
    drop(spin);

    // Our single-component push is a CNCF Wasm artifact others can read.
    let ours = format!("{}/acme/component:v1", registry.host());
    let hello = component("hello");
    user.ok(
        &[
            "registry",
            "push",
            &ours,
            "--component",
            hello.to_str().unwrap(),
            "--insecure",
            "--cache-dir",
            &cache,
        ],
        Path::new("."),
    );
    let raw = skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--raw",
        &format!("docker://{ours}"),
    ]);
    let manifest: serde_json::Value = serde_json::from_slice(&raw.stdout).unwrap();
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.wasm.config.v0+json"
    );
    assert_eq!(manifest["layers"][0]["mediaType"], "application/wasm");
    assert_eq!(
        manifest["layers"][0]["digest"],
        spin_app::Digest::of_file(&hello).unwrap().to_string()
    );
    let spin = user.up(&ours, &["--insecure"]);
    assert_eq!(spin.get("/").text(), "Hello from WAT!\n");
}

#[test]
fn oci_layouts_push_copy_and_run() {
    let registry = Registry::start();
    let app = two_component_app();
    let user = User::new();
    let cache = user.cache().display().to_string();
    let layout = tempfile::tempdir().unwrap();
    let dir = layout.path().to_str().unwrap();
    let wrote = user.ok(
        &[
            "registry",
            "push",
            "v7",
            "--oci-layout",
            dir,
            "--cache-dir",
            &cache,
        ],
        app.path(),
    );
    assert!(wrote.contains("(tag v7)"), "{wrote}");
    let spin = user.up(dir, &[]);
    assert_eq!(spin.get("/tb/file/static/big.bin").status, 200);
    drop(spin);

    // Air-gapped transfer: layout → registry → another layout, digests unchanged.
    let reference = format!("{}/acme/airgap:v7", registry.host());
    user.ok(
        &[
            "registry",
            "copy",
            &format!("oci:{dir}:v7"),
            &reference,
            "--insecure",
            "--cache-dir",
            &cache,
        ],
        app.path(),
    );
    let raw = skopeo(&[
        "inspect",
        "--tls-verify=false",
        "--raw",
        &format!("docker://{reference}"),
    ]);
    let digest = spin_app::Digest::of_bytes(&raw.stdout).to_string();
    assert!(wrote.contains(&digest), "{wrote} vs {digest}");
    let second = tempfile::tempdir().unwrap();
    let other = User::new();
    other.ok(
        &[
            "registry",
            "copy",
            &reference,
            &format!("oci:{}:copied", second.path().display()),
            "--insecure",
            "--cache-dir",
            &other.cache().display().to_string(),
        ],
        app.path(),
    );
    assert!(
        std::fs::read_to_string(second.path().join("index.json"))
            .unwrap()
            .contains(&digest)
    );
    // skopeo reads our layout too.
    let inspect = skopeo(&[
        "inspect",
        "--raw",
        &format!("oci:{}:copied", second.path().display()),
    ]);
    assert_eq!(
        spin_app::Digest::of_bytes(&inspect.stdout).to_string(),
        digest
    );
}

#[test]
fn corrupted_blob_on_the_registry_is_rejected_and_nothing_is_stored() {
    let registry = Registry::start();
    let app = two_component_app();
    let user = User::new();
    let cache = user.cache().display().to_string();
    let reference = format!("{}/acme/tampered:v1", registry.host());
    user.ok(
        &[
            "registry",
            "push",
            &reference,
            "--insecure",
            "--cache-dir",
            &cache,
        ],
        app.path(),
    );
    let testbed = spin_app::Digest::of_file(&component("testbed"))
        .unwrap()
        .to_string();
    let data = registry.blob_data(&testbed);
    let mut bytes = std::fs::read(&data).unwrap();
    bytes[1000] ^= 0xff;
    std::fs::write(&data, bytes).unwrap();

    let other = User::new();
    let err = other.fails(
        &[
            "registry",
            "pull",
            &reference,
            "--insecure",
            "--cache-dir",
            &other.cache().display().to_string(),
        ],
        app.path(),
    );
    assert!(
        err.contains(&format!(
            "blob {testbed} from {} failed verification",
            registry.host()
        )),
        "{err}"
    );
    let hex = testbed.trim_start_matches("sha256:");
    assert!(
        !other
            .cache()
            .join("registry/blobs/sha256")
            .join(hex)
            .exists()
    );
    assert!(!other.cache().join("registry/partial").join(hex).exists());
}

#[test]
fn an_interrupted_pull_resumes_from_what_is_on_disk() {
    let registry = Registry::start();
    let app = two_component_app();
    let user = User::new();
    let cache = user.cache().display().to_string();
    let reference = format!("{}/acme/resume:v1", registry.host());
    user.ok(
        &[
            "registry",
            "push",
            &reference,
            "--insecure",
            "--cache-dir",
            &cache,
        ],
        app.path(),
    );
    // Leave the first half of the testbed layer as an interrupted download would.
    let other = User::new();
    let wasm = std::fs::read(component("testbed")).unwrap();
    let hex = spin_app::Digest::of_bytes(&wasm).hex().to_string();
    let partial = other.cache().join("registry/partial");
    std::fs::create_dir_all(&partial).unwrap();
    std::fs::write(partial.join(&hex), &wasm[..wasm.len() / 2]).unwrap();
    other.ok(
        &[
            "registry",
            "pull",
            &reference,
            "--insecure",
            "--cache-dir",
            &other.cache().display().to_string(),
        ],
        app.path(),
    );
    assert_eq!(
        std::fs::read(other.cache().join("registry/blobs/sha256").join(&hex)).unwrap(),
        wasm
    );
    assert!(!partial.join(&hex).exists());
}

#[test]
fn tls_registry_with_basic_auth_login_and_ca_file() {
    let registry = Registry::start_secure("alice", "s3cret-pass");
    let secure = registry.secure.as_ref().unwrap();
    let ca = secure.ca.to_str().unwrap();
    let app = two_component_app();
    let user = User::new();
    let cache = user.cache().display().to_string();
    let reference = format!("{}/alice/app:v1", registry.host());

    // No CA: a TLS error that says how to fix it.
    let err = user.fails(
        &["registry", "push", &reference, "--cache-dir", &cache],
        app.path(),
    );
    assert!(err.contains("TLS") && err.contains("--ca-file"), "{err}");
    // CA but no credentials: 401 with the fix.
    let err = user.fails(
        &[
            "registry",
            "push",
            &reference,
            "--ca-file",
            ca,
            "--cache-dir",
            &cache,
        ],
        app.path(),
    );
    assert!(
        err.contains("401") && err.contains(&format!("spin registry login {}", registry.host())),
        "{err}"
    );
    // A wrong password is refused at login.
    let out = user.spin_with_stdin(
        &[
            "registry",
            "login",
            &registry.host(),
            "-u",
            "alice",
            "--password-stdin",
            "--ca-file",
            ca,
        ],
        app.path(),
        Some("wrong\n"),
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refused the credentials"), "{stderr}");
    assert!(
        !stderr.contains("wrong"),
        "the password must never be printed: {stderr}"
    );

    let out = user.spin_with_stdin(
        &[
            "registry",
            "login",
            &registry.host(),
            "-u",
            "alice",
            "--password-stdin",
            "--ca-file",
            ca,
        ],
        app.path(),
        Some("s3cret-pass\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no keyring service is running; saved to"),
        "{stderr}"
    );
    let saved = user
        .home
        .path()
        .join("config/spin/registry-credentials.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&saved).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let pushed = user.ok(
        &[
            "registry",
            "push",
            &reference,
            "--ca-file",
            ca,
            "--cache-dir",
            &cache,
        ],
        app.path(),
    );
    let digest = pushed_digest(&pushed);
    let spin = user.up(
        &format!("{}/alice/app@{digest}", registry.host()),
        &["--ca-file", ca],
    );
    assert_eq!(spin.get("/hello").text(), "Hello from WAT!\n");
    drop(spin);
    assert!(
        user.ok(&["registry", "logout", &registry.host()], app.path())
            .contains("Removed credentials")
    );
    let err = user.fails(
        &[
            "registry",
            "pull",
            &reference,
            "--ca-file",
            ca,
            "--cache-dir",
            &cache,
        ],
        app.path(),
    );
    assert!(err.contains("401"), "{err}");
}

#[test]
fn docker_config_credentials_are_used() {
    let registry = Registry::start_secure("bob", "hunter22");
    let ca = registry
        .secure
        .as_ref()
        .unwrap()
        .ca
        .to_str()
        .unwrap()
        .to_string();
    let user = User::new();
    let auth = base64_encode(b"bob:hunter22");
    std::fs::write(
        user.home.path().join("docker/config.json"),
        format!(
            r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#,
            registry.host()
        ),
    )
    .unwrap();
    let app = two_component_app();
    let reference = format!("{}/bob/app:v1", registry.host());
    let cache = user.cache().display().to_string();
    user.ok(
        &[
            "registry",
            "push",
            &reference,
            "--ca-file",
            &ca,
            "--cache-dir",
            &cache,
        ],
        app.path(),
    );
}

fn base64_encode(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn bad_input_gets_one_line_errors() {
    let registry = Registry::start();
    let user = User::new();
    let cache = user.cache().display().to_string();
    let here = Path::new(".");
    let err = user.fails(
        &[
            "registry",
            "pull",
            "ghcr.io/Acme/App:v1",
            "--cache-dir",
            &cache,
        ],
        here,
    );
    assert!(
        err.contains("invalid reference `ghcr.io/Acme/App:v1`") && err.contains("lowercase"),
        "{err}"
    );
    let err = user.fails(
        &[
            "registry",
            "pull",
            &format!("{}/acme/none:missing", registry.host()),
            "--insecure",
            "--cache-dir",
            &cache,
        ],
        here,
    );
    assert!(
        err.contains("not found") && err.contains("check the repository name, tag and digest"),
        "{err}"
    );
    // Nothing listening: retried, then a clear message.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = Command::new(spin_bin())
        .args([
            "registry",
            "pull",
            &format!("127.0.0.1:{port}/a/b:v1"),
            "--insecure",
            "--cache-dir",
            &cache,
        ])
        .envs(user.env())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("cannot reach registry") && err.contains("attempt 1 of"),
        "{err}"
    );
}

#[test]
fn an_unknown_layer_media_type_is_refused() {
    let registry = Registry::start();
    let user = User::new();
    let cache = user.cache().display().to_string();
    // A container-image-like artifact: a gzipped tar layer.
    let dir = tempfile::tempdir().unwrap();
    let layer = dir.path().join("layer.tar.gz");
    std::fs::write(&layer, b"not really a tarball").unwrap();
    let reference = format!("{}/acme/container:v1", registry.host());
    let script = format!(
        "import oras.client, json, os\nc = oras.client.OrasClient(hostname='{}', insecure=True)\nc.push(target='{reference}', files=['{}:application/vnd.oci.image.layer.v1.tar+gzip'], disable_path_validation=True, quiet=True)\n",
        registry.host(),
        layer.display()
    );
    let py = spin_tests::setup_cache().join("oras/bin/python");
    let out = Command::new(py).arg("-c").arg(script).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = user.fails(
        &[
            "registry",
            "pull",
            &reference,
            "--insecure",
            "--cache-dir",
            &cache,
        ],
        Path::new("."),
    );
    assert!(
        err.contains("application/vnd.oci.image.layer.v1.tar+gzip"),
        "{err}"
    );
    assert!(
        err.contains("not known") && err.contains("is this a container image?"),
        "{err}"
    );
}

/// Run `spin` in the background; returns its output when done.
fn spawn_spin(user: &User, args: Vec<String>, cwd: PathBuf) -> std::thread::JoinHandle<Output> {
    let env = user.env();
    std::thread::spawn(move || {
        Command::new(spin_bin())
            .args(&args)
            .current_dir(cwd)
            .envs(env)
            .output()
            .unwrap()
    })
}

#[test]
fn registry_killed_mid_push_and_mid_pull_then_restarted() {
    let mut registry = Registry::start();
    // 12 MB/s each way: the 24 MB component takes about two seconds to move.
    let proxy = spin_tests::SlowProxy::start(registry.port, 12 << 20);
    let big: Vec<u8> = (0..24u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let manifest = "spin_manifest_version = 2\n[application]\nname = \"big\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"big\"\n[component.big]\nsource = \"big.wasm\"\n";
    let app = app_dir(&[("spin.toml", manifest.as_bytes()), ("big.wasm", &big)]);
    let user = User::new();
    let reference = format!("127.0.0.1:{}/acme/big:v1", proxy.port);
    let cache = user.cache().display().to_string();

    let push = spawn_spin(
        &user,
        [
            "registry",
            "push",
            &reference,
            "--insecure",
            "--cache-dir",
            &cache,
        ]
        .map(String::from)
        .to_vec(),
        app.path().to_path_buf(),
    );
    std::thread::sleep(std::time::Duration::from_millis(900));
    registry.kill();
    std::thread::sleep(std::time::Duration::from_millis(600));
    registry.restart();
    let out = push.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "push did not recover:\n{stderr}");
    assert!(
        stderr.contains("retrying"),
        "the registry was not killed mid-push:\n{stderr}"
    );
    let digest = pushed_digest(&String::from_utf8_lossy(&out.stdout));

    let other = User::new();
    let other_cache = other.cache();
    let pull = spawn_spin(
        &other,
        [
            "registry",
            "pull",
            &reference,
            "--insecure",
            "--cache-dir",
            other_cache.to_str().unwrap(),
        ]
        .map(String::from)
        .to_vec(),
        app.path().to_path_buf(),
    );
    std::thread::sleep(std::time::Duration::from_millis(900));
    registry.kill();
    std::thread::sleep(std::time::Duration::from_millis(600));
    registry.restart();
    let out = pull.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "pull did not recover:\n{stderr}");
    assert!(
        stderr.contains("retrying"),
        "the registry was not killed mid-pull:\n{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&digest));
    let hex = spin_app::Digest::of_bytes(&big).hex().to_string();
    assert_eq!(
        std::fs::read(other_cache.join("registry/blobs/sha256").join(&hex)).unwrap(),
        big
    );
    let partials: Vec<_> = std::fs::read_dir(other_cache.join("registry/partial"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".lock"))
        .collect();
    assert!(
        partials.is_empty(),
        "partial blobs left behind: {partials:?}"
    );
}

#[test]
fn bearer_token_flow_with_refresh_and_identity_tokens() {
    // Tokens last 2 seconds; the push below takes about 4.
    let registry = Registry::start_with_token_server("carol", "pa55word", "refresh-me", 2);
    let proxy = spin_tests::SlowProxy::start(registry.port, 4 << 20);
    let user = User::new();
    let cache = user.cache().display().to_string();
    let host = format!("127.0.0.1:{}", proxy.port);
    let big: Vec<u8> = (0..16u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let manifest = "spin_manifest_version = 2\n[application]\nname = \"tok\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\n[component.c]\nsource = \"c.wasm\"\n";
    let app = app_dir(&[("spin.toml", manifest.as_bytes()), ("c.wasm", &big)]);
    let reference = format!("{host}/carol/app:v1");

    let err = user.fails(
        &[
            "registry",
            "push",
            &reference,
            "--insecure",
            "--cache-dir",
            &cache,
        ],
        app.path(),
    );
    assert!(err.contains("401") || err.contains("refused"), "{err}");
    let out = user.spin_with_stdin(
        &[
            "registry",
            "login",
            &host,
            "-u",
            "carol",
            "--password-stdin",
            "--insecure",
        ],
        app.path(),
        Some("nope"),
    );
    assert!(!out.status.success(), "a wrong password must be refused");
    let out = user.spin_with_stdin(
        &[
            "registry",
            "login",
            &host,
            "-u",
            "carol",
            "--password-stdin",
            "--insecure",
        ],
        app.path(),
        Some("pa55word"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let token = registry.token.as_ref().unwrap();
    let before = token.issued();
    let pushed = user.ok(
        &[
            "registry",
            "push",
            &reference,
            "--insecure",
            "--cache-dir",
            &cache,
        ],
        app.path(),
    );
    let digest = pushed_digest(&pushed);
    assert!(
        token.issued() >= before + 2,
        "a push outlasting its token must fetch a fresh one ({} tokens)",
        token.issued() - before
    );

    // Docker's identity token (an OAuth2 refresh token) is exchanged for access.
    let other = User::new();
    std::fs::write(
        other.home.path().join("docker/config.json"),
        format!(r#"{{"auths": {{"{host}": {{"identitytoken": "refresh-me"}}}}}}"#),
    )
    .unwrap();
    let pulled = other.ok(
        &[
            "registry",
            "pull",
            &reference,
            "--insecure",
            "--cache-dir",
            &other.cache().display().to_string(),
        ],
        app.path(),
    );
    assert!(pulled.contains(&digest), "{pulled}");
    std::fs::write(
        other.home.path().join("docker/config.json"),
        format!(r#"{{"auths": {{"{host}": {{"identitytoken": "revoked"}}}}}}"#),
    )
    .unwrap();
    let err = other.fails(
        &[
            "registry",
            "pull",
            &reference,
            "--insecure",
            "--cache-dir",
            &other.cache().display().to_string(),
        ],
        app.path(),
    );
    assert!(err.contains("the token service refused it"), "{err}");
}

#[test]
fn many_files_go_into_an_archive_layer_and_still_run() {
    let registry = Registry::start();
    let user = User::new();
    let cache = user.cache().display().to_string();
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"many\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"tb\"\n[component.tb]\nsource = {:?}\nfiles = [{{ source = \"files\", destination = \"/files\" }}]\n",
        component("testbed")
    );
    let contents: Vec<(String, Vec<u8>)> = (0..600)
        .map(|i| {
            (
                format!("files/f{i:03}.txt"),
                format!("{i:0>200}").into_bytes(),
            )
        })
        .collect();
    let mut files: Vec<(&str, &[u8])> = vec![("spin.toml", manifest.as_bytes())];
    files.extend(contents.iter().map(|(p, c)| (p.as_str(), c.as_slice())));
    let app = app_dir(&files);
    let reference = format!("{}/acme/many:v1", registry.host());
    user.ok(
        &[
            "registry",
            "push",
            &reference,
            "--insecure",
            "--cache-dir",
            &cache,
        ],
        app.path(),
    );
    let json: serde_json::Value = serde_json::from_str(&user.ok(
        &[
            "registry",
            "inspect",
            &reference,
            "--insecure",
            "--json",
            "--cache-dir",
            &cache,
        ],
        app.path(),
    ))
    .unwrap();
    let types: Vec<&str> = json["manifest"]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["mediaType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "application/vnd.wasm.content.layer.v1+wasm",
            "application/vnd.wasm.content.bundle.v1.tar+gzip",
            "application/vnd.fermyon.spin.application.v1+config",
        ],
        "above 499 layers the files travel as one archive"
    );
    // The pull unpacks the archive into the store, each file under its own digest.
    let other = User::new();
    let other_cache = other.cache().display().to_string();
    let pull = [
        "registry",
        "pull",
        &reference,
        "--insecure",
        "--cache-dir",
        &other_cache,
    ];
    other.ok(&pull, app.path());
    let blobs = other.cache().join("registry/blobs/sha256");
    let blob = |i: usize| blobs.join(spin_app::Digest::of_bytes(&contents[i].1).hex());
    assert!((0..600).all(|i| blob(i).is_file()), "files not unpacked");
    // An unpack cut short (the archive verified, some files not yet renamed into place):
    // the next pull finds the archive in the store and unpacks what is missing.
    std::fs::remove_file(blob(123)).unwrap();
    std::fs::remove_file(blob(599)).unwrap();
    other.ok(&pull, app.path());
    assert_eq!(std::fs::read(blob(123)).unwrap(), contents[123].1);
    assert_eq!(std::fs::read(blob(599)).unwrap(), contents[599].1);
    let spin = other.up(&reference, &["--insecure"]);
    assert_eq!(
        spin.get("/file/files/f123.txt").text(),
        format!("{:0>200}", 123)
    );
    assert_eq!(
        spin.get("/file/files/f599.txt").text(),
        format!("{:0>200}", 599)
    );
}

#[test]
fn blobs_known_in_a_sibling_repository_are_mounted_not_uploaded() {
    let registry = Registry::start();
    let app = two_component_app();
    let user = User::new();
    let cache = user.cache().display().to_string();
    user.ok(
        &[
            "registry",
            "push",
            &format!("{}/team-a/app:v1", registry.host()),
            "--insecure",
            "--cache-dir",
            &cache,
        ],
        app.path(),
    );
    let uploads = registry.upload_requests();
    let out = user.spin(
        &[
            "registry",
            "push",
            &format!("{}/team-b/app:v1", registry.host()),
            "--insecure",
            "--cache-dir",
            &cache,
        ],
        app.path(),
    );
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("0 blobs uploaded, 0 already there, 6 mounted"),
        "{stderr}"
    );
    let log = registry.log();
    let mounts = log
        .lines()
        .filter(|l| {
            l.contains("\"POST /v2/team-b/app/blobs/uploads/?")
                && l.contains("mount=")
                && l.contains("from=team-a")
        })
        .count();
    assert_eq!(mounts, 6, "{log}");
    // Mount requests are the only upload-endpoint traffic.
    assert_eq!(registry.upload_requests(), uploads + 6);
}

/// A fake registry on 127.0.0.1 answering every manifest request with `manifest`.
fn serve_manifest(manifest: Vec<u8>) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let digest = spin_app::Digest::of_bytes(&manifest).to_string();
    std::thread::spawn(move || {
        use std::io::{BufRead, BufReader, Write};
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            let _ = reader.read_line(&mut request);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let mut stream = stream;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/vnd.oci.image.manifest.v1+json\r\ndocker-content-digest: {digest}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                if request.contains("/manifests/") {
                    manifest.len()
                } else {
                    2
                }
            );
            let _ = stream.write_all(head.as_bytes());
            if request.starts_with("GET") {
                let _ = stream.write_all(if request.contains("/manifests/") {
                    &manifest
                } else {
                    b"{}"
                });
            }
        }
    });
    port
}

#[test]
fn an_oversized_manifest_is_refused() {
    // distribution itself refuses manifests over 4 MiB, so a fake registry serves one.
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": spin_app::Digest::of_bytes(b"{}").to_string(), "size": 2},
        "layers": [],
        "annotations": {"padding": "x".repeat(5 << 20)},
    });
    let port = serve_manifest(serde_json::to_vec(&manifest).unwrap());
    let user = User::new();
    let cache = user.cache().display().to_string();
    let err = user.fails(
        &[
            "registry",
            "pull",
            &format!("127.0.0.1:{port}/acme/big:v1"),
            "--insecure",
            "--cache-dir",
            &cache,
        ],
        Path::new("."),
    );
    assert!(err.contains("over the 4 MiB limit"), "{err}");
}

#[test]
fn server_errors_are_retried_then_explained() {
    // A "registry" that always answers 503.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\nconnection: close\r\n\r\nbusy");
        }
    });
    let user = User::new();
    let cache = user.cache().display().to_string();
    let err = user.fails(
        &[
            "registry",
            "pull",
            &format!("127.0.0.1:{port}/acme/app:v1"),
            "--insecure",
            "--cache-dir",
            &cache,
        ],
        Path::new("."),
    );
    assert!(err.contains("503"), "{err}");
    assert!(err.contains("retrying"), "{err}");
    assert!(err.contains("try again later"), "{err}");
}
