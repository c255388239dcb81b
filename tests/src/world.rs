//! A world for signing and policy tests: a registry, a local Sigstore instance and a user,
//! with the steps those tests repeat (push an app, sign it keylessly or with a key, verify
//! it under a policy).

use crate::registry::Registry;
use crate::sandbox::{Run, Sandbox};
use crate::sigstore::LocalSigstore;
use crate::{output_text, spin_env};
use std::path::{Path, PathBuf};
use std::process::Output;

/// GitHub Actions' OIDC issuer.
pub const GITHUB: &str = "https://token.actions.githubusercontent.com";
/// Sigstore's GitHub login issuer.
pub const GITHUB_LOGIN: &str = "https://github.com/login/oauth";

/// A registry, a Sigstore instance and a user (home, config, cache, no keyring).
pub struct World {
    /// The registry.
    pub registry: Registry,
    /// The Sigstore instance.
    pub sigstore: LocalSigstore,
    /// The user.
    pub user: Sandbox,
}

/// A one-component app (the committed WAT hello component) named `name`: each name makes
/// a different locked app, so a different digest.
pub fn app(name: &str) -> tempfile::TempDir {
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"{name}\"\nversion = \"1.0.0\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"hello\"\n[component.hello]\nsource = {:?}\n",
        crate::component("hello")
    );
    crate::app_dir(&[("spin.toml", manifest.as_bytes())])
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    /// A new registry, Sigstore instance and user.
    pub fn new() -> Self {
        Self {
            registry: Registry::start(),
            sigstore: LocalSigstore::start(),
            user: Sandbox::new(),
        }
    }

    /// The user's environment.
    pub fn env(&self) -> Vec<(String, String)> {
        self.user.env()
    }

    /// `spin <args>` as the user, in their home.
    pub fn spin(&self, args: &[&str]) -> Output {
        self.user.spin(args).cwd(self.user.home()).run().output
    }

    /// [`World::spin`] that must work (failures show the Sigstore instance's log); its
    /// output.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.spin(args);
        self.sigstore.assert_ok(&out);
        output_text(&out)
    }

    /// `host/repo:tag` of this registry.
    pub fn reference(&self, repo_tag: &str) -> String {
        format!("{}/{repo_tag}", self.registry.host())
    }

    /// Push an app named `name` to `repo_tag`; its digest.
    pub fn push(&self, repo_tag: &str, name: &str) -> String {
        self.user.push(app(name).path(), &self.reference(repo_tag))
    }

    /// Push an app named `name` to `repo_tag`; its reference (`host/repo:tag`).
    pub fn publish(&self, repo_tag: &str, name: &str) -> String {
        self.push(repo_tag, name);
        self.reference(repo_tag)
    }

    /// `spin sign REFERENCE --insecure SIGNER… EXTRA…` as the user, trusting this instance.
    fn signing(&self, reference: &str, signer: [&str; 2], extra: &[&str]) -> Run<'_> {
        let (tr, sc) = (self.sigstore.trusted_root(), self.sigstore.signing_config());
        let trust = ["--trusted-root", tr.to_str().unwrap()];
        let run = self.user.spin(&["sign", reference, signer[0], signer[1]]);
        let run = run
            .args(&trust)
            .args(&["--signing-config", sc.to_str().unwrap()]);
        run.args(extra).insecure().cwd(self.user.home())
    }

    /// Sign `reference` keylessly with `token`, with `extra` flags.
    pub fn sign(&self, reference: &str, token: &str, extra: &[&str]) {
        let done = self
            .signing(reference, ["--identity-token", token], extra)
            .run();
        self.sigstore.assert_ok(&done.output);
    }

    /// A token for a person signing with their email through `issuer`.
    pub fn person(&self, email: &str, issuer: &str) -> String {
        self.sigstore.token(serde_json::json!({
            "sub": email, "email": email, "iss": issuer,
        }))
    }

    /// A GitHub Actions token: `repo`'s workflow `file` run for `git_ref` on `event`.
    pub fn workflow(
        &self,
        repo: &str,
        file: &str,
        git_ref: &str,
        event: &str,
        runner: &str,
    ) -> String {
        let workflow = format!("{repo}/.github/workflows/{file}@{git_ref}");
        self.sigstore.token(serde_json::json!({
            "iss": GITHUB,
            "sub": format!("repo:{repo}:ref:{git_ref}"),
            "claims": {
                "repository": repo,
                "repository_owner": repo.split('/').next().unwrap(),
                "job_workflow_ref": workflow,
                "workflow_ref": workflow,
                "event_name": event,
                "ref": git_ref,
                "sha": "4f1c0ffee4f1c0ffee4f1c0ffee4f1c0ffee4f1c",
                "runner_environment": runner,
            },
        }))
    }

    /// Sign `reference` with the cosign key file `key` (password `pw`), with `extra` flags.
    pub fn sign_with_key(&self, reference: &str, key: &Path, extra: &[&str]) {
        let run = self.signing(reference, ["--key", key.to_str().unwrap()], extra);
        run.env("COSIGN_PASSWORD", "pw").ok();
    }

    /// Sign `reference` as `repo`'s workflow `file`, pushed to `git_ref`, on `runner`.
    pub fn sign_workflow(
        &self,
        reference: &str,
        repo: &str,
        file: &str,
        git_ref: &str,
        runner: &str,
    ) {
        self.sign(
            reference,
            &self.workflow(repo, file, git_ref, "push", runner),
            &[],
        );
    }

    /// `spin verify REF --policy FILE --format json`: exit code and decision.
    pub fn verify(&self, reference: &str, policy: &Path) -> (i32, serde_json::Value) {
        let out = self.spin(&[
            "verify",
            reference,
            "--insecure",
            "--policy",
            policy.to_str().unwrap(),
            "--format",
            "json",
        ]);
        let code = out.status.code().unwrap();
        let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "no decision ({e}): {}\n{}",
                output_text(&out),
                self.sigstore.log()
            )
        });
        (code, json)
    }

    /// Write a policy file into the home folder.
    pub fn policy(&self, name: &str, text: &str) -> PathBuf {
        let p = self.user.home().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// A rule header trusting this instance, for `scope`.
    pub fn rule(&self, name: &str, scope: &str) -> String {
        format!(
            "[[rule]]\nname = {name:?}\nscope = {:?}\ntrusted_root = {:?}\n",
            self.reference(scope),
            self.sigstore.trusted_root()
        )
    }

    /// Move the local instance's clock by `offset` seconds (0 to reset).
    pub fn clock(&self, offset: i64) {
        ureq::post(&format!("{}/admin/clock", self.sigstore.url))
            .send_string(&serde_json::json!({ "offset": offset }).to_string())
            .unwrap();
    }
}

/// A new cosign key pair `<dir>/<name>.key` (password `pw`) and `<dir>/<name>.pub`.
pub fn key_pair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let made = spin_env(
        &["signing", "generate-key-pair", "--output-key-prefix", name],
        dir,
        &[("COSIGN_PASSWORD", "pw")],
    );
    assert!(made.status.success(), "{}", output_text(&made));
    (
        dir.join(format!("{name}.key")),
        dir.join(format!("{name}.pub")),
    )
}

pub fn problems(d: &serde_json::Value) -> String {
    format!("{} {}", d["problems"], d["signatures"])
}
