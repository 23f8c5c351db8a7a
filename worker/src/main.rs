//! `riffle`: the native gateway. `riffle serve` serves the notebook and the
//! APIs the browser cannot reach by itself.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use riffle_gateway::kafka::KafkaConfig;
use riffle_gateway::{Config, HdfsConfig, app};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "riffle", version, about = "Riffle: a data-engineering notebook in the browser")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the notebook UI and the gateway APIs.
    Serve(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on. Anything but loopback refuses --no-token.
    #[arg(long, env = "RIFFLE_BIND", default_value = "127.0.0.1")]
    bind: std::net::IpAddr,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, env = "RIFFLE_PORT", default_value_t = 8080)]
    port: u16,
    /// The built UI bundle (Trunk's output).
    #[arg(long, env = "RIFFLE_DIST", default_value = "dist")]
    dist: PathBuf,
    /// The local data root: bare and file:// paths resolve under it.
    #[arg(long, env = "RIFFLE_DATA", default_value = "data")]
    data: PathBuf,
    /// The secret every API request must carry (?token=, the cookie the page
    /// gets, or `Authorization: Bearer`), at least 16 bytes of letters,
    /// digits and - . _ ~. Without it the gateway makes a random one and
    /// prints the URL that carries it.
    #[arg(long, env = "RIFFLE_TOKEN", conflicts_with = "no_token")]
    token: Option<String>,
    /// No token: any program or page on this machine that can reach the
    /// port can use the gateway. Only on a loopback address.
    #[arg(long)]
    no_token: bool,
    /// Another name the gateway answers to in the Host header (repeatable),
    /// e.g. the reverse proxy's `notebook.example.com`; an https:// page of
    /// that name may then use it. localhost, 127.0.0.1, [::1] and the bound
    /// address always work.
    #[arg(long = "allow-host", value_name = "NAME", env = "RIFFLE_ALLOW_HOST", value_delimiter = ',')]
    allow_hosts: Vec<String>,
    /// HDFS: the NameNode's HTTP (WebHDFS) address, e.g. http://namenode:9870.
    /// hdfs:/// paths resolve there; without it only the data directory is used.
    #[arg(long, env = "RIFFLE_HDFS")]
    hdfs: Option<String>,
    /// The HDFS user the gateway acts as (simple authentication's user.name).
    #[arg(long, env = "RIFFLE_HDFS_USER", default_value = "riffle")]
    hdfs_user: String,
    /// The HDFS directory hdfs:/// maps to; paths cannot leave it.
    #[arg(long, env = "RIFFLE_HDFS_ROOT", default_value = "/")]
    hdfs_root: String,
    /// Kafka's bootstrap servers (default 127.0.0.1:9092). Other librdkafka
    /// settings: RIFFLE_KAFKA_<NAME>=value (security.protocol is
    /// RIFFLE_KAFKA_SECURITY_PROTOCOL), or a properties file.
    #[arg(long, env = "RIFFLE_KAFKA_BOOTSTRAP")]
    kafka_bootstrap: Option<String>,
    /// A librdkafka properties file (key=value lines), e.g. a Confluent Cloud client config.
    #[arg(long, env = "RIFFLE_KAFKA_PROPERTIES")]
    kafka_properties: Option<PathBuf>,
    /// Request headers that /ingest/{topic} merges into each event.
    #[arg(long, env = "RIFFLE_INGEST_HEADERS", value_delimiter = ',', default_value = "Host,User-Agent,Accept")]
    ingest_headers: Vec<String>,
    /// Spark Connect, e.g. sc://127.0.0.1:15002 or sc://host:15002/;user_id=ada;token=...
    /// SQL cells marked to run on Spark go there (`bash scripts/spark.sh start` runs a local server).
    #[arg(long, env = "RIFFLE_SPARK")]
    spark: Option<String>,
    /// Live tails (WebSockets) open at once, all clients together (default 64).
    #[arg(long, env = "RIFFLE_MAX_TAILS")]
    max_tails: Option<usize>,
    /// ... and from one client address (default 8; every tab on this machine is one client).
    #[arg(long, env = "RIFFLE_MAX_TAILS_PER_CLIENT")]
    max_tails_per_client: Option<usize>,
    /// More trusted certificates (PEM) for `;use_ssl=true`, beside the system's, e.g. a private CA.
    #[arg(long, env = "RIFFLE_SPARK_CA_FILE")]
    spark_ca_file: Option<PathBuf>,
    /// Kafka's bootstrap servers as Spark's cluster reaches them, for Spark
    /// cells that read topics (default: --kafka-bootstrap).
    #[arg(long, env = "RIFFLE_SPARK_KAFKA_BOOTSTRAP")]
    spark_kafka_bootstrap: Option<String>,
    /// A browser cell whose source is at least this many bytes notes that it
    /// would run better on Spark (default 256 MiB).
    #[arg(long, env = "RIFFLE_SPARK_HINT_BYTES")]
    spark_hint_bytes: Option<u64>,
    /// ...or a Kafka range of at least this many messages (default 2,000,000).
    #[arg(long, env = "RIFFLE_SPARK_HINT_MESSAGES")]
    spark_hint_messages: Option<u64>,
    /// Let Spark cells name this machine's files outside the data directory
    /// (`file:///...`, `LOCATION '/...'`) and load code (`ADD JAR`, `reflect`,
    /// `TRANSFORM ... USING`). Off by default: Spark runs with the gateway's rights.
    #[arg(long, env = "RIFFLE_SPARK_ALLOW_LOCAL")]
    spark_allow_local: bool,
    /// The largest upload or part file the gateway takes, in bytes (default
    /// 2 GiB); a larger one is refused with 413 and nothing of it is kept.
    #[arg(long, env = "RIFFLE_MAX_UPLOAD_BYTES")]
    max_upload_bytes: Option<u64>,
    /// Staged uploads and write staging (`_temporary/<id>`) that a stopped
    /// gateway left behind are removed once untouched this many seconds
    /// (default 3600).
    #[arg(long, env = "RIFFLE_DEBRIS_GRACE_SECS")]
    debris_grace_secs: Option<u64>,
    /// A notebook file to open in the page (`.riffle.md`, `.ipynb`, `.riffle.json`).
    #[arg(long)]
    open: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,tower_http=info")))
        // stdout carries only the URL line, which scripts and tests read.
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve(args) => serve(args).await,
    }
}

