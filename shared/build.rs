//! Embeds every tax-content file under `../data` (CSV) into the binary.
//!
//! It walks the folder and writes `$OUT_DIR/tax_data_files.rs`, a static list of `(relative path, contents)` with
//! `include_str!`, so adding a state's Streamlined Sales Tax files (or any other CSV) is a data drop: no code change.
//! Parsing and validation happen in `shared::tax::data` (fast: well under the 30 ms cold-start budget) and are
//! exercised by tests, which fail with `file:line` on a malformed row. Scripts and docs are not embedded.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "scripts") {
                continue;
            }
            println!("cargo:rerun-if-changed={}", path.display());
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").map_err(std::io::Error::other)?);
    let data = manifest.join("..").join("data");
    println!("cargo:rerun-if-changed={}", data.display());
    let mut files = Vec::new();
    collect(&data, &mut files)?;
    files.sort();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").map_err(std::io::Error::other)?);
    let mut f = fs::File::create(out_dir.join("tax_data_files.rs"))?;
    writeln!(f, "/// Every CSV under `data/`, embedded at build time: (path relative to `data/`, contents).")?;
    writeln!(f, "pub static FILES: &[(&str, &str)] = &[")?;
    for path in &files {
        let rel = path.strip_prefix(&data).map_err(std::io::Error::other)?;
        let rel = rel.to_string_lossy().replace('\\', "/");
        let abs = fs::canonicalize(path)?;
        println!("cargo:rerun-if-changed={}", abs.display());
        writeln!(f, "    ({rel:?}, include_str!({:?})),", abs.to_string_lossy())?;
    }
    writeln!(f, "];")?;
    Ok(())
}
