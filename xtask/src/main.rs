//! `cargo xtask <command>`: Riffle's dev workflows.
//!
//! - `serve`: set up, build the UI bundle, and serve the notebook on 127.0.0.1:8080.
//! - `test`: set up, then run every test: native, wasm in Chromium, end to end.
//! - `bench`: W0 natively and in the browser worker, with the ratio.
//! - `build`: the UI bundle only (`dist/`).
//! - `bootstrap`: install what is missing (scripts/bootstrap.sh).
//! - `samples`: regenerate the bundled sample data.
//!
//! Tools and build outputs go to a cache outside the clone
//! (`RIFFLE_CACHE`, by default `~/.cache/riffle`).

mod samples;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    let x = Xtask::new()?;
    match command.as_str() {
        "bootstrap" => x.bootstrap(),
        "samples" => samples::write_all(&x.root),
        "build" => x.bootstrap().and_then(|()| x.build_ui()),
        "serve" => x.serve(&rest),
        "test" => x.test(),
        "bench" => x.bench(&rest),
        _ => {
            eprintln!("usage: cargo xtask <serve|test|bench|build|bootstrap|samples>");
            std::process::exit(2);
        }
    }
}

struct Xtask {
    root: PathBuf,
    target: PathBuf,
    path: String,
}

impl Xtask {
    fn new() -> Result<Xtask> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().context("xtask has no parent")?.to_path_buf();
        let cache = match std::env::var_os("RIFFLE_CACHE") {
            Some(c) => PathBuf::from(c),
            None => PathBuf::from(std::env::var_os("HOME").context("HOME is not set")?).join(".cache/riffle"),
        };
        let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| cache.join("target"));
        let tools = cache.join("tools/bin");
        let path = format!("{}:{}", tools.display(), std::env::var("PATH").unwrap_or_default());
        Ok(Xtask { root, target, path })
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
        let mut c = self.cmd("trunk");
        c.args(["build", "--release"]);
        self.run("trunk build --release (UI + engine worker)", &mut c)?;
        for wasm in ["app_bg.wasm", "engine_bg.wasm"] {
            let size = std::fs::metadata(self.root.join("dist").join(wasm)).map(|m| m.len()).unwrap_or(0);
            eprintln!("    dist/{wasm}: {:.1} MB", size as f64 / 1e6);
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

    fn test(&self) -> Result<()> {
        let started = Instant::now();
        self.bootstrap()?;
        let mut c = self.cmd("cargo");
        c.args(["test", "-p", "riffle", "-p", "riffle-gateway"]);
        self.run("native tests: core and gateway", &mut c)?;

        // The same engine tests in headless Chromium, in a dedicated worker.
        // Release, so that Polars' wasm build is shared with the trunk bundle.
        let mut c = self.cmd("cargo");
        c.args(["test", "-p", "riffle", "--release", "--target", "wasm32-unknown-unknown", "--test", "engine"]);
        c.current_dir(self.root.join("crate"));
        self.run("engine tests in Chromium (wasm32, dedicated worker)", &mut c)?;

        self.build_ui()?;
        self.build_gateway()?;
        let mut c = self.cmd("cargo");
        c.args(["test", "-p", "riffle-tests", "--test", "e2e"])
            .env("RIFFLE_BIN", self.gateway_bin())
            .env("RIFFLE_DIST", self.root.join("dist"))
            .env("RIFFLE_REPO", &self.root);
        self.run("end-to-end tests: gateway + Chromium", &mut c)?;
        eprintln!("\nall tests passed in {:.1} min", started.elapsed().as_secs_f64() / 60.0);
        Ok(())
    }

    fn bench(&self, extra: &[String]) -> Result<()> {
        self.bootstrap()?;
        self.build_ui()?;
        self.build_gateway()?;
        let mut c = self.cmd("cargo");
        c.args(["run", "--release", "-p", "riffle-tests", "--bin", "riffle-bench", "--"])
            .args(extra)
            .env("POLARS_MAX_THREADS", "1")
            .env("RIFFLE_BIN", self.gateway_bin())
            .env("RIFFLE_DIST", self.root.join("dist"))
            .env("RIFFLE_REPO", &self.root);
        self.run("bench W0: native vs browser worker", &mut c)
    }
}
