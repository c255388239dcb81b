//! `spin registry login` (checked against the registry first) and `logout`.

use super::{LoginArgs, LogoutArgs};
use anyhow::bail;

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

pub async fn login(args: LoginArgs) -> anyhow::Result<()> {
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

pub fn logout(args: LogoutArgs) -> anyhow::Result<()> {
    let registry = registry_host(&args.server);
    if spin_registry::credentials::Credentials::for_user().remove(&registry)? {
        println!("Removed credentials for {registry}");
    } else {
        println!("No saved credentials for {registry}");
    }
    Ok(())
}
