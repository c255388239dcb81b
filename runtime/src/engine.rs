//! The one wasmtime `Engine` (pooling allocator, epoch interruption) and the compiled
//! code cache that makes warm starts skip Cranelift (and, for core modules, the
//! conversion to a component).

use crate::Error;
use crate::module::Kind;
use sha2::Digest as _;
use spin_app::Digest;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::time::{Duration, SystemTime};
use wasmtime::component::Component;
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, Module, PoolingAllocationConfig, Precompiled,
};

/// Compiled code: a component (also a componentized module), or a core module.
pub enum Compiled {
    /// A component.
    Component(Component),
    /// A core module (Spin's old ABI, WAGI).
    Module(Module),
}

/// How often the epoch advances; the granularity of request timeouts.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Resource limits applied to every request. Spin has none of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock limit for one request, including streaming the response body.
    pub request_timeout: Duration,
    /// Total linear memory one instance may use, in bytes.
    pub memory_bytes: usize,
    /// Largest accepted request body, in bytes.
    pub max_request_body: u64,
    /// Requests served at once (instance pool size).
    pub max_concurrent_requests: u32,
    /// WASI P3 instance reuse, as Spin 4 offers it.
    pub reuse: Reuse,
}

/// How many requests one WASI P3 instance serves before it is dropped (Spin 4's defaults:
/// 128 in all, 16 at once, dropped after 1 s idle). A `total` of 1 is a fresh instance per
/// request, as for P2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reuse {
    /// Requests per instance in all.
    pub total: u32,
    /// Requests per instance at once.
    pub concurrent: u32,
    /// An idle instance is dropped after this long.
    pub idle_timeout: Duration,
}

impl Default for Reuse {
    fn default() -> Self {
        Self {
            total: 128,
            concurrent: 16,
            idle_timeout: Duration::from_secs(1),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            memory_bytes: 512 << 20,
            max_request_body: 100 << 20,
            max_concurrent_requests: 256,
            reuse: Reuse::default(),
        }
    }
}

/// Build the engine and start the thread that advances its epoch.
pub fn new_engine(limits: &Limits) -> Result<Engine, Error> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    // WASI P3 components (Spin 4) use component-model async; P2 components are unaffected.
    config.wasm_component_model_async(true);
    config.epoch_interruption(true);
    let slots = limits.max_concurrent_requests.max(1);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(slots)
        .total_core_instances(slots * 16)
        .total_memories(slots * 4)
        .total_tables(slots * 8)
        .max_memories_per_component(8)
        .max_tables_per_component(16)
        .max_core_instances_per_component(64)
        .max_component_instance_size(1 << 20)
        .max_core_instance_size(4 << 20)
        .table_elements(100_000)
        .max_memory_size(limits.memory_bytes)
        // Reset reused slots with memset (of only the pages touched, where the kernel can
        // tell) instead of madvise: decommitting costs a TLB shootdown on every core per
        // request, which dominated small requests.
        .linear_memory_keep_resident(2 << 20)
        .table_keep_resident(1 << 20)
        .pagemap_scan(wasmtime::Enabled::Auto)
        .decommit_batch_size(32);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    let engine = Engine::new(&config).map_err(|e| Error::Engine(e.into()))?;
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("epoch-ticker".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .map_err(|e| Error::Io {
            what: "starting the epoch thread".into(),
            source: e,
        })?;
    Ok(engine)
}

fn engine_key(engine: &Engine) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    // `v2`: entries carry a checksum header (older ones do not and are never read).
    // `v3`: WASI 0.3 release-candidate names are compiled as the final ones.
    format!("v3-{:016x}", h.finish())
}

