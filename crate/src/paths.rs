//! Rules about storage paths that the engine and the gateway share.

/// Whether a file in an output directory holds data. Spark's rule: names
/// starting with `_` (`_SUCCESS`, `_temporary`) or `.` are bookkeeping.
pub fn is_data_file(name: &str) -> bool {
    !(name.starts_with('_') || name.starts_with('.'))
}

/// How messages name part `index` of `count` of a source read from
/// `path`: `'dir/part-00001.parquet'` when the host named the parts,
/// else `part file 2 of 'dir'`; `'path'` for a single file.
pub fn part_label(path: &str, names: &[String], index: usize, count: usize) -> String {
    let last = |p: &str| p.trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_string();
    match names.get(index) {
        // A single file read by its own path is that path.
        Some(name) if names.len() == count && (count > 1 || last(name) != last(path)) => {
            let dir = path.trim_end_matches('/');
            let inside = name.strip_prefix(dir).map(|r| r.trim_start_matches('/')).unwrap_or(name);
            format!("'{dir}/{}'", inside.trim_start_matches('/'))
        }
        _ if count > 1 => format!("part file {} of '{path}'", index + 1),
        _ => format!("'{path}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spark_bookkeeping_is_skipped() {
        assert!(is_data_file("part-00000-x.snappy.parquet"));
        for name in ["_SUCCESS", "_temporary", ".part-00000.crc"] {
            assert!(!is_data_file(name), "{name}");
        }
    }
}
