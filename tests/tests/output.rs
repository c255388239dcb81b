//! Whole-output snapshots of what users read: the `spin up` banner, errors with their
//! place and their fix, and the decision trace of `spin verify`. Ports, temporary paths,
//! digests, times and durations become placeholders, so a snapshot changes only when the
//! words do. The snapshots are in `snapshots/`; a change to one is reviewed like
//! code (`INSTA_UPDATE=always`, then `git diff`).

use spin_tests::registry::Registry;
use spin_tests::sandbox::Sandbox;
use spin_tests::world::{GITHUB, World};
use std::path::Path;

/// Assert that `text` (from commands run as the user whose home is `home`) matches the
/// snapshot `name`, with what varies from run to run replaced.
fn snapshot(name: &str, home: &Path, text: &str) {
    let home = regex::escape(&home.display().to_string());
    let tmp = format!(
        r"{}/?\.tmp[A-Za-z0-9]+",
        regex::escape(&std::env::temp_dir().display().to_string())
    );
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    for (pattern, replacement) in [
        (home.as_str(), "[HOME]"),
        (tmp.as_str(), "[TMP]"),
        (r"(127\.0\.0\.1|localhost):\d+", "[ADDR]"),
        (r"sha256:[0-9a-f]{64}", "sha256:[DIGEST]"),
        (r"sha256-[0-9a-f]{64}", "sha256-[DIGEST]"),
        (
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
            "[TIME]",
        ),
        (r"\b\d+(\.\d+)?m?s\b", "[DURATION]"),
    ] {
        settings.add_filter(pattern, replacement);
    }
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// `$ spin <args>` followed by what the command printed (stdout, then stderr) and how it
/// exited.
fn transcript(args: &[&str], done: &spin_tests::sandbox::Done) -> String {
    format!(
        "$ spin {}\n{}{}[exit {}]\n",
        args.join(" "),
        done.stdout(),
        done.stderr(),
        done.output.status.code().unwrap_or(-1)
    )
}

#[test]
fn the_up_banner() {
    let user = Sandbox::new();
    let app = spin_tests::apps::two_component_app();
    let spin = user.serve(app.path().join("spin.toml"), &[]);
    snapshot("up_banner", app.path(), &spin.banner);
}

#[test]
fn manifest_errors_say_where_and_what_to_do() {
    let user = Sandbox::new();
    let hello = spin_tests::component("hello");
    let header = "spin_manifest_version = 2\n[application]\nname = \"broken\"\n";
    let cases = [
        format!(
            "{header}[[trigger.http]]\nroute = \"/a/.../b\"\ncomponent = \"c\"\n[component.c]\nsource = {hello:?}\n"
        ),
        format!(
            "{header}[[trigger.http]]\nroute = \"/\"\ncomponent = \"missing\"\n[component.c]\nsource = {hello:?}\n"
        ),
        format!(
            "{header}[[trigger.http]]\nroute = \"/\"\ncomponent = \"c\"\n[component.c]\nsource = {hello:?}\nfiles = [{{ source = \"a.txt\", destination = \"/x\" }}, {{ source = \"b.txt\", destination = \"//x\" }}]\n"
        ),
        format!("{header}colour = \"blue\"\n"),
    ];
    let mut text = String::new();
    for (n, manifest) in cases.iter().enumerate() {
        let dir = user.home().join(format!("app{n}"));
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["a.txt", "b.txt"] {
            std::fs::write(dir.join(f), f).unwrap();
        }
        std::fs::write(dir.join("spin.toml"), manifest).unwrap();
        let args = ["up", "-f", "spin.toml", "--listen", "127.0.0.1:0"];
        text += &transcript(&args, &user.spin(&args).cwd(&dir).fails());
    }
    snapshot("manifest_errors", user.home(), &text);
}

#[test]
fn registry_errors_say_what_to_do() {
    let user = Sandbox::with_open_policy();
    let open = Registry::start();
    let secure = Registry::start_secure("ada", "s3cret");
    let missing = format!("{}/acme/missing:v1", open.host());
    let locked = format!("{}/acme/private:v1", secure.host());
    // Port 1 (tcpmux): nothing listens there, and no test server is ever given it.
    let nobody = "127.0.0.1:1/acme/app:v1".to_string();
    let ca = secure.secure.as_ref().unwrap().ca.display().to_string();
    let mut text = String::new();
    for args in [
        vec!["registry", "pull", &missing, "--insecure"],
        vec!["registry", "pull", &nobody, "--insecure"],
        vec!["registry", "pull", &locked, "--ca-file", &ca],
        vec!["registry", "pull", "ghcr.io/Acme/app:v1"],
    ] {
        let done = user.spin(&args).cache().fails();
        text += &transcript(&args, &done);
    }
    snapshot("registry_errors", user.home(), &text);
}

#[test]
fn decision_traces() {
    let w = World::new();
    let policy = w.policy(
        "policy.toml",
        &format!(
            "version = 1\n{}\n[[rule.authority]]\nname = \"release workflow\"\nissuer = \"{GITHUB}\"\ngithub = {{ repository = \"acme/web\", ref = \"refs/heads/main\" }}\n",
            w.rule("acme releases", "acme/*")
        ),
    );
    let mut references = Vec::new();
    for (repo, signer) in [
        ("acme/web", Some("acme/web")),
        ("acme/fork", Some("mallory/web")),
        ("acme/unsigned", None),
        ("elsewhere/app", None),
    ] {
        let reference = w.publish(&format!("{repo}:v1"), &repo.replace('/', "-"));
        if let Some(signer) = signer {
            w.sign_workflow(
                &reference,
                signer,
                "release.yml",
                "refs/heads/main",
                "github-hosted",
            );
        }
        references.push(reference);
    }
    let policy = policy.to_str().unwrap();
    let mut text = String::new();
    for reference in &references {
        let args = ["verify", reference, "--insecure", "--policy", policy];
        text += &transcript(&args, &w.user.spin(&args).run());
    }
    let text = text.replace(&w.sigstore.url, "[SIGSTORE]");
    snapshot("decision_traces", w.user.home(), &text);
}

#[test]
fn policy_lint_reports_at_file_line_col() {
    let user = Sandbox::new();
    let file = user.home().join("policy.toml");
    let mut text = String::new();
    for policy in [
        "version = 1\n[[rule]]\nscope = \"ghcr.io/acme/*\"\nthreshold = 2\n[[rule.authority]]\nissuer = \"https://token.actions.githubusercontent.com\"\nsubject_regex = \"repo:acme/.*\"\n",
        "version = 1\n[[rule]]\nscope = \"ghcr.io/acme/*\"\n[[rule.authority]]\nissuer = \"https://token.actions.githubusercontent.com\"\nsubject_regex = \"repo:acme/.*\"\n",
        "version = 1\n",
    ] {
        std::fs::write(&file, policy).unwrap();
        let args = ["policy", "lint", "policy.toml"];
        text += &transcript(&args, &user.spin(&args).cwd(user.home()).run());
    }
    snapshot("policy_lint", user.home(), &text);
}
