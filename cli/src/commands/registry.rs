//! `spin registry push|pull|login|logout|inspect|copy`.

use super::args::{CacheArgs, Connection, LimitArgs};
use crate::progress::{Reporter, size};
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use spin_registry::Reference;
use spin_registry::transfer::{self, Pulled};
use spin_registry::{layout, package, pulled};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Subcommand)]
pub enum RegistryCommand {
    /// Package the app (or one component) and push it to a registry or an OCI layout
    Push(PushArgs),
    /// Pull an app into the local store, verifying every blob
    Pull(PullArgs),
    /// Save credentials for a registry
    Login(LoginArgs),
    /// Forget saved credentials for a registry
    Logout(LogoutArgs),
    /// Show an artifact's digest, layers, annotations and components
    Inspect(InspectArgs),
    /// Copy an artifact between registries and OCI layout directories (oci:DIR[:TAG])
    Copy(CopyArgs),
}

#[derive(Args)]
pub struct PushArgs {
    /// Where to push, e.g. ghcr.io/acme/app:v1 (with --oci-layout: the tag to use)
    reference: Option<String>,
    /// The app: spin.toml or its directory [default: ./spin.toml]
    #[arg(short = 'f', long = "from", value_name = "APP")]
    from: Option<PathBuf>,
    /// Push one component in the CNCF Wasm artifact layout instead of an app
    #[arg(long, value_name = "WASM", conflicts_with = "from")]
    component: Option<PathBuf>,
    /// Extra manifest annotation (repeatable)
    #[arg(long = "annotation", value_name = "KEY=VALUE", value_parser = super::args::key_value)]
    annotations: Vec<(String, String)>,
    /// Write to this OCI image layout directory instead of a registry
    #[arg(long = "oci-layout", value_name = "DIR")]
    oci_layout: Option<PathBuf>,
    /// Sign the pushed app keylessly with Sigstore and attach the signature
    #[arg(long, conflicts_with = "oci_layout")]
    sign: bool,
    #[command(flatten)]
    signing: super::signatures::SigningArgs,
    #[command(flatten)]
    connection: Connection,
    #[command(flatten)]
    cache: CacheArgs,
}

#[derive(Args)]
pub struct PullArgs {
    /// What to pull, e.g. ghcr.io/acme/app@sha256:…
    reference: String,
    #[command(flatten)]
    source: SourceArgs,
}

/// Where an artifact comes from and what is accepted from it.
#[derive(Args, Clone)]
pub struct SourceArgs {
    #[command(flatten)]
    pub connection: Connection,
    #[command(flatten)]
    pub cache: CacheArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Args)]
pub struct LoginArgs {
    /// Registry host, e.g. ghcr.io
    server: String,
    /// User name
    #[arg(short = 'u', long)]
    username: String,
    /// Read the password or token from standard input
    #[arg(long = "password-stdin", conflicts_with = "password")]
    password_stdin: bool,
    /// Password or token (prefer --password-stdin)
    #[arg(short = 'p', long)]
    password: Option<String>,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Args)]
pub struct LogoutArgs {
    /// Registry host
    server: String,
}

#[derive(Args)]
pub struct InspectArgs {
    /// What to inspect
    reference: String,
    /// Print JSON (manifest, locked app)
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    source: SourceArgs,
}

#[derive(Args)]
pub struct CopyArgs {
    /// Source: a reference, or oci:DIR[:TAG]
    #[arg(value_name = "SOURCE")]
    source_ref: String,
    /// Destination: a reference, or oci:DIR[:TAG]
    destination: String,
    #[command(flatten)]
    source: SourceArgs,
}

pub async fn run(command: RegistryCommand) -> anyhow::Result<()> {
    match command {
        RegistryCommand::Push(a) => push(a).await,
        RegistryCommand::Pull(a) => pull(a).await,
        RegistryCommand::Login(a) => login(a).await,
        RegistryCommand::Logout(a) => logout(a),
        RegistryCommand::Inspect(a) => inspect(a).await,
        RegistryCommand::Copy(a) => copy(a).await,
    }
}

fn reference(text: &str) -> anyhow::Result<Reference> {
    Ok(text.parse::<Reference>()?)
}

