//! Signing keys for air-gapped and key-based signing, in the formats cosign reads and
//! writes: its encrypted PEM (`ENCRYPTED SIGSTORE PRIVATE KEY`, or the older `ENCRYPTED
//! COSIGN PRIVATE KEY`: a JSON envelope with scrypt key derivation and a NaCl secretbox
//! around a PKCS#8 key), plain PKCS#8 (`PRIVATE KEY`), and SEC1 (`EC PRIVATE KEY`) — ECDSA
//! P-256. `generate` writes a new pair: the private key encrypted and mode 0600, the public
//! key as `PUBLIC KEY` PEM.

use crate::{Error, Result, io};
use base64::Engine;
use crypto_secretbox::aead::{Aead, KeyInit};
use sigstore_sign::crypto::KeyPair;
use sigstore_sign::types::DerPublicKey;
use std::path::Path;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
/// cosign's scrypt cost for new keys (N = 2^16, r = 8, p = 1).
const SCRYPT_LOG_N: u8 = 16;

/// A private key ready to sign, with its public half.
pub struct SigningKey {
    /// The key pair.
    pub pair: KeyPair,
    /// The public key, DER SubjectPublicKeyInfo.
    pub public_der: Vec<u8>,
}

impl SigningKey {
    fn from_pkcs8(pkcs8: &[u8], path: &Path) -> Result<Self> {
        let pair = KeyPair::from_pkcs8_der(pkcs8).map_err(|e| {
            Error::Input(format!(
                "{}: not an ECDSA P-256 private key: {e}\n  help: generate one with `spin signing generate-key-pair` or `cosign generate-key-pair`",
                path.display()
            ))
        })?;
        let public_der = pair
            .public_key_der()
            .map_err(|e| Error::Input(format!("{}: {e}", path.display())))?
            .as_bytes()
            .to_vec();
        Ok(Self { pair, public_der })
    }