async fn serve(args: ServeArgs) -> Result<()> {
    let token = if args.no_token {
        if !args.bind.is_loopback() {
            bail!(
                "refusing to listen on {} without a token: anyone on the network could read your data. \
                 Leave out --no-token (the gateway makes a token and prints the URL with it), or bind to 127.0.0.1.",
                args.bind
            );
        }
        None
    } else {
        match args.token.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => {
                riffle_gateway::check_token(t).map_err(|e| anyhow::anyhow!("--token (or RIFFLE_TOKEN): {e}"))?;
                Some(t.to_string())
            }
            None => Some(riffle_gateway::new_token()),
        }
    };
    if !args.dist.join("index.html").is_file() {
        tracing::warn!(dist = %args.dist.display(), "no index.html in the UI bundle; build it with `cargo xtask build`");
    }
    std::fs::create_dir_all(&args.data)
        .with_context(|| format!("could not create the data directory {}", args.data.display()))?;
    // Spark's `kafka` sources: the flag, else the gateway's own Kafka when one was named.
    let spark_kafka = args.spark_kafka_bootstrap.clone().filter(|b| !b.trim().is_empty());
    let kafka_named = args.kafka_bootstrap.as_deref().is_some_and(|b| !b.trim().is_empty());
    let kafka = KafkaConfig::load(args.kafka_bootstrap, args.kafka_properties.as_deref(), std::env::vars())?;
    let spark_kafka = spark_kafka.or_else(|| {
        (kafka_named || kafka.bootstrap != riffle_gateway::kafka::config::DEFAULT_BOOTSTRAP)
            .then(|| kafka.bootstrap.clone())
    });
    let shutdown = CancellationToken::new();
    let mut config = Config::new(args.dist, args.data, token.clone())?.with_hosts(args.bind, args.allow_hosts);
    if let Some(url) = args.hdfs.filter(|u| !u.is_empty()) {
        config = config.with_hdfs(HdfsConfig { url, user: args.hdfs_user, root: args.hdfs_root })?;
    }
    if let Some(url) = args.spark.filter(|u| !u.trim().is_empty()) {
        let mut url = riffle_gateway::spark::SparkUrl::parse(&url).map_err(|e| anyhow::anyhow!("--spark: {e}"))?;
        if let Some(file) = &args.spark_ca_file {
            let pem = std::fs::read_to_string(file)
                .with_context(|| format!("--spark-ca-file: could not read {}", file.display()))?;
            url.tls_ca = Some(pem);
        }
        tracing::info!(spark = %url.display(), user = %url.user_id, kafka = ?spark_kafka, "Spark Connect on");
        config = config.with_spark(url);
    }
    let defaults = riffle::spark::HintLimits::default();
    config = config.with_spark_hints(riffle::spark::HintLimits {
        bytes: args.spark_hint_bytes.unwrap_or(defaults.bytes),
        messages: args.spark_hint_messages.unwrap_or(defaults.messages),
    });
    config = config.with_spark_allow_local(args.spark_allow_local);
    let mut kafka_limits = riffle_gateway::kafka::KafkaLimits::default();
    kafka_limits.tails = args.max_tails.unwrap_or(kafka_limits.tails).max(1);
    kafka_limits.tails_per_client = args.max_tails_per_client.unwrap_or(kafka_limits.tails_per_client).max(1);
    config = config.with_kafka_limits(kafka_limits);
    let mut limits = riffle_gateway::StorageLimits::default();
    if let Some(max) = args.max_upload_bytes {
        if max == 0 {
            bail!("--max-upload-bytes (or RIFFLE_MAX_UPLOAD_BYTES) must be at least 1");
        }
        limits.max_upload_bytes = max;
    }
    if let Some(secs) = args.debris_grace_secs {
        limits.debris_grace = std::time::Duration::from_secs(secs);
    }
    config = config.with_limits(limits);
    if let Some(bootstrap) = spark_kafka {
        config = config.with_spark_kafka_bootstrap(bootstrap);
    }
    let mut config = config.with_kafka(kafka).with_ingest_headers(args.ingest_headers).with_shutdown(shutdown.clone());
    // `--open`: a file in the data directory opens by its path there (so Save
    // writes it back); one elsewhere is served read-only at /api/opened.
    let mut open_param = None;
    if let Some(file) = args.open {
        let file = std::fs::canonicalize(&file)
            .with_context(|| format!("--open {}: no such notebook file", file.display()))?;
        let root = std::fs::canonicalize(config.data_root())?;
        match file.strip_prefix(&root) {
            Ok(relative) => open_param = Some(relative.to_string_lossy().replace('\\', "/")),
            Err(_) => {
                config = config.with_opened(file);
                open_param = Some("/api/opened".to_string());
            }
        }
    }
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(args.bind, args.port))
        .await
        .with_context(|| format!("could not listen on {}:{} (is the port in use? try --port)", args.bind, args.port))?;
    let addr = listener.local_addr()?;
    let host = match addr.ip() {
        ip if ip.is_unspecified() => "127.0.0.1".to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    let mut params: Vec<String> = Vec::new();
    if let Some(t) = &token {
        params.push(format!("token={t}"));
    }
    if let Some(open) = &open_param {
        params.push(format!("open={}", url_encode(open)));
    }
    let query = if params.is_empty() { String::new() } else { format!("/?{}", params.join("&")) };
    // The one place the token is shown: stdout, for the user to open (never a log).
    println!("Riffle is serving at http://{host}:{}{query}", addr.port());
    if token.is_none() {
        tracing::warn!(
            "no token (--no-token): any program on this machine that can reach the port may use the gateway"
        );
    }
    let hdfs = config.hdfs().map(|h| h.url().to_string()).unwrap_or_else(|| "off".into());
    tracing::info!(%addr, data = %config.data_root().display(), %hdfs, kafka = %config.kafka().bootstrap, "gateway listening");
    let signal = async move {
        shutdown_signal().await;
        // Ends live tails and range reads, so the graceful shutdown does not wait on them.
        shutdown.cancel();
    };
    // Requests whose headers do not arrive within 30 s are dropped (slowloris).
    let listener = riffle_gateway::conn::HeaderTimeout::new(listener, riffle_gateway::conn::HEADER_READ_TIMEOUT);
    // The peer's address goes with each request: the Kafka limits per client need it.
    let service = app(config).into_make_service_with_connect_info::<riffle_gateway::conn::PeerAddr>();
    axum::serve(listener, service).with_graceful_shutdown(signal).await?;
    tracing::info!("gateway stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters and `/` stay).
fn url_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
