//! The error catalogue: bad inputs of every kind (files, schemas, options,
//! casts, JSON, SQL) and the message each gets. Every message must say what
//! failed, where (a line and column of the cell, or the file, line, row,
//! field or value), and what to write in Riffle instead; and none may
//! mention Polars or its API (`infer_schema_length`, `ignore_errors`, ...).

#![allow(clippy::unwrap_used)]

use polars::prelude::*;
use riffle::CellError;
use riffle::engine::{Session, SourceData};

/// Words of Polars' own API and internals that must never reach a user.
const FOREIGN: &[&str] = &[
    "polars",
    "infer_schema_length",
    "schema_overrides",
    "ignore_errors",
    "try_parse_dates",
    "truncate_ragged_lines",
    "LazyFrame",
    "DataFrame",
    "Series",
    "ComputeError",
    "SchemaMismatch",
    "InvalidOperation",
    "ColumnNotFound",
    "pl.",
    "panicked",
    "unwrap",
];

struct Bad {
    name: &'static str,
    sql: &'static str,
    /// The bytes of each source the cell reads, in order.
    inputs: Vec<Vec<u8>>,
    /// Words the message must contain (what failed, and where).
    says: &'static [&'static str],
}

fn bad(name: &'static str, sql: &'static str, says: &'static [&'static str]) -> Bad {
    Bad { name, sql, inputs: Vec::new(), says }
}

fn with_input(name: &'static str, sql: &'static str, input: &[u8], says: &'static [&'static str]) -> Bad {
    Bad { name, sql, inputs: vec![input.to_vec()], says }
}

fn session() -> Session {
    let mut s = Session::new();
    let trips = df! {
        "trip_id" => [1i64, 2, 3],
        "zone" => ["a", "b", "b"],
        "fare" => [10.5, 3.0, 7.25],
        "tags" => ["x;y", "y", "z"],
    }
    .unwrap();
    s.register("trips", trips);
    let zones = df! { "zone" => ["a", "b"], "borough" => ["Queens", "Bronx"] }.unwrap();
    s.register("zones", zones);
    s
}

fn parquet(df: &mut DataFrame) -> Vec<u8> {
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes).finish(df).unwrap();
    bytes
}

