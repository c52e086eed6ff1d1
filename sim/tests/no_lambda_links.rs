//! The simulator is never linked into a Lambda: no `functions/*` crate may name `sequence-sim` outside
//! `[dev-dependencies]` (its tests may use it). Checked on the manifests, so a new dependency line
//! fails here before it ships.

use std::path::Path;

/// `(section, line)` for every line naming `dep` in a Cargo manifest.
fn mentions<'a>(manifest: &'a str, dep: &str) -> Vec<(&'a str, &'a str)> {
    let mut section = "";
    let mut out = Vec::new();
    for line in manifest.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            section = t;
        } else if !t.starts_with('#') && t.split(['=', '.', ' ']).next() == Some(dep) {
            out.push((section, t));
        }
    }
    out
}

#[test]
fn no_lambda_function_crate_depends_on_the_simulator() {
    let functions = Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions");
    let mut checked = 0;
    for entry in std::fs::read_dir(&functions).unwrap() {
        let manifest = entry.unwrap().path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else { continue };
        checked += 1;
        for (section, line) in mentions(&text, "sequence-sim") {
            assert_eq!(section, "[dev-dependencies]", "{}: {line}", manifest.display());
        }
    }
    assert_eq!(checked, 4, "connect, sync, tax, webhook");
}

#[test]
fn the_manifest_scan_sees_sections() {
    let m = "[dependencies]\nshared.workspace = true\nsequence-sim = { path = \"../sim\" }\n\n[dev-dependencies]\n# sequence-sim\nsequence-sim.workspace = true\n";
    assert_eq!(
        mentions(m, "sequence-sim"),
        vec![
            ("[dependencies]", "sequence-sim = { path = \"../sim\" }"),
            ("[dev-dependencies]", "sequence-sim.workspace = true")
        ]
    );
}
