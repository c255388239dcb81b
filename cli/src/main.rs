//! `spin`: build, distribute, sign, verify and run WebAssembly apps.
//!
//! This binary only parses arguments, calls one library function per command and renders
//! the result; the work lives in `spin-registry`, `spin-runtime` (and later `spin-verify`).

mod commands;
mod paths;
mod progress;

use clap::{Parser, Subcommand};

/// mimalloc: glibc malloc's arena locks showed up as futex contention under load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
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
    /// Run an app: a spin.toml, a directory holding one, a single .wasm/.wat component, an
    /// OCI layout directory, or a registry reference
    Up(commands::up::UpArgs),
    /// Push, pull, inspect and copy apps in OCI registries; manage registry logins
    #[command(subcommand)]
    Registry(commands::registry::RegistryCommand),
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
            Command::Up(args) => commands::up::run(args).await,
            Command::Registry(command) => commands::registry::run(command).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
