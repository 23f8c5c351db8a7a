//! The differential SQL suite, tab side: every query of the corpus
//! (`tests/sql/corpus/*.test`) runs in Riffle's engine over the fixtures
//! (`tests/sql/fixtures/*.parquet`, read with the engine's own Parquet
//! reader) and is compared with Spark's recorded answer: the same column
//! names, the same type names, the same rows (multisets unless the case is
//! `ordered`; floats to 1e-9 relative).
//!
//! Each case ends as
//! - **same**;
//! - **refused**: the engine returned an error. A *good* refusal has a hint
//!   and names the function or clause (one of the case's tag names); others
//!   are counted as *poor refusals*;
//! - **different**: a silent difference, the worst outcome (a panic counts
//!   here too).
//!
//! `tests/sql/known_differences.txt` lists the cases allowed to be
//! different today (one id and a reason per line); the list may only shrink:
//! a listed case that is now same or refused fails the test until its line
//! is removed. `tests/sql/same_share.txt` is the lowest share of `same` cases
//! allowed (the target is 95%). The native run also regenerates `docs/sql.md`
//! from the outcomes and fails when it differs (`RIFFLE_SQL_DOCS=write`
//! writes it).
//!
//! In headless Chromium (wasm32, a dedicated worker) a sample runs: every
//! 10th case, with the corpus and fixtures compiled in.
//!
//! `RIFFLE_SQL_CASE=<id prefix>` runs only matching cases and prints each
//! outcome (no checks of the lists, the share or the docs).

#![allow(clippy::unwrap_used)]
// The browser runs only the sample: the report, the lists and the docs are native.
#![cfg_attr(target_arch = "wasm32", allow(dead_code))]

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[path = "sql/corpus.rs"]
mod corpus;
#[cfg(not(target_arch = "wasm32"))]
#[path = "sql/fuzz.rs"]
mod fuzz;
#[path = "sql/fixtures.rs"]
mod generator;
// Fuzzing the SQL path: random queries must never panic, a sample against Spark.
#[cfg(not(target_arch = "wasm32"))]
#[path = "sql/fuzz_tests.rs"]
mod fuzz_tests;

use std::collections::BTreeMap;

use corpus::{Answer, Case, Column as Col, Table, Value};
use polars::prelude::*;
use polars_arrow::array::Array as _;
use riffle::engine::{Session, spark_type_name};

/// The corpus files (also compiled in, for the browser) and the fixtures.
macro_rules! corpus_files {
    (files: [$($file:literal),* $(,)?], tables: [$($table:literal),* $(,)?] $(,)?) => {
        const CORPUS_FILES: &[&str] = &[$($file),*];
        const FIXTURE_TABLES: &[&str] = &[$($table),*];
        #[cfg(target_arch = "wasm32")]
        const CORPUS_TEXT: &[&str] = &[$(include_str!(concat!("sql/corpus/", $file))),*];
        #[cfg(target_arch = "wasm32")]
        const FIXTURE_BYTES: &[&[u8]] = &[$(include_bytes!(concat!("sql/fixtures/", $table, ".parquet"))),*];
    };
}

corpus_files! {
    files: [
        "windows.test",
        "aggregates.test",
        "joins.test",
        "subqueries.test",
        "strings.test",
        "dates.test",
        "nested.test",
        "types.test",
        "reports.test",
    ],
    tables: ["trips", "zones", "events", "meter", "tariffs", "holidays"],
}

const KNOWN_DIFFERENCES: &str = include_str!("sql/known_differences.txt");
const SAME_SHARE: &str = include_str!("sql/same_share.txt");

#[cfg(not(target_arch = "wasm32"))]
fn dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql")
}

