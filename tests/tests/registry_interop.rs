//! Our artifacts through independent clients, and theirs through ours: skopeo and the
//! `oras` client read what we push with the same digests; an `oras`-pushed Wasm component
//! runs.

use spin_tests::apps::two_component_app;
use spin_tests::registry::{Registry, oras, skopeo, skopeo_raw_manifest};
use spin_tests::sandbox::Sandbox;
use spin_tests::{assert_contains, component};

#[test]
fn skopeo_and_oras_read_our_artifact_with_the_same_digests() {
    let registry = Registry::start();
    let app = two_component_app();
    let user = Sandbox::with_open_policy();
    let reference = format!("{}/acme/interop:v1", registry.host());
    let digest = user.push(app.path(), &reference);

    let raw = skopeo_raw_manifest(&reference);
    assert_eq!(spin_app::Digest::of_bytes(&raw).to_string(), digest);
    let manifest: serde_json::Value = serde_json::from_slice(&raw).unwrap();

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
    assert_contains(&index, &digest);
    let spin = user.serve(layout.path().to_str().unwrap(), &[]);
    assert_eq!(spin.get("/hello").text(), "Hello from WAT!\n");
}

#[test]
fn an_oras_pushed_wasm_component_runs_and_ours_reads_back() {
    let registry = Registry::start();
    let user = Sandbox::with_open_policy();
    let theirs = format!("{}/acme/from-oras:v1", registry.host());
    let pushed = oras(&["push-wasm", &theirs, component("hello").to_str().unwrap()]);
    assert!(
        pushed.status.success(),
        "{}",
        String::from_utf8_lossy(&pushed.stderr)
    );
    let spin = user.serve(&theirs, &["--insecure"]);
    assert_eq!(spin.get("/anything").text(), "Hello from WAT!\n");
    drop(spin);

    // Our single-component push is a CNCF Wasm artifact others can read.
    let ours = format!("{}/acme/component:v1", registry.host());
    let hello = component("hello");
    user.spin(&[
        "registry",
        "push",
        &ours,
        "--component",
        hello.to_str().unwrap(),
    ])
    .insecure()
    .cache()
    .ok()
    .stdout();
    let raw = skopeo_raw_manifest(&ours);
    let manifest: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.wasm.config.v0+json"
    );
    assert_eq!(manifest["layers"][0]["mediaType"], "application/wasm");
    assert_eq!(
        manifest["layers"][0]["digest"],
        spin_app::Digest::of_file(&hello).unwrap().to_string()
    );
    let spin = user.serve(&ours, &["--insecure"]);
    assert_eq!(spin.get("/").text(), "Hello from WAT!\n");
}
