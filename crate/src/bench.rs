//! Benchmark workloads, the same code natively and in the browser worker.
//! The host does the timing; the core only builds data and runs queries.

use polars::prelude::*;

use crate::CellError;
use crate::engine::Session;

/// The workloads `cargo xtask bench` runs natively and in the browser worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    W0,
    W1,
}

impl Workload {
    pub fn parse(name: &str) -> Option<Workload> {
        match name.to_ascii_lowercase().as_str() {
            "w0" => Some(Workload::W0),
            "w1" => Some(Workload::W1),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Workload::W0 => "w0",
            Workload::W1 => "w1",
        }
    }

    /// What the workload does, for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Workload::W0 => "group-by with sum and count",
            Workload::W1 => "JSON strings -> json_parse, filter on event_type, group-by with count and avg",
        }
    }

    /// A session holding the workload's generated data (not timed).
    pub fn session(self, rows: usize) -> Session {
        let mut session = Session::new();
        match self {
            Workload::W0 => session.register("w0", w0_data(rows)),
            Workload::W1 => session.register("w1", w1_data(rows)),
        }
        session
    }

    /// One timed iteration; returns a checksum to compare across platforms:
    /// the number of groups and the total of the count column `n`.
    pub fn run(self, session: &mut Session) -> Result<String, CellError> {
        let sql = match self {
            Workload::W0 => W0_SQL,
            Workload::W1 => W1_SQL,
        };
        let result = session.run(sql, "bench_result")?;
        let n: i64 = result
            .df
            .column("n")
            .and_then(|c| c.cast(&DataType::Int64))
            .and_then(|c| c.as_materialized_series().sum::<i64>())
            .map_err(|e| CellError::new(e.to_string()))?;
        Ok(format!("groups={} rows={n}", result.rows()))
    }
}

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

/// W1: JSON events → `json_parse`, a filter on `event_type`, a group-by with count and avg.
pub const W1_SQL: &str = "SELECT e.event_type AS event_type, COUNT(*) AS n, AVG(e.price) AS avg_price \
    FROM (SELECT json_parse(value) AS e FROM w1) AS t \
    WHERE e.event_type <> 'default' GROUP BY e.event_type ORDER BY event_type";

/// `rows` JSON event strings of three types, like the game API's.
pub fn w1_data(rows: usize) -> DataFrame {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let swords = ["katana", "claymore", "rapier"];
    let values: Vec<String> = (0..rows)
        .map(|i| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let r = state >> 33;
            match r % 3 {
                0 => format!(r#"{{"event_type": "default", "Host": "game.example:5000", "n": {i}}}"#),
                1 => format!(
                    r#"{{"event_type": "purchase_sword", "sword_type": "{}", "price": {}, "Host": "game.example:5000"}}"#,
                    swords[(r % 7 % 3) as usize],
                    10 + r % 90
                ),
                _ => format!(r#"{{"event_type": "join_guild", "guild": {{"name": "g{}", "level": {}}}, "price": 0}}"#, r % 4, r % 9),
            }
        })
        .collect();
    DataFrame::new(vec![Column::new("value".into(), values)]).expect("one column")
}

/// `n=42 offsets=861 chars=75`: a one-row result as text, for checksums.
pub fn first_row_text(df: &DataFrame) -> String {
    df.get_columns()
        .iter()
        .map(|c| {
            let v = c.get(0).map(|v| v.to_string()).unwrap_or_else(|_| "?".into());
            format!("{}={v}", c.name())
        })
        .collect::<Vec<_>>()
        .join(" ")
}
