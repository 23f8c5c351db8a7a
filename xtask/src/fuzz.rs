//! `cargo xtask fuzz [--total N | --cases N]`: the property tests of the
//! parsers that take user or network input (`crate/tests/props.rs`,
//! `worker/src/props.rs`), each property on its own with many cases, and a
//! table of what ran.
//!
//! The cases are `--total` (1,000,000 by default) shared evenly by the
//! properties, or `--cases` for each; they reach the tests as
//! `RIFFLE_FUZZ_CASES`. Tests inside a `checks` module are plain tests, not
//! properties, and are left to `cargo test`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::Xtask;

/// One test binary with properties in it.
struct Binary {
    /// The table's name for it.
    label: &'static str,
    /// `cargo test` arguments that build (and name) it.
    args: &'static [&'static str],
    /// The package directory (a test binary runs there under `cargo test`).
    dir: &'static str,
    /// Only the tests whose names start with this.
    prefix: &'static str,
}

const BINARIES: &[Binary] = &[
    Binary { label: "riffle", args: &["-p", "riffle", "--test", "props"], dir: "crate", prefix: "" },
    Binary { label: "gateway", args: &["-p", "riffle-gateway", "--lib"], dir: "worker", prefix: "props::" },
];

const DEFAULT_TOTAL: u64 = 1_000_000;

struct Row {
    target: String,
    cases: u64,
    seconds: f64,
    failed: bool,
}

pub(crate) fn run(x: &Xtask, args: &[String]) -> Result<()> {
    let (total, per_target) = parse_args(args)?;
    let mut targets: Vec<(&Binary, PathBuf, String)> = Vec::new();
    for binary in BINARIES {
        let exe = build(x, binary)?;
        for name in list(x, binary, &exe)? {
            targets.push((binary, exe.clone(), name));
        }
    }
    if targets.is_empty() {
        bail!("no property tests found");
    }
    let cases = per_target.unwrap_or_else(|| total.div_ceil(targets.len() as u64).max(1));
    eprintln!("\n==> {} properties, {cases} cases each", targets.len());
    let logs = x.target.join("fuzz");
    std::fs::create_dir_all(&logs).with_context(|| format!("could not create {}", logs.display()))?;

    let mut rows = Vec::new();
    for (binary, exe, name) in &targets {
        let target = format!("{}: {name}", binary.label);
        eprint!("{target} ... ");
        let started = Instant::now();
        let output = Command::new(exe)
            .current_dir(x.root.join(binary.dir))
            .env("RIFFLE_FUZZ_CASES", cases.to_string())
            .args(["--exact", name, "--test-threads", "1"])
            .output()
            .with_context(|| format!("could not run {}", exe.display()))?;
        let seconds = started.elapsed().as_secs_f64();
        // `--exact` with a name that matches nothing passes too: a property must have run.
        let ran = String::from_utf8_lossy(&output.stdout).contains("test result: ok. 1 passed");
        let failed = !output.status.success() || !ran;
        eprintln!("{} in {seconds:.1} s", if failed { "FAILED" } else { "ok" });
        if failed {
            let log = logs.join(format!("{}-{}.log", binary.label, name.replace("::", "-")));
            let mut text = output.stdout.clone();
            text.extend_from_slice(&output.stderr);
            std::fs::write(&log, &text).with_context(|| format!("could not write {}", log.display()))?;
            let text = String::from_utf8_lossy(&text);
            for line in text
                .lines()
                .filter(|l| ["minimal failing input", "Test failed", "Test aborted"].iter().any(|m| l.contains(m)))
            {
                eprintln!("    {line}");
            }
            eprintln!("    the whole output: {}", log.display());
        }
        rows.push(Row { target, cases, seconds, failed });
    }
    print_table(&rows);
    let failures = rows.iter().filter(|r| r.failed).count();
    if failures > 0 {
        bail!("{failures} of {} properties failed", rows.len());
    }
    Ok(())
}

/// `--total N` or `--cases N` (underscores and commas allowed in N).
fn parse_args(args: &[String]) -> Result<(u64, Option<u64>)> {
    let mut total = DEFAULT_TOTAL;
    let mut per_target = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let number = |value: Option<&String>| -> Result<u64> {
            let value = value.with_context(|| format!("{arg} needs a number"))?;
            let n: u64 =
                value.replace(['_', ','], "").parse().with_context(|| format!("{arg} {value}: not a whole number"))?;
            if n == 0 {
                bail!("{arg} must be at least 1");
            }
            Ok(n)
        };
        match arg.as_str() {
            "--total" => total = number(args.next())?,
            "--cases" => per_target = Some(number(args.next())?),
            other => bail!("unknown option {other}: cargo xtask fuzz [--total N | --cases N]"),
        }
    }
    Ok((total, per_target))
}

/// Builds the binary and returns its path (from cargo's `Executable` line).
fn build(x: &Xtask, binary: &Binary) -> Result<PathBuf> {
    let what = format!("build the {} property tests", binary.label);
    eprintln!("\n==> {what}");
    let output = x
        .cmd("cargo")
        .args(["test", "--no-run"])
        .args(binary.args)
        .stdout(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("could not start: {what}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprint!("{stderr}");
    if !output.status.success() {
        bail!("{what} failed ({})", output.status);
    }
    stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("Executable"))
        .filter_map(|l| l.rsplit_once('(').and_then(|(_, p)| p.strip_suffix(')')))
        .map(PathBuf::from)
        .next_back()
        .with_context(|| format!("{what}: cargo named no test executable"))
}

/// The binary's properties: its tests under the prefix, not ignored, not in a `checks` module.
fn list(x: &Xtask, binary: &Binary, exe: &Path) -> Result<Vec<String>> {
    let names = |ignored: bool| -> Result<Vec<String>> {
        let mut c = Command::new(exe);
        c.current_dir(x.root.join(binary.dir)).args(["--list", "--format", "terse"]);
        if ignored {
            c.arg("--ignored");
        }
        let output = c.output().with_context(|| format!("could not list the tests of {}", exe.display()))?;
        if !output.status.success() {
            bail!("{} --list failed ({})", exe.display(), output.status);
        }
        Ok(String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|l| l.strip_suffix(": test"))
            .filter(|n| n.starts_with(binary.prefix))
            .map(str::to_string)
            .collect())
    };
    let ignored = names(true)?;
    Ok(names(false)?
        .into_iter()
        .filter(|n| !ignored.contains(n) && !n.split("::").any(|part| part == "checks"))
        .collect())
}

fn print_table(rows: &[Row]) {
    let width = rows.iter().map(|r| r.target.len()).max().unwrap_or(0).max("target".len());
    println!();
    println!("{:width$}  {:>10}  {:>8}  {:>8}", "target", "cases", "seconds", "failures");
    for r in rows {
        println!("{:width$}  {:>10}  {:>8.1}  {:>8}", r.target, thousands(r.cases), r.seconds, u8::from(r.failed));
    }
    let cases: u64 = rows.iter().map(|r| r.cases).sum();
    let seconds: f64 = rows.iter().map(|r| r.seconds).sum();
    let failures = rows.iter().filter(|r| r.failed).count();
    println!("{:width$}  {:>10}  {seconds:>8.1}  {failures:>8}", "total", thousands(cases));
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
