//! The one wasmtime `Engine` (pooling allocator, epoch interruption) and the compiled
//! component cache that makes warm starts skip Cranelift.

use anyhow::Context;
use sha2::Digest as _;
use spin_app::Digest;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::time::Duration;
use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances; the granularity of request timeouts.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Resource limits applied to every request. Spin has none of these.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall-clock limit for one request, including streaming the response body.
    pub request_timeout: Duration,
    /// Total linear memory one instance may use, in bytes.
    pub memory_bytes: usize,
    /// Largest accepted request body, in bytes.
    pub max_request_body: u64,
    /// Requests served at once (instance pool size).
    pub max_concurrent_requests: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            memory_bytes: 512 << 20,
            max_request_body: 100 << 20,
            max_concurrent_requests: 256,
        }
    }
}

/// Build the engine and start the thread that advances its epoch.
pub fn new_engine(limits: &Limits) -> anyhow::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
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
    let engine = Engine::new(&config)
        .map_err(anyhow::Error::from)
        .context("configuring the wasmtime engine")?;
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
        .context("starting the epoch thread")?;
    Ok(engine)
}

fn engine_key(engine: &Engine) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    // `v2`: entries carry a checksum header (older ones do not and are never read).
    format!("v2-{:016x}", h.finish())
}

/// Compile a component, or load its machine code from `cache_dir` when a previous run
/// compiled the same bytes with a compatible engine.
///
/// Entries are keyed by the component's digest and the engine's compatibility hash (its
/// version and every setting that changes code generation). The component is compiled only
/// from bytes that hash to `digest`, so an entry can never hold code for other bytes; each
/// entry starts with the SHA-256 of the code after it, checked before the code is loaded,
/// and is written once (to a temporary file, then renamed), never opened for writing
/// again. Processes sharing a cache take turns (a lock file per digest), so one compiles
/// and the others load its result.
pub fn load_component(
    engine: &Engine,
    wasm: &Path,
    digest: &Digest,
    cache_dir: Option<&Path>,
) -> anyhow::Result<Component> {
    let Some(cache_dir) = cache_dir else {
        return compile(engine, wasm, digest);
    };
    let dir = cache_dir.join(engine_key(engine));
    let cached = dir.join(format!("{}.cwasm", digest.hex()));
    let _lock = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::File::create(dir.join(format!("{}.lock", digest.hex()))))
        .and_then(|f| f.lock().map(|()| f))
        .map_err(|e| tracing::warn!("compiling without the cache lock in {}: {e}", dir.display()))
        .ok();
    match read_compiled(engine, &cached) {
        Ok(Some(c)) => return Ok(c),
        Ok(None) => {}
        Err(e) => tracing::warn!("ignoring unusable compiled cache {}: {e}", cached.display()),
    }
    let component = compile(engine, wasm, digest)?;
    if let Err(e) = store_compiled(&component, &cached) {
        tracing::warn!(
            "could not cache compiled component at {}: {e}",
            cached.display()
        );
    }
    Ok(component)
}

/// A cache entry, if there is one and its checksum holds.
fn read_compiled(engine: &Engine, path: &Path) -> anyhow::Result<Option<Component>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let Some((sum, code)) = bytes.split_at_checked(32) else {
        anyhow::bail!("it is truncated");
    };
    if Digest::of_bytes(code).hex() != hex::encode(sum) {
        anyhow::bail!("its checksum does not match its content (it was modified); recompiling");
    }
    // SAFETY: the code is exactly what this program serialized (checksum above), for this
    // engine configuration (the directory key) and for bytes with this digest (checked
    // before compiling).
    let component = unsafe { Component::deserialize(engine, code) }.map_err(anyhow::Error::from)?;
    Ok(Some(component))
}

fn compile(engine: &Engine, wasm: &Path, digest: &Digest) -> anyhow::Result<Component> {
    let bytes = std::fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let actual = Digest::of_bytes(&bytes);
    if &actual != digest {
        anyhow::bail!(
            "{} has digest {actual}, not the {digest} the app names; refusing to run it\n  help: the file changed after the app was locked or pulled; if it is a store blob, delete it and pull again",
            wasm.display()
        );
    }
    Component::new(engine, &bytes)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("{} is not a valid Wasm component", wasm.display()))
}

fn store_compiled(component: &Component, path: &Path) -> anyhow::Result<()> {
    let dir = path.parent().context("cache path has no parent")?;
    std::fs::create_dir_all(dir)?;
    let code = component.serialize()?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, &sha2::Sha256::digest(&code))?;
    std::io::Write::write_all(&mut tmp, &code)?;
    tmp.persist(path)?;
    Ok(())
}
