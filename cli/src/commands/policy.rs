//! `spin verify REF` (the CI gate: exit 0 allow, 1 deny, 2 error), `spin policy lint` and
//! `spin policy test`, and the policy gate `spin up -f REF` goes through.

use super::args::{Connection, context};
use crate::paths;
use anyhow::{Context as _, bail};
use clap::Args;
use spin_registry::Reference;
use spin_verify::policy::{self, Policy};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Which policy: a file, or (for `spin verify`) one authority from flags.
#[derive(Args)]
pub struct PolicyArgs {
    /// Verification policy file [default: $SPIN_POLICY, then ~/.config/spin/policy.toml]
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
}

impl PolicyArgs {
    /// The policy file in force, or None when there is none anywhere.
    /// (SPIN_POLICY is read here rather than by clap, so that it never conflicts with
    /// `spin verify`'s explicit identity or key flags.)
    fn path(&self) -> Option<PathBuf> {
        self.policy
            .clone()
            .or_else(|| {
                std::env::var_os("SPIN_POLICY")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            })
            .or_else(|| Some(paths::default_policy()).filter(|p| p.is_file()))
    }

    /// Load the policy in force; without one, say how to write one.
    pub fn load(&self) -> anyhow::Result<Policy> {
        let Some(path) = self.path() else {
            bail!(
                "no verification policy: registry apps run only when a policy allows their digest\n  help: pass --policy FILE, set SPIN_POLICY, or write {}; start from an example in policies/ (policies/README.md explains the format), e.g.\n\n{}",
                paths::default_policy().display(),
                MINIMAL_POLICY
            );
        };
        Ok(policy::load(&path)?)
    }
}

const MINIMAL_POLICY: &str = r#"    version = 1
    [[rule]]
    name = "my apps"
    scope = "ghcr.io/me/*"
    [[rule.authority]]
    name = "release workflow"
    issuer = "https://token.actions.githubusercontent.com"
    subject_regex = '^https://github\.com/me/app/\.github/workflows/release\.yml@refs/tags/'"#;

/// Verify `reference` under the policy for `spin up`; the proof, or an error carrying the
/// denial's trace.
pub async fn gate(
    args: &PolicyArgs,
    client: &spin_registry::client::RegistryClient,
    reference: &Reference,
) -> anyhow::Result<spin_verify::gate::Verified> {
    let policy = args.load()?;
    let outcome =
        spin_verify::gate::verify_reference(&policy, client, reference, &context()).await?;
    match outcome.verified {
        Some(v) => {
            eprint!("{}", outcome.decision.to_text());
            Ok(v)
        }
        None => bail!(
            "the policy does not allow {reference}; refusing to run it\n{}",
            outcome.decision.to_text().trim_end()
        ),
    }
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The app, e.g. ghcr.io/acme/app:v1 (the tag is resolved to a digest once)
    reference: String,
    #[command(flatten)]
    policy: PolicyArgs,
    /// Instead of a policy: who must have signed
    #[command(flatten)]
    authority: super::args::AuthorityArgs,
    /// With flags instead of a policy: the trust material
    #[command(flatten)]
    instance: super::args::InstanceArgs,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

impl VerifyArgs {
    /// The policy file, or a one-authority policy from the flags.
    fn policy(&self) -> anyhow::Result<Policy> {
        let flags = self.authority.flags();
        if !flags.is_given() {
            return self.policy.load();
        }
        if self.policy.policy.is_some() {
            bail!(
                "--policy and the authority flags (--certificate-identity…, --key) are two ways to say who must sign; give one"
            );
        }
        Ok(flags.policy(self.instance.trust())?)
    }
}

/// `spin verify`: print the decision; exit 0 allow, 1 deny, 2 error.
pub async fn verify(args: VerifyArgs) -> ExitCode {
    let result = async {
        let reference: Reference = args.reference.parse()?;
        let policy = args.policy()?;
        let client = args.connection.client(&[reference.registry()])?;
        let outcome =
            spin_verify::gate::verify_reference(&policy, &client, &reference, &context()).await?;
        anyhow::Ok(outcome.decision)
    }
    .await;
    match result {
        Ok(decision) => {
            match args.format {
                Format::Text => print!("{}", decision.to_text()),
                Format::Json => println!("{}", decision.to_json()),
            }
            if decision.allowed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[derive(clap::Subcommand)]
pub enum PolicyCommand {
    /// Check a policy file: errors at file:line:col with a fix, and warnings
    Lint {
        /// The policy file
        file: PathBuf,
    },
    /// Run the policy's inline [[test]] cases offline
    Test {
        /// The policy file
        file: PathBuf,
    },
}

pub fn run(command: PolicyCommand) -> anyhow::Result<()> {
    match command {
        PolicyCommand::Lint { file } => lint(&file),
        PolicyCommand::Test { file } => test(&file),
    }
}

fn lint(file: &Path) -> anyhow::Result<()> {
    let policy = policy::load(file)?;
    for w in &policy.warnings {
        eprintln!("{w}");
    }
    println!(
        "{}: ok ({} rule{}, {} test{}, {} warning{})",
        file.display(),
        policy.rules.len(),
        plural(policy.rules.len()),
        policy.tests.len(),
        plural(policy.tests.len()),
        policy.warnings.len(),
        plural(policy.warnings.len())
    );
    Ok(())
}

fn test(file: &Path) -> anyhow::Result<()> {
    let policy = policy::load(file)?;
    if policy.tests.is_empty() {
        bail!(
            "{} has no [[test]] cases\n  help: add cases with a reference, recorded bundles and the expected decision (policies/README.md)",
            file.display()
        );
    }
    let results = policy::run_tests(&policy, &context()).context("cannot run the cases")?;
    let failed = results.iter().filter(|r| !r.passed).count();
    for r in &results {
        if r.passed {
            println!("ok   {} ({:?})", r.name, r.expected);
        } else {
            println!(
                "FAIL {} at {}: expected {:?}, got {:?}\n{}",
                r.name,
                r.location,
                r.expected,
                r.decision.decision,
                r.decision.to_text()
            );
        }
    }
    println!("{} passed, {failed} failed", results.len() - failed);
    if failed > 0 {
        bail!("{failed} policy test case{} failed", plural(failed));
    }
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
