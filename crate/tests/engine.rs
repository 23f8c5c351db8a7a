//! Engine tests. The same tests run natively (`cargo test -p riffle`) and in
//! headless Chromium inside a dedicated worker
//! (`cargo test -p riffle --target wasm32-unknown-unknown`).

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);

/// Marks a test for both the native harness and wasm-bindgen-test.
macro_rules! both {
    ($(fn $name:ident() $body:block)*) => {$(
        #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
        #[cfg_attr(not(target_arch = "wasm32"), test)]
        fn $name() {
            // Whole stacks for wasm panics: V8 keeps ten frames by default.
            #[cfg(target_arch = "wasm32")]
            let _ = js_sys::eval("Error.stackTraceLimit = 60");
            $body
        }
    )*};
}

use riffle::engine::Session;

/// The bundled sample the UI's example reads, byte for byte.
const TRIPS_CSV: &[u8] = include_bytes!("../../data/samples/trips.csv");

/// Sums the sample independently of the engine: zone → (trips, fare cents).
fn expected_by_zone() -> std::collections::BTreeMap<String, (i64, i64)> {
    let mut out = std::collections::BTreeMap::new();
    for line in std::str::from_utf8(TRIPS_CSV).unwrap().lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let (whole, cents) = fields[5].split_once('.').unwrap();
        let entry = out.entry(fields[2].to_string()).or_insert((0, 0));
        entry.0 += 1;
        entry.1 += whole.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap();
    }
    out
}

