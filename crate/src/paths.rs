//! Rules about storage paths that the engine and the gateway share.

/// Whether a file in an output directory holds data. Spark's rule: names
/// starting with `_` (`_SUCCESS`, `_temporary`) or `.` are bookkeeping.
pub fn is_data_file(name: &str) -> bool {
    !(name.starts_with('_') || name.starts_with('.'))
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
