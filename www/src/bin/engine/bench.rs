//! The benchmark workloads in the worker (W1 in memory, W2 a Kafka topic,
//! W3 a Parquet file through the gateway).

use riffle::bench;
use riffle::notebook::CellKind;
use riffle::protocol::{BenchReport, BenchRequest, FromEngine, RunRequest};

use super::Worker;

impl Worker {
    /// W2: a whole topic through the gateway into a DataFrame, the way a
    /// `kafka('topic')` cell reads it (fetch, Arrow IPC decode, Kafka's
    /// columns, then a query over them). W3: a Parquet file the way a
    /// `read_parquet('hdfs:///...')` cell reads it (footer, ranges, decode).
    async fn bench_source(&self, request: &BenchRequest) -> BenchReport {
        let source = if request.workload.eq_ignore_ascii_case("w3") {
            let path = request.path.clone().unwrap_or_default();
            format!(
                "SELECT COUNT(*) AS n, SUM(amount) AS amount, SUM(LENGTH(player)) AS chars FROM read_parquet('{path}')"
            )
        } else {
            let topic = request.topic.clone().unwrap_or_default();
            format!(
                "SELECT COUNT(*) AS n, SUM(`offset`) AS offsets, SUM(LENGTH(CAST(value AS STRING))) AS chars FROM kafka('{topic}')"
            )
        };
        let mut times_ms = Vec::with_capacity(request.iterations);
        let mut checksum = String::new();
        for i in 0..request.iterations {
            let run = RunRequest {
                run_id: 0,
                cell_id: "bench".into(),
                default_name: format!("bench_{}_{i}", request.workload.to_lowercase()),
                source: source.clone(),
                preview_rows: 1,
                kind: CellKind::Sql,
            };
            let t0 = self.now();
            let result = self.execute(&run, &self.session, true).await;
            times_ms.push(self.now() - t0);
            checksum = match result {
                Ok((done, _)) => {
                    // The one result row, as text: n, offsets, chars.
                    let session = self.session.borrow();
                    match session.table(&done.table) {
                        Some(df) => riffle::bench::first_row_text(df),
                        None => "error: no result".into(),
                    }
                }
                Err(e) => format!("error: {}", e.message),
            };
        }
        BenchReport { workload: request.workload.clone(), rows: request.rows, times_ms, checksum }
    }

    pub(crate) async fn bench(&self, request: BenchRequest) {
        if ["w2", "w3"].iter().any(|w| request.workload.eq_ignore_ascii_case(w)) {
            let report = self.bench_source(&request).await;
            self.post(&FromEngine::BenchDone(report), None);
            return;
        }
        let report = match bench::Workload::parse(&request.workload) {
            Some(workload) => {
                let mut session = workload.session(request.rows);
                let mut times_ms = Vec::with_capacity(request.iterations);
                let mut checksum = String::new();
                for _ in 0..request.iterations {
                    let t0 = self.now();
                    checksum = workload.run(&mut session).unwrap_or_else(|e| format!("error: {e}"));
                    times_ms.push(self.now() - t0);
                }
                BenchReport { workload: request.workload, rows: request.rows, times_ms, checksum }
            }
            None => BenchReport {
                workload: request.workload.clone(),
                rows: 0,
                times_ms: Vec::new(),
                checksum: format!("error: unknown workload {}", request.workload),
            },
        };
        self.post(&FromEngine::BenchDone(report), None);
    }
}