/// Compile a component or module (a module with component type information is made a
/// component first), or load its machine code from `cache_dir` when a previous run
/// compiled the same bytes with a compatible engine.
///
/// Entries are keyed by the component's digest and the engine's compatibility hash (its
/// version and every setting that changes code generation). The component is compiled only
/// from bytes that hash to `digest`, so an entry can never hold code for other bytes; each
/// entry starts with the SHA-256 of the code after it, checked before the code is loaded,
/// and is written once (to a temporary file, then renamed), never opened for writing
/// again. Processes sharing a cache take turns (a lock file per digest), so one compiles
/// and the others load its result. The cache stays under [`CACHE_LIMIT`] bytes: writing an
/// entry removes the least recently used ones (of any engine version) beyond it.
pub fn load_wasm(
    engine: &Engine,
    id: &str,
    wasm: &Path,
    digest: &Digest,
    cache_dir: Option<&Path>,
) -> Result<Compiled, Error> {
    let Some(cache_dir) = cache_dir else {
        return compile(engine, id, wasm, digest);
    };
    let dir = cache_dir.join(engine_key(engine));
    let cached = dir.join(format!("{}.cwasm", digest.hex()));
    let _lock = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::File::create(dir.join(format!("{}.lock", digest.hex()))))
        .and_then(|f| f.lock().map(|()| f))
        .map_err(|e| tracing::warn!("compiling without the cache lock in {}: {e}", dir.display()))
        .ok();
    match read_compiled(engine, &cached) {
        Ok(Some(c)) => {
            // Recently used entries are the last to be pruned.
            let _ = std::fs::File::open(&cached).and_then(|f| f.set_modified(SystemTime::now()));
            return Ok(c);
        }
        Ok(None) => {}
        Err(e) => tracing::warn!("ignoring unusable compiled cache {}: {e}", cached.display()),
    }
    let compiled = compile(engine, id, wasm, digest)?;
    match store_compiled(&compiled, &cached) {
        Ok(()) => prune(cache_dir, &cached, CACHE_LIMIT),
        Err(e) => tracing::warn!("could not cache compiled code at {}: {e}", cached.display()),
    }
    Ok(compiled)
}

/// Most bytes of compiled code a cache keeps, all engine versions together.
const CACHE_LIMIT: u64 = 2 << 30;

/// Remove the least recently used entries of `cache_dir` (any engine version) until it
/// holds at most `limit` bytes; `keep`, the entry just written, stays.
fn prune(cache_dir: &Path, keep: &Path, limit: u64) {
    let mut entries = Vec::new();
    for dir in std::fs::read_dir(cache_dir).into_iter().flatten().flatten() {
        for file in std::fs::read_dir(dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let path = file.path();
            if path.extension().is_some_and(|e| e == "cwasm")
                && let Ok(meta) = file.metadata()
            {
                let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                entries.push((used, meta.len(), path));
            }
        }
    }
    let mut total: u64 = entries.iter().map(|(_, size, _)| size).sum();
    entries.sort();
    for (_, size, path) in entries {
        if total <= limit {
            break;
        }
        if path != keep && std::fs::remove_file(&path).is_ok() {
            tracing::debug!("pruned compiled cache entry {}", path.display());
            total -= size;
            let _ = std::fs::remove_file(path.with_extension("lock"));
        }
    }
}

/// Why a cache entry cannot be used (it is then compiled again).
#[derive(Debug, thiserror::Error)]
enum CacheError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("it is truncated")]
    Truncated,
    #[error("its checksum does not match its content (it was modified); recompiling")]
    Modified,
    #[error("{0}")]
    Wasmtime(wasmtime::Error),
}

/// A cache entry, if there is one and its checksum holds.
fn read_compiled(engine: &Engine, path: &Path) -> Result<Option<Compiled>, CacheError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let Some((sum, code)) = bytes.split_at_checked(32) else {
        return Err(CacheError::Truncated);
    };
    if Digest::of_bytes(code).hex() != hex::encode(sum) {
        return Err(CacheError::Modified);
    }
    // SAFETY: the code is exactly what this program serialized (checksum above), for this
    // engine configuration (the directory key) and for bytes with this digest (checked
    // before compiling).
    let compiled = match Engine::detect_precompiled(code) {
        Some(Precompiled::Component) => {
            unsafe { Component::deserialize(engine, code) }.map(Compiled::Component)
        }
        Some(Precompiled::Module) => {
            unsafe { Module::deserialize(engine, code) }.map(Compiled::Module)
        }
        None => return Err(CacheError::Modified),
    };
    Ok(Some(compiled.map_err(CacheError::Wasmtime)?))
}

