//! The `spin up` gate: a signed app is served by digest, an unsigned one refused, a wrong
//! identity refused, audit mode runs and reports, and a tag moved after verification
//! changes nothing.

use spin_tests::world::*;
use spin_tests::{HookProxy, Spin, assert_contains, output_text, spin_env};
use std::path::Path;

#[test]
fn spin_up_runs_only_what_the_policy_allows() {
    let w = World::new();
    let policy = w.policy(
        "gate.toml",
        &format!(
            "version = 1\n{}[[rule.authority]]\nname = \"release\"\nissuer = {:?}\nsubject = \"release@example.com\"\n{}mode = \"audit\"\n[[rule.authority]]\nname = \"release\"\nissuer = {:?}\nsubject = \"release@example.com\"\n",
            w.rule("apps", "apps/*"),
            w.sigstore.url,
            w.rule("trial", "trial/*"),
            w.sigstore.url,
        ),
    );
    let release = || {
        w.sigstore
            .token(serde_json::json!({"sub": "r", "email": "release@example.com"}))
    };
    let env = w.env();
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let policy_str = policy.display().to_string();
    env.push(("SPIN_POLICY", &policy_str));
    let up = |reference: &str| Spin::start(Path::new(reference), &["--insecure"], &env);

    // Signed by the release identity: allowed and served, by digest.
    let signed = w.reference("apps/web:v1");
    let digest = w.push("apps/web:v1", "web");
    w.sign(&signed, &release(), &[]);
    let spin = up(&signed).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spin.get("/hello").status, 200);
    let info: serde_json::Value =
        serde_json::from_slice(&spin.get("/.well-known/spin/info").body).unwrap();
    assert_eq!(info["oci_image_digest"], digest.as_str());
    assert!(spin.stderr().contains("ALLOW"), "{}", spin.stderr());
    drop(spin);
    // `spin verify` flags naming one authority win over $SPIN_POLICY.
    let tr = w.sigstore.trusted_root();
    let by_identity = |flag: &str, identity: &str| {
        let args = [
            "verify",
            &signed,
            "--insecure",
            flag,
            identity,
            "--certificate-oidc-issuer",
            &w.sigstore.url,
            "--trusted-root",
            tr.to_str().unwrap(),
        ];
        spin_env(&args, w.user.home(), &env)
    };
    let flags = by_identity("--certificate-identity", "release@example.com");
    assert_eq!(flags.status.code(), Some(0), "{}", output_text(&flags));
    // A regexp flag follows the policy's rule: whole value unless anchored by hand.
    let by_regexp = |regexp: &str| {
        let out = by_identity("--certificate-identity-regexp", regexp);
        out.status.code()
    };
    assert_eq!(by_regexp("^release@"), Some(0));
    assert_eq!(by_regexp("release"), Some(1));
    assert_eq!(by_regexp("release@example\\.com"), Some(0));

    // Unsigned, and signed by someone else: refused, with the trace.
    let unsigned = w.publish("apps/unsigned:v1", "unsigned");
    let err = up(&unsigned).err().expect("an unsigned app must not start");
    assert_contains(&err, "refusing to run it");
    assert_contains(&err, "has no signatures");
    let other = w.publish("apps/other:v1", "other");
    w.sign(
        &other,
        &w.sigstore
            .token(serde_json::json!({"sub": "m", "email": "mallory@example.com"})),
        &[],
    );
    let err = up(&other)
        .err()
        .expect("a wrongly signed app must not start");
    assert_contains(&err, "mallory@example.com");
    assert_contains(&err, "fix: ");

    // Audit mode runs it and says what enforce would have denied.
    let trial = w.publish("trial/app:v1", "trial");
    let spin = up(&trial).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spin.get("/hello").status, 200);
    assert!(
        spin.stderr().contains("ALLOW (audit: enforce would deny)"),
        "{}",
        spin.stderr()
    );
    drop(spin);

    // The tag moves to an unsigned app right after `spin up` resolved it: the verified
    // digest is what runs.
    let moving_ref = format!("{}/apps/moving:v1", w.registry.host());
    let verified = w.push("apps/moving:v1", "moving");
    w.sign(&moving_ref, &release(), &[]);
    let real_host = w.registry.host();
    let home = w.user.home().display().to_string();
    let mover = HookProxy::start(
        w.registry.port,
        "/v2/apps/moving/manifests/v1 ",
        move || {
            let dir = app("impostor");
            let out = spin_env(
                &[
                    "registry",
                    "push",
                    &format!("{real_host}/apps/moving:v1"),
                    "--insecure",
                ],
                dir.path(),
                &[("HOME", &home), ("SPIN_DISABLE_KEYRING", "1")],
            );
            assert!(out.status.success(), "{}", output_text(&out));
        },
    );
    let through_proxy = format!("127.0.0.1:{}/apps/moving:v1", mover.port);
    let proxied = w.policy(
        "proxied.toml",
        &format!(
            "version = 1\n[[rule]]\nscope = \"127.0.0.1:{}/apps/*\"\ntrusted_root = {:?}\n[[rule.authority]]\nissuer = {:?}\nsubject = \"release@example.com\"\n",
            mover.port,
            w.sigstore.trusted_root(),
            w.sigstore.url
        ),
    );
    let spin = Spin::start(
        Path::new(&through_proxy),
        &["--insecure", "--policy", proxied.to_str().unwrap()],
        &env,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let info: serde_json::Value =
        serde_json::from_slice(&spin.get("/.well-known/spin/info").body).unwrap();
    assert_eq!(info["oci_image_digest"], verified.as_str());
    assert_eq!(info["name"], "moving");
    let moved = w.spin(&["registry", "inspect", &moving_ref, "--insecure", "--json"]);
    assert!(
        !output_text(&moved).contains(&verified),
        "the tag did move: {}",
        output_text(&moved)
    );
}
