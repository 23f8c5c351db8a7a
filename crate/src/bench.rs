//! Benchmark workloads, the same code natively and in the browser worker.
//! The host does the timing; the core only builds data and runs queries.

use polars::prelude::*;

use crate::CellError;
use crate::engine::Session;

/// W0: a group-by with sum and count over generated rows.
pub const W0_SQL: &str = "SELECT k, SUM(v) AS total, COUNT(*) AS n FROM w0 GROUP BY k";

/// `rows` rows of (k: 1,000 distinct keys, v: a float), from a fixed LCG so
/// that every run and every platform sees the same data.
pub fn w0_data(rows: usize) -> DataFrame {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut keys = Vec::with_capacity(rows);
    let mut values = Vec::with_capacity(rows);
    for _ in 0..rows {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        keys.push(((state >> 33) % 1_000) as i64);
        values.push(((state >> 11) % 10_000) as f64 / 100.0);
    }
    DataFrame::new(vec![Column::new("k".into(), keys), Column::new("v".into(), values)])
        .expect("two columns of equal length")
}

/// A session holding W0's table.
pub fn w0_session(rows: usize) -> Session {
    let mut session = Session::new();
    session.register("w0", w0_data(rows));
    session
}

/// One iteration of W0; returns a checksum (groups and the count total).
pub fn w0_run(session: &mut Session) -> Result<String, CellError> {
    let result = session.run(W0_SQL, "w0_result")?;
    let n: i64 = result
        .df
        .column("n")
        .and_then(|c| c.as_materialized_series().sum::<i64>())
        .map_err(|e| CellError::new(e.to_string()))?;
    Ok(format!("groups={} rows={n}", result.rows()))
}
