//! `spin`: build, distribute, sign, verify and run WebAssembly apps.
//!
//! This binary only parses arguments, calls one library function per command and renders
//! the result; the work lives in `spin-app`, `spin-registry`, `spin-verify`, `spin-runtime`
//! and `spin-devloop`. Library errors carry their own `help()`, rendered here in one style.

mod commands;
mod paths;
mod progress;

use clap::{Parser, Subcommand};

/// mimalloc: glibc malloc's arena locks showed up as futex contention under load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::ffi::OsString;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "spin",
    version,
    about = "Build, ship, sign, verify and run WebAssembly apps"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create an app from a template
    New(commands::new::NewArgs),
    /// Add a component from a template to an existing app
    Add(commands::new::AddArgs),
    /// List and install templates
    #[command(subcommand)]
    Templates(commands::new::TemplatesCommand),
    /// Build the app's components with their [component.<id>.build] commands
    Build(commands::build::BuildArgs),
    /// Run an app: a spin.toml, a directory holding one, a single .wasm/.wat component, an
    /// OCI layout directory, or a registry reference
    Up(commands::up::UpArgs),
    /// Push, pull, inspect and copy apps in OCI registries; manage registry logins
    #[command(subcommand)]
    Registry(commands::registry::RegistryCommand),
    /// Sign an app in a registry keylessly with Sigstore and attach the signature
    Sign(commands::signatures::SignArgs),
    /// Verify an app in a registry under a policy (exit 0 allow, 1 deny, 2 error)
    Verify(commands::policy::VerifyArgs),
    /// Check verification policy files and run their inline test cases
    #[command(subcommand)]
    Policy(commands::policy::PolicyCommand),
    /// Sigstore trust material
    #[command(subcommand)]
    Sigstore(commands::signatures::SigstoreCommand),
    /// Manage signing keys for key-based (air-gapped) signing
    #[command(subcommand)]
    Signing(commands::signatures::SigningCommand),
    /// Sign a file (or a sha256: digest) into a Sigstore bundle, keylessly or with --key
    SignBundle(commands::signatures::SignBundleArgs),
    /// Verify a Sigstore bundle for a file (or a sha256: digest)
    VerifyBundle(commands::signatures::VerifyBundleArgs),
    /// Build and run the app, rebuilding and reloading when its files change
    Watch(commands::watch::WatchArgs),
    /// Check an app for problems and say how to fix them
    Doctor(commands::build::DoctorArgs),
    /// Kubernetes: write the objects SpinKube runs an app from
    #[command(subcommand)]
    Kube(commands::kube::KubeCommand),
    /// List plugins (`spin <name>` runs the plugin `spin-<name>`)
    #[command(subcommand)]
    Plugins(commands::plugins::PluginsCommand),
    #[command(external_subcommand)]
    External(Vec<OsString>),
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| {
        EnvFilter::new("info,wasmtime=warn,cranelift=warn,hyper=warn,rustls_platform_verifier=off")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::New(args) => commands::new::new(args),
            Command::Add(args) => commands::new::add(args),
            Command::Templates(command) => commands::new::templates(command),
            Command::Build(args) => commands::build::run(args).await,
            Command::Up(args) => commands::up::run(args).await,
            Command::Registry(command) => commands::registry::run(command).await,
            Command::Sign(args) => commands::signatures::sign(args).await,
            Command::Verify(args) => return Ok(commands::policy::verify(args).await),
            Command::Policy(command) => commands::policy::run(command),
            Command::Sigstore(command) => commands::signatures::sigstore(command).await,
            Command::Signing(command) => commands::signatures::signing(command),
            Command::SignBundle(args) => commands::signatures::sign_bundle(args).await,
            Command::VerifyBundle(args) => commands::signatures::verify_bundle(args),
            Command::Watch(args) => commands::watch::run(args).await,
            Command::Doctor(args) => commands::build::doctor(args),
            Command::Kube(command) => commands::kube::run(command).await,
            Command::Plugins(command) => commands::plugins::run(command),
            Command::External(argv) => return commands::plugins::external(argv),
        }
        .map(|()| ExitCode::SUCCESS)
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprint!("{}", render_error(&e));
            ExitCode::FAILURE
        }
    }
}

/// An error as the user sees it: the message, each cause that adds something (a cause
/// whose text an earlier line already shows is left out), and the first hint a typed
/// error carries.
fn render_error(e: &anyhow::Error) -> String {
    let mut out = format!("Error: {e}\n");
    let mut shown = e.to_string();
    let mut help = None;
    for cause in e.chain() {
        help = help.or_else(|| hint(cause));
        let text = cause.to_string();
        if !shown.contains(&text) {
            out.push_str(&format!("  caused by: {text}\n"));
            shown.push_str(&text);
        }
    }
    if let Some(h) = help.filter(|h| !shown.contains(h.as_str())) {
        out.push_str(&format!("  help: {h}\n"));
    }
    out
}

/// The hint of the library errors that carry one.
fn hint(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    use spin_registry::client::RegistryError;
    use spin_registry::transfer::PullError;
    if let Some(e) = e.downcast_ref::<RegistryError>() {
        return Some(e.help());
    }
    if let Some(e) = e.downcast_ref::<PullError>() {
        return e.help();
    }
    if let Some(e) = e.downcast_ref::<spin_verify::Error>() {
        return e.help();
    }
    if let Some(e) = e.downcast_ref::<spin_runtime::Error>() {
        return e.help();
    }
    if let Some(e) = e.downcast_ref::<spin_devloop::Error>() {
        return e.help();
    }
    None
}
