//! `cargo xtask <command>`: Riffle's dev workflows.
//!
//! - `serve`: set up, build the UI bundle, and serve the notebook on 127.0.0.1:8080.
//! - `test`: set up, check formatting, lints and the code map, then run every
//!   test: native, wasm in Chromium, end to end.
//! - `tidy`: every source file is named in ARCHITECTURE.md's code map.
//! - `fuzz`: the parsers' property tests with many cases (`--total N`, 1,000,000 by
//!   default, shared by the properties, or `--cases N` each), and a table of the runs.
//! - `bench`: W0 and W1 natively and in the browser worker, with the ratio;
//!   W2 (a Kafka topic into the browser worker) against `kcat -C -e`.
//! - `kafka`: start (or stop, restart, status, reset) a local Apache Kafka broker.
//! - `hdfs`: start (or stop, restart, status, reset) a local HDFS (NameNode + DataNode, WebHDFS).
//! - `spark`: start (or stop, ...) a local Spark Connect server on sc://127.0.0.1:15002, with
//!   `cargo xtask hdfs`'s HDFS as its default file system (`riffle serve --spark sc://127.0.0.1:15002`).
//! - `build`: the UI bundle only (`dist/`).
//! - `bootstrap`: install what is missing (scripts/bootstrap.sh).
//! - `samples`: regenerate the bundled sample data.
//! - `sizes`: the bundle's wasm sizes, raw, gzipped, and after wasm-opt (slow: ~30 min for the engine).
//!
//! Tools and build outputs go to a cache outside the clone
//! (`RIFFLE_CACHE`, by default `~/.cache/riffle`).

mod fuzz;
mod samples;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    // `cargo xtask serve -- --port 9000`: the `--` is for cargo's habit, not for us.
    let rest: Vec<String> = args.skip_while(|a| a == "--").collect();
    let x = Xtask::new()?;
    match command.as_str() {
        "bootstrap" => x.bootstrap(),
        "samples" => samples::write_all(&x.root),
        "build" => x.bootstrap().and_then(|()| x.build_ui()),
        "serve" => x.serve(&rest),
        "test" => x.test(),
        "tidy" => tidy::check(&x.root),
        "fuzz" => fuzz::run(&x, &rest),
        "bench" => x.bench(&rest),
        "sizes" => x.sizes(&rest),
        "screenshots" => x.screenshots(),
        "examples" => x.examples(),
        "kafka" => x.kafka(rest.first().map(String::as_str).unwrap_or("start"), DEV_KAFKA_PORT),
        "hdfs" => x.hdfs(rest.first().map(String::as_str).unwrap_or("start"), DEV_HDFS_HTTP_PORT),
        "spark" => x.spark(rest.first().map(String::as_str).unwrap_or("start"), 15002, 4040, DEV_HDFS_HTTP_PORT),
        _ => {
            eprintln!(
                "usage: cargo xtask <serve|test|tidy|fuzz [--total N|--cases N]|bench|build|bootstrap|samples|sizes|screenshots|examples\
                 |kafka [start|stop|restart|status|reset]|hdfs [start|stop|restart|status|reset]\
                 |spark [start|stop|restart|status|reset]>"
            );
            std::process::exit(2);
        }
    }
}

/// The broker `cargo xtask kafka` starts for trying Riffle (the gateway's default).
const DEV_KAFKA_PORT: u16 = 9092;
/// The broker the tests and benchmarks start, apart from a developer's own
/// (`RIFFLE_TEST_KAFKA_PORT` picks another, e.g. for a second checkout's run).
const TEST_KAFKA_PORT: u16 = 19092;
/// The NameNode HTTP (WebHDFS) port of the HDFS `cargo xtask hdfs` starts
/// (Hadoop's default, and what `riffle serve --hdfs http://127.0.0.1:9870` expects).
const DEV_HDFS_HTTP_PORT: u16 = 9870;
/// The HDFS the tests and benchmarks start, apart from a developer's own
/// (its other ports follow: RPC 18020, DataNode 19864, 19866, 19867;
/// `RIFFLE_TEST_HDFS_PORT` picks another, at least 10 apart from any other HDFS).
const TEST_HDFS_HTTP_PORT: u16 = 19870;

/// The Spark Connect server the tests and benchmarks start, apart from a
/// developer's own on 15002 (`RIFFLE_TEST_SPARK_PORT` picks another); its web
/// UI and REST API are on `TEST_SPARK_UI_PORT`.
const TEST_SPARK_PORT: u16 = 15102;
const TEST_SPARK_UI_PORT: u16 = 14140;

