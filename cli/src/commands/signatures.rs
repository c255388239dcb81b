//! `spin sign` for apps in registries, `spin sign-bundle` / `spin verify-bundle` for plain
//! files (the sigstore-conformance client protocol), keys and trust material. Verifying
//! apps is `policy.rs`.

use super::args::{AuthorityArgs, Connection, InstanceArgs, refreshed_dir};
use clap::Args;
use spin_registry::Reference;
use spin_verify::bundle::Input;
use spin_verify::identity::IdentityToken;
use spin_verify::instance::Instance;
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub enum SigstoreCommand {
    /// Refresh the trusted root and signing config over TUF (public-good, --staging, or a
    /// custom repository with --tuf-url and --tuf-root)
    UpdateTrustRoot {
        /// Refresh the staging instance
        #[arg(long)]
        staging: bool,
        /// A custom TUF repository's URL
        #[arg(long = "tuf-url", value_name = "URL", requires = "tuf_root")]
        tuf_url: Option<String>,
        /// The custom repository's trusted root.json
        #[arg(long = "tuf-root", value_name = "FILE", requires = "tuf_url")]
        tuf_root: Option<PathBuf>,
        /// Where to write trusted_root.json and signing_config.json [default: the cache the
        /// public-good/staging instance is read from]
        #[arg(long, value_name = "DIR")]
        output: Option<PathBuf>,
    },
}

pub async fn sigstore(command: SigstoreCommand) -> anyhow::Result<()> {
    use spin_verify::instance::{TufSource, update_trust_root};
    let SigstoreCommand::UpdateTrustRoot {
        staging,
        tuf_url,
        tuf_root,
        output,
    } = command;
    let source = match (&tuf_url, &tuf_root) {
        (Some(url), Some(root)) => TufSource::Custom { url, root },
        _ => TufSource::Embedded { staging },
    };
    let out = match (output, &source) {
        (Some(dir), _) => dir,
        (None, TufSource::Embedded { staging }) => refreshed_dir(*staging),
        (None, TufSource::Custom { .. }) => anyhow::bail!(
            "a custom repository's material needs --output DIR\n  help: then sign and verify with --trusted-root DIR/trusted_root.json --signing-config DIR/signing_config.json"
        ),
    };
    let tuf_cache = crate::paths::cache_dir().join("tuf");
    update_trust_root(source, &out, &tuf_cache).await?;
    println!(
        "Trust material updated in {} (trusted_root.json, signing_config.json)",
        out.display()
    );
    Ok(())
}

/// Keyless signing: who signs, with which instance.
#[derive(Args)]
pub struct SigningArgs {
    /// OIDC identity token [default: SIGSTORE_ID_TOKEN, then the CI's ambient credentials]
    #[arg(long = "identity-token", value_name = "TOKEN")]
    identity_token: Option<String>,
    /// For the interactive login: print a URL and ask for the code instead of opening a browser
    #[arg(long = "oauth-force-oob")]
    oauth_force_oob: bool,
    #[command(flatten)]
    instance: InstanceArgs,
}

impl SigningArgs {
    /// The instance and the identity token, announcing who signs (never the token).
    async fn prepare(&self) -> anyhow::Result<(Instance, IdentityToken)> {
        let instance = self.instance.load()?;
        let login = instance
            .oidc_url()
            .map(|oidc_url| spin_verify::services::oidc::Interactive {
                oidc_url,
                force_oob: self.oauth_force_oob,
            });
        let (token, origin) =
            spin_verify::identity::find(self.identity_token.as_deref(), login).await?;
        eprintln!(
            "Signing as {} (issuer {}, token from {origin})",
            token.identity(),
            token.issuer()
        );
        Ok((instance, token))
    }
}

#[derive(Args)]
pub struct SignBundleArgs {
    /// Where to write the Sigstore bundle [default: FILE.sigstore.json]
    #[arg(long, value_name = "FILE")]
    bundle: Option<PathBuf>,
    /// Sign with this private key (cosign.key, PKCS#8 or SEC1 PEM) instead of keylessly;
    /// an encrypted key's password comes from COSIGN_PASSWORD or a prompt
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// With --key: record the signature in the transparency log (false for air-gapped use)
    #[arg(long = "tlog-upload", value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set, requires = "key")]
    tlog_upload: bool,
    #[command(flatten)]
    signing: SigningArgs,
    /// The file to sign, or sha256:<hex> to sign a digest
    input: String,
}

pub async fn sign_bundle(args: SignBundleArgs) -> anyhow::Result<()> {
    let input = Input::parse(&args.input)?;
    let out = match (&args.bundle, &input) {
        (Some(b), _) => b.clone(),
        (None, Input::File(p)) => PathBuf::from(format!("{}.sigstore.json", p.display())),
        (None, Input::Digest(_)) => {
            anyhow::bail!("signing a digest needs --bundle FILE to say where the bundle goes")
        }
    };
    use spin_verify::file::{Signer, sign};
    if let Some(path) = &args.key {
        let key = spin_verify::keys::read(path, &mut || password(false))?;
        let instance = args.signing.instance.load()?;
        let signer = Signer::Key {
            key: &key,
            tlog: args.tlog_upload,
        };
        sign(&instance, signer, &input, &out).await?;
    } else {
        let (instance, token) = args.signing.prepare().await?;
        sign(&instance, Signer::Keyless(Box::new(token)), &input, &out).await?;
    }
    println!("Wrote {}", out.display());
    Ok(())
}

