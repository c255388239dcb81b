//! Apps the end-to-end tests build on.

use crate::{app_dir, component};

/// Two components (WAT hello, C testbed) and static files, one small enough to be inlined.
pub fn two_component_app() -> tempfile::TempDir {
    let manifest = format!(
        r#"spin_manifest_version = 2
[application]
name = "shipped"
version = "1.0.0"
description = "two components and files"
authors = ["Ada", "Grace"]
[variables]
who = {{ default = "registry" }}
[[trigger.http]]
route = "/hello"
component = "hello"
[[trigger.http]]
route = "/tb/..."
component = "tb"
[component.hello]
source = {hello:?}
[component.tb]
source = {testbed:?}
files = [{{ source = "static", destination = "/static" }}]
key_value_stores = ["default"]
environment = {{ WHO = "tb" }}
[component.tb.variables]
greeting = "hello, {{{{ who }}}}"
"#,
        hello = component("hello"),
        testbed = component("testbed"),
    );
    let big: Vec<u8> = (0..5000u32).flat_map(|i| i.to_le_bytes()).collect();
    app_dir(&[
        ("spin.toml", manifest.as_bytes()),
        ("static/big.bin", &big),
        ("static/small.txt", b"tiny"),
        ("static/sub/page.html", "<p>a page long enough not to be inlined into the locked app, which takes at most 128 bytes</p>".repeat(2).as_bytes()),
    ])
}
