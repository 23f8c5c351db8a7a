//! Golden files of the plain-text notebook format (`tests/golden/`):
//!
//! - `*.riffle.md` are canonical: reading then printing gives the same bytes.
//! - `*.input.md` are written by hand (no ids, other fences): they read as
//!   expected, and their printed form is canonical.
//!
//! Next to each, `*.json` is the document it reads as (serde's form of
//! [`Notebook`]). `RIFFLE_BLESS=1 cargo test -p riffle --test golden` rewrites
//! the JSON files from the current parser; review the diff before committing.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use riffle::notebook::{Notebook, from_text, to_text};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn goldens(suffix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("tests/golden is missing")
        .map(|e| e.expect("a readable directory entry").path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    files.sort();
    files
}

/// The file's document must equal its `.json` twin (written when blessing).
fn check_document(path: &Path, doc: &Notebook) {
    let name = path.file_name().expect("a file name").to_string_lossy().into_owned();
    let stem = name.strip_suffix(".riffle.md").or_else(|| name.strip_suffix(".input.md")).expect("a golden name");
    let json_path = path.with_file_name(format!("{stem}.json"));
    let json = serde_json::to_string_pretty(doc).expect("a document serialises") + "\n";
    if std::env::var_os("RIFFLE_BLESS").is_some() {
        std::fs::write(&json_path, &json).expect("write the blessed JSON");
        return;
    }
    let expected = std::fs::read_to_string(&json_path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with RIFFLE_BLESS=1 to create it", json_path.display()));
    let expected: Notebook = serde_json::from_str(&expected).expect("a golden JSON document");
    assert_eq!(doc, &expected, "{name} does not read as {}", json_path.display());
}

#[test]
fn canonical_files_print_back_byte_for_byte() {
    let files = goldens(".riffle.md");
    assert!(files.len() >= 2, "golden files are missing: {files:?}");
    for path in files {
        let text = std::fs::read_to_string(&path).expect("a golden file");
        let doc = from_text(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        check_document(&path, &doc);
        assert_eq!(to_text(&doc), text, "{} does not print back as itself", path.display());
    }
}

#[test]
fn hand_written_files_read_as_expected() {
    let files = goldens(".input.md");
    assert!(!files.is_empty(), "hand-written golden files are missing");
    for path in files {
        let text = std::fs::read_to_string(&path).expect("a golden file");
        let doc = from_text(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        check_document(&path, &doc);
        let printed = to_text(&doc);
        assert_eq!(from_text(&printed).expect("printed text reads"), doc, "{}", path.display());
        assert_eq!(to_text(&from_text(&printed).expect("printed text reads")), printed);
    }
}