/// A key password: COSIGN_PASSWORD (as cosign), else asked on the terminal (twice when
/// `confirm`).
fn password(confirm: bool) -> spin_verify::Result<String> {
    if let Ok(p) = std::env::var("COSIGN_PASSWORD") {
        return Ok(p);
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Err(spin_verify::Error::Input(
            "the key password is needed and there is no terminal to ask on\n  help: set COSIGN_PASSWORD".into(),
        ));
    }
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt)
            .map_err(|e| spin_verify::Error::Input(format!("cannot read the password: {e}")))
    };
    let first = ask("Password for the private key: ")?;
    if confirm && ask("Again: ")? != first {
        return Err(spin_verify::Error::Input("the passwords differ".into()));
    }
    Ok(first)
}

#[derive(clap::Subcommand)]
pub enum SigningCommand {
    /// Write a new ECDSA P-256 key pair in cosign's format: PREFIX.key (encrypted, 0600)
    /// and PREFIX.pub
    GenerateKeyPair {
        /// Path prefix of the two files
        #[arg(
            long = "output-key-prefix",
            default_value = "cosign",
            value_name = "PREFIX"
        )]
        prefix: PathBuf,
    },
}

pub fn signing(command: SigningCommand) -> anyhow::Result<()> {
    match command {
        SigningCommand::GenerateKeyPair { prefix } => {
            let password = password(true)?;
            let (private, public) = spin_verify::keys::generate(&prefix, &password)?;
            println!(
                "Private key written to {} (keep it secret)\nPublic key written to {}",
                private.display(),
                public.display()
            );
        }
    }
    Ok(())
}

#[derive(Args)]
pub struct VerifyBundleArgs {
    /// The Sigstore bundle [default: FILE.sigstore.json]
    #[arg(long, value_name = "FILE")]
    bundle: Option<PathBuf>,
    #[command(flatten)]
    authority: AuthorityArgs,
    #[command(flatten)]
    instance: InstanceArgs,
    /// The signed file, or sha256:<hex>
    input: String,
}

pub fn verify_bundle(args: VerifyBundleArgs) -> anyhow::Result<()> {
    let input = Input::parse(&args.input)?;
    let bundle_path = match (&args.bundle, &input) {
        (Some(b), _) => b.clone(),
        (None, Input::File(p)) => PathBuf::from(format!("{}.sigstore.json", p.display())),
        (None, Input::Digest(_)) => anyhow::bail!("verifying a digest needs --bundle FILE"),
    };
    let flags = args.authority.flags();
    if !flags.is_given() {
        anyhow::bail!(
            "who must have signed? pass --certificate-identity and --certificate-oidc-issuer (or their -regexp forms), or --key"
        );
    }
    let policy = flags.policy(args.instance.trust())?;
    let decision = spin_verify::file::verify(
        &policy,
        &args.input,
        &input,
        &bundle_path,
        &super::args::context(),
    )?;
    if !decision.allowed() {
        anyhow::bail!(
            "verification failed for {}\n{}",
            args.input,
            decision.to_text().trim_end()
        );
    }
    println!("Verified OK: {}", args.input);
    Ok(())
}

#[derive(Args)]
pub struct SignArgs {
    /// The app to sign, e.g. ghcr.io/acme/app:v1 or ghcr.io/acme/app@sha256:…
    reference: String,
    /// Sign with this private key (cosign.key, PKCS#8 or SEC1 PEM) instead of keylessly
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// With --key: record the signature in the transparency log (false for air-gapped use)
    #[arg(long = "tlog-upload", value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set, requires = "key")]
    tlog_upload: bool,
    /// Also write cosign's legacy `sha256-<hex>.sig` signature, for tools that read only it
    #[arg(long = "legacy-format")]
    legacy_format: bool,
    #[command(flatten)]
    signing: SigningArgs,
    #[command(flatten)]
    connection: Connection,
}

pub async fn sign(args: SignArgs) -> anyhow::Result<()> {
    let reference: Reference = args.reference.parse()?;
    let client = args.connection.client(&[reference.registry()])?;
    let Some(path) = &args.key else {
        return sign_app(&client, &reference, &args.signing, args.legacy_format).await;
    };
    let key = spin_verify::keys::read(path, &mut || password(false))?;
    let instance = args.signing.instance.load()?;
    let signed = spin_verify::app::sign_and_attach_with_key(
        &instance,
        &key,
        &client,
        &reference,
        args.tlog_upload,
    )
    .await?;
    println!(
        "Signed {}@{} with {}; signature bundle attached as {}",
        reference.repository_url(),
        signed.subject.digest,
        path.display(),
        signed.referrer.digest
    );
    Ok(())
}

/// Sign the app `reference` names and attach the bundle (also used by `push --sign`).
pub async fn sign_app(
    client: &spin_registry::client::RegistryClient,
    reference: &Reference,
    signing: &SigningArgs,
    legacy: bool,
) -> anyhow::Result<()> {
    let (instance, token) = signing.prepare().await?;
    let signed =
        spin_verify::app::sign_and_attach(&instance, token, client, reference, legacy).await?;
    println!(
        "Signed {}@{}; signature bundle attached as {}",
        reference.repository_url(),
        signed.subject.digest,
        signed.referrer.digest
    );
    Ok(())
}