/// The corpus files' (name, text).
fn corpus_texts() -> Vec<(String, String)> {
    #[cfg(target_arch = "wasm32")]
    let texts: Vec<String> = CORPUS_TEXT.iter().map(|t| t.to_string()).collect();
    #[cfg(not(target_arch = "wasm32"))]
    let texts: Vec<String> = CORPUS_FILES
        .iter()
        .map(|f| std::fs::read_to_string(dir().join("corpus").join(f)).unwrap_or_else(|e| panic!("corpus/{f}: {e}")))
        .collect();
    CORPUS_FILES.iter().map(|f| format!("corpus/{f}")).zip(texts).collect()
}

fn cases() -> Vec<Case> {
    let files = corpus::parse_corpus(&corpus_texts(), FIXTURE_TABLES).unwrap_or_else(|e| panic!("{e}"));
    files.into_iter().flat_map(|f| f.cases).collect()
}

fn fixture_bytes(table: &str) -> Vec<u8> {
    #[cfg(target_arch = "wasm32")]
    {
        let i = FIXTURE_TABLES.iter().position(|t| *t == table).unwrap();
        FIXTURE_BYTES[i].to_vec()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let path = dir().join("fixtures").join(format!("{table}.parquet"));
        std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; make the fixtures with RIFFLE_SQL_FIXTURES=write", path.display()))
    }
}

/// The fixture frames, read from the committed Parquet by the engine's own reader.
fn fixture_frames() -> Vec<(String, DataFrame)> {
    let mut session = Session::new();
    FIXTURE_TABLES
        .iter()
        .map(|t| {
            let sql = format!("-- name: {t}\nSELECT * FROM read_parquet('{t}.parquet')");
            let prepared = session.prepare(&sql, t).unwrap();
            session.execute(prepared, vec![fixture_bytes(t).into()]).unwrap_or_else(|e| panic!("reading {t}: {e}"));
            (t.to_string(), session.table(t).unwrap().clone())
        })
        .collect()
}

fn micros(value: i64, unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Nanoseconds => value.div_euclid(1000),
        TimeUnit::Microseconds => value,
        TimeUnit::Milliseconds => value * 1000,
    }
}

fn series_values(s: &Series) -> Vec<Value> {
    (0..s.len()).map(|i| value(s.get(i).unwrap())).collect()
}

/// A value in the corpus's canonical form.
fn value(v: AnyValue<'_>) -> Value {
    match v {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(b),
        AnyValue::String(s) => Value::Str(s.to_string()),
        AnyValue::StringOwned(s) => Value::Str(s.to_string()),
        AnyValue::UInt8(n) => Value::int(n),
        AnyValue::UInt16(n) => Value::int(n),
        AnyValue::UInt32(n) => Value::int(n),
        AnyValue::UInt64(n) => Value::int(n),
        AnyValue::Int8(n) => Value::int(n),
        AnyValue::Int16(n) => Value::int(n),
        AnyValue::Int32(n) => Value::int(n),
        AnyValue::Int64(n) => Value::int(n),
        AnyValue::Int128(n) => Value::int(n),
        AnyValue::Float32(x) => Value::f32(x),
        AnyValue::Float64(x) => Value::f64(x),
        AnyValue::Date(d) => Value::date(i64::from(d)),
        AnyValue::Datetime(t, unit, _) | AnyValue::DatetimeOwned(t, unit, _) => Value::timestamp(micros(t, unit)),
        AnyValue::Duration(d, unit) => Value::int(micros(d, unit)),
        AnyValue::Time(ns) => Value::time(ns),
        AnyValue::Decimal(n, scale) => Value::decimal(n, scale),
        AnyValue::Binary(b) => Value::binary(b),
        AnyValue::BinaryOwned(b) => Value::binary(&b),
        AnyValue::List(s) if riffle::engine::map_entry(s.dtype()).is_some() => {
            // A map: its entries as [key, value] pairs.
            Value::List(
                series_values(&s)
                    .into_iter()
                    .map(|entry| match entry {
                        Value::Object(kv) => Value::List(kv.into_iter().map(|(_, v)| v).collect()),
                        other => other,
                    })
                    .collect(),
            )
        }
        AnyValue::List(s) | AnyValue::Array(s, _) => Value::List(series_values(&s)),
        AnyValue::Struct(idx, arr, fields) => {
            if !arr.is_valid(idx) {
                return Value::Null;
            }
            let values: Vec<Value> = v._iter_struct_av().map(value).collect();
            Value::Object(fields.iter().map(|f| f.name().to_string()).zip(values).collect())
        }
        AnyValue::StructOwned(b) => {
            let (values, fields) = *b;
            Value::Object(fields.iter().map(|f| f.name().to_string()).zip(values.into_iter().map(value)).collect())
        }
        other => Value::Str(other.str_value().to_string()),
    }
}

