//! Registry credentials end to end: TLS with a private CA and htpasswd basic auth
//! (`spin registry login`, the 0600 fallback file), Docker's config.json, and the bearer
//! token flow (tokens refreshed on expiry, identity tokens exchanged).

use spin_tests::apps::two_component_app;
use spin_tests::registry::Registry;
use spin_tests::sandbox::Sandbox;
use spin_tests::{app_dir, assert_contains, pushed_digest};

#[test]
fn tls_registry_with_basic_auth_login_and_ca_file() {
    let registry = Registry::start_secure("alice", "s3cret-pass");
    let secure = registry.secure.as_ref().unwrap();
    let ca = secure.ca.to_str().unwrap();
    let app = two_component_app();
    let user = Sandbox::with_open_policy();
    let reference = format!("{}/alice/app:v1", registry.host());

    // No CA: a TLS error that says how to fix it.
    user.spin(&["registry", "push", &reference])
        .cwd(app.path())
        .cache()
        .fails_with(&["TLS", "--ca-file"]);
    // CA but no credentials: 401 with the fix.
    user.spin(&["registry", "push", &reference, "--ca-file", ca])
        .cwd(app.path())
        .cache()
        .fails_with(&["401", &format!("spin registry login {}", registry.host())]);
    // A wrong password is refused at login.
    let host = registry.host();
    let login = [
        "registry",
        "login",
        &host,
        "-u",
        "alice",
        "--password-stdin",
    ];
    let login = |password: &str| {
        let run = user.spin(&login).args(&["--ca-file", ca]).cwd(app.path());
        run.stdin(&format!("{password}\n"))
    };
    let refused = login("wrong").fails_with(&["refused the ones given"]);
    assert!(
        !refused.contains("wrong"),
        "the password must never be printed: {refused}"
    );
    let said = login("s3cret-pass").ok().stderr();
    assert_contains(&said, "no keyring service is running; saved to");
    let saved = user.config().join("registry-credentials.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&saved).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let pushed = user
        .spin(&["registry", "push", &reference, "--ca-file", ca])
        .cwd(app.path())
        .cache()
        .ok()
        .stdout();
    let digest = pushed_digest(&pushed);
    let spin = user.serve(
        format!("{}/alice/app@{digest}", registry.host()),
        &["--ca-file", ca],
    );
    assert_eq!(spin.get("/hello").text(), "Hello from WAT!\n");
    drop(spin);
    assert!(
        user.spin(&["registry", "logout", &registry.host()])
            .cwd(app.path())
            .ok()
            .stdout()
            .contains("Removed credentials")
    );
    user.spin(&["registry", "pull", &reference, "--ca-file", ca])
        .cwd(app.path())
        .cache()
        .fails_with(&["401"]);
}

#[test]
fn docker_config_credentials_are_used() {
    let registry = Registry::start_secure("bob", "hunter22");
    let ca = registry
        .secure
        .as_ref()
        .unwrap()
        .ca
        .to_str()
        .unwrap()
        .to_string();
    let user = Sandbox::with_open_policy();
    let auth = base64_encode(b"bob:hunter22");
    std::fs::write(
        user.home().join("docker/config.json"),
        format!(
            r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#,
            registry.host()
        ),
    )
    .unwrap();
    let app = two_component_app();
    let reference = format!("{}/bob/app:v1", registry.host());
    user.spin(&["registry", "push", &reference, "--ca-file", &ca])
        .cwd(app.path())
        .cache()
        .ok()
        .stdout();
}

fn base64_encode(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn bearer_token_flow_with_refresh_and_identity_tokens() {
    // Tokens last 2 seconds; the push below takes about 4.
    let registry = Registry::start_with_token_server("carol", "pa55word", "refresh-me", 2);
    let proxy = spin_tests::SlowProxy::start(registry.port, 4 << 20);
    let user = Sandbox::with_open_policy();
    let host = format!("127.0.0.1:{}", proxy.port);
    let big: Vec<u8> = (0..16u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let manifest = "spin_manifest_version = 2\n[application]\nname = \"tok\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\n[component.c]\nsource = \"c.wasm\"\n";
    let app = app_dir(&[("spin.toml", manifest.as_bytes()), ("c.wasm", &big)]);
    let reference = format!("{host}/carol/app:v1");

    // Before the login: refused (401 from the registry, or its token server refusing).
    let push = user.spin(&["registry", "push", &reference]).cwd(app.path());
    let err = push.insecure().cache().fails().stderr();
    assert!(err.contains("401") || err.contains("refused"), "{err}");
    let login = [
        "registry",
        "login",
        &host,
        "-u",
        "carol",
        "--password-stdin",
    ];
    let login = |password: &str| user.spin(&login).cwd(app.path()).insecure().stdin(password);
    login("nope").fails();
    login("pa55word").ok();

    let token = registry.token.as_ref().unwrap();
    let before = token.issued();
    let digest = user.push(app.path(), &reference);
    assert!(
        token.issued() >= before + 2,
        "a push outlasting its token must fetch a fresh one ({} tokens)",
        token.issued() - before
    );

    // Docker's identity token (an OAuth2 refresh token) is exchanged for access.
    let other = Sandbox::with_open_policy();
    std::fs::write(
        other.home().join("docker/config.json"),
        format!(r#"{{"auths": {{"{host}": {{"identitytoken": "refresh-me"}}}}}}"#),
    )
    .unwrap();
    let pulled = other.pull(&reference);
    assert_contains(&pulled, &digest);
    std::fs::write(
        other.home().join("docker/config.json"),
        format!(r#"{{"auths": {{"{host}": {{"identitytoken": "revoked"}}}}}}"#),
    )
    .unwrap();
    other
        .spin(&["registry", "pull", &reference])
        .cwd(app.path())
        .insecure()
        .cache()
        .fails_with(&["the token service refused it"]);
}
