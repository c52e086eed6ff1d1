//! The README's links point inside the repository: every relative Markdown link (or image) names a file or
//! folder that exists in this repository, none climbs out of it (`../`) or names an absolute local path,
//! and the README mentions no path outside the repository at all. External links are `https://` URLs.

use std::path::{Component, Path, PathBuf};

fn repo_root() -> PathBuf {
    // this crate lives in `tests/`
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// The targets of every inline Markdown link and image, `[text](target)` / `![alt](target "title")`,
/// outside code blocks and code spans, with their line numbers.
fn link_targets(markdown: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_fence = false;
    for (n, line) in markdown.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        // drop code spans: their text is not a link
        let mut text = String::new();
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 0 {
                text.push_str(part);
            }
        }
        let mut rest = text.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].split_whitespace().next().unwrap_or("").to_owned();
            out.push((n + 1, target));
            rest = &after[end + 1..];
        }
    }
    out
}

/// Why a link target is wrong, if it is.
fn check(root: &Path, target: &str) -> Option<String> {
    if target.is_empty() {
        return Some("empty link".into());
    }
    if target.starts_with("https://") || target.starts_with('#') {
        return None;
    }
    if target.contains("://") || target.starts_with("mailto:") {
        return Some("external links must be https:// URLs".into());
    }
    let path = target.split(['#', '?']).next().unwrap_or(target);
    let p = Path::new(path);
    if p.is_absolute() {
        return Some("an absolute path (it exists only on one machine)".into());
    }
    if p.components().any(|c| matches!(c, Component::ParentDir)) {
        return Some("climbs out of the repository".into());
    }
    if !root.join(p).exists() {
        return Some("no such file in the repository".into());
    }
    None
}

#[test]
fn every_readme_link_resolves_inside_the_repository() {
    let root = repo_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap_or_default();
    assert!(!readme.is_empty(), "README.md not found under {}", root.display());
    let links = link_targets(&readme);
    assert!(links.len() >= 5, "the README links its files (found {} links)", links.len());
    let bad: Vec<String> = links
        .iter()
        .filter_map(|(line, t)| check(&root, t).map(|why| format!("README.md:{line}: ({t}) {why}")))
        .collect();
    assert!(bad.is_empty(), "links that do not resolve inside the repository:\n{}", bad.join("\n"));
}

#[test]
fn the_readme_names_no_path_outside_the_repository() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap_or_default();
    let bad: Vec<String> = readme
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("../") || l.contains("/work/") || l.contains("/home/") || l.contains("file://"))
        .map(|(n, l)| format!("README.md:{}: {l}", n + 1))
        .collect();
    assert!(bad.is_empty(), "paths outside the repository:\n{}", bad.join("\n"));
}

#[test]
fn the_link_checker_catches_what_it_should() {
    let root = repo_root();
    let md = "see [a](docs/nope.md), [b](../shared/DESIGN.md), ![c](/work/main/x.png), [d](https://example.com) \
              and `[e](not/a/link.md)`\n```\n[f](also/not)\n```\n[g](README.md#deploy-to-aws)";
    let targets: Vec<String> = link_targets(md).into_iter().map(|(_, t)| t).collect();
    assert_eq!(
        targets,
        ["docs/nope.md", "../shared/DESIGN.md", "/work/main/x.png", "https://example.com", "README.md#deploy-to-aws"]
    );
    let verdicts: Vec<bool> = targets.iter().map(|t| check(&root, t).is_none()).collect();
    assert_eq!(verdicts, [false, false, false, true, true]);
}
