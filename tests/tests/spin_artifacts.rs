//! Artifacts exactly as Spin writes them, pushed to the registry without this tool and
//! run with `spin up -f`: Spin 4.0.2's layout (`spin_lock_version` 0, no top-level
//! `mediaType`, compact locked-app JSON as the last layer), Spin ≤ 1.5's (the locked app
//! is the image config), an app with local service chaining (lock version 1 and its host
//! requirement), host requirements this tool must refuse, and a lone Wasm layer under an
//! ordinary image config. Also what `spin registry push` writes for the lock version.

use base64::Engine as _;
use serde_json::{Value, json};
use spin_tests::registry::Registry;
use spin_tests::sandbox::Sandbox;
use spin_tests::{app_dir, assert_contains, component, repo_root};

const WASM: &str = "application/vnd.wasm.content.layer.v1+wasm";
const DATA: &str = "application/vnd.wasm.content.layer.v1+data";
const LOCKED: &str = "application/vnd.fermyon.spin.application.v1+config";
const IMAGE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn descriptor(media_type: &str, digest: &str, data: &[u8]) -> Value {
    json!({ "mediaType": media_type, "digest": digest, "size": data.len() })
}

/// An artifact under construction: blobs go to the registry as they are added.
struct Artifact<'a> {
    registry: &'a Registry,
    repo: &'a str,
    layers: Vec<Value>,
}

impl<'a> Artifact<'a> {
    fn new(registry: &'a Registry, repo: &'a str) -> Self {
        Self {
            registry,
            repo,
            layers: Vec::new(),
        }
    }

    /// Push a blob as a layer (once, as Spin deduplicates); its digest.
    fn layer(&mut self, media_type: &str, data: &[u8]) -> String {
        let digest = self.registry.put_blob(self.repo, data);
        if !self.layers.iter().any(|l| l["digest"] == digest.as_str()) {
            self.layers.push(descriptor(media_type, &digest, data));
        }
        digest
    }

    /// A component source as Spin writes it (inlined up to 128 bytes).
    fn wasm(&mut self, bytes: &[u8]) -> Value {
        let digest = self.layer(WASM, bytes);
        json!({ "content_type": "application/wasm", "digest": digest })
    }

    /// A file mount entry as Spin writes it.
    fn file(&mut self, path: &str, bytes: &[u8]) -> Value {
        if bytes.len() <= 128 {
            let inline = base64::engine::general_purpose::STANDARD.encode(bytes);
            let digest = format!("sha256:{}", spin_tests::sha256_hex(bytes));
            return json!({ "inline": inline, "digest": digest, "path": path });
        }
        let digest = self.layer(DATA, bytes);
        json!({ "digest": digest, "path": path })
    }

    /// Spin 4.0.2: the compact locked app as the last layer, an image config labelled
    /// with its digest, no top-level `mediaType`.
    fn push_spin4(mut self, tag: &str, locked: &Value) -> String {
        let locked = serde_json::to_vec(locked).unwrap();
        let locked_digest = self.registry.put_blob(self.repo, &locked);
        self.layers
            .push(descriptor(LOCKED, &locked_digest, &locked));
        let config = serde_json::to_vec(&json!({
            "architecture": "wasm",
            "os": "Wasip1",
            "config": { "Labels": { "com.fermyon.spin.lockedAppDigest": locked_digest } },
            "rootfs": { "type": "layers", "diff_ids": [] },
        }))
        .unwrap();
        self.finish(tag, IMAGE_CONFIG, &config)
    }

    /// Spin ≤ 1.5: the locked app is the config blob.
    fn push_spin15(self, tag: &str, locked: &Value) -> String {
        let locked = serde_json::to_vec(locked).unwrap();
        self.finish(tag, LOCKED, &locked)
    }

    fn finish(self, tag: &str, config_type: &str, config: &[u8]) -> String {
        let config_digest = self.registry.put_blob(self.repo, config);
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "config": descriptor(config_type, &config_digest, config),
            "layers": self.layers,
            "annotations": { "org.opencontainers.image.title": self.repo },
        }))
        .unwrap();
        self.registry
            .put_manifest(self.repo, tag, MANIFEST, &manifest);
        format!("{}/{}:{tag}", self.registry.host(), self.repo)
    }
}

fn trigger(component: &str, route: Value) -> Value {
    json!({
        "id": format!("trigger-{component}"),
        "trigger_type": "http",
        "trigger_config": { "component": component, "route": route },
    })
}

fn metadata(name: &str) -> Value {
    json!({
        "name": name,
        "version": "0.1.0",
        "authors": ["Spin Author"],
        "trigger": { "type": "http" },
        "triggers": { "http": {} },
    })
}

