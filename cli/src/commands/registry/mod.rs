//! `spin registry push|pull|login|logout|inspect|copy`: the arguments here, the commands in
//! `artifacts` (moving and showing artifacts) and `login` (credentials).

mod artifacts;
mod login;

use super::args::{CacheArgs, Connection, LimitArgs};
use clap::{Args, Subcommand};
use std::path::PathBuf;

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
    pub reference: Option<String>,
    /// The app: spin.toml or its directory [default: ./spin.toml]
    #[arg(short = 'f', long = "from", value_name = "APP")]
    pub from: Option<PathBuf>,
    /// Push one component in the CNCF Wasm artifact layout instead of an app
    #[arg(long, value_name = "WASM", conflicts_with = "from")]
    pub component: Option<PathBuf>,
    /// Extra manifest annotation (repeatable)
    #[arg(long = "annotation", value_name = "KEY=VALUE", value_parser = super::args::key_value)]
    pub annotations: Vec<(String, String)>,
    /// Write to this OCI image layout directory instead of a registry
    #[arg(long = "oci-layout", value_name = "DIR")]
    pub oci_layout: Option<PathBuf>,
    /// Sign the pushed app keylessly with Sigstore and attach the signature
    #[arg(long, conflicts_with = "oci_layout")]
    pub sign: bool,
    #[command(flatten)]
    pub signing: super::signatures::SigningArgs,
    #[command(flatten)]
    pub connection: Connection,
    #[command(flatten)]
    pub cache: CacheArgs,
}

#[derive(Args)]
pub struct PullArgs {
    /// What to pull, e.g. ghcr.io/acme/app@sha256:…
    pub reference: String,
    #[command(flatten)]
    pub source: SourceArgs,
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
    pub server: String,
    /// User name
    #[arg(short = 'u', long)]
    pub username: String,
    /// Read the password or token from standard input
    #[arg(long = "password-stdin", conflicts_with = "password")]
    pub password_stdin: bool,
    /// Password or token (prefer --password-stdin)
    #[arg(short = 'p', long)]
    pub password: Option<String>,
    #[command(flatten)]
    pub connection: Connection,
}

#[derive(Args)]
pub struct LogoutArgs {
    /// Registry host
    pub server: String,
}

#[derive(Args)]
pub struct InspectArgs {
    /// What to inspect
    pub reference: String,
    /// Print JSON (manifest, locked app)
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub source: SourceArgs,
}

#[derive(Args)]
pub struct CopyArgs {
    /// Source: a reference, or oci:DIR[:TAG]
    #[arg(value_name = "SOURCE")]
    pub source_ref: String,
    /// Destination: a reference, or oci:DIR[:TAG]
    pub destination: String,
    #[command(flatten)]
    pub source: SourceArgs,
}

pub async fn run(command: RegistryCommand) -> anyhow::Result<()> {
    match command {
        RegistryCommand::Push(a) => artifacts::push(a).await,
        RegistryCommand::Pull(a) => artifacts::pull(a).await,
        RegistryCommand::Login(a) => login::login(a).await,
        RegistryCommand::Logout(a) => login::logout(a),
        RegistryCommand::Inspect(a) => artifacts::inspect(a).await,
        RegistryCommand::Copy(a) => artifacts::copy(a).await,
    }
}

impl SourceArgs {
    /// The store, with this command's limits.
    pub fn store(&self) -> anyhow::Result<spin_registry::store::Store> {
        self.cache.store(self.limits.limits())
    }
}
