//! Storage paths as the file panel moves through them, and the SQL it writes
//! for them. Pure functions, so that they are tested natively.
//!
//! Paths are the gateway's canonical ones: relative for the local data
//! directory (its root is ``), URLs for other stores (`hdfs:///a/b`).

/// `dir` + `/` + `name`.
pub fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// The length of a path's root: 8 for `hdfs:///` or `file:///`, 0 for local paths.
pub fn root_len(path: &str) -> usize {
    match path.find(":///") {
        Some(i) if i > 0 && path[..i].chars().all(|c| c.is_ascii_alphanumeric()) => i + 4,
        _ => 0,
    }
}

/// The directory above `path`; `None` at a root.
pub fn parent(path: &str) -> Option<String> {
    let root = root_len(path);
    let rest = path[root..].trim_end_matches('/');
    if rest.is_empty() {
        return None;
    }
    Some(match rest.rfind('/') {
        Some(i) => format!("{}{}", &path[..root], &rest[..i]),
        None => path[..root].to_string(),
    })
}

/// The directories from `path`'s root down to it, as (name, path); the root's
/// name is its path (`` or `hdfs:///`), for the caller to label.
pub fn ancestry(path: &str) -> Vec<(String, String)> {
    let root = &path[..root_len(path)];
    let mut out = vec![(root.to_string(), root.to_string())];
    let mut at = root.to_string();
    for segment in path[root.len()..].split('/').filter(|s| !s.is_empty()) {
        at = join(&at, segment);
        out.push((segment.to_string(), at.clone()));
    }
    out
}

/// The table function that reads a file, by its extension.
pub fn reader_for(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    if name.ends_with(".parquet") {
        Some("read_parquet")
    } else if name.ends_with(".csv") {
        Some("read_csv")
    } else if name.ends_with(".json") || name.ends_with(".jsonl") || name.ends_with(".ndjson") {
        Some("read_json")
    } else {
        None
    }
}

/// A string literal as SQL.
pub fn sql_string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A table name as SQL: bare when it is a plain identifier, else quoted.
pub fn sql_ident(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain { name.to_string() } else { format!("\"{}\"", name.replace('"', "\"\"")) }
}

/// `SELECT * FROM read_csv('path')`.
pub fn read_query(reader: &str, path: &str) -> String {
    format!("SELECT * FROM {reader}({})", sql_string(path))
}

/// `COPY (SELECT * FROM t) TO 'path' (FORMAT parquet, MODE overwrite)`.
pub fn copy_query(table: &str, path: &str, format: &str, mode: &str) -> String {
    format!("COPY (SELECT * FROM {}) TO {} (FORMAT {format}, MODE {mode})", sql_ident(table), sql_string(path))
}

/// Where notebooks are kept, under the gateway's data directory.
pub const NOTEBOOKS: &str = "notebooks";
/// A notebook file's extension.
pub const NOTEBOOK_EXTENSION: &str = ".riffle.md";

/// "notebooks/revenue.riffle.json" → "revenue".
pub fn notebook_title(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    [NOTEBOOK_EXTENSION, ".riffle.json", ".ipynb", ".json", ".md"]
        .iter()
        .find_map(|x| name.strip_suffix(x))
        .unwrap_or(name)
        .to_string()
}

/// A notebook name as typed → its path under `notebooks/`; `None` if the
/// name could climb out of the folder or is empty.
pub fn notebook_path(name: &str) -> Option<String> {
    let name = name.trim().trim_end_matches(NOTEBOOK_EXTENSION).trim();
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' ' | '.'));
    ok.then(|| format!("{NOTEBOOKS}/{name}{NOTEBOOK_EXTENSION}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_and_climb_on_every_store() {
        assert_eq!(join("", "a.csv"), "a.csv");
        assert_eq!(join("samples", "a.csv"), "samples/a.csv");
        assert_eq!(join("hdfs:///", "a"), "hdfs:///a");
        assert_eq!(join("hdfs:///a", "b"), "hdfs:///a/b");
        assert_eq!(parent(""), None);
        assert_eq!(parent("hdfs:///"), None);
        assert_eq!(parent("samples").as_deref(), Some(""));
        assert_eq!(parent("out/trips").as_deref(), Some("out"));
        assert_eq!(parent("hdfs:///a").as_deref(), Some("hdfs:///"));
        assert_eq!(parent("hdfs:///a/b/").as_deref(), Some("hdfs:///a"));
        assert_eq!(parent("file:///tmp/x").as_deref(), Some("file:///tmp"));
        // A colon in a local name is not a scheme.
        assert_eq!(root_len("a:b/c"), 0);
        assert_eq!(parent("a:///b").as_deref(), Some("a:///"));
    }

    #[test]
    fn ancestry_names_each_directory_down_from_the_root() {
        let pairs = |v: Vec<(String, String)>| v.into_iter().map(|(a, b)| format!("{a}={b}")).collect::<Vec<_>>();
        assert_eq!(pairs(ancestry("")), ["="]);
        assert_eq!(pairs(ancestry("out/trips")), ["=", "out=out", "trips=out/trips"]);
        assert_eq!(pairs(ancestry("hdfs:///")), ["hdfs:///=hdfs:///"]);
        assert_eq!(pairs(ancestry("hdfs:///user/x")), ["hdfs:///=hdfs:///", "user=hdfs:///user", "x=hdfs:///user/x"]);
    }

    #[test]
    fn files_get_the_reader_of_their_format() {
        assert_eq!(reader_for("trips.csv"), Some("read_csv"));
        assert_eq!(reader_for("TRIPS.CSV"), Some("read_csv"));
        assert_eq!(reader_for("commits.json"), Some("read_json"));
        assert_eq!(reader_for("events.jsonl"), Some("read_json"));
        assert_eq!(reader_for("part-00000-x-c000.snappy.parquet"), Some("read_parquet"));
        assert_eq!(reader_for("notes.txt"), None);
        assert_eq!(reader_for("_SUCCESS"), None);
    }

    #[test]
    fn sql_is_quoted() {
        assert_eq!(read_query("read_csv", "samples/trips.csv"), "SELECT * FROM read_csv('samples/trips.csv')");
        assert_eq!(read_query("read_json", "it's.json"), "SELECT * FROM read_json('it''s.json')");
        assert_eq!(
            copy_query("cell_4", "out/t", "parquet", "overwrite"),
            "COPY (SELECT * FROM cell_4) TO 'out/t' (FORMAT parquet, MODE overwrite)"
        );
        assert_eq!(sql_ident("my table"), "\"my table\"");
        assert_eq!(sql_ident("2x"), "\"2x\"");
        assert_eq!(sql_ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn notebook_names_and_paths() {
        assert_eq!(notebook_title("notebooks/revenue.riffle.md"), "revenue");
        assert_eq!(notebook_title("notebooks/old.riffle.json"), "old");
        assert_eq!(notebook_title("https://x.org/a/report.ipynb"), "report");
        assert_eq!(notebook_path(" revenue report ").as_deref(), Some("notebooks/revenue report.riffle.md"));
        assert_eq!(notebook_path("x.riffle.md").as_deref(), Some("notebooks/x.riffle.md"));
        assert_eq!(notebook_path("../etc/passwd"), None);
        assert_eq!(notebook_path("a/b"), None);
        assert_eq!(notebook_path(""), None);
    }
}
