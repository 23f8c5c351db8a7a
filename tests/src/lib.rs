//! The harness for Riffle's end-to-end tests and benchmarks: a real gateway
//! process, a real chromedriver, a real headless Chromium, real Kafka
//! brokers and a real HDFS.
//!
//! `cargo xtask test` builds everything first and passes the paths in:
//! `RIFFLE_BIN` (the gateway binary), `RIFFLE_DIST` (the UI bundle),
//! `RIFFLE_REPO` (the checkout, for fixtures), `RIFFLE_KAFKA_BOOTSTRAP`
//! (the shared test broker) and `RIFFLE_HDFS` (the shared test HDFS).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fantoccini::{Client, ClientBuilder, Locator};

/// The checkout's root.
pub fn repo() -> PathBuf {
    std::env::var_os("RIFFLE_REPO")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
}

fn env_path(key: &str, what: &str) -> Result<PathBuf> {
    let path = std::env::var_os(key)
        .map(PathBuf::from)
        .with_context(|| format!("{key} is not set: run the end-to-end tests with `cargo xtask test` ({what})"))?;
    if !path.exists() {
        bail!("{key}={} does not exist ({what})", path.display());
    }
    Ok(path)
}

/// A fresh directory under the system's temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Result<TempDir> {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos();
        let path = std::env::temp_dir().join(format!("riffle-{label}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path)?;
        Ok(TempDir(path))
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process that is killed when dropped.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How to start a gateway: its Kafka cluster, its HDFS, and any other flags.
#[derive(Debug, Clone)]
pub struct GatewayOptions {
    /// `--kafka-bootstrap`.
    pub kafka_bootstrap: String,
    /// `--hdfs <NameNode HTTP URL>`; `None` starts a gateway without HDFS.
    pub hdfs: Option<String>,
    /// `--spark sc://...`; `None` starts a gateway without Spark.
    pub spark: Option<String>,
    /// More `riffle serve` flags, such as `--hdfs-root /x`.
    pub args: Vec<String>,
    /// The gateway's token; off by default, so that a test's own HTTP
    /// requests need none.
    pub token: GatewayToken,
}

/// How the test gateway is protected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum GatewayToken {
    /// `--no-token` (it listens on loopback).
    #[default]
    Off,
    /// The gateway makes one, as `riffle serve` does by default; the harness
    /// reads it from the printed URL.
    Generated,
    /// `--token <this>`.
    Given(String),
}

impl Default for GatewayOptions {
    /// The test broker ([`kafka_bootstrap`]), and the test HDFS ([`hdfs_url`])
    /// and Spark Connect server ([`spark_url`]) when set.
    fn default() -> GatewayOptions {
        GatewayOptions {
            kafka_bootstrap: kafka_bootstrap(),
            hdfs: hdfs_url(),
            spark: spark_url(),
            args: Vec::new(),
            token: GatewayToken::Off,
        }
    }
}

/// A running `riffle serve` on a free loopback port, killed when dropped.
pub struct Gateway {
    /// `http://127.0.0.1:<port>` (with `/?open=…` after `--open`), never the token.
    pub url: String,
    /// The token it printed, unless started with [`GatewayToken::Off`].
    pub token: Option<String>,
    /// The URL exactly as it printed it (`http://127.0.0.1:<port>/?token=…`).
    pub printed_url: String,
    data: PathBuf,
    options: GatewayOptions,
    process: Reaped,
}

impl Gateway {
    /// Starts the gateway with `data` as its local data root, talking to the
    /// test broker (`RIFFLE_KAFKA_BOOTSTRAP`, see [`kafka_bootstrap`]) and,
    /// when `RIFFLE_HDFS` is set, to the test HDFS (see [`hdfs_url`]).
    pub fn start(data: &Path) -> Result<Gateway> {
        Gateway::start_with(data, GatewayOptions::default())
    }

    /// Starts the gateway with `data` as its local data root and `bootstrap`
    /// as its Kafka cluster.
    pub fn start_with_kafka(data: &Path, bootstrap: &str) -> Result<Gateway> {
        Gateway::start_with(data, GatewayOptions { kafka_bootstrap: bootstrap.to_string(), ..Default::default() })
    }

    /// Starts the gateway with `data` as its local data root and `options`.
    pub fn start_with(data: &Path, options: GatewayOptions) -> Result<Gateway> {
        let Spawned { url, token, printed_url, process } = spawn_gateway(data, &options)?;
        Ok(Gateway { url, token, printed_url, data: data.to_path_buf(), options, process })
    }

    /// The page's address: [`Gateway::url`] plus `/?token=…` when it has one
    /// (the gateway answers with its cookie and a redirect to `/`).
    pub fn page_url(&self) -> String {
        match &self.token {
            Some(t) if self.url.contains('?') => format!("{}&token={t}", self.url),
            Some(t) => format!("{}/?token={t}", self.url),
            None => self.url.clone(),
        }
    }

    /// An HTTP client whose requests carry the token (`Authorization: Bearer`).
    pub fn http(&self) -> Result<reqwest::Client> {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(t) = &self.token {
            headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {t}").parse()?);
        }
        Ok(reqwest::Client::builder().default_headers(headers).build()?)
    }

    /// The gateway process's id.
    pub fn pid(&self) -> u32 {
        self.process.0.id()
    }

    /// Kills the gateway at once (SIGKILL: no graceful shutdown, no cleanup)
    /// and waits until it is gone.
    pub fn kill(&mut self) -> Result<()> {
        if self.process.0.try_wait()?.is_none() {
            // std's Child::kill is SIGKILL on Unix.
            self.process.0.kill().context("could not kill the gateway")?;
        }
        self.process.0.wait().context("could not wait for the killed gateway")?;
        Ok(())
    }

    /// Kills the gateway if it still runs, then starts a new one on the same
    /// data root with the same options. It listens on a new port: `url` changes.
    pub fn restart(&mut self) -> Result<()> {
        self.kill()?;
        let Spawned { url, token, printed_url, process } = spawn_gateway(&self.data, &self.options)?;
        self.url = url;
        self.token = token;
        self.printed_url = printed_url;
        self.process = process;
        Ok(())
    }
}

/// A started gateway: its URL without the token, the token, and the URL as printed.
struct Spawned {
    url: String,
    token: Option<String>,
    printed_url: String,
    process: Reaped,
}

/// Starts `riffle serve` on a free port and reads its URL (and token) from its stdout.
fn spawn_gateway(data: &Path, options: &GatewayOptions) -> Result<Spawned> {
    let bin = env_path("RIFFLE_BIN", "the riffle gateway binary")?;
    let dist = env_path("RIFFLE_DIST", "the UI bundle built by trunk")?;
    let mut command = Command::new(&bin);
    command
        .args(["serve", "--port", "0", "--dist"])
        .arg(&dist)
        .arg("--data")
        .arg(data)
        .arg("--kafka-bootstrap")
        .arg(&options.kafka_bootstrap);
    if let Some(hdfs) = &options.hdfs {
        command.arg("--hdfs").arg(hdfs);
    }
    if let Some(spark) = &options.spark {
        command.arg("--spark").arg(spark);
    }
    match &options.token {
        GatewayToken::Off => {
            command.arg("--no-token");
        }
        GatewayToken::Generated => {}
        GatewayToken::Given(t) => {
            command.arg("--token").arg(t);
        }
    }
    // The gateway reads these too: only the flags above may configure it.
    for var in [
        "RIFFLE_HDFS",
        "RIFFLE_HDFS_USER",
        "RIFFLE_HDFS_ROOT",
        "RIFFLE_SPARK",
        "RIFFLE_SPARK_KAFKA_BOOTSTRAP",
        "RIFFLE_TOKEN",
        "RIFFLE_BIND",
        "RIFFLE_ALLOW_HOST",
    ] {
        command.env_remove(var);
    }
    let mut child = command
        .args(&options.args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("could not start {}", bin.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let process = Reaped(child);
    // Its logs go to stdout too, and may come before the URL (librdkafka
    // reports a broker it cannot reach at once): look for the URL's line.
    let mut lines = BufReader::new(stdout).lines();
    let mut before = Vec::new();
    let printed = loop {
        let Some(line) = lines.next().transpose()? else {
            bail!("the gateway exited without printing its URL; it printed {before:?}");
        };
        if line.contains("Riffle is serving at")
            && let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://"))
        {
            break url.to_string();
        }
        eprintln!("{line}");
        before.push(line);
    };
    // `http://127.0.0.1:<port>/?token=…&open=…`: the token, and the URL without it.
    let (base, query) = printed.split_once('?').unwrap_or((&printed, ""));
    let token = query.split('&').find_map(|kv| kv.strip_prefix("token=")).map(str::to_string);
    let rest: Vec<&str> = query.split('&').filter(|kv| !kv.is_empty() && !kv.starts_with("token=")).collect();
    let base = base.trim_end_matches('/');
    let url = if rest.is_empty() { base.to_string() } else { format!("{base}/?{}", rest.join("&")) };
    match (&options.token, &token) {
        (GatewayToken::Off, Some(_)) => bail!("the gateway was started with --no-token but printed a token: {url}"),
        (GatewayToken::Generated | GatewayToken::Given(_), None) => {
            bail!("the gateway printed no token in its URL {url}")
        }
        (GatewayToken::Given(given), Some(t)) if given != t => bail!("the gateway printed another token than --token"),
        _ => {}
    }
    // Keep reading its logs, so they show with a failing test's output
    // and the gateway never writes into a closed pipe.
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            eprintln!("{line}");
        }
    });
    Ok(Spawned { url, token, printed_url: printed, process })
}

