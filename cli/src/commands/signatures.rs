//! `spin sign` for apps in registries, `spin sign-bundle` / `spin verify-bundle` for plain
//! files (the sigstore-conformance client protocol), keys and trust material. Verifying
//! apps is `policy.rs`.

use super::args::Connection;
use clap::Args;
use spin_registry::Reference;
use spin_verify::blob::{self, Expected, Input};
use spin_verify::identity::IdentityToken;
use spin_verify::instance::{Instance, Source};
use std::path::PathBuf;

/// Which Sigstore instance.
#[derive(Args)]
pub struct InstanceArgs {
    /// Use the public-good staging instance
    #[arg(long)]
    staging: bool,
    /// The instance's trusted_root.json [default: the embedded public-good root]
    #[arg(long = "trusted-root", value_name = "FILE")]
    trusted_root: Option<PathBuf>,
    /// The instance's signing_config.json (Fulcio, Rekor and TSA endpoints)
    #[arg(long = "signing-config", value_name = "FILE")]
    signing_config: Option<PathBuf>,
}

impl InstanceArgs {
    /// The trust a one-authority policy from flags (`spin verify --certificate-identity`)
    /// uses.
    pub fn trust(&self) -> spin_verify::policy::Trust {
        use spin_verify::policy::Trust;
        match (&self.trusted_root, self.staging) {
            (Some(p), _) => Trust::TrustedRoot(p.clone()),
            (None, true) => Trust::Staging,
            (None, false) => Trust::PublicGood,
        }
    }

    fn load(&self) -> anyhow::Result<Instance> {
        let refreshed = refreshed_dir(self.staging);
        Ok(Instance::load(&Source {
            trusted_root: self.trusted_root.as_deref(),
            signing_config: self.signing_config.as_deref(),
            staging: self.staging,
            refreshed: Some(&refreshed),
        })?)
    }
}

/// Where `spin sigstore update-trust-root` keeps the public-good (or staging) material.
fn refreshed_dir(staging: bool) -> PathBuf {
    spin_verify::instance::refreshed_dir(&crate::paths::sigstore_cache(), staging)
}

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
            .map(|oidc_url| spin_verify::identity::Interactive {
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
    if let Some(path) = &args.key {
        let key = spin_verify::keys::read(path, &mut || password(false))?;
        let instance = args.signing.instance.load()?;
        blob::sign_with_key(&instance, &key, &input, &out, args.tlog_upload).await?;
    } else {
        let (instance, token) = args.signing.prepare().await?;
        blob::sign(&instance, token, &input, &out).await?;
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

/// Who must have signed: a certificate identity and issuer, or a key.
#[derive(Args)]
pub struct SignerArgs {
    /// The identity the signing certificate must have (email or URI)
    #[arg(
        long = "certificate-identity",
        value_name = "IDENTITY",
        required_unless_present = "key"
    )]
    certificate_identity: Option<String>,
    /// The OIDC issuer the signing certificate must name
    #[arg(
        long = "certificate-oidc-issuer",
        value_name = "URL",
        required_unless_present = "key"
    )]
    certificate_oidc_issuer: Option<String>,
    /// Verify with this public key (PEM) instead of a certificate identity
    #[arg(long, value_name = "FILE", conflicts_with_all = ["certificate_identity", "certificate_oidc_issuer"])]
    key: Option<PathBuf>,
}

impl SignerArgs {
    /// What to verify against; `require_tlog` applies to key-based bundles.
    fn expected(self, require_tlog: bool) -> Expected {
        match (
            self.key,
            self.certificate_identity,
            self.certificate_oidc_issuer,
        ) {
            (Some(path), _, _) => Expected::Key { path, require_tlog },
            (None, Some(identity), Some(issuer)) => Expected::Identity { identity, issuer },
            _ => unreachable!("clap requires identity and issuer without --key"),
        }
    }
}

#[derive(Args)]
pub struct VerifyBundleArgs {
    /// The Sigstore bundle [default: FILE.sigstore.json]
    #[arg(long, value_name = "FILE")]
    bundle: Option<PathBuf>,
    #[command(flatten)]
    signer: SignerArgs,
    /// With --key: accept a bundle that has no transparency log entry (air-gapped signing)
    #[arg(long = "insecure-ignore-tlog", requires = "key")]
    insecure_ignore_tlog: bool,
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
    let expected = args.signer.expected(!args.insecure_ignore_tlog);
    let instance = args.instance.load()?;
    let bundle = blob::read_bundle(&bundle_path)?;
    blob::verify(&instance, &bundle, &input, &expected)?;
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
