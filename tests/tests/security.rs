//! What an attacker controls cannot break the store's guarantees or take the machine down.
//! For each attack the command fails (or succeeds harmlessly) with the error it must print,
//! nothing is written outside the store and state directories, no store object changes
//! (every blob is hashed after the run), and the process's peak memory stays under
//! [`spin_tests::hostile::RSS_BOUND`] (measured by the kernel). Here: a malicious registry
//! (`tests/interop/evil_registry.py`) and a slow but honest one; crafted layouts and
//! manifests: `security_layouts.rs`; the shared store: `security_store.rs`.

use spin_tests::hostile::{EvilRegistry, assert_bounded, assert_store_intact, tree_size};
use spin_tests::pushed_digest;
use spin_tests::registry::Registry;
use spin_tests::sandbox::Sandbox;

#[test]
fn a_malicious_registry_is_refused_within_bounds() {
    let evil = EvilRegistry::start();
    let user = Sandbox::with_open_policy();
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "huge",
            &[],
            "sent a manifest over the 4 MiB limit; refusing it",
        ),
        (
            "endless",
            &[],
            "sent a manifest over the 4 MiB limit; refusing it",
        ),
        (
            "gzip",
            &[],
            "sent a `Content-Encoding: gzip` body, which was not asked for; refusing it",
        ),
        (
            "redirect",
            &[],
            "answered with a redirect (HTTP 307) without a Location",
        ),
        (
            "drip",
            &["--registry-timeout", "1s"],
            "slower than the minimum of 16384 bytes/s; giving up",
        ),
        (
            "stall",
            &["--registry-timeout", "1s"],
            "sent nothing for 1s; giving up",
        ),
        (
            "silent",
            &["--registry-timeout", "1s"],
            "did not answer within 1s; giving up",
        ),
        ("bomb", &[], "is larger than the 64 MiB limit; refusing it"),
        (
            "entries",
            &[],
            "its number of entries is over the limit of 100000; refusing it",
        ),
        ("oversize", &[], "bytes the manifest declares; refusing it"),
    ];
    for (case, extra, expected) in cases {
        let done = user
            .spin(&["registry", "pull", &evil.reference(case)])
            .insecure()
            .cache()
            .args(extra)
            .fails();
        let err = done.stderr();
        assert!(
            err.contains(expected),
            "{case}: expected {expected:?}\n{}",
            done.report()
        );
        assert!(
            !err.contains("error decoding response body") && err.matches("help:").count() <= 1,
            "{case}: {err}"
        );
        if extra.contains(&"--registry-timeout") {
            // Timeouts are retried, within the attempts and the command's retry budget.
            assert!(
                err.contains("(attempt 5 of 6; retrying in"),
                "{case}: {err}"
            );
        }
        assert_bounded(&done);
        assert_store_intact(&user.cache());
        let used = tree_size(&user.cache());
        assert!(used < 8 << 20, "{case}: the cache holds {used} bytes");
        assert!(
            std::fs::read_dir(user.work()).unwrap().next().is_none(),
            "{case}: wrote into the working directory"
        );
    }

    // `spin verify` reads referrer lists and fallback tags capped the same way (exit 2:
    // an error, not a decision).
    let policy = user.home().join("policy.toml");
    std::fs::write(
        &policy,
        "version = 1\n[[rule]]\nscope = \"*\"\nallow_unsigned = true\n",
    )
    .unwrap();
    for (case, expected) in [
        ("referrers", "sent a referrers index over the 4 MiB limit"),
        ("tag", "sent a manifest over the 4 MiB limit"),
    ] {
        let done = user
            .spin(&[
                "verify",
                &evil.reference(case),
                "--policy",
                policy.to_str().unwrap(),
            ])
            .insecure()
            .run();
        assert_eq!(
            done.output.status.code(),
            Some(2),
            "{case}:\n{}",
            done.report()
        );
        assert!(
            done.stderr().contains(expected),
            "{case}:\n{}",
            done.report()
        );
        assert_bounded(&done);
    }
}

#[test]
fn a_slow_but_steady_link_is_not_cut_off() {
    // The stall timeout bounds silence, not the length of a transfer: 1 MiB through a link
    // of 128 KiB/s takes about 8 s, four times the timeout, and must still go through.
    let registry = Registry::start();
    let proxy = spin_tests::SlowProxy::start(registry.port, 128 << 10);
    let user = Sandbox::new();
    let big: Vec<u8> = (0..1u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let manifest = "spin_manifest_version = 2\n[application]\nname = \"slow\"\n[[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\n[component.c]\nsource = \"c.wasm\"\n";
    let app = spin_tests::app_dir(&[("spin.toml", manifest.as_bytes()), ("c.wasm", &big)]);
    let reference = format!("127.0.0.1:{}/acme/slow:v1", proxy.port);
    let timeout = ["--registry-timeout", "2s"];
    let pushed = user
        .spin(&["registry", "push", &reference])
        .cwd(app.path())
        .insecure()
        .cache()
        .args(&timeout)
        .ok();
    let digest = pushed_digest(&pushed.stdout());
    let other = Sandbox::new();
    let pulled = other
        .spin(&["registry", "pull", &reference])
        .insecure()
        .cache()
        .args(&timeout)
        .ok();
    assert!(pulled.stdout().contains(&digest), "{}", pulled.report());
    assert!(!pulled.stderr().contains("retrying"), "{}", pulled.report());
}