/// The test HDFS, as the NameNode's HTTP URL: `RIFFLE_HDFS`
/// (`cargo xtask test` starts one and sets it), or `None`.
pub fn hdfs_url() -> Option<String> {
    std::env::var("RIFFLE_HDFS").ok().filter(|u| !u.trim().is_empty())
}

/// The test Spark Connect server: `RIFFLE_SPARK` (`cargo xtask test` starts
/// one and sets it), or `None`.
pub fn spark_url() -> Option<String> {
    std::env::var("RIFFLE_SPARK").ok().filter(|u| !u.trim().is_empty())
}

/// Spark's UI (REST API at `/api/v1`) of the test server: `RIFFLE_SPARK_UI`.
pub fn spark_ui() -> Option<String> {
    std::env::var("RIFFLE_SPARK_UI").ok().filter(|u| !u.trim().is_empty())
}

/// The test Spark for a test that needs one. Without `RIFFLE_SPARK` this is an
/// error in CI, and elsewhere `None` after a note that the test is skipped.
pub fn require_spark(test: &str) -> Result<Option<String>> {
    if let Some(url) = spark_url() {
        return Ok(Some(url));
    }
    if in_ci() {
        bail!(
            "{test} needs Spark Connect but RIFFLE_SPARK is not set: run the tests with `cargo xtask test`, which \
             starts one (or `bash scripts/spark.sh start` and RIFFLE_SPARK=sc://127.0.0.1:15002)"
        );
    }
    eprintln!(
        "note: {test}: skipped because RIFFLE_SPARK is not set \
         (`cargo xtask test` sets it; or run `bash scripts/spark.sh start` and RIFFLE_SPARK=sc://127.0.0.1:15002)"
    );
    Ok(None)
}

