//! Distribution end to end against a real `docker-registry` (distribution 2.8) on
//! 127.0.0.1: push, pull into an empty store, run, reproducibility, Spin's layer layout,
//! archives for many files, cross-repository mounts, OCI layouts.

use spin_tests::apps::two_component_app;
use spin_tests::registry::{Registry, skopeo, skopeo_raw_manifest};
use spin_tests::sandbox::Sandbox;
use spin_tests::{Spin, app_dir, assert_contains, component};

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
    let user = Sandbox::with_open_policy();
    let reference = format!("{}/acme/shipped:v1", registry.host());
    let digest = user.push(app.path(), &reference);

    let local = Spin::up(app.path(), &[]);
    let expected = responses(&local);
    assert_eq!(expected[2].0, 200);
    drop(local);

    // A different user with an empty store pulls and runs it by digest.
    let other = Sandbox::with_open_policy();
    let pinned = format!("{}/acme/shipped@{digest}", registry.host());
    let pulled = other.pull(&pinned);
    assert_contains(&pulled, format!("Pulled {pinned}"));
    let remote = other.serve(&reference, &["--insecure"]);
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
    let user = Sandbox::with_open_policy();
    std::fs::remove_file(user.home().join("config/spin/policy.toml")).unwrap();
    let reference = format!("{}/acme/nothing:v1", registry.host());
    user.spin(&["up", "-f", &reference])
        .insecure()
        .fails_with(&[
            "no verification policy",
            "--policy FILE, set SPIN_POLICY",
            "[[rule.authority]]",
        ]);
}

#[test]
fn pushes_are_reproducible_and_unchanged_repushes_upload_nothing() {
    let registry = Registry::start();
    let app = two_component_app();
    let user = Sandbox::with_open_policy();
    let push = |tag: &str| {
        let reference = format!("{}/acme/repro:{tag}", registry.host());
        user.push(app.path(), &reference)
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
    let one = format!("{}/acme/repro:one", registry.host());
    let json = user.inspect(&one);
    let annotations = &json["manifest"]["annotations"];
    assert_eq!(annotations["org.opencontainers.image.title"], "shipped");
    assert_eq!(
        annotations["org.opencontainers.image.authors"],
        "Ada, Grace"
    );
    assert!(annotations["org.opencontainers.image.created"].is_string());

    let reference = format!("{}/acme/repro:epoch", registry.host());
    user.spin(&["registry", "push", &reference])
        .args(&["--annotation", "org.example.team=shipping"])
        .cwd(app.path())
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .insecure()
        .cache()
        .ok();
    let inspect = user
        .spin(&["registry", "inspect", &reference])
        .cwd(app.path())
        .insecure()
        .cache()
        .ok()
        .stdout();
    assert_contains(
        &inspect,
        "org.opencontainers.image.created: 2023-11-14T22:13:20Z",
    );
    assert_contains(&inspect, "org.example.team: shipping");
}

/// The media types of `manifest`'s layers, in order.
fn layer_types(manifest: &serde_json::Value) -> Vec<&str> {
    let layers = manifest["layers"].as_array().unwrap();
    layers
        .iter()
        .map(|l| l["mediaType"].as_str().unwrap())
        .collect()
}

#[test]
fn layers_follow_spins_layout() {
    let registry = Registry::start();
    let app = two_component_app();
    let user = Sandbox::with_open_policy();
    let reference = format!("{}/acme/layout:v1", registry.host());
    user.push(app.path(), &reference);
    let json = user.inspect(&reference);
    let m = &json["manifest"];
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(
        m["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    assert_eq!(
        layer_types(m),
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

#[test]
fn oci_layouts_push_copy_and_run() {
    let registry = Registry::start();
    let app = two_component_app();
    let user = Sandbox::with_open_policy();
    let layout = tempfile::tempdir().unwrap();
    let dir = layout.path().to_str().unwrap();
    let wrote = user
        .spin(&["registry", "push", "v7", "--oci-layout", dir])
        .cwd(app.path())
        .cache()
        .ok()
        .stdout();
    assert_contains(&wrote, "(tag v7)");
    let spin = user.serve(dir, &[]);
    assert_eq!(spin.get("/tb/file/static/big.bin").status, 200);
    drop(spin);

    // Air-gapped transfer: layout → registry → another layout, digests unchanged.
    let reference = format!("{}/acme/airgap:v7", registry.host());
    user.spin(&["registry", "copy", &format!("oci:{dir}:v7"), &reference])
        .cwd(app.path())
        .insecure()
        .cache()
        .ok()
        .stdout();
    let raw = skopeo_raw_manifest(&reference);
    let digest = spin_app::Digest::of_bytes(&raw).to_string();
    assert!(wrote.contains(&digest), "{wrote} vs {digest}");
    let second = tempfile::tempdir().unwrap();
    let other = Sandbox::with_open_policy();
    other
        .spin(&[
            "registry",
            "copy",
            &reference,
            &format!("oci:{}:copied", second.path().display()),
        ])
        .cwd(app.path())
        .insecure()
        .cache()
        .ok()
        .stdout();
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
fn many_files_go_into_an_archive_layer_and_still_run() {
    let registry = Registry::start();
    let user = Sandbox::with_open_policy();
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
    user.push(app.path(), &reference);
    let json = user.inspect(&reference);
    assert_eq!(
        layer_types(&json["manifest"]),
        [
            "application/vnd.wasm.content.layer.v1+wasm",
            "application/vnd.wasm.content.bundle.v1.tar+gzip",
            "application/vnd.fermyon.spin.application.v1+config",
        ],
        "above 499 layers the files travel as one archive"
    );
    // The pull unpacks the archive into the store, each file under its own digest.
    let other = Sandbox::with_open_policy();
    let pull = || {
        other
            .spin(&["registry", "pull", &reference])
            .insecure()
            .cache()
            .ok()
    };
    pull();
    let blobs = other.cache().join("registry/blobs/sha256");
    let blob = |i: usize| blobs.join(spin_app::Digest::of_bytes(&contents[i].1).hex());
    assert!((0..600).all(|i| blob(i).is_file()), "files not unpacked");
    // An unpack cut short (the archive verified, some files not yet renamed into place):
    // the next pull finds the archive in the store and unpacks what is missing.
    std::fs::remove_file(blob(123)).unwrap();
    std::fs::remove_file(blob(599)).unwrap();
    pull();
    assert_eq!(std::fs::read(blob(123)).unwrap(), contents[123].1);
    assert_eq!(std::fs::read(blob(599)).unwrap(), contents[599].1);
    let spin = other.serve(&reference, &["--insecure"]);
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
    let user = Sandbox::with_open_policy();
    user.spin(&[
        "registry",
        "push",
        &format!("{}/team-a/app:v1", registry.host()),
    ])
    .cwd(app.path())
    .insecure()
    .cache()
    .ok()
    .stdout();
    let uploads = registry.upload_requests();
    let team_b = format!("{}/team-b/app:v1", registry.host());
    let pushed = user
        .spin(&["registry", "push", &team_b])
        .cwd(app.path())
        .insecure()
        .cache()
        .ok();
    let stderr = pushed.stderr();
    assert_contains(&stderr, "0 blobs uploaded, 0 already there, 6 mounted");
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
