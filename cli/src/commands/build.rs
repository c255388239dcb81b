//! `spin build` and `spin doctor`.

use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct BuildArgs {
    /// spin.toml, or a directory containing one [default: ./spin.toml]
    #[arg(short = 'f', long = "from", alias = "file", value_name = "APP")]
    from: Option<PathBuf>,
    /// Build only this component (repeatable)
    #[arg(short = 'c', long = "component-id", value_name = "ID")]
    components: Vec<String>,
    /// Run the app after a successful build (as `spin up`)
    #[arg(short = 'u', long)]
    up: bool,
    /// Arguments for `spin up` when --up is given (after `--`)
    #[arg(last = true, value_name = "UP_ARGS")]
    up_args: Vec<String>,
}

pub async fn run(args: BuildArgs) -> anyhow::Result<()> {
    let manifest = super::manifest_path(args.from.as_deref())?;
    let up = args
        .up
        .then(|| super::up::args_for(&manifest, &args.up_args))
        .transpose()?;
    super::build_components(&manifest, &args.components)?;
    match up {
        Some(up) => super::up::run(up).await,
        None => Ok(()),
    }
}

#[derive(Args)]
pub struct DoctorArgs {
    /// spin.toml, or a directory containing one [default: ./spin.toml]
    #[arg(short = 'f', long = "from", alias = "file", value_name = "APP")]
    from: Option<PathBuf>,
}

/// Print every finding with its fix; fail when there is an error.
pub fn doctor(args: DoctorArgs) -> anyhow::Result<()> {
    use spin_devloop::doctor::Severity;
    let manifest = super::manifest_path(args.from.as_deref())?;
    let findings = spin_devloop::doctor::check(&manifest);
    if findings.is_empty() {
        println!("{}: no problems found.", manifest.display());
        return Ok(());
    }
    for f in &findings {
        let label = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        println!("{label}: {}\n  fix: {}", f.problem, f.fix);
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    if errors > 0 {
        anyhow::bail!(
            "{errors} problem{} must be fixed before the app builds and runs",
            if errors == 1 { "" } else { "s" }
        );
    }
    Ok(())
}
