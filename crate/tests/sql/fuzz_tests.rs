//! Fuzzing the SQL path (native only): queries from the generator in
//! `fuzz.rs` run in the engine over the fixtures.
//!
//! - `fuzz_queries_never_panic`: seeds `RIFFLE_SQL_FUZZ_START..` (default 0),
//!   `RIFFLE_SQL_FUZZ_CASES` of them (default 2000); an answer and a refusal
//!   are both fine, a panic fails the test. `RIFFLE_SQL_FUZZ_VERBOSE=1`
//!   prints every query and its outcome; `RIFFLE_SQL_FUZZ_QUERY=<sql>` runs
//!   only that query and prints the engine's answer (for narrowing down).
//! - `fuzz_sample_against_spark`: the recorded sample `fuzz/sample.test`
//!   (seeds 300..1300, Spark's answers recorded by
//!   `worker/tests/sql_corpus.rs`) must give Spark's answers: a *different*
//!   case fails unless `fuzz/known_differences.txt` lists it.
//! - `fuzz_sample_is_what_the_generator_makes`: the sample's queries are the
//!   generator's; `RIFFLE_SQL_FUZZ_SAMPLE=write` rewrites the file, keeping
//!   the answers of unchanged cases (record the others on Spark afterwards).

use std::time::{Duration, Instant};

use super::corpus::{Answer, CorpusFile};
use super::fuzz::{Generated, generate};
use super::*;

/// The seeds of the recorded sample.
pub const SAMPLE_SEEDS: std::ops::Range<u64> = 300..1300;
const SAMPLE: &str = "fuzz/sample.test";

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().unwrap_or_else(|_| panic!("{name}={v} is not a number")),
        _ => default,
    }
}

fn short(text: &str, n: usize) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > n { format!("{}…", one.chars().take(n).collect::<String>()) } else { one }
}

#[test]
fn fuzz_queries_never_panic() {
    let start = env_u64("RIFFLE_SQL_FUZZ_START", 0);
    let n = env_u64("RIFFLE_SQL_FUZZ_CASES", 2000);
    let verbose = std::env::var("RIFFLE_SQL_FUZZ_VERBOSE").is_ok_and(|v| !v.is_empty() && v != "0");
    let frames = fixture_frames();
    if let Ok(sql) = std::env::var("RIFFLE_SQL_FUZZ_QUERY") {
        // One query of one's own, for narrowing a failure down.
        match engine_answer(&sql, &frames) {
            Ok(Ok(t)) => println!("{}", Answer::Table(t).lines().join("\n")),
            Ok(Err(e)) => println!("refused: {} (hint: {:?})", e.message, e.hint),
            Err(p) => println!("PANICKED: {p}"),
        }
        return;
    }
    let started = Instant::now();
    let (mut answered, mut refused) = (0, 0);
    let mut panics = Vec::new();
    let mut slowest = (Duration::ZERO, 0);
    for seed in start..start + n {
        let q = generate(seed);
        let t = Instant::now();
        let result = engine_answer(&q.sql, &frames);
        let took = t.elapsed();
        if took > slowest.0 {
            slowest = (took, seed);
        }
        let outcome = match result {
            Ok(Ok(table)) => {
                answered += 1;
                format!("answered, {} rows", table.rows.len())
            }
            Ok(Err(e)) => {
                refused += 1;
                format!("refused: {}", short(&e.message, 200))
            }
            Err(p) => {
                let p = short(&p, 300);
                panics.push(format!("seed {seed} panicked: {p}\n{}\n", q.sql));
                format!("PANICKED: {p}")
            }
        };
        if verbose {
            println!("-- seed {seed}: {outcome}\n{}\n", q.sql);
        }
    }
    println!(
        "SQL fuzz: {n} queries (seeds {start}..{}) in {:.1} s: answered {answered}, refused {refused}, panicked {}; slowest {:.0} ms (seed {})",
        start + n,
        started.elapsed().as_secs_f64(),
        panics.len(),
        slowest.0.as_secs_f64() * 1000.0,
        slowest.1
    );
    assert!(panics.is_empty(), "{} generated queries panicked the engine:\n{}", panics.len(), panics.join("\n"));
}

fn sample_path() -> std::path::PathBuf {
    dir().join(SAMPLE)
}

fn sample_file() -> CorpusFile {
    let text = std::fs::read_to_string(sample_path())
        .unwrap_or_else(|e| panic!("{SAMPLE}: {e}; write it with RIFFLE_SQL_FUZZ_SAMPLE=write"));
    let file = CorpusFile::parse(SAMPLE, &text).unwrap_or_else(|e| panic!("{e}"));
    for c in &file.cases {
        if let Some(t) = c.tables.iter().find(|t| !FIXTURE_TABLES.contains(&t.as_str())) {
            panic!("{}: {t} is not a fixture table", c.place());
        }
    }
    file
}

fn seed_of(id: &str) -> Option<u64> {
    id.strip_prefix("fuzz.q")?.parse().ok()
}

const SAMPLE_HEADER: &str = "\
# A sample of the SQL fuzzer's queries (crate/tests/sql/fuzz.rs, seeds 300..1300) with Spark's answers.
# Generated: RIFFLE_SQL_FUZZ_SAMPLE=write cargo test -p riffle --test sql_corpus fuzz_sample_is
# (keeps the answers of unchanged cases); answers recorded by worker/tests/sql_corpus.rs
# (RIFFLE_SQL_RECORD=1). Not part of docs/sql.md. Do not edit by hand.
";