/// A frame in the corpus's canonical form.
fn table(df: &DataFrame) -> Table {
    let columns = df
        .get_columns()
        .iter()
        .map(|c| Col { name: c.name().to_string(), dtype: spark_type_name(c.dtype()) })
        .collect();
    let series: Vec<Series> = df.get_columns().iter().map(|c| c.as_materialized_series().rechunk()).collect();
    let rows = (0..df.height()).map(|i| series.iter().map(|s| value(s.get(i).unwrap())).collect()).collect();
    Table { columns, rows }
}

#[derive(Debug, Clone)]
enum Outcome {
    Same,
    Refused { message: String, hint: Option<String>, good: bool },
    Different(String),
    Panicked(String),
}

impl Outcome {
    fn label(&self) -> &'static str {
        match self {
            Outcome::Same => "same",
            Outcome::Refused { good: true, .. } => "refused",
            Outcome::Refused { good: false, .. } => "poor refusal",
            Outcome::Different(_) => "different",
            Outcome::Panicked(_) => "panicked",
        }
    }

    /// Different or panicked: a case the allow-list must name.
    fn bad(&self) -> bool {
        matches!(self, Outcome::Different(_) | Outcome::Panicked(_))
    }

    fn detail(&self) -> String {
        match self {
            Outcome::Same => String::new(),
            Outcome::Refused { message, hint, .. } => match hint {
                Some(h) => format!("{message} (hint: {h})"),
                None => message.clone(),
            },
            Outcome::Different(d) => d.clone(),
            Outcome::Panicked(p) => format!("panic: {p}"),
        }
    }
}

/// Clause keywords a refusal may name.
const CLAUSES: &[&str] = &[
    "qualify",
    "pivot",
    "unpivot",
    "rollup",
    "cube",
    "grouping sets",
    "lateral view",
    "over",
    "window",
    "interval",
    "semi",
    "anti",
    "except",
    "intersect",
    "minus",
    "union",
    "filter",
    "having",
    "exists",
    "in",
    "using",
    "natural",
    "values",
    "within group",
    "distinct",
    "cross join",
    "full join",
    "right join",
    "offset",
    "limit",
    "order by",
    "group by",
];

/// Whether a refusal is written for users: it has a hint (what to write
/// instead), names the function or clause (a tag name of the case, a
/// function the query calls, or a clause keyword of the query), and dumps
/// no parser or planner internals.
fn good_refusal(case: &Case, message: &str, hint: Option<&str>) -> bool {
    let Some(hint) = hint.filter(|h| !h.trim().is_empty()) else { return false };
    let text = format!("{message} {hint}").to_lowercase();
    if ["ident {", "span(", "resolved plan", "compoundidentifier", "binaryop {"].iter().any(|d| text.contains(d)) {
        return false;
    }
    let has_word = |w: &str| {
        text.match_indices(w).any(|(i, _)| {
            let before = text[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric() && c != '_');
            let after = text[i + w.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric() && c != '_');
            before && after
        })
    };
    let tags = case.tags.iter().filter_map(|t| t.split_once('.').map(|(_, name)| name.to_lowercase()));
    if tags.into_iter().any(|n| has_word(&n) || has_word(&n.replace('_', " "))) {
        return true;
    }
    let sql = case.sql.to_lowercase();
    let mut functions = Vec::new();
    let bytes = sql.as_bytes();
    for (i, _) in sql.match_indices('(') {
        let start = sql[..i].trim_end().rfind(|c: char| !c.is_alphanumeric() && c != '_').map_or(0, |p| p + 1);
        let name = sql[start..i].trim_end();
        if !name.is_empty() && bytes[start].is_ascii_alphabetic() {
            functions.push(name.to_string());
        }
    }
    functions.iter().any(|f| has_word(f)) || CLAUSES.iter().any(|c| sql.contains(c) && has_word(c))
}