both! {
    fn select_one_plus_one() {
        let mut session = Session::new();
        let result = session.run("SELECT 1 + 1 AS two", "cell_1").unwrap();
        assert_eq!(result.rows(), 1);
        assert_eq!(result.schema()[0].name, "two");
        let two = result.df.column("two").unwrap().as_materialized_series().cast(&polars::prelude::DataType::Int64).unwrap();
        assert_eq!(two.i64().unwrap().get(0), Some(2));
    }

    fn group_by_over_the_sample_csv() {
        let mut session = Session::new();
        let sql = "-- name: revenue_by_zone\n\
                   SELECT zone, COUNT(*) AS trips, ROUND(SUM(fare), 2) AS revenue\n\
                   FROM read_csv('samples/trips.csv') GROUP BY zone ORDER BY zone";
        let prepared = session.prepare(sql, "cell_2").unwrap();
        assert_eq!(prepared.table, "revenue_by_zone");
        assert_eq!(prepared.sources.len(), 1);
        assert_eq!(prepared.sources[0].path, "samples/trips.csv");
        let result = session.execute(prepared, vec![TRIPS_CSV.to_vec()]).unwrap();

        let expected = expected_by_zone();
        assert_eq!(result.rows(), expected.len());
        let zones = result.df.column("zone").unwrap().str().unwrap().clone();
        let trips = result.df.column("trips").unwrap().cast(&polars::prelude::DataType::Int64).unwrap();
        let revenue = result.df.column("revenue").unwrap().f64().unwrap().clone();
        for (i, (zone, (count, cents))) in expected.iter().enumerate() {
            assert_eq!(zones.get(i), Some(zone.as_str()));
            assert_eq!(trips.i64().unwrap().get(i), Some(*count), "{zone}");
            let got = revenue.get(i).unwrap();
            assert!((got - *cents as f64 / 100.0).abs() < 0.005, "{zone}: {got} vs {cents}");
        }
        let ipc = result.preview_ipc(1000).unwrap();
        assert!(ipc.len() > 100);
        let types: Vec<String> = result.schema().into_iter().map(|c| c.dtype).collect();
        assert_eq!(types, ["string", "int unsigned", "double"]);
    }

    fn later_cells_read_earlier_results_by_name() {
        let mut session = Session::new();
        session.run("-- name: numbers\nSELECT * FROM (VALUES (1), (2), (3)) AS t(n)", "cell_1").unwrap();
        let prepared = session.prepare("SELECT SUM(n) AS total FROM numbers", "cell_2").unwrap();
        assert_eq!(prepared.reads, vec!["numbers".to_string()]);
        let result = session.execute(prepared, vec![]).unwrap();
        assert_eq!(result.name, "cell_2");
        assert_eq!(session.dependencies("cell_2"), ["numbers".to_string()]);
        assert_eq!(session.tables(), ["cell_2".to_string(), "numbers".to_string()]);
        // Re-running a cell replaces its table.
        session.run("-- name: numbers\nSELECT 10 AS n", "cell_1").unwrap();
        let again = session.run("SELECT SUM(n) AS total FROM numbers", "cell_2").unwrap();
        let total = again.df.column("total").unwrap().cast(&polars::prelude::DataType::Int64).unwrap();
        assert_eq!(total.i64().unwrap().get(0), Some(10));
    }

    fn errors_name_the_place() {
        let mut session = Session::new();
        let e = session.run("SELECT (1\nFROM t", "c").unwrap_err();
        assert_eq!(e.location.map(|l| l.line), Some(2), "{e:?}");
        let e = session.run("SELECT * FROM nowhere", "c").unwrap_err();
        assert!(e.message.contains("nowhere"), "{e:?}");
        assert!(e.hint.as_deref().unwrap_or_default().contains("-- name:"), "{e:?}");
        let e = session.prepare("SELECT * FROM read_csv()", "c").unwrap_err();
        assert!(e.message.contains("needs a path"), "{e:?}");
        let prepared = session.prepare("SELECT * FROM read_csv('x.csv', delimiter => ';;')", "c").unwrap();
        let e = session.execute(prepared, vec![b"a;b\n1;2\n".to_vec()]).unwrap_err();
        assert!(e.message.contains("single character"), "{e:?}");
    }

    fn preview_is_arrow_ipc() {
        let mut session = Session::new();
        let result = session.run("SELECT 'a' AS s, 1.5 AS f", "c").unwrap();
        let ipc = result.preview_ipc(10).unwrap();
        // An Arrow IPC stream opens with the continuation marker.
        assert_eq!(&ipc[..4], &[0xff, 0xff, 0xff, 0xff]);
    }

    fn string_heavy_queries_survive() {
        // Strings through filter, join, sort, window, union and group-by, over
        // several chunks: the kernels that trip Polars' 32-bit length marker.
        use polars::prelude::*;
        let make = |offset: usize| {
            let n = 3_000;
            let zones: Vec<String> = (0..n).map(|i| format!("zone-{}", (i + offset) % 7)).collect();
            let texts: Vec<String> =
                (0..n).map(|i| format!("event number {} with a long enough text {}", i + offset, i % 3)).collect();
            df! { "zone" => zones, "s" => texts, "i" => (0..n as i64).collect::<Vec<_>>() }.unwrap()
        };
        let mut big = make(0);
        big.vstack_mut(&make(5)).unwrap();
        assert!(big.first_col_n_chunks() > 1);
        let mut session = Session::new();
        session.register("big", big);
        session.register("labels", df! { "zone" => (0..7).map(|i| format!("zone-{i}")).collect::<Vec<_>>(),
            "label" => (0..7).map(|i| format!("label number {i}, long enough to leave the inline view")).collect::<Vec<_>>() }.unwrap());
        let queries = [
            "SELECT a.zone, b.label, COUNT(*) AS n, MAX(a.s) AS m FROM big a JOIN labels b ON a.zone = b.zone \
             WHERE a.s LIKE '%text 1' GROUP BY a.zone, b.label ORDER BY a.zone",
            "SELECT zone, s, SUM(i) OVER (PARTITION BY zone) AS total FROM big WHERE i % 5 = 0",
            "SELECT * FROM big WHERE i < 100 UNION ALL SELECT * FROM big WHERE i > 2900 ORDER BY s LIMIT 150",
            "SELECT DISTINCT zone, UPPER(zone) || '-' || s AS z FROM big WHERE i % 97 = 0",
        ];
        for sql in queries {
            let result = session.run(sql, "q").unwrap_or_else(|e| panic!("{sql}: {e:?}"));
            assert!(result.rows() > 0, "{sql}");
            let again = session.run("SELECT * FROM q ORDER BY 1 LIMIT 10", "q2").unwrap();
            again.preview_ipc(5).unwrap();
            result.preview_ipc(1000).unwrap();
        }
    }

    fn bench_w0_runs() {
        let mut session = riffle::bench::w0_session(10_000);
        let checksum = riffle::bench::w0_run(&mut session).unwrap();
        assert_eq!(checksum, "groups=1000 rows=10000");
    }
}