/// Whether tests run in CI (`CI=true`, as `.ci/run` sets), where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// The test HDFS for a test that needs one. Without `RIFFLE_HDFS` this is an
/// error in CI, and elsewhere `None` after a note that `test` skips its HDFS part.
pub fn require_hdfs(test: &str) -> Result<Option<String>> {
    if let Some(url) = hdfs_url() {
        return Ok(Some(url));
    }
    if in_ci() {
        bail!(
            "{test} needs HDFS but RIFFLE_HDFS is not set: run the tests with `cargo xtask test`, which starts one \
             (or `cargo xtask hdfs` and RIFFLE_HDFS=http://127.0.0.1:9870)"
        );
    }
    eprintln!(
        "note: {test}: skipping its HDFS part because RIFFLE_HDFS is not set \
         (`cargo xtask test` sets it; or run `cargo xtask hdfs` and RIFFLE_HDFS=http://127.0.0.1:9870)"
    );
    Ok(None)
}

/// A directory on HDFS for one test alone: `hdfs:///riffle-tests/<name>-<pid>-<n>`
/// (not created; the tests share one HDFS and run in parallel).
pub fn hdfs_test_dir(name: &str) -> String {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("hdfs:///riffle-tests/{name}-{}-{n}", std::process::id())
}

/// The Kafka broker the tests share: `RIFFLE_KAFKA_BOOTSTRAP`, or the one
/// `scripts/kafka.sh start` runs by default.
pub fn kafka_bootstrap() -> String {
    std::env::var("RIFFLE_KAFKA_BOOTSTRAP")
        .ok()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| "127.0.0.1:9092".to_string())
}