#[cfg(not(target_arch = "wasm32"))]
mod quiet {
    use std::cell::Cell;
    use std::sync::Once;
    use std::sync::atomic::{AtomicUsize, Ordering};

    thread_local!(static QUIET: Cell<bool> = const { Cell::new(false) });
    /// How many threads are running a case now: Polars' own worker threads
    /// ("polars-N") stay quiet meanwhile, as their panics reach the case.
    static RUNNING: AtomicUsize = AtomicUsize::new(0);

    /// Runs `f`, catching a panic without printing it (other tests' panics still print).
    pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
        static HOOK: Once = Once::new();
        HOOK.call_once(|| {
            let default = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                let polars = std::thread::current().name().is_some_and(|n| n.starts_with("polars"));
                if !(QUIET.with(Cell::get) || polars && RUNNING.load(Ordering::SeqCst) > 0) {
                    default(info);
                }
            }));
        });
        QUIET.with(|q| q.set(true));
        RUNNING.fetch_add(1, Ordering::SeqCst);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        RUNNING.fetch_sub(1, Ordering::SeqCst);
        QUIET.with(|q| q.set(false));
        result.map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic without a message".into())
        })
    }
}

/// Runs a query in a fresh session over the fixtures: the engine's table or
/// its error, or (natively) the message of a panic.
fn engine_answer(sql: &str, frames: &[(String, DataFrame)]) -> Result<Result<Table, riffle::CellError>, String> {
    let mut session = Session::new();
    for (name, df) in frames {
        session.register(name, df.clone());
    }
    let run = move || {
        let mut session = session;
        session.run(sql, "cell").map(|r| table(&r.df))
    };
    #[cfg(not(target_arch = "wasm32"))]
    return quiet::catch(run);
    #[cfg(target_arch = "wasm32")]
    Ok(run())
}

fn run_case(case: &Case, frames: &[(String, DataFrame)]) -> Outcome {
    let expected = case.answer.as_ref().unwrap_or_else(|| {
        panic!(
            "{}: {} has no recorded answer; record it with the Spark side (RIFFLE_SQL_RECORD=1)",
            case.place(),
            case.id
        )
    });
    let result = match engine_answer(&case.sql, frames) {
        Ok(r) => r,
        Err(p) => return Outcome::Panicked(p.lines().next().unwrap_or_default().chars().take(200).collect()),
    };
    match (result, expected) {
        (Err(e), Answer::Error(_)) => {
            // Both refuse.
            let _ = e;
            Outcome::Same
        }
        (Err(e), Answer::Table(_)) => {
            let good = good_refusal(case, &e.message, e.hint.as_deref());
            Outcome::Refused { message: e.message, hint: e.hint, good }
        }
        (Ok(_), Answer::Error(class)) => Outcome::Different(format!("Spark refuses ({class}); the engine answered")),
        (Ok(got), Answer::Table(want)) => match corpus::compare(want, &got, case.ordered) {
            Ok(()) => Outcome::Same,
            Err(d) => Outcome::Different(d),
        },
    }
}

/// `id reason...` lines; `#` comments.
fn known_differences() -> BTreeMap<String, String> {
    known_list(KNOWN_DIFFERENCES)
}

