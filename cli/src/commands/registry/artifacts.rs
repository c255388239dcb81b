//! `spin registry push|pull|inspect|copy`: each parses, calls the library, and renders.

use super::{CopyArgs, InspectArgs, PullArgs, PushArgs, SourceArgs};
use crate::progress::{Reporter, size};
use anyhow::{Context, bail};
use spin_registry::endpoint::Endpoint;
use spin_registry::transfer::{self, Pulled};
use spin_registry::{Reference, layout, package, pulled};
use std::sync::Arc;

/// Package what `push` names: one component, or the app of a manifest.
async fn package(args: &PushArgs) -> anyhow::Result<package::Artifact> {
    let options = package::PackageOptions {
        annotations: args.annotations.iter().cloned().collect(),
    };
    if let Some(wasm) = &args.component {
        return Ok(package::package_component(wasm, &options)?);
    }
    let manifest = crate::commands::manifest_path(args.from.as_deref())?;
    let lock = spin_app::lock::LockOptions {
        download_cache: args.cache.dir().join("wasm"),
    };
    Ok(package::package_manifest(&manifest, &lock, &options).await?)
}

pub async fn push(args: PushArgs) -> anyhow::Result<()> {
    let artifact = package(&args).await?;
    if let Some(dir) = &args.oci_layout {
        let tag = match &args.reference {
            Some(r) if r.contains(['/', '@']) => r
                .parse::<Reference>()?
                .tag()
                .unwrap_or("latest")
                .to_string(),
            Some(tag) => tag.clone(),
            None => "latest".into(),
        };
        layout::write(dir, &artifact, &tag)
            .with_context(|| format!("writing OCI layout {}", dir.display()))?;
        println!("Wrote {} to {} (tag {tag})", artifact.digest, dir.display());
        return Ok(());
    }
    let Some(text) = &args.reference else {
        bail!(
            "no reference given\n  help: run `spin registry push <registry>/<repository>:<tag>`, e.g. ghcr.io/acme/app:v1"
        );
    };
    let target: Reference = text.parse()?;
    let client = args.connection.client(&[target.registry()])?;
    let progress = Arc::new(Reporter::new());
    let locations = args.cache.locations();
    let report = transfer::push(&client, &locations, &artifact, &target, progress).await?;
    eprintln!(
        "{} blobs uploaded, {} already there, {} mounted",
        report.uploaded, report.present, report.mounted
    );
    println!("Pushed with digest {}", report.digest);
    if args.sign {
        let pushed = target.with_digest(report.digest.clone());
        super::super::signatures::sign_app(&client, &pushed, &args.signing, false).await?;
    }
    Ok(())
}

/// Pull (or import from a layout) into the store, every blob checked.
async fn fetch(
    source: &Endpoint,
    args: &SourceArgs,
    progress: Arc<dyn transfer::Progress>,
) -> anyhow::Result<Pulled> {
    let store = args.store()?;
    Ok(match source {
        Endpoint::Layout { dir, tag } => layout::import(dir, tag.as_deref(), &store)?,
        Endpoint::Registry(r) => {
            let client = args.connection.client(&[r.registry()])?;
            transfer::pull(&client, &store, &args.cache.locations(), r, progress).await?
        }
    })
}

pub async fn pull(args: PullArgs) -> anyhow::Result<()> {
    let source = Endpoint::parse(&args.reference)?;
    let pulled = fetch(&source, &args.source, Arc::new(Reporter::new())).await?;
    pulled::locked_app(&args.source.store()?, &pulled)?;
    println!("Pulled {}", pulled.reference);
    Ok(())
}

pub async fn inspect(args: InspectArgs) -> anyhow::Result<()> {
    let source = Endpoint::parse(&args.reference)?;
    let pulled = fetch(&source, &args.source, Arc::new(transfer::Silent)).await?;
    let store = args.source.store()?;
    let locked = pulled::locked_app(&store, &pulled)?;
    if args.json {
        let artifact = transfer::stored_artifact(&store, &pulled)?;
        let manifest: serde_json::Value = serde_json::from_slice(&artifact.manifest)?;
        let out = serde_json::json!({
            "reference": pulled.reference.to_string(),
            "digest": pulled.digest.to_string(),
            "manifest": manifest,
            "locked_app": locked,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    let m = &pulled.manifest;
    println!("Reference:  {}", pulled.reference);
    println!("Digest:     {}", pulled.digest);
    println!(
        "Config:     {} ({})",
        m.config.media_type,
        size(m.config.size)
    );
    if let Some(a) = &m.annotations {
        println!("Annotations:");
        for (k, v) in a {
            println!("  {k}: {v}");
        }
    }
    println!("Layers ({}):", m.layers.len());
    for l in &m.layers {
        println!("  {}  {}  {}", l.digest, size(l.size), l.media_type);
    }
    println!("Components:");
    for c in &locked.components {
        let digest = c.source.content.digest.as_deref().unwrap_or("-");
        println!("  {}  {digest}  {} file(s)", c.id, c.files.len());
    }
    println!("Routes:");
    for t in &locked.triggers {
        if let Ok(h) = t.http_config() {
            let route = match h.route {
                spin_app::locked::LockedRoute::Path(p) => p,
                spin_app::locked::LockedRoute::Private => "(private)".into(),
            };
            println!("  {route} -> {}", h.component);
        }
    }
    Ok(())
}

pub async fn copy(args: CopyArgs) -> anyhow::Result<()> {
    let source = Endpoint::parse(&args.source_ref)?;
    let destination = Endpoint::parse(&args.destination)?;
    let pulled = fetch(&source, &args.source, Arc::new(Reporter::new())).await?;
    let store = args.source.store()?;
    match destination {
        Endpoint::Layout { dir, tag } => {
            let tag = tag
                .or_else(|| pulled.reference.tag().map(String::from))
                .unwrap_or_else(|| "latest".into());
            layout::export(&store, &pulled, &dir, &tag)?;
        }
        Endpoint::Registry(target) => {
            let artifact = transfer::stored_artifact(&store, &pulled)?;
            let client = args.source.connection.client(&[target.registry()])?;
            let progress = Arc::new(Reporter::new());
            let locations = args.source.cache.locations();
            transfer::push(&client, &locations, &artifact, &target, progress).await?;
        }
    }
    println!(
        "Copied {} to {} ({})",
        args.source_ref, args.destination, pulled.digest
    );
    Ok(())
}