/// Package what `push` names.
async fn package(args: &PushArgs) -> anyhow::Result<package::Artifact> {
    let annotations: BTreeMap<String, String> = args.annotations.iter().cloned().collect();
    if let Some(wasm) = &args.component {
        let created = package::created_timestamp(std::slice::from_ref(wasm));
        return Ok(package::package_component(
            wasm,
            &package::PackageOptions {
                annotations,
                created,
            },
        )?);
    }
    let manifest_path = crate::commands::manifest_path(args.from.as_deref())?;
    let manifest = spin_app::manifest::load(&manifest_path)?;
    let options = spin_app::lock::LockOptions {
        download_cache: args.cache.dir().join("wasm"),
    };
    let locked = spin_app::lock::lock(&manifest, &manifest_path, &options)
        .await
        .context("cannot prepare the app")?;
    let mut sources = vec![manifest_path.clone()];
    for c in &locked.components {
        for content in std::iter::once(&c.source.content).chain(c.files.iter().map(|f| &f.content))
        {
            if let Some(p) = content
                .source
                .as_deref()
                .and_then(|s| url::Url::parse(s).ok())
                .and_then(|u| u.to_file_path().ok())
            {
                sources.push(p);
            }
        }
    }
    let created = package::created_timestamp(&sources);
    Ok(package::package_app(
        &locked,
        &package::PackageOptions {
            annotations,
            created,
        },
    )?)
}

async fn push(args: PushArgs) -> anyhow::Result<()> {
    let artifact = package(&args).await?;
    if let Some(dir) = &args.oci_layout {
        let tag = match &args.reference {
            Some(r) if r.contains('/') || r.contains('@') => {
                reference(r)?.tag().unwrap_or("latest").to_string()
            }
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
    let target = reference(text)?;
    let client = args.connection.client(&[target.registry()])?;
    let report = transfer::push(
        &client,
        &args.cache.locations(),
        &artifact,
        &target,
        Arc::new(Reporter::new()),
    )
    .await?;
    eprintln!(
        "{} blobs uploaded, {} already there, {} mounted",
        report.uploaded, report.present, report.mounted
    );
    println!("Pushed with digest {}", report.digest);
    if args.sign {
        let pushed: Reference = format!("{}@{}", target.repository_url(), report.digest).parse()?;
        super::signatures::sign_app(&client, &pushed, &args.signing, false).await?;
    }
    Ok(())
}

/// Pull (or import from a layout) into the store, showing progress.
pub async fn fetch(source: &str, args: &SourceArgs) -> anyhow::Result<Pulled> {
    fetch_with(source, args, Arc::new(Reporter::new())).await
}

async fn fetch_with(
    source: &str,
    args: &SourceArgs,
    progress: Arc<dyn transfer::Progress>,
) -> anyhow::Result<Pulled> {
    let store = args.cache.store(args.limits.limits())?;
    if let Some((dir, tag)) = layout_arg(source) {
        return Ok(layout::import(&dir, tag.as_deref(), &store)?);
    }
    let r = reference(source)?;
    let client = args.connection.client(&[r.registry()])?;
    Ok(transfer::pull(&client, &store, &args.cache.locations(), &r, progress).await?)
}

/// `oci:DIR[:TAG]` (or an existing layout directory) → (dir, tag).
fn layout_arg(arg: &str) -> Option<(PathBuf, Option<String>)> {
    if let Some(rest) = arg.strip_prefix("oci:") {
        return Some(match rest.rsplit_once(':') {
            Some((dir, tag)) if !tag.contains('/') => (PathBuf::from(dir), Some(tag.to_string())),
            _ => (PathBuf::from(rest), None),
        });
    }
    let p = Path::new(arg);
    layout::is_layout(p).then(|| (p.to_path_buf(), None))
}

async fn pull(args: PullArgs) -> anyhow::Result<()> {
    let pulled = fetch(&args.reference, &args.source).await?;
    let store = args.source.cache.store(args.source.limits.limits())?;
    pulled::locked_app(&store, &pulled)?;
    println!("Pulled {}", pulled.reference);
    Ok(())
}

fn read_password(args: &LoginArgs) -> anyhow::Result<String> {
    if let Some(p) = &args.password {
        eprintln!(
            "warning: a password on the command line can leak into shell history; prefer --password-stdin"
        );
        return Ok(p.clone());
    }
    if !args.password_stdin {
        bail!(
            "no password given\n  help: pipe it in with --password-stdin, e.g. `echo $TOKEN | spin registry login {} -u {} --password-stdin`",
            args.server,
            args.username
        );
    }
    let mut password = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut password)?;
    let password = password.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        bail!("the password read from standard input is empty");
    }
    Ok(password)
}

