//! `spin new`, `spin add` and `spin templates`.

use crate::paths;
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use spin_devloop::templates::{self, Ask, Parameter, Template};
use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// What `spin new` and `spin add` share.
#[derive(Args)]
pub struct TemplateArgs {
    /// Template id (see `spin templates list`)
    #[arg(short = 't', long = "template", value_name = "ID")]
    template: Option<String>,
    /// Name of the app (spin new) or component (spin add), optionally after the template
    /// id (`spin new http-py hello`, as Spin 1.0 wrote it)
    #[arg(value_name = "[TEMPLATE] NAME", num_args = 1..=2, required = true)]
    positional: Vec<String>,
    /// Set a template parameter (repeatable)
    #[arg(short = 'v', long = "value", value_name = "NAME=VALUE", value_parser = super::args::key_value)]
    values: Vec<(String, String)>,
    /// A TOML file of parameter values (`name = "value"`); -v wins over it
    #[arg(long = "values-file", value_name = "FILE")]
    values_file: Option<PathBuf>,
    /// Use every parameter's default instead of asking
    #[arg(long = "accept-defaults", short = 'a')]
    accept_defaults: bool,
}

#[derive(Args)]
pub struct NewArgs {
    #[command(flatten)]
    template: TemplateArgs,
    /// Folder to create [default: NAME]
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: Option<PathBuf>,
}

#[derive(Args)]
pub struct AddArgs {
    #[command(flatten)]
    template: TemplateArgs,
    /// The manifest to add to [default: ./spin.toml]
    #[arg(short = 'f', long = "file", value_name = "MANIFEST")]
    file: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum TemplatesCommand {
    /// List the templates: built in, and installed with `spin templates install`
    List,
    /// Install the templates in a folder (a template folder, or a folder of them)
    Install {
        /// The folder
        #[arg(long, value_name = "PATH")]
        dir: PathBuf,
    },
}

impl TemplateArgs {
    /// The template id and the name: `-t ID NAME`, or `ID NAME`.
    fn template_and_name(&self, verb: &str) -> anyhow::Result<(&str, &str)> {
        match (self.template.as_deref(), self.positional.as_slice()) {
            (Some(id), [name]) => Ok((id, name)),
            (None, [id, name]) => Ok((id, name)),
            (Some(id), [first, _]) => bail!(
                "the template is given twice: `-t {id}` and `{first}`\n  help: write `spin {verb} -t {id} NAME` or `spin {verb} {id} NAME`"
            ),
            (None, [name]) => bail!(
                "which template? pass -t <ID>, e.g. `spin {verb} -t http-py {name}`\n  help: `spin templates list` shows them"
            ),
            _ => unreachable!("clap takes one or two positionals"),
        }
    }

    fn name(&self) -> &str {
        self.positional.last().map_or("", String::as_str)
    }
}

fn choose(args: &TemplateArgs, verb: &str) -> anyhow::Result<Template> {
    let (id, _) = args.template_and_name(verb)?;
    Ok(templates::find(&paths::templates_dir(), id)?)
}

fn prompt(name: &str, p: &Parameter, default: Option<&str>) -> std::io::Result<String> {
    let default = default.unwrap_or("");
    eprint!("{} ({name}) [{default}]: ", p.prompt);
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_string())
}

fn values(
    args: &TemplateArgs,
    template: &Template,
    defaults: &BTreeMap<String, String>,
) -> anyhow::Result<BTreeMap<String, String>> {
    let from_file = match &args.values_file {
        Some(path) => templates::read_values_file(path)?,
        None => BTreeMap::new(),
    };
    let mut given = from_file;
    given.extend(args.values.iter().cloned());
    let interactive = !args.accept_defaults && std::io::stdin().is_terminal();
    let mut ask = prompt;
    let how = if interactive {
        Ask::Prompt(&mut ask)
    } else {
        Ask::Defaults
    };
    Ok(templates::resolve_values(
        template,
        args.name(),
        &given,
        defaults,
        how,
    )?)
}

pub fn new(args: NewArgs) -> anyhow::Result<()> {
    let template = choose(&args.template, "new")?;
    let values = values(&args.template, &template, &BTreeMap::new())?;
    let dest = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(args.template.name()));
    templates::new_app(&template, &values, &dest)?;
    println!(
        "Created {} from template `{}`.\nNext: cd {} && spin build && spin up",
        dest.display(),
        template.id,
        dest.display()
    );
    Ok(())
}

pub fn add(args: AddArgs) -> anyhow::Result<()> {
    let template = choose(&args.template, "add")?;
    let manifest = super::manifest_path(args.file.as_deref())?;
    let defaults = templates::add_defaults(&template, args.template.name());
    let values = values(&args.template, &template, &defaults)?;
    let id = templates::add_component(&template, &values, &manifest)?;
    let dir = manifest.parent().unwrap_or(Path::new(".")).join(&id);
    println!(
        "Added component `{id}` (template `{}`) in {} to {}.",
        template.id,
        dir.display(),
        manifest.display()
    );
    Ok(())
}

pub fn templates(command: TemplatesCommand) -> anyhow::Result<()> {
    let dir = paths::templates_dir();
    match command {
        TemplatesCommand::List => {
            let all = templates::all(&dir)?;
            let width = all.iter().map(|t| t.id.len()).max().unwrap_or(0);
            for t in all {
                let origin = match &t.origin {
                    templates::Origin::BuiltIn => String::new(),
                    templates::Origin::Installed(p) => format!(" (installed: {})", p.display()),
                };
                println!("{:width$}  {}{origin}", t.id, t.description);
            }
        }
        TemplatesCommand::Install { dir: from } => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            for id in templates::install(&from, &dir)? {
                println!("Installed template `{id}` into {}.", dir.display());
            }
        }
    }
    Ok(())
}
