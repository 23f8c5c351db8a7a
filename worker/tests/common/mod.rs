//! What the tests that run the `riffle` binary share.

// Each test crate uses some of these.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// `riffle serve` on a free port with `dir`'s `dist` and `data`, a Kafka that
/// is not there, and none of the caller's RIFFLE_* settings that matter here.
pub fn riffle(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_riffle"));
    c.args(["serve", "--port", "0", "--kafka-bootstrap", "127.0.0.1:1", "--dist"])
        .arg(dir.join("dist"))
        .arg("--data")
        .arg(dir.join("data"))
        .args(args)
        .env_remove("RIFFLE_TOKEN")
        .env_remove("RIFFLE_BIND")
        .env_remove("RIFFLE_ALLOW_HOST")
        .env_remove("RIFFLE_MAX_UPLOAD_BYTES")
        .env_remove("RIFFLE_DEBRIS_GRACE_SECS")
        .env("RUST_LOG", "trace");
    c
}

/// Starts the command, returns its printed URL, the process and its stderr so far (read on).
pub fn start(mut command: Command) -> (String, Child, Arc<Mutex<String>>) {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = Arc::new(Mutex::new(String::new()));
    let mut err = child.stderr.take().unwrap();
    let sink = stderr.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = err.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("the gateway exited without its URL").unwrap();
        if let Some(url) = line.strip_prefix("Riffle is serving at ") {
            break url.to_string();
        }
    };
    (url, child, stderr)
}

/// SIGKILL on Unix: the gateway gets no chance to clean up.
pub fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// The Spark Connect server the Spark tests use (`RIFFLE_SPARK`), or none:
/// then they pass without checking, unless `RIFFLE_REQUIRE_SPARK` is set (CI).
pub fn spark_url() -> Option<riffle_gateway::spark::SparkUrl> {
    match std::env::var("RIFFLE_SPARK").ok().filter(|u| !u.is_empty()) {
        Some(url) => Some(riffle_gateway::spark::SparkUrl::parse(&url).expect("RIFFLE_SPARK is a sc:// URL")),
        None => {
            assert!(
                std::env::var("RIFFLE_REQUIRE_SPARK").is_err(),
                "RIFFLE_REQUIRE_SPARK is set but RIFFLE_SPARK is not: start one with `bash scripts/spark.sh start`"
            );
            eprintln!("note: RIFFLE_SPARK is not set; skipping (start one with `bash scripts/spark.sh start`)");
            None
        }
    }
}
