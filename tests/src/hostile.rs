//! Hostile input for security tests: the malicious registry of
//! `tests/interop/evil_registry.py`, crafted OCI layouts and locked apps, and the checks
//! every such test makes (the store is intact, memory stayed bounded).

use crate::sandbox::Done;
use crate::sha256_hex;
use serde_json::{Value, json};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// Peak resident memory allowed for a command fed hostile input. A normal pull of a small
/// app peaks near 30 MB; the attacks this guards against reached 2–14 GB.
pub const RSS_BOUND: u64 = 200 << 20;

/// Fail when `done` peaked over [`RSS_BOUND`].
pub fn assert_bounded(done: &Done) {
    assert!(
        done.peak_rss < RSS_BOUND,
        "peak RSS {} MB is over the {} MB bound:\n{}",
        done.peak_rss >> 20,
        RSS_BOUND >> 20,
        done.report()
    );
}

/// The malicious registry of `tests/interop/evil_registry.py` on 127.0.0.1: repository
/// `evil/<case>` misbehaves as that script describes.
pub struct EvilRegistry {
    child: Child,
    /// Its port.
    pub port: u16,
    log: Arc<Mutex<String>>,
}

impl EvilRegistry {
    /// Start it; the first start on a machine builds its large payloads (cached in
    /// [`crate::setup_cache`]).
    pub fn start() -> Self {
        let port = crate::free_port();
        let mut child = Command::new("python3")
            .arg(crate::repo_root().join("tests/interop/evil_registry.py"))
            .arg(port.to_string())
            .arg(crate::setup_cache().join("evil-registry"))
            .arg(crate::component("hello"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 is needed for the malicious registry");
        let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready", "the malicious registry did not start");
        // Keep reading its access log, so its writes never fail.
        let log = crate::capture(reader);
        let _ = crate::capture(child.stderr.take().unwrap());
        Self { child, port, log }
    }

    /// Its access log so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// `127.0.0.1:<port>/evil/<case>:v1`.
    pub fn reference(&self, case: &str) -> String {
        format!("127.0.0.1:{}/evil/{case}:v1", self.port)
    }
}

impl Drop for EvilRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Hash every blob of the store under `cache` and check each against its name; how many
/// there are. A store object that changed is a failed test.
pub fn assert_store_intact(cache: &Path) -> usize {
    let blobs = cache.join("registry/blobs/sha256");
    let Ok(entries) = std::fs::read_dir(&blobs) else {
        return 0;
    };
    let mut n = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(
            sha256_hex(&bytes),
            name,
            "store blob {} changed",
            path.display()
        );
        n += 1;
    }
    n
}

/// Total size of the files under `dir`.
pub fn tree_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => tree_size(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

/// Write an OCI layout holding a Spin app whose locked app is `locked` and whose other
/// layers are `blobs`; the layout directory.
pub fn layout(dir: &Path, locked: &Value, blobs: &[&[u8]]) -> PathBuf {
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
pub fn locked(id: &str, wasm: &[u8], files: Value) -> Value {
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