fn catalogue() -> Vec<Bad> {
    let mut all = vec![
        // SQL text and names.
        bad("syntax error", "SELECT zone\nFORM trips", &["FORM"]),
        bad("unknown column", "SELECT zon FROM trips", &["zon", "zone"]),
        bad("unknown table", "SELECT * FROM trip", &["trip"]),
        bad("unknown function", "SELECT frobnicate(zone) AS f FROM trips", &["frobnicate"]),
        bad("ambiguous column", "SELECT zone FROM trips t JOIN zones z ON t.zone = z.zone", &["zone", "ambiguous"]),
        bad("two statements", "SELECT 1; SELECT 2", &["statements"]),
        bad("empty cell", "-- nothing here", &["empty"]),
        bad("aggregate in WHERE", "SELECT zone FROM trips WHERE SUM(fare) > 1", &["sum"]),
        bad("column not grouped", "SELECT zone, fare, COUNT(*) AS n FROM trips GROUP BY zone", &["fare", "GROUP BY"]),
        bad("GROUP BY ordinal out of range", "SELECT zone, COUNT(*) AS n FROM trips GROUP BY 3", &["GROUP BY 3"]),
        bad("ORDER BY ordinal out of range", "SELECT zone FROM trips ORDER BY 2", &["ORDER BY 2"]),
        bad(
            "UNION of different widths",
            "SELECT zone FROM trips UNION ALL SELECT zone, borough FROM zones",
            &["columns"],
        ),
        bad("scalar subquery of many rows", "SELECT (SELECT fare FROM trips) AS f", &["rows"]),
        bad("comparing a struct to a number", "SELECT * FROM trips WHERE named_struct('a', 1) = 1", &["struct"]),
        bad("an interval on its own", "SELECT INTERVAL 1 DAY AS i", &["INTERVAL"]),
        bad(
            "a window function without ORDER BY",
            "SELECT ROW_NUMBER() OVER (PARTITION BY zone) AS n FROM trips",
            &["row_number"],
        ),
        bad("DISTINCT in a window", "SELECT COUNT(DISTINCT zone) OVER () AS n FROM trips", &["DISTINCT"]),
        bad(
            "a generator twice",
            "SELECT explode(split(tags, ';')) AS a, explode(split(tags, ';')) AS b FROM trips",
            &["generator"],
        ),
        bad("duplicate output names", "SELECT zone, zone FROM trips", &["zone"]),
        bad("DESCRIBE of an unknown table", "DESCRIBE nowhere", &["nowhere"]),
        bad("an unknown table function", "SELECT * FROM read_xml('a.xml')", &["read_xml"]),
        bad("INSERT INTO kafka without value", "INSERT INTO kafka('t') SELECT zone FROM trips", &["value"]),
        // Casts and runtime errors (Spark's ANSI mode).
        bad("a cast that does not convert", "SELECT CAST(zone AS INT) AS n FROM trips", &["'a'", "INT", "try_cast"]),
        bad("a cast to an unknown type", "SELECT CAST(zone AS GEOMETRY) AS g FROM trips", &["GEOMETRY"]),
        bad("a decimal too wide", "SELECT CAST(fare AS DECIMAL(50, 2)) AS d FROM trips", &["decimal(50,2)"]),
        bad("division by zero", "SELECT fare / (trip_id - trip_id) AS x FROM trips", &["DIVIDE_BY_ZERO", "try_divide"]),
        bad("integer overflow", "SELECT 2147483647 + CAST(trip_id AS INT) AS x FROM trips", &["ARITHMETIC_OVERFLOW"]),
        bad("an array index out of range", "SELECT split(tags, ';')[5] AS t FROM trips", &["index"]),
        bad("a date that does not parse", "SELECT to_date(zone, 'yyyy-MM-dd') AS d FROM trips", &["'a'"]),
        bad(
            "a bad date pattern",
            "SELECT date_format(CAST('2024-01-01' AS DATE), 'yyyy-MM-dd qqqqqq') AS d",
            &["pattern"],
        ),
        bad(
            "a regular expression Java reads differently",
            "SELECT regexp_extract(zone, '(?<=a)b', 0) AS r FROM trips",
            &["regexp_extract"],
        ),
        // JSON.
        bad("json_get without a path", "SELECT json_get(zone, '') AS v FROM trips", &["json_get"]),
        bad("json_parse with a bad schema", "SELECT json_parse(zone, 'a INTT') AS e FROM trips", &["INTT"]),
        bad("a field of JSON with no fields", "SELECT json_parse(zone).event_type AS t FROM trips", &["event_type"]),
        bad("from_json with a bad schema", "SELECT from_json(zone, 'a STRUC<b INT>') AS e FROM trips", &["STRUC"]),
        with_input(
            "read_json FAILFAST on a bad line",
            "SELECT * FROM read_json('e.json', mode => 'FAILFAST')",
            b"{\"a\": 1}\n{\"a\" 2}\n",
            &["e.json", "line 2"],
        ),
        with_input(
            "read_json with an unknown option",
            "SELECT * FROM read_json('e.json', multiline_mode => true)",
            b"{\"a\": 1}\n",
            &["multiline_mode"],
        ),
        with_input(
            "read_json with a bad schema",
            "SELECT * FROM read_json('e.json', schema => 'a INTEGR')",
            b"{\"a\": 1}\n",
            &["INTEGR"],
        ),
        // CSV.
        with_input(
            "read_csv with an unknown option",
            "SELECT * FROM read_csv('t.csv', hedaer => true)",
            b"a,b\n1,2\n",
            &["hedaer"],
        ),
        with_input(
            "read_csv with a bad schema",
            "SELECT * FROM read_csv('t.csv', schema => 'a INTT, b STRING')",
            b"a,b\n1,2\n",
            &["INTT"],
        ),
        with_input(
            "read_csv with a schema missing a type",
            "SELECT * FROM read_csv('t.csv', schema => 'a, b STRING')",
            b"a,b\n1,2\n",
            &["schema"],
        ),
        with_input(
            "read_csv with a bad boolean",
            "SELECT * FROM read_csv('t.csv', header => maybe)",
            b"a,b\n1,2\n",
            &["header"],
        ),
        with_input(
            "read_csv FAILFAST on a bad value",
            "SELECT * FROM read_csv('t.csv', schema => 'a INT, b STRING', mode => 'FAILFAST')",
            b"a,b\n1,x\nz,y\n",
            &["t.csv", "line 3"],
        ),
        // Parquet.
        with_input(
            "read_parquet of bytes that are not Parquet",
            "SELECT * FROM read_parquet('t.parquet')",
            b"this is not parquet",
            &["t.parquet"],
        ),
    ];
    let mut one = df! { "a" => [1i64] }.unwrap();
    let mut other = df! { "b" => ["x"] }.unwrap();
    all.push(Bad {
        name: "Parquet parts with different columns",
        sql: "SELECT * FROM read_parquet('out/parts')",
        inputs: vec![parquet(&mut one), parquet(&mut other)],
        says: &["mergeSchema"],
    });
    all
}

fn run(case: &Bad) -> Result<(), CellError> {
    let mut s = session();
    let prepared = s.prepare(case.sql, "cell")?;
    let inputs: Vec<SourceData> = case.inputs.iter().map(|bytes| bytes.clone().into()).collect::<Vec<SourceData>>();
    let inputs = if case.inputs.len() > 1 && prepared.sources.len() == 1 {
        vec![SourceData { parts: case.inputs.clone() }]
    } else {
        inputs
    };
    s.execute(prepared, inputs).map(|_| ())
}

/// A place in the message or the cell: a line/column, or a file, line, row, field or value.
fn has_a_place(e: &CellError) -> bool {
    if e.location.is_some() {
        return true;
    }
    let text = format!("{} {}", e.message, e.hint.clone().unwrap_or_default()).to_lowercase();
    ["line ", "row ", "column ", "field ", "'", "part ", ".csv", ".json", ".parquet", "`"]
        .iter()
        .any(|w| text.contains(w))
}

#[test]
fn every_bad_input_gets_a_message_for_users() {
    let cases = catalogue();
    assert!(cases.len() >= 40, "the catalogue has {} cases; the issue asks for at least 40", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let err = match run(case) {
            Ok(()) => {
                failures.push(format!("{}: was accepted ({})", case.name, case.sql));
                continue;
            }
            Err(e) => e,
        };
        let text = format!("{} {}", err.message, err.hint.clone().unwrap_or_default());
        let lower = text.to_lowercase();
        for word in case.says {
            if !lower.contains(&word.to_lowercase()) {
                failures.push(format!("{}: the message does not say {word:?}: {text}", case.name));
            }
        }
        if !has_a_place(&err) {
            failures.push(format!("{}: the message says nowhere where: {text}", case.name));
        }
        if err.hint.as_deref().is_none_or(|h| h.trim().is_empty())
            && !lower.contains("use ")
            && !lower.contains("write ")
        {
            failures.push(format!("{}: the message says nothing to do: {text}", case.name));
        }
        for word in FOREIGN {
            if lower.contains(&word.to_lowercase()) {
                failures.push(format!("{}: the message mentions {word:?}: {text}", case.name));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} messages need work:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