/// A Kafka broker of a test's own, run by `scripts/kafka.sh` on a free port
/// with its state in a temp dir, for tests that stop or restart it. Stopped
/// when dropped, however the test ends.
pub struct Broker {
    port: u16,
    state: TempDir,
}

impl Broker {
    /// Starts a one-node KRaft broker and waits until it is ready. Blocks for
    /// a few seconds: call it from `spawn_blocking` in async code.
    pub fn start() -> Result<Broker> {
        let broker = Broker { port: free_port_pair()?, state: TempDir::new("kafka")? };
        // On failure `broker` is dropped, which stops a half-started process.
        broker.script("start")?;
        Ok(broker)
    }

    /// `127.0.0.1:<port>`, for `--kafka-bootstrap`.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Stops the broker and starts it again on the same data; blocks until it is ready.
    pub fn restart(&self) -> Result<()> {
        self.script("restart")
    }

    pub fn stop(&self) -> Result<()> {
        self.script("stop")
    }

    fn script(&self, action: &str) -> Result<()> {
        let script = repo().join("scripts/kafka.sh");
        let out = Command::new(&script)
            .arg(action)
            .env("KAFKA_PORT", self.port.to_string())
            .env("KAFKA_STATE", self.state.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .with_context(|| format!("could not run {}", script.display()))?;
        if !out.status.success() {
            bail!(
                "`KAFKA_PORT={} scripts/kafka.sh {action}` failed ({}): {}",
                self.port,
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Err(e) = self.script("stop") {
            eprintln!("{e:#}");
        }
    }
}

/// A loopback port nothing listens on (at the time of the call), for a
/// service that is down.
pub fn unused_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A free loopback port whose successor is free too (a broker's controller
/// listens on port + 1).
fn free_port_pair() -> Result<u16> {
    for _ in 0..100 {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        if port < u16::MAX
            && TcpListener::bind(("127.0.0.1", port)).is_ok()
            && TcpListener::bind(("127.0.0.1", port + 1)).is_ok()
        {
            return Ok(port);
        }
    }
    bail!("found no two free adjacent loopback ports")
}

/// Copies the bundled sample data into a fresh data root.
pub fn sample_data_root() -> Result<TempDir> {
    let dir = TempDir::new("data")?;
    let samples = dir.path().join("samples");
    std::fs::create_dir_all(&samples)?;
    for entry in std::fs::read_dir(repo().join("data/samples"))? {
        let entry = entry?;
        std::fs::copy(entry.path(), samples.join(entry.file_name()))?;
    }
    Ok(dir)
}

/// Headless Chromium driven through chromedriver.
pub struct Browser {
    pub client: Client,
    _driver: Reaped,
    _profile: TempDir,
}

/// The flags Chromium needs here: run as root, headless, no network chatter.
pub const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,800",
];

/// How to start a [`Browser`].
#[derive(Debug, Clone, Default)]
pub struct BrowserOptions {
    /// Where downloads go, without asking; `None` leaves Chromium's default.
    pub download_dir: Option<PathBuf>,
}

impl Browser {
    pub async fn start() -> Result<Browser> {
        Browser::start_with(BrowserOptions::default()).await
    }

    /// Starts Chromium with `options`, such as a download directory.
    pub async fn start_with(options: BrowserOptions) -> Result<Browser> {
        let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let driver = Reaped(
            Command::new(&driver_bin)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .with_context(|| format!("could not start {driver_bin}; run scripts/bootstrap.sh"))?,
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("chromedriver did not open port {port} within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = TempDir::new("chromium")?;
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let mut chrome = serde_json::json!({ "args": args });
        if let Ok(binary) = std::env::var("CHROMIUM") {
            chrome["binary"] = binary.into();
        } else if Path::new("/usr/bin/chromium").exists() {
            chrome["binary"] = "/usr/bin/chromium".into();
        }
        if let Some(dir) = &options.download_dir {
            chrome["prefs"] = serde_json::json!({
                "download.default_directory": dir,
                "download.prompt_for_download": false,
                "download.directory_upgrade": true,
                // More than one download from a page (an export after another) without asking.
                "profile.default_content_setting_values.automatic_downloads": 1,
            });
        }
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), chrome);
        caps.insert("goog:loggingPrefs".into(), serde_json::json!({ "browser": "ALL" }));
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .context("could not open a Chromium session through chromedriver")?;
        Ok(Browser { client, _driver: driver, _profile: profile })
    }

    /// Opens a page and waits until its engine worker reports ready.
    pub async fn open_notebook(&self, url: &str) -> Result<()> {
        self.client.goto(url).await?;
        self.wait_for(r#"#engine-status[data-state="ready"]"#, Duration::from_secs(120))
            .await
            .context("the engine worker did not become ready")?;
        Ok(())
    }

    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Result<fantoccini::elements::Element> {
        match self.client.wait().at_most(timeout).for_element(Locator::Css(css)).await {
            Ok(el) => Ok(el),
            Err(e) => {
                let status = match self.client.find(Locator::Css("#engine-status")).await {
                    Ok(el) => el.text().await.unwrap_or_default(),
                    Err(_) => "no #engine-status on the page".into(),
                };
                let mut errors = Vec::new();
                for el in self.client.find_all(Locator::Css(".cell-error")).await.unwrap_or_default() {
                    errors.push(el.text().await.unwrap_or_default());
                }
                bail!("waited {timeout:?} for `{css}`: {e} (engine status: {status}; cell errors: {errors:?})")
            }
        }
    }

    /// Waits until `dir` holds a finished file named `name` (Chromium writes
    /// `<name>.crdownload` first, then renames it) and returns its bytes.
    pub async fn downloaded(&self, dir: &Path, name: &str, timeout: Duration) -> Result<Vec<u8>> {
        let path = dir.join(name);
        let deadline = Instant::now() + timeout;
        loop {
            let partial = dir.join(format!("{name}.crdownload")).exists();
            if path.exists() && !partial {
                // The rename is the last step; the file is whole once it has its name.
                return std::fs::read(&path).with_context(|| format!("could not read {}", path.display()));
            }
            if Instant::now() > deadline {
                let present: Vec<String> = std::fs::read_dir(dir)
                    .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
                    .unwrap_or_default();
                bail!("no download {name} in {} after {timeout:?}; the directory holds {present:?}", dir.display());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Saves a PNG of the page into `$RIFFLE_SCREENSHOTS/<name>.png`, when that is set.
    pub async fn screenshot(&self, name: &str) -> Result<()> {
        let Some(dir) = std::env::var_os("RIFFLE_SCREENSHOTS") else {
            return Ok(());
        };
        std::fs::create_dir_all(&dir)?;
        let png = self.client.screenshot().await?;
        std::fs::write(Path::new(&dir).join(format!("{name}.png")), png)?;
        Ok(())
    }

    pub async fn close(self) -> Result<()> {
        self.client.close().await?;
        Ok(())
    }
}

/// Medians, for benchmark reports.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}
