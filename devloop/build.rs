//! Embeds `templates/` into the binary: every file, as (template id, relative path, bytes).
//!
//! Nothing it emits names this checkout's absolute path: `rerun-if-changed` paths are
//! relative to the package, and the generated code finds the files through the library's
//! own `CARGO_MANIFEST_DIR`. A build directory shared by two clones (tests/run.sh keeps one
//! per user) may reuse this script's output, so an absolute path would point at the other
//! clone, or at nothing once it is deleted.

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.join("templates");
    println!("cargo:rerun-if-changed=templates");
    let files: Vec<PathBuf> = walkdir::WalkDir::new(&root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    let mut code = String::from(
        "/// (template id, path inside the template, content)\npub static TEMPLATE_FILES: &[(&str, &str, &[u8])] = &[\n",
    );
    for f in files {
        let rel = f.strip_prefix(&root).unwrap();
        let in_package = format!("templates/{}", rel.display());
        println!("cargo:rerun-if-changed={in_package}");
        let mut parts = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned());
        let id = parts.next().unwrap();
        let path = parts.collect::<Vec<_>>().join("/");
        code.push_str(&format!(
            "    ({id:?}, {path:?}, include_bytes!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/\", {in_package:?}))),\n",
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("templates.rs");
    std::fs::write(out, code).unwrap();
}