struct Xtask {
    root: PathBuf,
    cache: PathBuf,
    target: PathBuf,
    path: String,
    /// The test broker's port and the test HDFS's NameNode HTTP port.
    test_kafka_port: u16,
    test_hdfs_port: u16,
    test_spark_port: u16,
}

/// A port from the environment, or the default.
fn port_from_env(var: &str, default: u16) -> Result<u16> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().with_context(|| format!("{var}={v} is not a port")),
        _ => Ok(default),
    }
}

impl Xtask {
    fn new() -> Result<Xtask> {
        // `cargo run` sets CARGO_MANIFEST_DIR for the running program: the
        // checkout being worked on, even when several checkouts share one
        // target directory (and so one uplifted xtask binary).
        let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        let root = manifest.parent().context("xtask has no parent")?.to_path_buf();
        let cache = match std::env::var_os("RIFFLE_CACHE") {
            Some(c) => PathBuf::from(c),
            None => PathBuf::from(std::env::var_os("HOME").context("HOME is not set")?).join(".cache/riffle"),
        };
        let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| cache.join("target"));
        let tools = cache.join("tools/bin");
        let path = format!("{}:{}", tools.display(), std::env::var("PATH").unwrap_or_default());
        let test_kafka_port = port_from_env("RIFFLE_TEST_KAFKA_PORT", TEST_KAFKA_PORT)?;
        let test_hdfs_port = port_from_env("RIFFLE_TEST_HDFS_PORT", TEST_HDFS_HTTP_PORT)?;
        let test_spark_port = port_from_env("RIFFLE_TEST_SPARK_PORT", TEST_SPARK_PORT)?;
        Ok(Xtask { root, cache, target, path, test_kafka_port, test_hdfs_port, test_spark_port })
    }

    /// A command run in the checkout with the pinned tools first on PATH.
    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.current_dir(&self.root)
            .env("PATH", &self.path)
            .env("CARGO_TARGET_DIR", &self.target)
            .env("CHROMEDRIVER", std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into()))
            .env("WASM_BINDGEN_TEST_TIMEOUT", "600");
        c
    }

    fn run(&self, what: &str, command: &mut Command) -> Result<()> {
        eprintln!("\n==> {what}");
        let started = Instant::now();
        let status = command.status().with_context(|| format!("could not start: {what}"))?;
        eprintln!("<== {what}: {:.0} s", started.elapsed().as_secs_f64());
        if !status.success() {
            bail!("{what} failed ({status})");
        }
        Ok(())
    }

    fn bootstrap(&self) -> Result<()> {
        let mut c = self.cmd("bash");
        c.arg("scripts/bootstrap.sh");
        self.run("bootstrap: toolchain, trunk, wasm-bindgen-cli, chromium", &mut c)
    }

    /// The UI bundle: `dist/` with the app and the engine worker.
    fn build_ui(&self) -> Result<()> {
        // Trunk runs cargo with --offline (Trunk.toml): fetch the crates first.
        let mut c = self.cmd("cargo");
        c.args(["fetch", "--quiet"]);
        self.run("cargo fetch (crates for the offline trunk build)", &mut c)?;
        // The cell editor's JavaScript (CodeMirror 6), which the UI's wasm imports.
        let mut c = self.cmd("bash");
        c.arg("scripts/editor.sh");
        self.run("scripts/editor.sh (CodeMirror bundle, www/editor/dist)", &mut c)?;
        let mut c = self.cmd("trunk");
        c.args(["build", "--release"]);
        self.run("trunk build --release (UI + engine worker)", &mut c)?;
        // Each bundle carries only its own engine: Polars in the worker, arrow-rs and Leptos in the UI.
        for (wasm, forbidden) in
            [("app_bg.wasm", ["polars_core", "polars-core"]), ("engine_bg.wasm", ["arrow_ipc", "leptos"])]
        {
            let bytes = std::fs::read(self.root.join("dist").join(wasm)).with_context(|| format!("dist/{wasm}"))?;
            eprintln!("    dist/{wasm}: {:.1} MB", bytes.len() as f64 / 1e6);
            for word in forbidden {
                if bytes.windows(word.len()).any(|w| w == word.as_bytes()) {
                    bail!("dist/{wasm} contains `{word}`: a dependency leaked into the wrong bundle");
                }
            }
        }
        Ok(())
    }

    fn gateway_bin(&self) -> PathBuf {
        self.target.join("debug/riffle")
    }

    fn build_gateway(&self) -> Result<()> {
        let mut c = self.cmd("cargo");
        c.args(["build", "-p", "riffle-gateway"]);
        self.run("build the gateway", &mut c)
    }

    fn serve(&self, extra: &[String]) -> Result<()> {
        self.bootstrap()?;
        self.build_ui()?;
        self.build_gateway()?;
        let mut c = self.cmd(&self.gateway_bin().to_string_lossy());
        c.arg("serve").args(extra);
        self.run("riffle serve", &mut c)
    }

    /// Runs scripts/kafka.sh (a real broker from Maven Central's jars).
    fn kafka(&self, action: &str, port: u16) -> Result<()> {
        let mut c = self.cmd("bash");
        c.arg("scripts/kafka.sh").arg(action).env("KAFKA_PORT", port.to_string());
        self.run(&format!("kafka {action} (127.0.0.1:{port})"), &mut c)
    }

    /// A fresh broker for tests and benchmarks, stopped when the guard drops.
    fn test_broker(&self) -> Result<BrokerGuard<'_>> {
        self.kafka("reset", self.test_kafka_port)?;
        let started = Instant::now();
        self.kafka("start", self.test_kafka_port)?;
        eprintln!("    Kafka broker start time: {:.1} s", started.elapsed().as_secs_f64());
        Ok(BrokerGuard(self))
    }

    /// Runs scripts/hdfs.sh (a real NameNode and DataNode from Maven Central's jars).
    fn hdfs(&self, action: &str, http_port: u16) -> Result<()> {
        let mut c = self.cmd("bash");
        c.arg("scripts/hdfs.sh").arg(action).env("HDFS_HTTP_PORT", http_port.to_string());
        self.run(&format!("hdfs {action} (webhdfs http://127.0.0.1:{http_port})"), &mut c)
    }

    /// A fresh, empty HDFS for tests and benchmarks, stopped when the guard drops.
    fn test_hdfs(&self) -> Result<HdfsGuard<'_>> {
        self.hdfs("reset", self.test_hdfs_port)?;
        // The jars come from Maven Central once (a fresh machine); the start
        // time below is then the daemons' own.
        self.hdfs("fetch", self.test_hdfs_port)?;
        // From here on a failure (a start that times out) still stops what began.
        let guard = HdfsGuard(self);
        let started = Instant::now();
        self.hdfs("start", self.test_hdfs_port)?;
        eprintln!("    HDFS start time: {:.1} s", started.elapsed().as_secs_f64());
        Ok(guard)
    }

    /// Runs scripts/spark.sh (Spark Connect from pip's pyspark, the Kafka
    /// connector from Maven Central), with `hdfs_http_port`'s HDFS as Spark's
    /// default file system, so `hdfs:///x` is the same file in both engines.
    fn spark(&self, action: &str, port: u16, ui_port: u16, hdfs_http_port: u16) -> Result<()> {
        let mut c = self.cmd("bash");
        c.arg("scripts/spark.sh")
            .arg(action)
            .env("SPARK_CONNECT_PORT", port.to_string())
            .env("SPARK_UI_PORT", ui_port.to_string())
            // The NameNode's RPC port, as scripts/hdfs.sh derives it.
            .env("SPARK_HDFS", format!("hdfs://127.0.0.1:{}", hdfs_http_port - 1850));
        self.run(&format!("spark {action} (sc://127.0.0.1:{port})"), &mut c)
    }

    /// A fresh Spark Connect server for tests and benchmarks, stopped when the guard drops.
    fn test_spark(&self) -> Result<SparkGuard<'_>> {
        self.spark("reset", self.test_spark_port, TEST_SPARK_UI_PORT, self.test_hdfs_port)?;
        // pip and Maven once (a fresh machine); the start time below is then Spark's own.
        self.spark("install", self.test_spark_port, TEST_SPARK_UI_PORT, self.test_hdfs_port)?;
        let guard = SparkGuard(self);
        let started = Instant::now();
        self.spark("start", self.test_spark_port, TEST_SPARK_UI_PORT, self.test_hdfs_port)?;
        eprintln!("    Spark Connect start time: {:.1} s", started.elapsed().as_secs_f64());
        Ok(guard)
    }

    /// The environment that points tests at the test Spark.
    fn spark_env(&self, c: &mut Command) {
        c.env("RIFFLE_SPARK", format!("sc://127.0.0.1:{}", self.test_spark_port))
            .env("RIFFLE_SPARK_UI", format!("http://127.0.0.1:{TEST_SPARK_UI_PORT}"))
            .env("RIFFLE_KAFKA_BOOTSTRAP", format!("127.0.0.1:{}", self.test_kafka_port));
        if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false")) {
            c.env("RIFFLE_REQUIRE_SPARK", "1");
        }
    }

    /// Runs scripts/python.sh: a venv with pip's nbformat, for the .ipynb
    /// schema test. Returns the venv's python.
    fn python(&self) -> Result<PathBuf> {
        let what = "python venv with nbformat (scripts/python.sh)";
        eprintln!("\n==> {what}");
        let output = self
            .cmd("bash")
            .arg("scripts/python.sh")
            .stderr(std::process::Stdio::inherit())
            .output()
            .with_context(|| format!("could not start: {what}"))?;
        if !output.status.success() {
            bail!("{what} failed ({})", output.status);
        }
        let python = String::from_utf8(output.stdout).context("scripts/python.sh printed a path that is not UTF-8")?;
        let python = PathBuf::from(python.trim());
        if !python.exists() {
            bail!("scripts/python.sh printed {}, which does not exist", python.display());
        }
        Ok(python)
    }

    /// The code map, then clippy with warnings denied, natively and for
    /// wasm32: each a step named after the command that shows the failure.
    fn checks(&self) -> Result<()> {
        eprintln!("\n==> cargo xtask tidy (ARCHITECTURE.md names every source file)");
        tidy::check(&self.root).context("cargo xtask tidy")?;
        let deny = ["--", "-D", "warnings"];
        let wasm = ["--target", "wasm32-unknown-unknown"];
        let mut c = self.cmd("cargo");
        c.args(["clippy", "--workspace", "--all-targets"]).args(deny);
        self.run("cargo clippy --workspace --all-targets -- -D warnings", &mut c)?;
        let mut c = self.cmd("cargo");
        c.args(["clippy", "-p", "riffle"]).args(wasm).args(deny);
        self.run("cargo clippy -p riffle --target wasm32-unknown-unknown -- -D warnings", &mut c)?;
        // The UI's wasm imports the editor bundle, which must exist before it compiles.
        let mut c = self.cmd("bash");
        c.arg("scripts/editor.sh");
        self.run("scripts/editor.sh (CodeMirror bundle, www/editor/dist)", &mut c)?;
        let mut c = self.cmd("cargo");
        c.args(["clippy", "-p", "riffle-www", "--features", "ui", "--bin", "app"]).args(wasm).args(deny);
        self.run(
            "cargo clippy -p riffle-www --features ui --bin app --target wasm32-unknown-unknown -- -D warnings",
            &mut c,
        )?;
        let mut c = self.cmd("cargo");
        c.args(["clippy", "-p", "riffle-www", "--features", "engine", "--bin", "engine"]).args(wasm).args(deny);
        self.run(
            "cargo clippy -p riffle-www --features engine --bin engine --target wasm32-unknown-unknown -- -D warnings",
            &mut c,
        )
    }

    fn test(&self) -> Result<()> {
        let started = Instant::now();
        let mut c = self.cmd("cargo");
        c.args(["fmt", "--all", "--check"]);
        self.run("cargo fmt --all --check (to fix: cargo fmt --all)", &mut c)?;
        self.bootstrap()?;
        self.checks()?;
        let mut c = self.cmd("cargo");
        c.args(["test", "-p", "riffle", "-p", "riffle-gateway"]);
        self.run("native tests: core and gateway", &mut c)?;
        let mut c = self.cmd("cargo");
        c.args(["test", "-p", "riffle-www", "--lib"]);
        self.run("native tests: the browser bundle's pure helpers (file panel paths)", &mut c)?;

        // The same engine tests in headless Chromium, in a dedicated worker.
        // Release, so that Polars' wasm build is shared with the trunk bundle.
        let mut c = self.cmd("cargo");
        let wasm = ["--release", "--target", "wasm32-unknown-unknown"];
        c.args(["test", "-p", "riffle"]).args(wasm).args([
            "--test",
            "engine",
            "--test",
            "csv",
            "--test",
            "readers",
            "--test",
            "sql_corpus",
        ]);
        c.current_dir(self.root.join("crate"));
        self.run("engine tests in Chromium (wasm32, dedicated worker)", &mut c)?;

        self.build_ui()?;
        self.build_gateway()?;
        let mut c = self.cmd("cargo");
        c.args(["build", "-p", "riffle-tests", "--tests"]);
        self.run("build the end-to-end tests", &mut c)?;
        let python = self.python()?;
        let _broker = self.test_broker()?;
        let _hdfs = self.test_hdfs()?;
        let _spark = self.test_spark()?;
        let mut c = self.cmd("cargo");
        // The gateway's Spark tests, and the differential SQL corpus: Spark's
        // answers must still be the recorded ones (crate/tests/sql/corpus).
        c.args([
            "test",
            "-p",
            "riffle-gateway",
            "--test",
            "spark",
            "--test",
            "spark_tls",
            "--test",
            "spark_reads",
            "--test",
            "sql_corpus",
        ]);
        self.spark_env(&mut c);
        self.run("gateway tests against the real Spark Connect server", &mut c)?;
        let mut c = self.cmd("cargo");
        c.args(["test", "-p", "riffle-tests", "--test", "e2e"]);
        self.spark_env(&mut c);
        c.env("RIFFLE_PYTHON", python)
            .env("RIFFLE_KAFKA_BOOTSTRAP", format!("127.0.0.1:{}", self.test_kafka_port))
            .env("RIFFLE_HDFS", format!("http://127.0.0.1:{}", self.test_hdfs_port))
            .env("RIFFLE_BIN", self.gateway_bin())
            .env("RIFFLE_DIST", self.root.join("dist"))
            .env("RIFFLE_REPO", &self.root);
        self.run("end-to-end tests: gateway + Chromium", &mut c)?;
        // Alone, once the suite is done: it restarts a broker of its own.
        let mut c = self.cmd("cargo");
        c.args(["test", "-p", "riffle-tests", "--test", "e2e", "--", "--ignored", "--exact"])
            .arg("kafka::produce_survives_a_broker_restart")
            .env("RIFFLE_KAFKA_BOOTSTRAP", format!("127.0.0.1:{}", self.test_kafka_port))
            .env("RIFFLE_BIN", self.gateway_bin())
            .env("RIFFLE_DIST", self.root.join("dist"))
            .env("RIFFLE_REPO", &self.root);
        self.run("end-to-end test alone: produce across a broker restart", &mut c)?;
        eprintln!("\nall tests passed in {:.1} min", started.elapsed().as_secs_f64() / 60.0);
        Ok(())
    }

    /// The README's screenshots of the notebook, light and dark, into docs/screenshots.
    fn screenshots(&self) -> Result<()> {
        self.bootstrap()?;
        self.build_ui()?;
        self.build_gateway()?;
        let mut c = self.cmd("cargo");
        c.args(["test", "-p", "riffle-tests", "--test", "e2e", "ui::docs_screenshots", "--", "--ignored", "--exact"])
            .env("RIFFLE_DOCS_SCREENSHOTS", self.root.join("docs/screenshots"))
            .env("RIFFLE_BIN", self.gateway_bin())
            .env("RIFFLE_DIST", self.root.join("dist"))
            .env("RIFFLE_REPO", &self.root);
        self.run("screenshots: docs/screenshots/notebook-{light,dark}.png", &mut c)
    }

    /// Runs examples/portfolio.riffle.md in the browser and rewrites its
    /// committed exports (examples/portfolio.ipynb and .html) and screenshots.
    fn examples(&self) -> Result<()> {
        self.bootstrap()?;
        self.build_ui()?;
        self.build_gateway()?;
        let python = self.python()?;
        let mut c = self.cmd("cargo");
        c.args(["test", "-p", "riffle-tests", "--test", "e2e", "--", "--exact", "--nocapture"])
            .arg("examples::the_portfolio_notebook_runs_and_exports")
            .env("RIFFLE_WRITE_EXAMPLES", "1")
            .env("RIFFLE_SCREENSHOTS", self.root.join("docs/screenshots"))
            .env("RIFFLE_PYTHON", python)
            .env("RIFFLE_BIN", self.gateway_bin())
            .env("RIFFLE_DIST", self.root.join("dist"))
            .env("RIFFLE_REPO", &self.root);
        self.run("examples: run the portfolio notebook, write its .ipynb and .html", &mut c)
    }

    fn bench(&self, extra: &[String]) -> Result<()> {
        self.bootstrap()?;
        self.build_ui()?;
        // Release: W2's figure is the gateway's speed as users run it.
        let mut c = self.cmd("cargo");
        c.args(["build", "--release", "-p", "riffle-gateway"]);
        self.run("build the gateway (release)", &mut c)?;
        let mut c = self.cmd("cargo");
        c.args(["build", "--release", "-p", "riffle-tests", "--bin", "riffle-bench"]);
        self.run("build the bench driver", &mut c)?;
        let _broker = self.test_broker()?;
        let _hdfs = self.test_hdfs()?;
        let _spark = self.test_spark()?;
        let mut c = self.cmd("cargo");
        c.args(["run", "--release", "-p", "riffle-tests", "--bin", "riffle-bench", "--"]).args(extra);
        self.spark_env(&mut c);
        c.env("RIFFLE_KAFKA_BOOTSTRAP", format!("127.0.0.1:{}", self.test_kafka_port))
            .env("RIFFLE_HDFS", format!("http://127.0.0.1:{}", self.test_hdfs_port))
            .env("POLARS_MAX_THREADS", "1")
            .env("RIFFLE_BIN", self.target.join("release/riffle"))
            .env("RIFFLE_DIST", self.root.join("dist"))
            .env("RIFFLE_REPO", &self.root);
        self.run("bench: W0, W1 native vs browser worker; W2 browser vs kcat; W3 browser vs curl", &mut c)
    }

    /// Reports each wasm file's size raw, gzipped, and after wasm-opt
    /// (npm's binaryen@132; Debian's binaryen 108 emits wasm that fails to load).
    fn sizes(&self, extra: &[String]) -> Result<()> {
        let level = extra.first().map(String::as_str).unwrap_or("-Oz");
        let npm = self.cache.join("npm");
        let wasm_opt = npm.join("node_modules/.bin/wasm-opt");
        if !wasm_opt.exists() {
            let mut c = self.cmd("npm");
            c.args(["install", "--no-audit", "--no-fund", "--prefix"]).arg(&npm).arg("binaryen@132");
            self.run("npm install binaryen@132", &mut c)?;
        }
        let dist = self.root.join("dist");
        let out = self.target.join("sizes");
        std::fs::create_dir_all(&out)?;
        println!("file              raw_MB  gzip_MB  opt_MB  opt_gzip_MB  opt_seconds");
        for name in ["app_bg.wasm", "engine_bg.wasm"] {
            let raw = dist.join(name);
            if !raw.exists() {
                bail!("{} is missing: run `cargo xtask build` first", raw.display());
            }
            let opt = out.join(name);
            let started = Instant::now();
            let mut c = self.cmd(&wasm_opt.to_string_lossy());
            // The features rustc 1.95 enables for wasm32 by default.
            c.arg(level)
                .args(["--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext"])
                .args(["--enable-mutable-globals", "--enable-reference-types", "--enable-multivalue"])
                .arg(&raw)
                .arg("-o")
                .arg(&opt);
            self.run(&format!("wasm-opt {level} {name}"), &mut c)?;
            let seconds = started.elapsed().as_secs_f64();
            let mb = |p: &Path| std::fs::metadata(p).map(|m| m.len() as f64 / 1e6).unwrap_or(f64::NAN);
            println!(
                "{name:<17} {:>6.2}  {:>7.2}  {:>6.2}  {:>11.2}  {seconds:>11.0}",
                mb(&raw),
                self.gzip_mb(&raw)?,
                mb(&opt),
                self.gzip_mb(&opt)?
            );
        }
        Ok(())
    }

    fn gzip_mb(&self, file: &Path) -> Result<f64> {
        let out = Command::new("gzip").arg("-9").arg("-c").arg(file).output().context("gzip")?;
        Ok(out.stdout.len() as f64 / 1e6)
    }
}

/// Stops the test broker however the run ends.
struct BrokerGuard<'a>(&'a Xtask);

impl Drop for BrokerGuard<'_> {
    fn drop(&mut self) {
        let _ = self.0.kafka("stop", self.0.test_kafka_port);
    }
}

/// Stops the test Spark Connect server however the run ends.
struct SparkGuard<'a>(&'a Xtask);

impl Drop for SparkGuard<'_> {
    fn drop(&mut self) {
        let _ = self.0.spark("stop", self.0.test_spark_port, TEST_SPARK_UI_PORT, self.0.test_hdfs_port);
    }
}

/// Stops the test HDFS however the run ends.
struct HdfsGuard<'a>(&'a Xtask);

impl Drop for HdfsGuard<'_> {
    fn drop(&mut self) {
        let _ = self.0.hdfs("stop", self.0.test_hdfs_port);
    }
}