fn registry_host(server: &str) -> String {
    let s = server
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    s.split('/').next().unwrap_or(s).to_ascii_lowercase()
}

async fn login(args: LoginArgs) -> anyhow::Result<()> {
    let password = read_password(&args)?;
    let registry = registry_host(&args.server);
    let client = args.connection.client(&[registry.as_str()])?;
    client
        .check_login(&registry, &args.username, &password)
        .await?;
    match spin_registry::credentials::Credentials::for_user().save(
        &registry,
        &args.username,
        &password,
    )? {
        spin_registry::credentials::SavedIn::Keyring => eprintln!("Saved to the system keyring."),
        spin_registry::credentials::SavedIn::File(p) => eprintln!(
            "warning: no keyring service is running; saved to {} (readable only by you)",
            p.display()
        ),
    }
    println!("Login succeeded for {registry}");
    Ok(())
}

fn logout(args: LogoutArgs) -> anyhow::Result<()> {
    let registry = registry_host(&args.server);
    if spin_registry::credentials::Credentials::for_user().remove(&registry)? {
        println!("Removed credentials for {registry}");
    } else {
        println!("No saved credentials for {registry}");
    }
    Ok(())
}

async fn inspect(args: InspectArgs) -> anyhow::Result<()> {
    let pulled = fetch_with(&args.reference, &args.source, Arc::new(transfer::Silent)).await?;
    let store = args.source.cache.store(args.source.limits.limits())?;
    let locked = pulled::locked_app(&store, &pulled)?;
    let m = &pulled.manifest;
    if args.json {
        let manifest: serde_json::Value = serde_json::from_slice(&store.read(
            &pulled.digest,
            spin_registry::media::MAX_MANIFEST_BYTES as u64,
        )?)?;
        let out = serde_json::json!({
            "reference": pulled.reference.to_string(),
            "digest": pulled.digest.to_string(),
            "manifest": manifest,
            "locked_app": locked,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
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
        println!(
            "  {}  {}  {} file(s)",
            c.id,
            c.source.content.digest.as_deref().unwrap_or("-"),
            c.files.len()
        );
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

async fn copy(args: CopyArgs) -> anyhow::Result<()> {
    let store = args.source.cache.store(args.source.limits.limits())?;
    let artifact_digest;
    match layout_arg(&args.destination) {
        Some((dir, tag)) => {
            let pulled = fetch(&args.source_ref, &args.source).await?;
            let tag = tag
                .or_else(|| pulled.reference.tag().map(String::from))
                .unwrap_or_else(|| "latest".into());
            layout::export(&store, &pulled, &dir, &tag)
                .with_context(|| format!("writing {}", dir.display()))?;
            artifact_digest = pulled.digest;
        }
        None => {
            let target = reference(&args.destination)?;
            let artifact = match layout_arg(&args.source_ref) {
                Some((dir, tag)) => layout::read_artifact(&dir, tag.as_deref())?,
                None => {
                    let pulled = fetch(&args.source_ref, &args.source).await?;
                    let blob = |d: &package::Descriptor| package::Blob {
                        descriptor: d.clone(),
                        data: package::BlobData::File(store.blob_path(&d.digest)),
                    };
                    package::Artifact {
                        manifest: store.read(
                            &pulled.digest,
                            spin_registry::media::MAX_MANIFEST_BYTES as u64,
                        )?,
                        digest: pulled.digest.clone(),
                        config: blob(&pulled.manifest.config),
                        layers: pulled.manifest.layers.iter().map(blob).collect(),
                    }
                }
            };
            let client = args.source.connection.client(&[target.registry()])?;
            transfer::push(
                &client,
                &args.source.cache.locations(),
                &artifact,
                &target,
                Arc::new(Reporter::new()),
            )
            .await?;
            artifact_digest = artifact.digest;
        }
    }
    println!(
        "Copied {} to {} ({artifact_digest})",
        args.source_ref, args.destination
    );
    Ok(())
}