fn read(path: std::path::PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn legacy(name: &str) -> Vec<u8> {
    read(repo_root().join("tests/fixtures/spin-legacy").join(name))
}

#[test]
fn a_spin_4_artifact_with_lock_version_0_runs() {
    let registry = Registry::start();
    let mut a = Artifact::new(&registry, "spin4/app");
    let hello = a.wasm(&read(component("hello")));
    let rust = a.wasm(&legacy("legacy-rust.wasm"));
    let testbed = a.wasm(&read(component("testbed")));
    let big: Vec<u8> = (0..4000u32).flat_map(|i| i.to_le_bytes()).collect();
    let files = vec![a.file("static/big.bin", &big), a.file("small.txt", b"tiny")];
    let locked = json!({
        "spin_lock_version": 0,
        "metadata": metadata("spin4-app"),
        "triggers": [
            trigger("hello", json!("/hello")),
            trigger("rust", json!("/rust/...")),
            trigger("tb", json!("/tb/...")),
        ],
        "components": [
            { "id": "hello", "source": hello },
            { "id": "rust", "source": rust },
            {
                "id": "tb",
                "metadata": { "key_value_stores": ["default"] },
                "source": testbed,
                "env": { "WHO": "spin 4" },
                "files": files,
            },
        ],
    });
    let reference = a.push_spin4("v1", &locked);

    let user = Sandbox::with_open_policy();
    let spin = user.serve(&reference, &["--insecure"]);
    assert_eq!(spin.get("/hello").text(), "Hello from WAT!\n");
    assert_eq!(spin.get("/rust").text(), "Hello, Fermyon");
    assert_eq!(spin.get("/tb/env/WHO").text(), "spin 4");
    assert_eq!(spin.get("/tb/file/small.txt").text(), "tiny");
    assert_eq!(spin.get("/tb/file/static/big.bin").body, big);
    assert_eq!(spin.request("PUT", "/tb/kv/k", b"v").text(), "ok");
}

#[test]
fn a_spin_1_5_artifact_whose_config_is_the_locked_app_runs() {
    let registry = Registry::start();
    let mut a = Artifact::new(&registry, "spin15/legacy");
    let go = a.wasm(&legacy("legacy-go.wasm"));
    let rust = a.wasm(&legacy("legacy-rust.wasm"));
    let mut meta = metadata("legacy-test");
    meta["trigger"] = json!({ "type": "http", "base": "/" });
    let route = |c: &str, r: &str| {
        json!({
            "id": format!("trigger-{c}"),
            "trigger_type": "http",
            "trigger_config": { "component": c, "route": r, "executor": null },
        })
    };
    let locked = json!({
        "spin_lock_version": 0,
        "metadata": meta,
        "triggers": [route("go", "/golang/..."), route("rust", "/rust/...")],
        "components": [
            { "id": "go", "source": go },
            { "id": "rust", "source": rust },
        ],
    });
    let reference = a.push_spin15("v1", &locked);
    let user = Sandbox::with_open_policy();
    let spin = user.serve(&reference, &["--insecure"]);
    assert_eq!(spin.get("/golang").text(), "Hello Fermyon!\n");
    assert_eq!(spin.get("/rust").text(), "Hello, Fermyon");
}

/// Two components where `tb` may call `hello` (private) at `hello.spin.internal`.
fn chaining_locked(a: &mut Artifact<'_>, host_requirements: Value, must: Value) -> Value {
    let hello = a.wasm(&read(component("hello")));
    let testbed = a.wasm(&read(component("testbed")));
    json!({
        "spin_lock_version": 1,
        "must_understand": must,
        "metadata": metadata("chained"),
        "host_requirements": host_requirements,
        "triggers": [
            trigger("tb", json!("/tb/...")),
            trigger("hello", json!({ "private": true })),
        ],
        "components": [
            {
                "id": "tb",
                "metadata": { "allowed_outbound_hosts": ["http://hello.spin.internal"] },
                "source": testbed,
            },
            { "id": "hello", "source": hello },
        ],
    })
}

#[test]
fn a_service_chaining_artifact_calls_its_component_in_process() {
    let registry = Registry::start();
    let mut a = Artifact::new(&registry, "chain/app");
    let locked = chaining_locked(
        &mut a,
        json!({ "local_service_chaining": "required" }),
        json!(["host_requirements"]),
    );
    let reference = a.push_spin4("v1", &locked);
    let user = Sandbox::with_open_policy();
    let spin = user.serve(&reference, &["--insecure"]);
    let chained = spin.get("/tb/outbound?http://hello.spin.internal/anything");
    assert_eq!(
        (chained.status, chained.text()),
        (200, "200\nHello from WAT!\n".into())
    );
    // The private component has no route of its own.
    assert_eq!(spin.get("/hello").status, 404);
    // Another component's name is not allowed: refused from the response future.
    let denied = spin.get("/tb/outbound?http://tb.spin.internal/hello");
    assert_eq!(
        (denied.status, denied.text()),
        (502, "HTTP-request-denied".into())
    );
}

#[test]
fn host_requirements_this_tool_lacks_are_refused_by_name() {
    let registry = Registry::start();
    let user = Sandbox::with_open_policy();
    let cases = [
        (
            json!({ "teleportation": "required" }),
            json!(["host_requirements"]),
            "host_requirements.teleportation: the app requires host feature `teleportation`",
        ),
        (
            json!({}),
            json!(["time_travel"]),
            "must_understand[0]: the app requires the host to understand `time_travel`",
        ),
    ];
    for (i, (requirements, must, expected)) in cases.into_iter().enumerate() {
        let mut a = Artifact::new(&registry, "chain/refused");
        let locked = chaining_locked(&mut a, requirements, must);
        let reference = a.push_spin4(&format!("v{i}"), &locked);
        let err = user
            .up(std::path::Path::new(&reference), &["--insecure"])
            .err()
            .expect("refused");
        assert_contains(&err, expected);
    }
    // `optional` is the same as not asking.
    let mut a = Artifact::new(&registry, "chain/optional");
    let locked = chaining_locked(&mut a, json!({ "teleportation": "optional" }), json!([]));
    let reference = a.push_spin4("v1", &locked);
    let spin = user.serve(&reference, &["--insecure"]);
    assert_eq!(spin.get("/tb/hello").text(), "Hello from C!\n");
}

#[test]
fn a_lone_wasm_layer_under_an_image_config_runs_as_a_component() {
    let registry = Registry::start();
    let mut a = Artifact::new(&registry, "bare/hello");
    a.layer(WASM, &read(component("hello")));
    let config = b"{\"architecture\":\"wasm\",\"os\":\"wasip1\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
    let reference = a.finish("v1", IMAGE_CONFIG, config);
    let user = Sandbox::with_open_policy();
    let spin = user.serve(&reference, &["--insecure"]);
    assert_eq!(spin.get("/any/path").text(), "Hello from WAT!\n");
}

/// The locked app layer of a pushed artifact.
fn pushed_locked_app(user: &Sandbox, reference: &str) -> Value {
    let raw = user
        .spin(&["registry", "inspect", reference, "--json"])
        .insecure()
        .cache()
        .ok()
        .stdout();
    let inspected: Value = serde_json::from_str(&raw).unwrap();
    inspected["locked_app"].clone()
}

#[test]
fn push_writes_lock_version_0_unless_the_app_chains_services() {
    let registry = Registry::start();
    let user = Sandbox::with_open_policy();
    let manifest = |hosts: &str| {
        format!(
            r#"spin_manifest_version = 2
[application]
name = "lockver"
[[trigger.http]]
route = "/tb/..."
component = "tb"
[[trigger.http]]
route = {{ private = true }}
component = "hello"
[component.tb]
source = {tb:?}
allowed_outbound_hosts = [{hosts}]
[component.hello]
source = {hello:?}
"#,
            tb = component("testbed"),
            hello = component("hello"),
        )
    };
    let plain = app_dir(&[("spin.toml", manifest("").as_bytes())]);
    let reference = format!("{}/lockver/plain:v1", registry.host());
    user.push(plain.path(), &reference);
    let locked = pushed_locked_app(&user, &reference);
    assert_eq!(locked["spin_lock_version"], 0, "{locked}");
    assert!(locked.get("must_understand").is_none());

    let chained = app_dir(&[(
        "spin.toml",
        manifest("\"http://hello.spin.internal\"").as_bytes(),
    )]);
    let reference = format!("{}/lockver/chained:v1", registry.host());
    user.push(chained.path(), &reference);
    let locked = pushed_locked_app(&user, &reference);
    assert_eq!(locked["spin_lock_version"], 1, "{locked}");
    assert_eq!(locked["must_understand"], json!(["host_requirements"]));
    assert_eq!(
        locked["host_requirements"],
        json!({ "local_service_chaining": "required" })
    );
    // And it runs, from the registry and from the manifest.
    let spin = user.serve(&reference, &["--insecure"]);
    assert_eq!(
        spin.get("/tb/outbound?http://hello.spin.internal/").text(),
        "200\nHello from WAT!\n"
    );
    drop(spin);
    let spin = spin_tests::Spin::up(chained.path(), &[]);
    assert_eq!(
        spin.get("/tb/outbound?http://hello.spin.internal/").text(),
        "200\nHello from WAT!\n"
    );
}