#[test]
fn fuzz_sample_is_what_the_generator_makes() {
    let wanted: Vec<Generated> = SAMPLE_SEEDS.map(generate).collect();
    let existing = std::fs::read_to_string(sample_path()).ok().and_then(|t| CorpusFile::parse(SAMPLE, &t).ok());
    let unchanged = |g: &Generated| -> Option<Answer> {
        let file = existing.as_ref()?;
        let c = file.cases.iter().find(|c| c.id == g.id())?;
        let same = c.sql == g.sql && c.ordered == g.ordered && c.tags == g.tags && c.tables == g.tables;
        if same { c.answer.clone() } else { None }
    };
    if std::env::var("RIFFLE_SQL_FUZZ_SAMPLE").is_ok_and(|v| v == "write") {
        let mut out = String::from(SAMPLE_HEADER);
        let mut kept = 0;
        for g in &wanted {
            out.push('\n');
            out.push_str(&g.case_text());
            if let Some(a) = unchanged(g) {
                kept += 1;
                for line in a.lines() {
                    out.push_str(&line);
                    out.push('\n');
                }
            }
        }
        std::fs::create_dir_all(sample_path().parent().unwrap()).unwrap();
        std::fs::write(sample_path(), out).unwrap();
        println!("wrote {} ({} cases, {kept} answers kept)", sample_path().display(), wanted.len());
        return;
    }
    let file = sample_file();
    let ids: Vec<String> = file.cases.iter().map(|c| c.id.clone()).collect();
    let want_ids: Vec<String> = wanted.iter().map(Generated::id).collect();
    assert_eq!(ids, want_ids, "{SAMPLE}: rewrite it with RIFFLE_SQL_FUZZ_SAMPLE=write");
    let stale: Vec<String> = file
        .cases
        .iter()
        .zip(&wanted)
        .filter(|(c, g)| c.sql != g.sql || c.ordered != g.ordered || c.tags != g.tags || c.tables != g.tables)
        .map(|(c, _)| c.id.clone())
        .collect();
    assert!(
        stale.is_empty(),
        "{} case(s) of {SAMPLE} are not what the generator makes (e.g. {}): rewrite it with RIFFLE_SQL_FUZZ_SAMPLE=write cargo test -p riffle --test sql_corpus fuzz_sample_is, then record Spark's answers",
        stale.len(),
        stale.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
    );
}

#[test]
fn fuzz_sample_against_spark() {
    let file = sample_file();
    let frames = fixture_frames();
    let known_text = std::fs::read_to_string(dir().join("fuzz/known_differences.txt")).unwrap_or_default();
    let known = known_list(&known_text);
    let missing: Vec<&str> = file.cases.iter().filter(|c| c.answer.is_none()).map(|c| c.id.as_str()).collect();
    assert!(
        missing.is_empty(),
        "{} case(s) of {SAMPLE} have no recorded answer (e.g. {}): record them with RIFFLE_SPARK=sc://127.0.0.1:15002 RIFFLE_SQL_RECORD=1 cargo test -p riffle-gateway --test sql_corpus",
        missing.len(),
        missing.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
    );
    let started = Instant::now();
    let results: Vec<(&Case, Outcome)> = file.cases.iter().map(|c| (c, run_case(c, &frames))).collect();
    let spark_refused = |c: &Case| matches!(c.answer, Some(Answer::Error(_)));
    let mut counts = [0usize; 5];
    for (c, o) in &results {
        counts[match o {
            Outcome::Same if spark_refused(c) => 1,
            Outcome::Same => 0,
            Outcome::Refused { .. } => 2,
            Outcome::Different(_) => 3,
            Outcome::Panicked(_) => 4,
        }] += 1;
    }
    println!(
        "SQL fuzz sample: {} cases in {:.1} s: same {} (and {} refused by both), refused by the engine {}, different {}, panicked {}",
        results.len(),
        started.elapsed().as_secs_f64(),
        counts[0],
        counts[1],
        counts[2],
        counts[3],
        counts[4]
    );
    for (c, o) in &results {
        if !matches!(o, Outcome::Same) {
            println!("{:<13} {} ({}): {}", o.label(), c.id, c.place(), short(&o.detail(), 300));
        }
    }
    let mut failures = unlisted_differences(&results, &known);
    for id in known.keys() {
        match results.iter().find(|(c, _)| &c.id == id) {
            None => failures.push(format!("fuzz/known_differences.txt names {id}, which is not a case of {SAMPLE}")),
            Some((c, o)) if !o.bad() => failures.push(format!(
                "{id} is now {} ({}): remove its line from fuzz/known_differences.txt",
                o.label(),
                c.place()
            )),
            Some(_) => {}
        }
    }
    let failures: Vec<String> = failures
        .into_iter()
        .map(|f| {
            let id = f.split_whitespace().next().unwrap_or_default();
            match file.cases.iter().find(|c| c.id == id) {
                Some(c) => format!("{f}\n{}\n", c.sql),
                None => f,
            }
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} fuzzed case(s) differ from Spark (an engine bug each; fuzz/known_differences.txt lists the ones allowed today):\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The seeds are the generator's: checked by fuzz_sample_is_what_the_generator_makes.
    assert!(file.cases.iter().all(|c| seed_of(&c.id).is_some_and(|s| SAMPLE_SEEDS.contains(&s))));
}