fn compile(engine: &Engine, id: &str, wasm: &Path, digest: &Digest) -> Result<Compiled, Error> {
    let bytes = std::fs::read(wasm).map_err(|e| Error::Io {
        what: format!("reading {}", wasm.display()),
        source: e,
    })?;
    let actual = Digest::of_bytes(&bytes);
    if &actual != digest {
        return Err(Error::Component {
            component: id.to_string(),
            what: format!(
                "{} has digest {actual}, not the {digest} the app names; refusing to run it",
                wasm.display()
            ),
            source: "content does not match its digest".into(),
            help: Some(
                "the file changed after the app was locked or pulled; if it is a store blob, delete it and pull again",
            ),
        });
    }
    // The text format (`.wat`) of a module or a component.
    let bytes = match wat::parse_bytes(&bytes) {
        Ok(binary) => binary.into_owned(),
        Err(e) => {
            return Err(Error::Component {
                component: id.to_string(),
                what: format!("{} is not valid WebAssembly text", wasm.display()),
                source: e.into(),
                help: None,
            });
        }
    };
    let invalid = |what: &str, e: crate::BoxError| Error::Component {
        component: id.to_string(),
        what: format!("{} {what}", wasm.display()),
        source: e,
        help: None,
    };
    match crate::module::kind(&bytes) {
        Kind::Component => {
            // Spin 4.0's WASI 0.3 release candidate, served as the final 0.3.0.
            let bytes = crate::snapshot::candidate_as_final(&bytes)
                .map_err(|e| invalid("could not be read", e.into()))?;
            Component::new(engine, &bytes)
                .map(Compiled::Component)
                .map_err(|e| invalid("is not a valid Wasm component", e.into()))
        }
        Kind::BindgenModule => {
            let component = crate::module::componentize(&bytes).map_err(|e| {
                invalid(
                    "is a core module that could not be made a component",
                    e.into(),
                )
            })?;
            Component::new(engine, &component)
                .map(Compiled::Component)
                .map_err(|e| invalid("is a core module whose component is not valid", e.into()))
        }
        Kind::Module => Module::new(engine, &bytes)
            .map(Compiled::Module)
            .map_err(|e| invalid("is not a valid Wasm module", e.into())),
    }
}

fn store_compiled(compiled: &Compiled, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let code = match compiled {
        Compiled::Component(c) => c.serialize()?,
        Compiled::Module(m) => m.serialize()?,
    };
    let sum = sha2::Sha256::digest(&code);
    spin_app::fsutil::write_atomic_parts(path, &[&sum, &code], Default::default())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruning_removes_the_least_recently_used_entries_of_every_engine_version() {
        let dir = tempfile::tempdir().unwrap();
        let entry = |key: &str, name: &str, age_secs: u64| {
            let sub = dir.path().join(key);
            std::fs::create_dir_all(&sub).unwrap();
            let path = sub.join(format!("{name}.cwasm"));
            std::fs::write(&path, [0u8; 100]).unwrap();
            std::fs::write(path.with_extension("lock"), []).unwrap();
            let used = SystemTime::now() - Duration::from_secs(age_secs);
            std::fs::File::open(&path)
                .unwrap()
                .set_modified(used)
                .unwrap();
            path
        };
        let stale = entry("v2-old", "a", 300);
        let older = entry("v3-now", "b", 200);
        let newer = entry("v3-now", "c", 100);
        // The entry just written is kept even when it is the oldest.
        let kept = entry("v3-now", "d", 400);
        prune(dir.path(), &kept, 250);
        assert!(!stale.exists() && !stale.with_extension("lock").exists());
        assert!(!older.exists());
        assert!(newer.exists() && kept.exists());
        prune(dir.path(), &kept, 1000);
        assert!(newer.exists(), "nothing goes while under the limit");
    }
}
