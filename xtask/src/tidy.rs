//! `cargo xtask tidy`: every source file is in ARCHITECTURE.md's code map.
//!
//! A file under `crate/src`, `www/src`, `worker/src`, `xtask/src` or
//! `scripts/` counts as named when ARCHITECTURE.md has its path or its file
//! name as a word (`read.rs` is not named by `json_read.rs`). The tree is read
//! when the check runs, so a file added later must be added to the map too.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The folders whose files the code map must name.
const MAPPED: [&str; 5] = ["crate/src", "www/src", "worker/src", "xtask/src", "scripts"];

/// Fails, listing them, when some source files are not named in ARCHITECTURE.md.
pub fn check(root: &Path) -> Result<()> {
    let missing = unnamed(root)?;
    if missing.is_empty() {
        return Ok(());
    }
    let list: String = missing.iter().map(|p| format!("\n  {p}")).collect();
    bail!(
        "ARCHITECTURE.md names neither the path nor the file name of {} source file(s):{list}\n\
         add a line for each to its code map (what the file is for, from its header doc)",
        missing.len()
    )
}

/// The source files (paths from the root, with `/`) that ARCHITECTURE.md does not name.
pub fn unnamed(root: &Path) -> Result<Vec<String>> {
    let map = root.join("ARCHITECTURE.md");
    let doc = std::fs::read_to_string(&map).with_context(|| format!("reading {}", map.display()))?;
    let mut files = Vec::new();
    for dir in MAPPED {
        walk(&root.join(dir), &mut files)?;
    }
    let mut missing: Vec<String> = files
        .iter()
        .filter_map(|file| {
            let rel = file.strip_prefix(root).ok()?;
            let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
            let name = file.file_name()?.to_string_lossy();
            (!doc.contains(&rel) && !names(&doc, &name)).then_some(rel)
        })
        .collect();
    missing.sort();
    Ok(missing)
}

/// Every file under `dir`, recursively (none when `dir` does not exist).
fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// Whether `doc` has `name` as a word: not inside a longer name (`json_read.rs`
/// does not name `read.rs`), though after a folder (`csv/options.rs` names `options.rs`).
fn names(doc: &str, name: &str) -> bool {
    let part_of_name = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    doc.match_indices(name).any(|(at, _)| {
        let before = doc[..at].chars().next_back();
        let after = doc[at + name.len()..].chars().next();
        !before.is_some_and(|c| part_of_name(c) || c == '.') && !after.is_some_and(part_of_name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_a_whole_word() {
        let doc = "- `json_read.rs` reads JSON; `csv/options.rs` its options; `mod.rs`:";
        assert!(names(doc, "json_read.rs"));
        assert!(!names(doc, "read.rs"));
        assert!(names(doc, "options.rs"));
        assert!(names(doc, "mod.rs"));
        assert!(!names(doc, "od.rs"));
        assert!(!names(doc, "json"));
    }

    /// The repository's own code map names every source file.
    #[test]
    fn architecture_names_every_source_file() -> Result<()> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().context("xtask has no parent")?;
        check(root)
    }
}
