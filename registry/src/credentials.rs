//! Registry credentials: our own logins (the OS keyring, or a 0600 file where no keyring
//! service runs), then Docker's `config.json` (`credHelpers`, `auths`, `credsStore`)
//! including `docker-credential-*` helpers.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const KEYRING_SERVICE: &str = "spin-registry";

/// What to present to a registry.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// No credentials.
    Anonymous,
    /// Username and password (or token used as a password).
    Basic {
        /// User.
        username: String,
        /// Password or access token.
        password: String,
    },
    /// An OAuth2 refresh token (Docker's `identitytoken`).
    IdentityToken(String),
}

impl std::fmt::Debug for Credential {
    // Never print secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Anonymous => f.write_str("Anonymous"),
            Credential::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
            Credential::IdentityToken(_) => f.write_str("IdentityToken(***)"),
        }
    }
}

/// Where a login was saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SavedIn {
    /// The OS keyring.
    Keyring,
    /// The fallback file (no keyring service available).
    File(PathBuf),
}

/// Why credentials could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A docker config or credential file is malformed.
    #[error("{} is not valid: {message}\n  help: fix or remove the entry", path.display())]
    Malformed {
        /// Path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A credential helper failed.
    #[error(
        "credential helper `docker-credential-{helper}` failed for {registry}: {message}\n  help: check that the helper is installed and logged in"
    )]
    Helper {
        /// Helper name.
        helper: String,
        /// Registry.
        registry: String,
        /// What happened.
        message: String,
    },
}

#[derive(Default, Deserialize)]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, DockerAuth>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(Default, Deserialize)]
struct DockerAuth {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default, rename = "identitytoken")]
    identity_token: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Saved {
    username: String,
    password: String,
}

/// Where credentials are looked up and saved.
#[derive(Debug, Clone)]
pub struct Credentials {
    docker_config: PathBuf,
    fallback_file: PathBuf,
    use_keyring: bool,
}

/// The names under which Docker may have stored a registry's credentials.
fn docker_keys(registry: &str) -> Vec<String> {
    let mut keys = vec![
        registry.to_string(),
        format!("https://{registry}"),
        format!("http://{registry}"),
    ];
    if registry == crate::reference::DOCKER_HUB || registry == "index.docker.io" {
        keys.push("https://index.docker.io/v1/".into());
        keys.push("index.docker.io".into());
    }
    keys
}

