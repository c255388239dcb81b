//! Registries that fail or lie: corrupted blobs, pulls cut short and resumed, a registry
//! killed mid-push and mid-pull, oversized manifests, unknown media types, 5xx answers,
//! and input mistakes, each with a one-line error that says what to do.

use spin_tests::apps::two_component_app;
use spin_tests::registry::Registry;
use spin_tests::sandbox::Sandbox;
use spin_tests::{app_dir, assert_contains, component, pushed_digest, spin_bin};
use std::path::Path;
use std::process::Command;

#[test]
fn corrupted_blob_on_the_registry_is_rejected_and_nothing_is_stored() {
    let registry = Registry::start();
    let app = two_component_app();
    let user = Sandbox::with_open_policy();
    let reference = format!("{}/acme/tampered:v1", registry.host());
    user.push(app.path(), &reference);
    let testbed = spin_app::Digest::of_file(&component("testbed"))
        .unwrap()
        .to_string();
    let data = registry.blob_data(&testbed);
    let mut bytes = std::fs::read(&data).unwrap();
    bytes[1000] ^= 0xff;
    std::fs::write(&data, bytes).unwrap();

    let other = Sandbox::with_open_policy();
    let pull = other
        .spin(&["registry", "pull", &reference])
        .insecure()
        .cache();
    let host = registry.host();
    pull.fails_with(&[&format!("blob {testbed} from {host} failed verification")]);
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
    let user = Sandbox::with_open_policy();
    let reference = format!("{}/acme/resume:v1", registry.host());
    user.push(app.path(), &reference);
    // Leave the first half of the testbed layer as an interrupted download would.
    let other = Sandbox::with_open_policy();
    let wasm = std::fs::read(component("testbed")).unwrap();
    let hex = spin_app::Digest::of_bytes(&wasm).hex().to_string();
    let partial = other.cache().join("registry/partial");
    std::fs::create_dir_all(&partial).unwrap();
    std::fs::write(partial.join(&hex), &wasm[..wasm.len() / 2]).unwrap();
    other.pull(&reference);
    assert_eq!(
        std::fs::read(other.cache().join("registry/blobs/sha256").join(&hex)).unwrap(),
        wasm
    );
    assert!(!partial.join(&hex).exists());
}

#[test]
fn bad_input_gets_one_line_errors() {
    let registry = Registry::start();
    let user = Sandbox::with_open_policy();
    user.spin(&["registry", "pull", "ghcr.io/Acme/App:v1"])
        .cache()
        .fails_with(&["invalid reference `ghcr.io/Acme/App:v1`", "lowercase"]);
    user.spin(&[
        "registry",
        "pull",
        &format!("{}/acme/none:missing", registry.host()),
    ])
    .insecure()
    .cache()
    .fails_with(&["not found", "check the repository name, tag and digest"]);
    // Nothing listening: retried, then a clear message.
    let port = spin_tests::free_port();
    let nowhere = format!("127.0.0.1:{port}/a/b:v1");
    user.spin(&["registry", "pull", &nowhere])
        .insecure()
        .cache()
        .fails_with(&["cannot reach registry", "attempt 1 of"]);
}

#[test]
fn an_unknown_layer_media_type_is_refused() {
    let registry = Registry::start();
    let user = Sandbox::with_open_policy();
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
    user.spin(&["registry", "pull", &reference])
        .insecure()
        .cache()
        .fails_with(&[
            "application/vnd.oci.image.layer.v1.tar+gzip",
            "not known",
            "is this a container image?",
        ]);
}

/// Run `spin registry <command> <reference> --insecure --cache-dir …` as `user` in `cwd`,
/// kill the registry while bytes are moving and restart it: the command must recover and
/// say it retried. Its standard output.
fn survives_a_restart(
    registry: &mut Registry,
    user: &Sandbox,
    command: &str,
    reference: &str,
    cwd: &Path,
) -> String {
    let cache = user.cache();
    let args = [
        "registry",
        command,
        reference,
        "--insecure",
        "--cache-dir",
        cache.to_str().unwrap(),
    ]
    .map(String::from);
    let (env, cwd) = (user.env(), cwd.to_path_buf());
    let running = std::thread::spawn(move || {
        let mut spin = Command::new(spin_bin());
        spin.args(&args)
            .current_dir(cwd)
            .envs(env)
            .output()
            .unwrap()
    });
    std::thread::sleep(std::time::Duration::from_millis(900));
    registry.kill();
    std::thread::sleep(std::time::Duration::from_millis(600));
    registry.restart();
    let out = running.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{command} did not recover:\n{stderr}");
    assert!(
        stderr.contains("retrying"),
        "the registry was not killed mid-{command}:\n{stderr}"
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
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
    let user = Sandbox::with_open_policy();
    let reference = format!("127.0.0.1:{}/acme/big:v1", proxy.port);
    let pushed = survives_a_restart(&mut registry, &user, "push", &reference, app.path());
    let digest = pushed_digest(&pushed);
    let other = Sandbox::with_open_policy();
    let pulled = survives_a_restart(&mut registry, &other, "pull", &reference, app.path());
    assert_contains(&pulled, &digest);
    let other_cache = other.cache();
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
    let user = Sandbox::with_open_policy();
    user.spin(&["registry", "pull", &format!("127.0.0.1:{port}/acme/big:v1")])
        .insecure()
        .cache()
        .fails_with(&["over the 4 MiB limit"]);
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
    let user = Sandbox::with_open_policy();
    user.spin(&["registry", "pull", &format!("127.0.0.1:{port}/acme/app:v1")])
        .insecure()
        .cache()
        .fails_with(&["503", "retrying", "try again later"]);
}