/// An allow-list's `id reason...` lines.
fn known_list(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.split_once(char::is_whitespace) {
            Some((id, reason)) => (id.to_string(), reason.trim().to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

fn same_share_floor() -> f64 {
    SAME_SHARE
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .and_then(|l| l.trim_end_matches('%').parse().ok())
        .expect("tests/sql/same_share.txt holds a percentage")
}

fn known_line(case: &Case, outcome: &Outcome) -> String {
    let reason: String = outcome.detail().replace('\n', " ").chars().take(160).collect();
    format!("{} {}", case.id, reason)
}

/// Checks a set of outcomes against the allow-list: a difference must be
/// listed. Returns the failures.
fn unlisted_differences(results: &[(&Case, Outcome)], known: &BTreeMap<String, String>) -> Vec<String> {
    results
        .iter()
        .filter(|(c, o)| o.bad() && !known.contains_key(&c.id))
        .map(|(c, o)| {
            format!("{} ({}): {}\n    add to known_differences.txt: {}", c.id, c.place(), o.detail(), known_line(c, o))
        })
        .collect()
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_sample_of_the_corpus_runs_as_recorded() {
    #[cfg(target_arch = "wasm32")]
    let _ = js_sys::eval("Error.stackTraceLimit = 60");
    let frames = fixture_frames();
    let known = known_differences();
    let cases = cases();
    // A case known to panic would abort the browser's test (no unwinding on wasm32).
    let sample: Vec<&Case> = cases
        .iter()
        .step_by(10)
        .filter(|c| !known.get(&c.id).is_some_and(|reason| reason.starts_with("panic")))
        .collect();
    let results: Vec<(&Case, Outcome)> = sample.iter().map(|c| (*c, run_case(c, &frames))).collect();
    let same = results.iter().filter(|(_, o)| matches!(o, Outcome::Same)).count();
    println!("sample: {same} of {} cases the same as Spark", results.len());
    let failures = unlisted_differences(&results, &known);
    assert!(failures.is_empty(), "cases differ from Spark's recorded answers:\n{}", failures.join("\n"));
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::*;

    /// One case's id, tags, query and outcome, for the report and the docs.
    pub struct Run<'a> {
        pub case: &'a Case,
        pub outcome: Outcome,
    }

    #[test]
    fn corpus_against_spark_recorded_answers() {
        let frames = fixture_frames();
        let cases = cases();
        let only = std::env::var("RIFFLE_SQL_CASE").ok().filter(|s| !s.is_empty());
        let runs: Vec<Run<'_>> = cases
            .iter()
            .filter(|c| only.as_ref().is_none_or(|p| c.id.starts_with(p.as_str())))
            .map(|case| Run { case, outcome: run_case(case, &frames) })
            .collect();
        if only.is_some() {
            for r in &runs {
                println!("{} [{}] {}", r.case.id, r.outcome.label(), r.outcome.detail());
            }
            return;
        }
        println!("{}", report(&runs));

        let mut failures = Vec::new();
        let known = known_differences();
        let results: Vec<(&Case, Outcome)> = runs.iter().map(|r| (r.case, r.outcome.clone())).collect();
        failures.extend(unlisted_differences(&results, &known));
        for id in known.keys() {
            match runs.iter().find(|r| &r.case.id == id) {
                None => failures.push(format!("known_differences.txt names {id}, which is not a case of the corpus")),
                Some(r) if !r.outcome.bad() => failures.push(format!(
                    "{id} is now {} ({}): remove its line from known_differences.txt",
                    r.outcome.label(),
                    r.case.place()
                )),
                Some(_) => {}
            }
        }
        let same = runs.iter().filter(|r| matches!(r.outcome, Outcome::Same)).count();
        let share = 100.0 * same as f64 / runs.len() as f64;
        let floor = same_share_floor();
        if share + 1e-9 < floor {
            failures.push(format!(
                "only {share:.1}% of the cases are the same as Spark; same_share.txt asks for at least {floor}%"
            ));
        }

        let docs = docs(&runs);
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/sql.md");
        if std::env::var("RIFFLE_SQL_DOCS").is_ok_and(|v| v == "write") {
            std::fs::write(&path, &docs).unwrap();
            println!("wrote {}", path.display());
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(docs.as_str()) {
            failures.push(
                "docs/sql.md is not what the corpus's outcomes make: regenerate it with RIFFLE_SQL_DOCS=write cargo test -p riffle --test sql_corpus"
                    .into(),
            );
        }
        assert!(failures.is_empty(), "{} problem(s):\n{}", failures.len(), failures.join("\n"));
    }

    fn counts<'a>(runs: impl Iterator<Item = &'a Run<'a>>) -> [usize; 5] {
        let mut out = [0; 5];
        for r in runs {
            out[match r.outcome {
                Outcome::Same => 0,
                Outcome::Refused { good: true, .. } => 1,
                Outcome::Refused { good: false, .. } => 2,
                Outcome::Different(_) => 3,
                Outcome::Panicked(_) => 4,
            }] += 1;
        }
        out
    }

    fn tags<'a>(runs: &'a [Run<'a>]) -> BTreeMap<&'a str, Vec<&'a Run<'a>>> {
        let mut out: BTreeMap<&str, Vec<&Run<'_>>> = BTreeMap::new();
        for r in runs {
            for t in &r.case.tags {
                out.entry(t.as_str()).or_default().push(r);
            }
        }
        out
    }

    /// The table of counts, overall and by feature tag, with every case that is not the same.
    fn report(runs: &[Run<'_>]) -> String {
        let total = counts(runs.iter());
        let mut out = format!(
            "SQL corpus: {} cases: same {}, refused {}, poor refusal {}, different {}, panicked {} ({:.1}% same)\n\n",
            runs.len(),
            total[0],
            total[1],
            total[2],
            total[3],
            total[4],
            100.0 * total[0] as f64 / runs.len() as f64
        );
        out.push_str(&format!(
            "{:<32} {:>5} {:>5} {:>7} {:>5} {:>5} {:>5}\n",
            "tag", "cases", "same", "refused", "poor", "diff", "panic"
        ));
        for (tag, list) in tags(runs) {
            let c = counts(list.iter().copied());
            out.push_str(&format!(
                "{tag:<32} {:>5} {:>5} {:>7} {:>5} {:>5} {:>5}\n",
                list.len(),
                c[0],
                c[1],
                c[2],
                c[3],
                c[4]
            ));
        }
        out.push('\n');
        for r in runs.iter().filter(|r| !matches!(r.outcome, Outcome::Same)) {
            let detail: String = r.outcome.detail().replace('\n', " ").chars().take(240).collect();
            out.push_str(&format!("{:<13} {} ({}): {detail}\n", r.outcome.label(), r.case.id, r.case.place()));
        }
        out
    }

    fn one_line(sql: &str) -> String {
        sql.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "\\|")
    }

    fn cell(text: &str) -> String {
        let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let short: String = text.chars().take(160).collect();
        let short = if short.len() < text.len() { format!("{short}…") } else { short };
        short.replace('|', "\\|")
    }

    /// docs/sql.md: one line per feature tag the corpus exercises.
    pub fn docs(runs: &[Run<'_>]) -> String {
        let total = counts(runs.iter());
        let mut out = String::from(
            "# SQL in the tab: what works like Spark\n\n\
             <!-- Generated by `RIFFLE_SQL_DOCS=write cargo test -p riffle --test sql_corpus` from the\n\
             differential corpus (crate/tests/sql/corpus/*.test); do not edit by hand. -->\n\n\
             Every feature below is exercised by queries in the differential SQL corpus, each run in the\n\
             browser engine and compared with the answer Apache Spark 4.3 gave for it (the same column\n\
             names, type names and rows). A feature is **supported** when all of its cases give Spark's\n\
             answer, **partly** when some do, **refused** when the engine says it does not do it (the\n\
             alternative is the engine's hint), and **differs** when the engine answers but not as Spark\n\
             does. How the suite works: [sql-corpus.md](sql-corpus.md).\n\n",
        );
        out.push_str(&format!(
            "{} cases: {} the same as Spark, {} refused ({} without a useful hint), {} different.\n",
            runs.len(),
            total[0],
            total[1] + total[2],
            total[2],
            total[3] + total[4]
        ));
        let by_tag = tags(runs);
        let mut areas: BTreeMap<&str, Vec<(&str, &Vec<&Run<'_>>)>> = BTreeMap::new();
        for (tag, list) in &by_tag {
            let area = tag.split_once('.').map_or(*tag, |(a, _)| a);
            areas.entry(area).or_default().push((tag, list));
        }
        for (area, tags) in areas {
            out.push_str(&format!(
                "\n## {area}\n\n| feature | status | cases | example, or what to write instead |\n|---|---|---|---|\n"
            ));
            for (tag, list) in tags {
                let c = counts(list.iter().copied());
                let n = list.len();
                let same: Vec<&&Run<'_>> = list.iter().filter(|r| matches!(r.outcome, Outcome::Same)).collect();
                let status = if c[0] == n {
                    "supported".to_string()
                } else if c[0] > 0 {
                    "partly".to_string()
                } else if c[1] + c[2] > 0 {
                    "refused".to_string()
                } else {
                    "differs".to_string()
                };
                let name = tag.split_once('.').map_or(tag, |(_, n)| n);
                let example = if let Some(r) = same.iter().min_by_key(|r| (r.case.sql.len(), r.case.id.as_str())) {
                    format!("`{}`", one_line(&r.case.sql))
                } else {
                    // The refusal that best speaks of this feature: one naming it, then one with a hint.
                    let refusals: Vec<(&str, Option<&str>)> = list
                        .iter()
                        .filter_map(|r| match &r.outcome {
                            Outcome::Refused { message, hint, .. } => Some((message.as_str(), hint.as_deref())),
                            _ => None,
                        })
                        .collect();
                    let names = |(m, h): &(&str, Option<&str>)| {
                        let text = format!("{m} {}", h.unwrap_or_default()).to_lowercase();
                        text.contains(name) || text.contains(&name.replace('_', " "))
                    };
                    let best = refusals
                        .iter()
                        .find(|r| names(r) && r.1.is_some())
                        .or_else(|| refusals.iter().find(|r| names(r)))
                        .or_else(|| refusals.iter().find(|r| r.1.is_some()))
                        .or_else(|| refusals.first());
                    let difference = list.iter().find_map(|r| match &r.outcome {
                        Outcome::Different(d) => Some(d.clone()),
                        Outcome::Panicked(p) => Some(format!("panic: {p}")),
                        _ => None,
                    });
                    match (best, difference) {
                        (Some((_, Some(hint))), _) => cell(hint),
                        (Some((message, None)), _) => {
                            format!("(no hint) {}", cell(message.lines().next().unwrap_or_default()))
                        }
                        (None, Some(d)) => format!("(differs) {}", cell(&d)),
                        (None, None) => String::new(),
                    }
                };
                out.push_str(&format!("| `{name}` | {status} | {} of {n} | {example} |\n", c[0]));
            }
        }
        out
    }

    #[test]
    fn fixtures_are_what_the_generator_makes() {
        assert_eq!(FIXTURE_TABLES, generator::TABLES, "the fixture list in sql_corpus.rs and fixtures.rs");
        let write = std::env::var("RIFFLE_SQL_FIXTURES").is_ok_and(|v| v == "write");
        let dir = dir().join("fixtures");
        let mut stale = Vec::new();
        for table in FIXTURE_TABLES {
            let bytes = generator::parquet(table).unwrap();
            assert!(bytes.len() < 100_000, "{table}.parquet is {} bytes; keep fixtures well under 100 KB", bytes.len());
            let path = dir.join(format!("{table}.parquet"));
            if write {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &bytes).unwrap();
                println!("wrote {} ({} bytes)", path.display(), bytes.len());
            } else if std::fs::read(&path).ok() != Some(bytes) {
                stale.push(table.to_string());
            }
        }
        assert!(
            stale.is_empty(),
            "fixtures differ from the generator: {}; rewrite them with RIFFLE_SQL_FIXTURES=write cargo test -p riffle --test sql_corpus fixtures (then record Spark's answers again)",
            stale.join(", ")
        );
    }

    #[test]
    fn fixture_types_are_sparks() {
        let frames = fixture_frames();
        let types = |t: &str| -> Vec<String> {
            let df = &frames.iter().find(|(n, _)| n == t).unwrap().1;
            df.get_columns().iter().map(|c| format!("{} {}", c.name(), spark_type_name(c.dtype()))).collect()
        };
        assert_eq!(
            types("trips"),
            [
                "trip_id bigint",
                "vendor string",
                "pickup_ts timestamp",
                "dropoff_ts timestamp",
                "pickup_zone_id int",
                "dropoff_zone_id int",
                "passengers int",
                "distance double",
                "fare double",
                "tip double",
                "payment_type string"
            ]
        );
        assert_eq!(
            types("events")[4],
            "payload struct<sword_type:string,price:double,level:int,items:array<struct<name:string,qty:int>>>"
        );
        let trips = &frames[0].1;
        assert_eq!(trips.height(), 240);
        assert!(trips.column("fare").unwrap().null_count() > 0);
    }

    #[test]
    fn corpus_files_are_all_listed() {
        let mut on_disk: Vec<String> = std::fs::read_dir(dir().join("corpus"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".test"))
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = CORPUS_FILES.iter().map(|s| s.to_string()).collect();
        listed.sort();
        assert_eq!(on_disk, listed, "list every corpus file in corpus_files! in sql_corpus.rs");
        assert!(cases().len() >= 280, "the corpus has {} cases", cases().len());
    }

    #[test]
    fn canonical_texts() {
        use corpus::*;
        assert_eq!(timestamp_text(0), "1970-01-01 00:00:00");
        assert_eq!(timestamp_text(1_704_067_200_500_000), "2024-01-01 00:00:00.5");
        assert_eq!(timestamp_text(-1), "1969-12-31 23:59:59.999999");
        assert_eq!(date_text(days_from_civil(2024, 2, 29)), "2024-02-29");
        assert_eq!(Value::decimal(-5, 2).text(), "-0.05");
        assert_eq!(Value::decimal(1250, 2).text(), "12.50");
        assert_eq!(Value::f64(3.0).text(), "3.0");
        assert_eq!(Value::f64(f64::NAN).text(), "\"NaN\"");
        let v = parse_value(r#"[1, -2.50, "a\"b\u00e9", null, true, {"k": [1e3]}]"#).unwrap();
        assert_eq!(v.text(), r#"[1, -2.50, "a\"bé", null, true, {"k": [1e3]}]"#);
        assert!(close(&Value::Number("0.30000000000000004".into()), &Value::Number("0.3".into())));
        assert!(!close(&Value::Number("3".into()), &Value::Number("4".into())));
        let err = CorpusFile::parse("x.test", "query a\ntags: window.rank\ntables: trips\nSELECT 1\n").err().unwrap();
        assert_eq!(err, "x.test:1: the case has no `----` line after its query");
        let err = CorpusFile::parse("x.test", "query a\ntags: rank\n").err().unwrap();
        assert!(err.starts_with("x.test:2: the tag `rank`"), "{err}");
        let text = "# c\nquery a ordered\ntags: a.b\ntables: trips\nSELECT 1 AS x\n----\n[[\"x\", \"int\"]]\n[1]\n\nquery b\ntags: a.c\ntables:\nSELECT 2\n----\n";
        let file = CorpusFile::parse("x.test", text).unwrap();
        assert_eq!(file.cases.len(), 2);
        assert!(file.cases[0].ordered && file.cases[1].answer.is_none());
        assert_eq!(file.with_answers(&[]), text);
        let answer = Answer::Error("DIVIDE_BY_ZERO".into());
        assert_eq!(file.with_answers(&[(1, answer)]), format!("{text}error: DIVIDE_BY_ZERO\n"));
        assert_eq!(spark_error_class("[DIVIDE_BY_ZERO] Division by zero. SQLSTATE: 22012"), "DIVIDE_BY_ZERO");
    }
}