impl Credentials {
    /// The user's locations: `$DOCKER_CONFIG/config.json` (or `~/.docker/config.json`),
    /// the keyring, and `$XDG_CONFIG_HOME/spin/registry-credentials.json` as fallback.
    /// `SPIN_DISABLE_KEYRING=1` skips the keyring.
    pub fn for_user() -> Self {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default();
        let docker_dir = std::env::var_os("DOCKER_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".docker"));
        Self {
            docker_config: docker_dir.join("config.json"),
            fallback_file: spin_app::fsutil::xdg_dir("XDG_CONFIG_HOME", ".config")
                .join("registry-credentials.json"),
            use_keyring: std::env::var("SPIN_DISABLE_KEYRING")
                .map(|v| v != "1")
                .unwrap_or(true),
        }
    }

    /// Credentials for `registry`, or `Anonymous`.
    pub fn lookup(&self, registry: &str) -> Result<Credential, CredentialError> {
        if let Some(saved) = self.keyring_get(registry) {
            return Ok(saved);
        }
        if let Some(saved) = self.file_entries()?.remove(registry) {
            return Ok(Credential::Basic {
                username: saved.username,
                password: saved.password,
            });
        }
        self.docker_lookup(registry)
    }

    fn docker_lookup(&self, registry: &str) -> Result<Credential, CredentialError> {
        let path = &self.docker_config;
        let config: DockerConfig = match std::fs::read(path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|e| CredentialError::Malformed {
                    path: path.clone(),
                    message: e.to_string(),
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Credential::Anonymous),
            Err(source) => {
                return Err(CredentialError::Io {
                    path: path.clone(),
                    source,
                });
            }
        };
        let keys = docker_keys(registry);
        if let Some(helper) = keys.iter().find_map(|k| config.cred_helpers.get(k)) {
            return run_helper(helper, registry);
        }
        if let Some(auth) = keys.iter().find_map(|k| config.auths.get(k)) {
            if let Some(token) = auth.identity_token.as_ref().filter(|t| !t.is_empty()) {
                return Ok(Credential::IdentityToken(token.clone()));
            }
            if let Some(encoded) = auth.auth.as_ref().filter(|a| !a.is_empty()) {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(encoded.trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| CredentialError::Malformed {
                        path: path.clone(),
                        message: format!("`auths.{registry}.auth` is not base64 of user:password"),
                    })?;
                let (username, password) =
                    decoded
                        .split_once(':')
                        .ok_or_else(|| CredentialError::Malformed {
                            path: path.clone(),
                            message: format!(
                                "`auths.{registry}.auth` has no `:` between user and password"
                            ),
                        })?;
                return Ok(Credential::Basic {
                    username: username.into(),
                    password: password.into(),
                });
            }
            if let (Some(u), Some(p)) = (&auth.username, &auth.password) {
                return Ok(Credential::Basic {
                    username: u.clone(),
                    password: p.clone(),
                });
            }
        }
        if let Some(store) = &config.creds_store {
            return match run_helper(store, registry) {
                Err(CredentialError::Helper { message, .. }) if message.contains("not found") => {
                    Ok(Credential::Anonymous)
                }
                other => other,
            };
        }
        Ok(Credential::Anonymous)
    }

    fn keyring_entry(&self, registry: &str) -> Option<keyring::Entry> {
        if !self.use_keyring {
            return None;
        }
        keyring::Entry::new(KEYRING_SERVICE, registry).ok()
    }

    fn keyring_get(&self, registry: &str) -> Option<Credential> {
        let secret = self.keyring_entry(registry)?.get_password().ok()?;
        let saved: Saved = serde_json::from_str(&secret).ok()?;
        Some(Credential::Basic {
            username: saved.username,
            password: saved.password,
        })
    }

    fn file_entries(&self) -> Result<BTreeMap<String, Saved>, CredentialError> {
        let path = &self.fallback_file;
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| CredentialError::Malformed {
                path: path.clone(),
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(source) => Err(CredentialError::Io {
                path: path.clone(),
                source,
            }),
        }
    }

    fn write_file_entries(&self, entries: &BTreeMap<String, Saved>) -> Result<(), CredentialError> {
        let path = &self.fallback_file;
        let wrap = |source| CredentialError::Io {
            path: path.clone(),
            source,
        };
        spin_app::fsutil::write_atomic_with(
            path,
            &serde_json::to_vec_pretty(entries).expect("serializable"),
            spin_app::fsutil::WriteOptions {
                mode: Some(0o600),
                no_clobber: false,
            },
        )
        .map_err(wrap)?;
        Ok(())
    }

    /// Save a login: in the keyring when one is available, else in the 0600 file.
    pub fn save(
        &self,
        registry: &str,
        username: &str,
        password: &str,
    ) -> Result<SavedIn, CredentialError> {
        let secret = serde_json::to_string(&Saved {
            username: username.into(),
            password: password.into(),
        })
        .expect("serializable");
        if let Some(entry) = self.keyring_entry(registry)
            && entry.set_password(&secret).is_ok()
        {
            self.remove_from_file(registry)?;
            return Ok(SavedIn::Keyring);
        }
        let mut entries = self.file_entries()?;
        entries.insert(
            registry.into(),
            Saved {
                username: username.into(),
                password: password.into(),
            },
        );
        self.write_file_entries(&entries)?;
        Ok(SavedIn::File(self.fallback_file.clone()))
    }

    fn remove_from_file(&self, registry: &str) -> Result<bool, CredentialError> {
        let mut entries = self.file_entries()?;
        if entries.remove(registry).is_none() {
            return Ok(false);
        }
        self.write_file_entries(&entries)?;
        Ok(true)
    }

    /// Forget a login; true if one was found.
    pub fn remove(&self, registry: &str) -> Result<bool, CredentialError> {
        let from_keyring = self
            .keyring_entry(registry)
            .map(|e| e.delete_credential().is_ok())
            .unwrap_or(false);
        Ok(self.remove_from_file(registry)? || from_keyring)
    }
}

/// Run `docker-credential-<helper> get`.
fn run_helper(helper: &str, registry: &str) -> Result<Credential, CredentialError> {
    let err = |message: String| CredentialError::Helper {
        helper: helper.into(),
        registry: registry.into(),
        message,
    };
    let mut child = Command::new(format!("docker-credential-{helper}"))
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| err(format!("cannot run it: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(registry.as_bytes());
    }
    let out = child.wait_with_output().map_err(|e| err(e.to_string()))?;
    if !out.status.success() {
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string()
            + String::from_utf8_lossy(&out.stderr).trim();
        if text.to_ascii_lowercase().contains("credentials not found") {
            return Ok(Credential::Anonymous);
        }
        return Err(err(text));
    }
    #[derive(Deserialize)]
    struct HelperOutput {
        #[serde(rename = "Username")]
        username: String,
        #[serde(rename = "Secret")]
        secret: String,
    }
    let parsed: HelperOutput =
        serde_json::from_slice(&out.stdout).map_err(|e| err(format!("unreadable output: {e}")))?;
    if parsed.username == "<token>" {
        return Ok(Credential::IdentityToken(parsed.secret));
    }
    Ok(Credential::Basic {
        username: parsed.username,
        password: parsed.secret,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn creds(dir: &Path, docker: &str) -> Credentials {
        std::fs::create_dir_all(dir.join("docker")).unwrap();
        std::fs::write(dir.join("docker/config.json"), docker).unwrap();
        Credentials {
            docker_config: dir.join("docker/config.json"),
            fallback_file: dir.join("spin/creds.json"),
            use_keyring: false,
        }
    }

    #[test]
    fn reads_docker_auths_and_identity_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let c = creds(
            dir.path(),
            r#"{"auths": {"ghcr.io": {"auth": "dXNlcjpwYXNz"}, "https://index.docker.io/v1/": {"auth": "aHViOnNlY3JldA=="}, "acr.example.io": {"identitytoken": "refresh"}}}"#,
        );
        assert_eq!(
            c.lookup("ghcr.io").unwrap(),
            Credential::Basic {
                username: "user".into(),
                password: "pass".into()
            }
        );
        assert_eq!(
            c.lookup("docker.io").unwrap(),
            Credential::Basic {
                username: "hub".into(),
                password: "secret".into()
            }
        );
        assert_eq!(
            c.lookup("acr.example.io").unwrap(),
            Credential::IdentityToken("refresh".into())
        );
        assert_eq!(c.lookup("other.io").unwrap(), Credential::Anonymous);
    }

    #[test]
    fn saved_logins_win_and_the_file_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let c = creds(
            dir.path(),
            r#"{"auths": {"ghcr.io": {"auth": "dXNlcjpwYXNz"}}}"#,
        );
        assert_eq!(
            c.save("ghcr.io", "me", "tok").unwrap(),
            SavedIn::File(dir.path().join("spin/creds.json"))
        );
        assert_eq!(
            c.lookup("ghcr.io").unwrap(),
            Credential::Basic {
                username: "me".into(),
                password: "tok".into()
            }
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("spin/creds.json"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(c.remove("ghcr.io").unwrap());
        assert_eq!(
            c.lookup("ghcr.io").unwrap(),
            Credential::Basic {
                username: "user".into(),
                password: "pass".into()
            }
        );
        assert!(format!("{:?}", c.lookup("ghcr.io").unwrap()).contains("***"));
    }

    #[test]
    fn helpers_are_run() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let helper = bin.join("docker-credential-fake");
        std::fs::write(&helper, "#!/bin/sh\nread server\necho \"{\\\"Username\\\":\\\"u-$server\\\",\\\"Secret\\\":\\\"s\\\"}\"\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let c = creds(dir.path(), r#"{"credHelpers": {"reg.example": "fake"}}"#);
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        // SAFETY: this test binary's threads do not read PATH concurrently.
        unsafe { std::env::set_var("PATH", path) };
        assert_eq!(
            c.lookup("reg.example").unwrap(),
            Credential::Basic {
                username: "u-reg.example".into(),
                password: "s".into()
            }
        );
    }
}