    /// The public key as PEM.
    pub fn public_pem(&self) -> String {
        pem::encode(&pem::Pem::new("PUBLIC KEY", self.public_der.clone()))
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Kdf {
    name: String,
    params: KdfParams,
    salt: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[allow(non_snake_case)]
struct KdfParams {
    N: u64,
    r: u32,
    p: u32,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

fn derive(password: &str, salt: &[u8], log_n: u8, r: u32, p: u32) -> Result<[u8; 32]> {
    let params = scrypt::Params::new(log_n, r, p, 32)
        .map_err(|e| Error::Input(format!("unusable scrypt parameters: {e}")))?;
    let mut key = [0u8; 32];
    scrypt::scrypt(password.as_bytes(), salt, &params, &mut key)
        .map_err(|e| Error::Input(format!("scrypt failed: {e}")))?;
    Ok(key)
}

fn decrypt(envelope_json: &[u8], password: &str, path: &Path) -> Result<Vec<u8>> {
    let bad = |what: &str| Error::Input(format!("{}: {what}", path.display()));
    let env: Envelope = serde_json::from_slice(envelope_json)
        .map_err(|e| bad(&format!("not a cosign key envelope: {e}")))?;
    if env.kdf.name != "scrypt" || env.cipher.name != "nacl/secretbox" {
        return Err(bad(&format!(
            "unsupported key encryption {} + {}",
            env.kdf.name, env.cipher.name
        )));
    }
    let n = env.kdf.params.N;
    if !n.is_power_of_two() || !(2..=1 << 20).contains(&n) {
        return Err(bad(&format!("unsupported scrypt N = {n}")));
    }
    let salt = B64.decode(&env.kdf.salt).map_err(|_| bad("bad salt"))?;
    let nonce = B64
        .decode(&env.cipher.nonce)
        .map_err(|_| bad("bad nonce"))?;
    let ciphertext = B64
        .decode(&env.ciphertext)
        .map_err(|_| bad("bad ciphertext"))?;
    if nonce.len() != 24 {
        return Err(bad("the nonce is not 24 bytes"));
    }
    let key = derive(
        password,
        &salt,
        n.trailing_zeros() as u8,
        env.kdf.params.r,
        env.kdf.params.p,
    )?;
    crypto_secretbox::XSalsa20Poly1305::new(&key.into())
        .decrypt(crypto_secretbox::Nonce::from_slice(&nonce), ciphertext.as_slice())
        .map_err(|_| {
            Error::Input(format!(
                "{}: wrong password (or a damaged key file)\n  help: give the password the key was made with (COSIGN_PASSWORD)",
                path.display()
            ))
        })
}

/// Read a public key file (`PUBLIC KEY` PEM, as `cosign generate-key-pair` writes); the error
/// names the file.
pub fn read_public(path: &Path) -> std::result::Result<DerPublicKey, String> {
    let pem = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    DerPublicKey::from_pem(&pem)
        .map_err(|e| format!("{} is not a PEM public key: {e}", path.display()))
}

/// Read a private key file; `password` is asked only for encrypted keys.
pub fn read(path: &Path, password: &mut dyn FnMut() -> Result<String>) -> Result<SigningKey> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let block = pem::parse(&text)
        .map_err(|e| Error::Input(format!("{}: not a PEM key file: {e}", path.display())))?;
    match block.tag() {
        "ENCRYPTED SIGSTORE PRIVATE KEY" | "ENCRYPTED COSIGN PRIVATE KEY" => {
            let pkcs8 = decrypt(block.contents(), &password()?, path)?;
            SigningKey::from_pkcs8(&pkcs8, path)
        }
        "PRIVATE KEY" => SigningKey::from_pkcs8(block.contents(), path),
        "EC PRIVATE KEY" => {
            let pair = aws_lc_rs::signature::EcdsaKeyPair::from_private_key_der(
                &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                block.contents(),
            )
            .map_err(|_| {
                Error::Input(format!("{}: not an ECDSA P-256 SEC1 key", path.display()))
            })?;
            let pkcs8 = pair
                .to_pkcs8v1()
                .map_err(|_| Error::Input(format!("{}: cannot convert the key", path.display())))?;
            SigningKey::from_pkcs8(pkcs8.as_ref(), path)
        }
        other => Err(Error::Input(format!(
            "{}: a `{other}` PEM block is not a private key\n  help: pass the private key (cosign.key), not the public key",
            path.display()
        ))),
    }
}

/// Write a new ECDSA P-256 key pair: `<prefix>.key` (encrypted with `password`, mode
/// 0600) and `<prefix>.pub`. Existing files are not overwritten.
pub fn generate(prefix: &Path, password: &str) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    use aws_lc_rs::rand::SecureRandom;
    let private_path = prefix.with_extension("key");
    let public_path = prefix.with_extension("pub");
    for p in [&private_path, &public_path] {
        if p.exists() {
            return Err(Error::Input(format!(
                "{} already exists; refusing to overwrite it\n  help: move it away or choose another prefix",
                p.display()
            )));
        }
    }
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let pkcs8 = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        &rng,
    )
    .map_err(|_| Error::Input("key generation failed".into()))?;
    let key = SigningKey::from_pkcs8(pkcs8.as_ref(), &private_path)?;
    let mut salt = [0u8; 32];
    let mut nonce = [0u8; 24];
    rng.fill(&mut salt)
        .and_then(|()| rng.fill(&mut nonce))
        .map_err(|_| Error::Input("no randomness".into()))?;
    let secret = derive(password, &salt, SCRYPT_LOG_N, 8, 1)?;
    let ciphertext = crypto_secretbox::XSalsa20Poly1305::new(&secret.into())
        .encrypt(crypto_secretbox::Nonce::from_slice(&nonce), pkcs8.as_ref())
        .map_err(|_| Error::Input("encryption failed".into()))?;
    let envelope = Envelope {
        kdf: Kdf {
            name: "scrypt".into(),
            params: KdfParams {
                N: 1 << SCRYPT_LOG_N,
                r: 8,
                p: 1,
            },
            salt: B64.encode(salt),
        },
        cipher: Cipher {
            name: "nacl/secretbox".into(),
            nonce: B64.encode(nonce),
        },
        ciphertext: B64.encode(ciphertext),
    };
    let json = serde_json::to_vec(&envelope).map_err(|e| Error::Input(e.to_string()))?;
    let private_pem = pem::encode(&pem::Pem::new("ENCRYPTED SIGSTORE PRIVATE KEY", json));
    write_private(&private_path, private_pem.as_bytes())?;
    spin_app::fsutil::write_atomic(&public_path, key.public_pem().as_bytes())
        .map_err(io(&public_path))?;
    Ok((private_path, public_path))
}

/// Write a secret file: created 0600, never replacing an existing one.
fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    let options = spin_app::fsutil::WriteOptions {
        mode: Some(0o600),
        no_clobber: true,
    };
    spin_app::fsutil::write_atomic_with(path, contents, options).map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or(env!("CARGO_MANIFEST_DIR").into());
        Path::new(&dir)
            .join("../tests/fixtures/cosign-format/keys")
            .join(name)
    }

    #[test]
    fn reads_cosign_made_keys_in_every_format() {
        let with = |pw: &'static str| move || -> Result<String> { Ok(pw.to_string()) };
        let a = read(&fixture("ecdsa_encrypted_private.key"), &mut with("123")).unwrap();
        let b = read(
            &fixture("cosign_generated_encrypted_empty_private.key"),
            &mut with(""),
        )
        .unwrap();
        let c = read(&fixture("ecdsa_private.key"), &mut || {
            panic!("a plain key needs no password")
        })
        .unwrap();
        assert_eq!(a.public_der.len(), 91);
        assert_eq!(b.public_der.len(), 91);
        assert_eq!(c.public_der.len(), 91);
        let wrong = read(&fixture("ecdsa_encrypted_private.key"), &mut with("1234"))
            .err()
            .unwrap()
            .to_string();
        assert!(wrong.contains("wrong password"), "{wrong}");
    }

    #[test]
    fn generated_keys_round_trip_and_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (private, public) = generate(&dir.path().join("cosign"), "s3cret").unwrap();
        assert_eq!(
            std::fs::metadata(&private).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let key = read(&private, &mut || Ok("s3cret".into())).unwrap();
        assert_eq!(std::fs::read_to_string(&public).unwrap(), key.public_pem());
        assert!(
            std::fs::read_to_string(&private)
                .unwrap()
                .starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----")
        );
        assert!(
            generate(&dir.path().join("cosign"), "x")
                .unwrap_err()
                .to_string()
                .contains("already exists")
        );
    }
}
