//! Engine tests over the fixtures in `data/samples/`. The same tests run
//! natively (`cargo test -p riffle`) and in headless Chromium inside a
//! dedicated worker (`cargo test -p riffle --target wasm32-unknown-unknown`).
//!
//! Expected values are computed from the fixtures independently of the
//! engine (plain string handling and serde_json), never copied in.

#![allow(clippy::unwrap_used)]

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

mod fixtures;
mod writers;

use fixtures::*;
use polars::prelude::*;
use riffle::engine::{Effect, ExportFormat, Session, SourceData, WriteMode};

both! {
    fn select_one_plus_one() {
        let mut session = Session::new();
        let result = session.run("SELECT 1 + 1 AS two", "cell_1").unwrap();
        assert_eq!(result.rows(), 1);
        assert_eq!(result.schema()[0].name, "two");
        assert_eq!(ints(&result.df, "two"), [2]);
    }

    fn group_by_over_the_sample_csv() {
        let mut session = Session::new();
        let sql = "-- name: revenue_by_zone\n\
                   SELECT zone, COUNT(*) AS trips, ROUND(SUM(fare), 2) AS revenue\n\
                   FROM read_csv('samples/trips.csv') GROUP BY zone ORDER BY zone";
        let prepared = session.prepare(sql, "cell_2").unwrap();
        assert_eq!(prepared.table, "revenue_by_zone");
        assert_eq!(prepared.sources.len(), 1);
        assert_eq!(prepared.sources[0].describe(), "read_csv('samples/trips.csv')");
        let outcome = session.execute(prepared, vec![TRIPS_CSV.to_vec().into()]).unwrap();
        let result = outcome.table;

        let expected = trips_by_zone();
        assert_eq!(strings(&result.df, "zone"), expected.keys().cloned().collect::<Vec<_>>());
        assert_eq!(ints(&result.df, "trips"), expected.values().map(|(n, _)| *n).collect::<Vec<_>>());
        for (got, (_, cents)) in floats(&result.df, "revenue").iter().zip(expected.values()) {
            assert!((got - *cents as f64 / 100.0).abs() < 0.005, "{got} vs {cents}");
        }
        let types: Vec<String> = result.schema().into_iter().map(|c| c.dtype).collect();
        assert_eq!(types, ["string", "bigint", "double"]);
        assert!(result.preview_ipc(1000).unwrap().len() > 100);
    }

    // MISSION.md workflow 1: numbers 1..42 through Kafka.
    fn workflow_1_numbers_through_kafka() {
        let mut session = Session::new();
        let sql = "-- name: numbers\n\
            SELECT CAST(key AS STRING) AS key, CAST(value AS STRING) AS value,\n\
                   topic, partition, offset, timestamp, timestampType\n\
            FROM kafka('foo', from => 'earliest', to => 'latest')";
        let prepared = session.prepare(sql, "c").unwrap();
        let outcome = session.execute(prepared, vec![numbers_topic()]).unwrap();
        let df = &outcome.table.df;
        assert_eq!(df.height(), 42);
        assert_eq!(df.get_column_names_str(), ["key", "value", "topic", "partition", "offset", "timestamp", "timestampType"]);
        assert_eq!(strings(df, "value"), (1..=42).map(|n| n.to_string()).collect::<Vec<_>>());
        assert_eq!(ints(df, "offset"), (0..42).collect::<Vec<_>>());
        let types: Vec<String> = outcome.table.schema().into_iter().map(|c| c.dtype).collect();
        assert_eq!(types, ["string", "string", "string", "int", "bigint", "timestamp", "int"]);

        let describe = session.execute(session.prepare("DESCRIBE numbers", "d").unwrap(), vec![]).unwrap();
        let tree = describe.table.text.unwrap();
        assert!(tree.starts_with("root\n |-- key: string (nullable = true)\n |-- value: string"), "{tree}");
        let count = session.run("SELECT COUNT(*) AS n FROM numbers", "count").unwrap();
        assert_eq!(ints(&count.df, "n"), [42]);
    }

    // MISSION.md workflow 2: a JSON array exploded into messages, read back, parsed.
    fn workflow_2_json_array_through_kafka() {
        let mut session = Session::new();
        // read_json explodes the array into rows.
        let prepared = session.prepare("SELECT * FROM read_json('samples/commits.json')", "all_commits").unwrap();
        let rows = session.execute(prepared, vec![COMMITS_JSON.to_vec().into()]).unwrap().table;
        assert_eq!(rows.rows(), commits().len());

        let sql = "-- name: commits\n\
            SELECT json_parse(CAST(value AS STRING)) AS c, offset FROM kafka('commits')";
        let prepared = session.prepare(sql, "c").unwrap();
        let outcome = session.execute(prepared, vec![commits_topic()]).unwrap();
        assert!(outcome.table.notes.is_empty(), "{:?}", outcome.table.notes);
        let names = session
            .run("SELECT c.commit.committer.name AS name, c.sha AS sha FROM commits ORDER BY offset", "names")
            .unwrap();
        let expected: Vec<String> =
            commits().iter().map(|c| c["commit"]["committer"]["name"].as_str().unwrap().to_string()).collect();
        assert_eq!(strings(&names.df, "name"), expected);

        // The path function reaches the same fields without naming the struct.
        let sql = "SELECT json_get(CAST(value AS STRING), 'commit.author.email') AS email FROM kafka('commits')";
        let emails = session.execute(session.prepare(sql, "emails").unwrap(), vec![commits_topic()]).unwrap();
        let expected: Vec<String> =
            commits().iter().map(|c| c["commit"]["author"]["email"].as_str().unwrap().to_string()).collect();
        assert_eq!(strings(&emails.table.df, "email"), expected);
        let tree = session.execute(session.prepare("DESCRIBE commits", "d").unwrap(), vec![]).unwrap().table.text.unwrap();
        assert!(tree.contains(" |-- c: struct (nullable = true)\n"), "{tree}");
        assert!(tree.contains("\n |    |-- sha: string (nullable = true)\n"), "{tree}");
        assert!(tree.contains(" |    |    |-- committer: struct"), "{tree}");
    }

    // MISSION.md workflow 3: game events of several types, split by type, written as Parquet.
    fn workflow_3_game_events_pipeline() {
        let mut session = Session::new();
        let sql = "-- name: events\n\
            SELECT json_parse(CAST(value AS STRING)) AS e, timestamp FROM kafka('events')";
        let outcome = session.execute(session.prepare(sql, "c").unwrap(), vec![events_topic(true)]).unwrap();
        // One malformed message: null and counted, not a crash.
        assert_eq!(outcome.table.notes.len(), 1, "{:?}", outcome.table.notes);
        assert!(outcome.table.notes[0].starts_with("1 of 61 rows were not valid JSON"), "{:?}", outcome.table.notes);

        // The union of the three types' fields, nulls where a type lacks one.
        let flat = session.run("-- name: flat\nSELECT e.*, timestamp FROM events WHERE e IS NOT NULL", "c2").unwrap();
        let mut columns = flat.df.get_column_names_str();
        columns.sort();
        assert_eq!(columns, ["Accept", "Host", "User-Agent", "event_type", "guild", "price", "sword_type", "timestamp"]);

        // Transform each event the way a UDF would: add and overwrite fields.
        let purchases = session
            .run(
                "-- name: purchases\n\
                 SELECT event_type, sword_type, price * 2 AS price, UPPER(Host) AS Host, 'v2' AS schema_version, timestamp\n\
                 FROM flat WHERE event_type = 'purchase_sword'",
                "c3",
            )
            .unwrap();
        let expected = game_events().iter().filter(|e| e["event_type"] == "purchase_sword").count();
        assert_eq!(purchases.rows(), expected);
        assert!(strings(&purchases.df, "Host").iter().all(|h| h == "GAME.EXAMPLE:5000"));

        let copy = "COPY (SELECT * FROM purchases) TO 'tmp/purchases' (FORMAT parquet, MODE overwrite)";
        let outcome = session.execute(session.prepare(copy, "w").unwrap(), vec![]).unwrap();
        let Some(Effect::Write(plan)) = outcome.effect else { panic!("COPY must plan a write") };
        assert_eq!((plan.path.as_str(), plan.mode, plan.rows, plan.parts.len()), ("tmp/purchases", WriteMode::Overwrite, expected, 1));
        assert_eq!(plan.part_name(0, "abc"), "part-00000-abc-c000.snappy.parquet");
        // Read back as a directory of parts, and query it with SQL.
        let read = "SELECT sword_type, COUNT(*) AS n FROM read_parquet('tmp/purchases') GROUP BY sword_type ORDER BY sword_type";
        let back = session.execute(session.prepare(read, "r").unwrap(), vec![SourceData { parts: plan.parts }]).unwrap();
        assert_eq!(ints(&back.table.df, "n").iter().sum::<i64>(), expected as i64);

        // An empty topic: an empty table with Kafka's columns and a note, never a crash.
        let empty = session.execute(session.prepare(sql, "c").unwrap(), vec![SourceData::single(Vec::new())]).unwrap();
        assert_eq!(empty.table.rows(), 0);
        assert!(empty.table.notes.iter().any(|n| n.contains("no messages")), "{:?}", empty.table.notes);
    }

    // MISSION.md workflow 4: CSV with an explicit schema, repartitioned, to Parquet and back.
    fn workflow_4_csv_to_parquet_with_schema() {
        let mut session = Session::new();
        let copy = "COPY (SELECT * FROM read_csv('samples/trips.csv', header => true,\n\
            schema => 'trip_id BIGINT, pickup_datetime TIMESTAMP, zone STRING, passengers INT, distance_km DOUBLE, fare DOUBLE'))\n\
            TO 'out/trips' (FORMAT parquet, MODE overwrite, PARTITIONS 4, COMPRESSION zstd)";
        let outcome = session.execute(session.prepare(copy, "w").unwrap(), vec![TRIPS_CSV.to_vec().into()]).unwrap();
        let Some(Effect::Write(plan)) = outcome.effect else { panic!("COPY must plan a write") };
        assert_eq!(plan.parts.len(), 4);
        assert_eq!(plan.part_name(3, "x"), "part-00003-x-c000.zstd.parquet");
        let read = "SELECT COUNT(*) AS n, ROUND(SUM(fare), 2) AS fare, MIN(pickup_datetime) AS first FROM read_parquet('out/trips')";
        let back = session.execute(session.prepare(read, "r").unwrap(), vec![SourceData { parts: plan.parts }]).unwrap();
        let expected = trips_by_zone();
        assert_eq!(ints(&back.table.df, "n"), [expected.values().map(|(n, _)| n).sum::<i64>()]);
        let cents: i64 = expected.values().map(|(_, c)| c).sum();
        assert!((floats(&back.table.df, "fare")[0] - cents as f64 / 100.0).abs() < 0.01);
        assert_eq!(back.table.schema()[2].dtype, "timestamp");
    }

    // MISSION.md workflow 5: a report with a join, date functions, a window and a group-by.
    fn workflow_5_sql_report() {
        let mut session = Session::new();
        let sql = "-- name: revenue\n\
            WITH trips AS (SELECT *, EXTRACT(MONTH FROM pickup_datetime) AS month FROM read_csv('samples/trips.csv',\n\
                 schema => 'trip_id BIGINT, pickup_datetime TIMESTAMP, zone STRING, passengers INT, distance_km DOUBLE, fare DOUBLE')),\n\
                 zones AS (SELECT * FROM read_csv('samples/zones.csv'))\n\
            SELECT z.borough, t.month, COUNT(*) AS trips, ROUND(SUM(t.fare), 2) AS revenue\n\
            FROM trips t JOIN zones z ON t.zone = z.zone\n\
            GROUP BY z.borough, t.month ORDER BY z.borough";
        let prepared = session.prepare(sql, "c").unwrap();
        let outcome = session.execute(prepared, vec![TRIPS_CSV.to_vec().into(), ZONES_CSV.to_vec().into()]).unwrap();
        let expected = trips_by_borough();
        assert_eq!(strings(&outcome.table.df, "borough"), expected.keys().cloned().collect::<Vec<_>>());
        assert_eq!(ints(&outcome.table.df, "month"), vec![1; expected.len()]);

        let share = session
            .run(
                "SELECT borough, revenue, ROUND(100 * revenue / SUM(revenue) OVER (PARTITION BY month), 1) AS pct,\n\
                        SUM(trips) OVER (PARTITION BY month) AS all_trips\n\
                 FROM revenue ORDER BY borough",
                "share",
            )
            .unwrap();
        let total: i64 = expected.values().map(|(n, _)| n).sum();
        assert!(ints(&share.df, "all_trips").iter().all(|n| *n == total));
        let pct: f64 = floats(&share.df, "pct").iter().sum();
        assert!((pct - 100.0).abs() < 0.2, "{pct}");
        assert_eq!(session.dependents("revenue"), ["share".to_string()]);
    }

    fn exports_in_every_format() {
        let mut session = Session::new();
        let result = session.run("SELECT 'a' AS s, 1.5 AS f, CAST(NULL AS INT) AS n", "c").unwrap();
        for format in [ExportFormat::Parquet, ExportFormat::Csv, ExportFormat::Json, ExportFormat::Arrow] {
            let bytes = riffle::engine::export(&result.df, format, Default::default()).unwrap();
            assert!(!bytes.is_empty(), "{format:?}");
        }
        let csv = riffle::engine::export(&result.df, ExportFormat::Csv, Default::default()).unwrap();
        assert_eq!(String::from_utf8(csv).unwrap(), "s,f,n\na,1.5,\n");
        let json = riffle::engine::export(&result.df, ExportFormat::Json, Default::default()).unwrap();
        assert_eq!(String::from_utf8(json).unwrap().trim(), r#"{"s":"a","f":1.5,"n":null}"#);
    }

    fn insert_into_kafka_plans_a_produce() {
        let mut session = Session::new();
        let sql = "INSERT INTO kafka('foo') SELECT CAST(n AS STRING) AS value FROM (VALUES (1), (2), (3)) AS t(n)";
        let outcome = session.execute(session.prepare(sql, "p").unwrap(), vec![]).unwrap();
        let Some(Effect::Produce(plan)) = outcome.effect else { panic!("INSERT must plan a produce") };
        assert_eq!((plan.topic.as_str(), plan.records), ("foo", 3));
        assert!(!plan.ipc.is_empty());
        let e = session.prepare("INSERT INTO kafka('foo') SELECT 1 AS n", "p").and_then(|p| session.execute(p, vec![]));
        assert!(e.unwrap_err().message.contains("needs a column named value"));
    }

    fn errors_name_the_place_and_suggest() {
        let mut session = Session::new();
        let e = session.run("SELECT (1\nFROM t", "c").unwrap_err();
        assert_eq!(e.location.map(|l| l.line), Some(2), "{e:?}");
        let e = session.run("SELECT * FROM nowhere", "c").unwrap_err();
        assert!(e.message.contains("nowhere"), "{e:?}");
        assert!(e.hint.as_deref().unwrap_or_default().contains("-- name:"), "{e:?}");
        session.run("-- name: purchases\nSELECT 1 AS price", "c").unwrap();
        let e = session.run("SELECT * FROM purchse", "c").unwrap_err();
        assert!(e.hint.as_deref().unwrap_or_default().contains("did you mean purchases"), "{e:?}");
        let e = session.run("SELECT prise FROM purchases", "c").unwrap_err();
        assert!(e.hint.as_deref().unwrap_or_default().contains("price"), "{e:?}");
        let e = session.prepare("SELECT * FROM read_csv()", "c").unwrap_err();
        assert!(e.message.contains("needs a path"), "{e:?}");
        let e = session.prepare("SELECT * FROM kafka('t', from => 'yesterday')", "c").unwrap_err();
        assert!(e.hint.unwrap().contains("earliest"));
        let e = session.prepare("SELECT * FROM read_csv('x.csv', delimiter => ';;')", "c")
            .and_then(|p| session.execute(p, vec![b"a;b\n1;2\n".to_vec().into()]))
            .unwrap_err();
        assert!(e.message.contains("single character"), "{e:?}");
        let e = session.prepare("COPY (SELECT 1) TO 'x'\n  (MODE sideways)", "c").unwrap_err();
        assert_eq!(e.location.map(|l| l.line), Some(2), "{e:?}");
        let e = session.prepare("SELECT * FROM read_csv('x.csv', schema => 'a WHATEVER')", "c")
            .and_then(|p| session.execute(p, vec![b"a\n1\n".to_vec().into()]))
            .unwrap_err();
        assert!(e.message.contains("WHATEVER"), "{e:?}");
        let e = session.prepare("SELECT * FROM read_csv('empty.csv')", "c")
            .and_then(|p| session.execute(p, vec![Vec::new().into()]))
            .unwrap_err();
        assert!(e.message.contains("empty (0 bytes)"), "{e:?}");
    }

    fn later_cells_read_earlier_results_by_name() {
        let mut session = Session::new();
        session.run("-- name: numbers\nSELECT * FROM (VALUES (1), (2), (3)) AS t(n)", "cell_1").unwrap();
        let prepared = session.prepare("SELECT SUM(n) AS total FROM numbers", "cell_2").unwrap();
        assert_eq!(prepared.reads, vec!["numbers".to_string()]);
        session.execute(prepared, vec![]).unwrap();
        assert_eq!(session.dependencies("cell_2"), ["numbers".to_string()]);
        assert_eq!(session.tables(), ["cell_2".to_string(), "numbers".to_string()]);
        // Re-running a cell replaces its table.
        session.run("-- name: numbers\nSELECT 10 AS n", "cell_1").unwrap();
        let again = session.run("SELECT SUM(n) AS total FROM numbers", "cell_2").unwrap();
        assert_eq!(ints(&again.df, "total"), [10]);
    }

    fn string_heavy_queries_survive() {
        // Strings through filter, join, union and group-by, over several
        // chunks: the kernels that trip Polars' 32-bit length marker.
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
            riffle::engine::export(&result.df, ExportFormat::Parquet, Default::default()).unwrap();
        }
    }

    fn bench_workloads_run() {
        use riffle::bench::Workload;
        let mut session = Workload::W0.session(10_000);
        assert_eq!(Workload::W0.run(&mut session).unwrap(), "groups=1000 rows=10000");
        // Two of the three event types pass the filter; every row of those counts.
        let mut session = Workload::W1.session(3_000);
        let checksum = Workload::W1.run(&mut session).unwrap();
        let expected = riffle::bench::w1_data(3_000)
            .column("value")
            .unwrap()
            .str()
            .unwrap()
            .into_iter()
            .filter(|v| !v.unwrap().contains(r#""event_type": "default""#))
            .count();
        assert_eq!(checksum, format!("groups=2 rows={expected}"));
    }

    fn set_ansi_off_makes_casts_null_and_counts_them() {
        let mut session = Session::new();
        assert!(session.ansi_enabled());
        let shown = session.run("SET spark.sql.ansi.enabled", "s0").unwrap();
        assert_eq!(strings(&shown.df, "value"), ["true"]);
        let bad = "SELECT CAST(s AS INT) AS i FROM VALUES ('12'), ('12x'), (' 7 '), ('1.9'), (NULL), ('x') AS t(s)";
        let err = session.run(bad, "q").unwrap_err();
        assert!(err.message.contains("CAST_INVALID_INPUT"), "{err:?}");

        let set = session.run("SET spark.sql.ansi.enabled = false", "s1").unwrap();
        assert_eq!(strings(&set.df, "key"), ["spark.sql.ansi.enabled"]);
        assert_eq!(strings(&set.df, "value"), ["false"]);
        assert!(!session.ansi_enabled());
        let result = session.run(bad, "q").unwrap();
        let i = result.df.column("i").unwrap().i32().unwrap().into_iter().collect::<Vec<_>>();
        assert_eq!(i, [Some(12), None, Some(7), Some(1), None, None]);
        assert_eq!(
            result.notes,
            ["CAST made 2 NULLs from values that do not convert to INT (first: '12x') (spark.sql.ansi.enabled=false)"]
        );

        let result = session
            .run(
                "SELECT CAST('2024-02-30' AS DATE) AS d, CAST('nope' AS TIMESTAMP) AS ts, CAST('maybe' AS BOOLEAN) AS b, \
                 CAST('1.25' AS DECIMAL(5,1)) AS m, CAST('9999' AS DECIMAL(3,1)) AS big, CAST('1.5d' AS DOUBLE) AS x, \
                 CAST(300 AS TINYINT) AS wrapped, CAST(3e9 AS INT) AS saturated, CAST(CAST('NaN' AS DOUBLE) AS INT) AS nan, \
                 CAST(2147483648L AS INT) AS wraps_long, size(NULL) AS size_of_null, try_cast('1.9' AS INT) AS try_int",
                "q2",
            )
            .unwrap();
        let text = |name: &str| {
            let c = result.df.column(name).unwrap().cast(&DataType::String).unwrap();
            c.str().unwrap().get(0).map(str::to_string)
        };
        assert_eq!(text("d"), None);
        assert_eq!(text("ts"), None);
        assert_eq!(text("b"), None);
        assert_eq!(text("m").as_deref(), Some("1.3"));
        assert_eq!(text("big"), None);
        assert_eq!(text("x").as_deref(), Some("1.5"));
        assert_eq!(text("wrapped").as_deref(), Some("44"));
        assert_eq!(text("saturated").as_deref(), Some("2147483647"));
        assert_eq!(text("nan").as_deref(), Some("0"));
        assert_eq!(text("wraps_long").as_deref(), Some("-2147483648"));
        assert_eq!(text("size_of_null").as_deref(), Some("-1"));
        assert_eq!(text("try_int"), None);
        for (note, to) in [("a NULL from a value", "DATE (first: '2024-02-30')"), ("a NULL", "TIMESTAMP"), ("a NULL", "BOOLEAN"), ("a NULL", "DECIMAL(3,1) (first: '9999')")] {
            assert!(result.notes.iter().any(|n| n.starts_with(&format!("CAST made {note}")) && n.contains(to)), "{to}: {:?}", result.notes);
        }
        assert_eq!(result.notes.len(), 4, "{:?}", result.notes);

        // The same cast in WHERE and SELECT: one note, the NULLs counted once.
        let twice = session
            .run("SELECT CAST(s AS INT) AS i FROM VALUES ('1'), ('a'), ('b') AS t(s) WHERE CAST(s AS INT) IS NULL OR s = '1'", "q2b")
            .unwrap();
        assert_eq!(twice.rows(), 3);
        assert_eq!(
            twice.notes,
            ["CAST made 2 NULLs from values that do not convert to INT (first: 'a') (spark.sql.ansi.enabled=false)"]
        );

        // Spark's legacy arithmetic reads a string as a double.
        let sum = session.run("SELECT '1' + 1 AS x", "q3").unwrap();
        assert_eq!(floats(&sum.df, "x"), [2.0]);
        // What Spark's legacy implicit casts answer otherwise is refused, not guessed.
        let err = session.run("SELECT COALESCE('a', 1) AS x", "q4").unwrap_err();
        assert!(err.message.contains("spark.sql.ansi.enabled=false is not supported"), "{err:?}");
        assert!(err.hint.unwrap().contains("CAST"));

        session.run("SET spark.sql.ansi.enabled = true", "s2").unwrap();
        assert!(session.ansi_enabled());
        assert!(session.run(bad, "q").is_err());
        let size = session.run("SELECT size(NULL) AS n", "q5").unwrap();
        assert_eq!(size.df.column("n").unwrap().null_count(), 1);
    }

    fn set_refuses_unknown_settings() {
        let mut session = Session::new();
        let err = session.run("SET spark.sql.shuffle.partitions = 8", "s").unwrap_err();
        assert!(err.message.contains("spark.sql.shuffle.partitions is not supported in the browser engine"), "{err:?}");
        let err = session.run("SET spark.sql.ansi.enabled = yes", "s").unwrap_err();
        assert!(err.message.contains("true or false"), "{err:?}");
        assert!(session.ansi_enabled());
    }
}
