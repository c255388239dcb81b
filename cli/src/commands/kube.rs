//! `spin kube scaffold`: the Kubernetes objects SpinKube runs an app from, pinned by digest.

use super::args::Connection;
use anyhow::Context;
use clap::{Args, Subcommand};
use spin_registry::Reference;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum KubeCommand {
    /// Write a SpinApp (core.spinkube.dev/v1alpha1) for an app in a registry, pinned by digest
    Scaffold(ScaffoldArgs),
}

#[derive(Args)]
pub struct ScaffoldArgs {
    /// The app, e.g. ghcr.io/acme/app:v1 (the tag is resolved to a digest once)
    #[arg(long, short = 'f')]
    from: String,
    /// The SpinApp's name (default: the repository's last segment)
    #[arg(long)]
    name: Option<String>,
    /// How many pods
    #[arg(long, short = 'r', default_value_t = 2)]
    replicas: u32,
    /// The SpinAppExecutor that runs it
    #[arg(long, default_value = spin_kube::EXECUTOR)]
    executor: String,
    /// A runtime config file, shipped as a Secret the app loads it from
    #[arg(long = "runtime-config-file", short = 'c', value_name = "FILE")]
    runtime_config_file: Option<PathBuf>,
    /// A Spin variable, `name=value` (repeatable)
    #[arg(long = "variable", short = 'v', value_name = "NAME=VALUE")]
    variables: Vec<String>,
    /// A Secret to pull the image with (repeatable)
    #[arg(long = "image-pull-secret", short = 's', value_name = "SECRET")]
    image_pull_secrets: Vec<String>,
    /// Also write the RuntimeClass that runs the pods with this project's containerd shim
    #[arg(long = "runtime-class")]
    runtime_class: bool,
    /// Write to this file instead of standard output
    #[arg(long = "out", short = 'o', value_name = "FILE")]
    out: Option<PathBuf>,
    #[command(flatten)]
    connection: Connection,
}

pub async fn run(command: KubeCommand) -> anyhow::Result<()> {
    let KubeCommand::Scaffold(args) = command;
    let reference: Reference = args.from.parse()?;
    // Everything the user named is checked before the registry is asked.
    let variables = args
        .variables
        .iter()
        .map(|v| spin_kube::parse_variable(v))
        .collect::<Result<Vec<_>, _>>()?;
    let name = match &args.name {
        Some(name) => {
            spin_kube::check_label("the app name", name)?;
            name.clone()
        }
        None => spin_kube::app_name(reference.repository())?,
    };
    let runtime_config = match &args.runtime_config_file {
        Some(path) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("reading the runtime config {}", path.display()))?;
            let text = std::str::from_utf8(&bytes)
                .with_context(|| format!("{} is not UTF-8 text", path.display()))?;
            text.parse::<toml::Table>()
                .with_context(|| format!("{} is not valid TOML", path.display()))?;
            Some(bytes)
        }
        None => None,
    };
    let pinned = match reference.digest() {
        Some(_) => reference.clone(),
        None => {
            let client = args.connection.client(&[reference.registry()])?;
            let digest = client.resolve(&reference).await?;
            reference.with_digest(digest)
        }
    };
    let digest = pinned.digest().context("the reference has no digest")?;
    let scaffold = spin_kube::Scaffold {
        name,
        image: format!("{}@{digest}", pinned.repository_url()),
        replicas: args.replicas,
        executor: args.executor,
        runtime_config,
        variables,
        image_pull_secrets: args.image_pull_secrets,
        runtime_class: args.runtime_class,
    };
    let yaml = spin_kube::scaffold(&scaffold)?;
    match &args.out {
        Some(path) => {
            spin_app::fsutil::write_atomic(path, yaml.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("Wrote the SpinApp for {} to {}", pinned, path.display());
        }
        None => print!("{yaml}"),
    }
    Ok(())
}
