//! Kafka, through librdkafka: the topics REST API, bounded range reads as
//! Arrow IPC, pages of messages as JSON for browsing, produce, a WebSocket
//! live tail and the event-ingest endpoint.
//!
//! Every blocking librdkafka call runs on tokio's blocking pool, and each one
//! has a deadline, so a dead broker answers with a 503 quickly instead of
//! hanging a request.

mod admin;
pub(crate) mod browse;
pub mod config;
mod ingest;
pub(crate) mod produce;
pub(crate) mod read;
mod tail;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::FutureProducer;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

pub use config::KafkaConfig;
pub use ingest::DEFAULT_INGEST_HEADERS;

use crate::{ApiError, AppState};

/// How much the Kafka side takes on at once. Every limit answers with a
/// message that names it; the defaults are [`KafkaLimits::default`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaLimits {
    /// The largest produce request body, a batch of records or an Arrow IPC
    /// stream (default 512 MiB). Refused by its Content-Length before it is read.
    pub produce_body_bytes: usize,
    /// The most records one produce request may hold (default 1,000,000).
    /// Larger batches go in several requests.
    pub produce_records: usize,
    /// Produce bodies held at once, over all requests (default 512 MiB): what
    /// bounds produce's memory. A request that does not fit now gets a 503
    /// with `Retry-After`.
    pub produce_bytes_in_flight: usize,
    /// Live tails (WebSockets) one client may hold open (default 8) ...
    pub tails_per_client: usize,
    /// ... and all clients together (default 64).
    pub tails: usize,
    /// Range reads (`/topics/{topic}/read`) one client may have streaming (default 8) ...
    pub reads_per_client: usize,
    /// ... and all clients together (default 64).
    pub reads: usize,
}

impl Default for KafkaLimits {
    fn default() -> Self {
        KafkaLimits {
            produce_body_bytes: 512 * 1024 * 1024,
            produce_records: 1_000_000,
            produce_bytes_in_flight: 512 * 1024 * 1024,
            tails_per_client: 8,
            tails: 64,
            reads_per_client: 8,
            reads: 64,
        }
    }
}

/// The body limit axum applies before the produce handler sees a request:
/// none, the handler checks [`KafkaLimits::produce_body_bytes`] itself
/// (declared lengths before reading, streamed bodies as they arrive).
const PRODUCE_BODY_LIMIT: usize = usize::MAX;

/// The `/api/kafka/...` routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/status", get(admin::status))
        .route("/topics", get(admin::list).post(admin::create))
        .route("/topics/{topic}", get(admin::describe).delete(admin::delete))
        .route("/topics/{topic}/read", get(read::read))
        .route("/topics/{topic}/messages", get(browse::browse))
        .route("/topics/{topic}/produce", post(produce::produce).layer(DefaultBodyLimit::max(PRODUCE_BODY_LIMIT)))
        .route("/tail", get(tail::tail))
}

/// The event-ingest routes, mounted at the root: `/ingest/{topic}`.
pub(crate) fn ingest_routes() -> Router<AppState> {
    Router::new().route("/ingest/{topic}", get(ingest::ingest_get).post(ingest::ingest_post))
}

/// The gateway's Kafka side: configuration, long-lived clients made on first
/// use, and counters of the reads and tails in flight.
pub struct Kafka {
    config: KafkaConfig,
    meta: OnceLock<Result<Arc<BaseConsumer>, String>>,
    admin: OnceLock<Result<rdkafka::admin::AdminClient<rdkafka::client::DefaultClientContext>, String>>,
    producer: OnceLock<Result<FutureProducer, String>>,
    active_reads: AtomicUsize,
    active_tails: AtomicUsize,
    /// Reads and tails in flight per client, to cap them.
    per_client: Mutex<HashMap<(Activity, String), usize>>,
    limits: KafkaLimits,
    /// Produce bodies held now, in KiB permits.
    produce_budget: Arc<Semaphore>,
    shutdown: CancellationToken,
}

impl Kafka {
    pub fn new(config: KafkaConfig, shutdown: CancellationToken) -> Kafka {
        Kafka::with_limits(config, shutdown, KafkaLimits::default())
    }

    pub fn with_limits(config: KafkaConfig, shutdown: CancellationToken, limits: KafkaLimits) -> Kafka {
        Kafka {
            config,
            meta: OnceLock::new(),
            admin: OnceLock::new(),
            producer: OnceLock::new(),
            active_reads: AtomicUsize::new(0),
            active_tails: AtomicUsize::new(0),
            per_client: Mutex::new(HashMap::new()),
            produce_budget: Arc::new(Semaphore::new(kib(limits.produce_bytes_in_flight).min(Semaphore::MAX_PERMITS))),
            limits,
            shutdown,
        }
    }

    pub fn limits(&self) -> &KafkaLimits {
        &self.limits
    }

    pub fn config(&self) -> &KafkaConfig {
        &self.config
    }

    /// The shared client for metadata and watermarks.
    fn meta(&self) -> Result<Arc<BaseConsumer>, ApiError> {
        self.meta
            .get_or_init(|| self.config.consumer("riffle-meta").create().map(Arc::new).map_err(|e| e.to_string()))
            .clone()
            .map_err(|e| self.misconfigured(&e))
    }

    /// The shared producer: acks=all, idempotent.
    fn producer(&self) -> Result<FutureProducer, ApiError> {
        self.producer
            .get_or_init(|| self.config.producer().create().map_err(|e| e.to_string()))
            .clone()
            .map_err(|e| self.misconfigured(&e))
    }

    fn misconfigured(&self, why: &str) -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!(
                "the Kafka client could not be created: {why}. Check the RIFFLE_KAFKA_* settings and the properties file"
            ),
        )
    }

    /// The error for a broker that does not answer.
    pub(crate) fn unreachable(&self, why: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "Kafka at {} is not answering ({why}). Is the broker running? Start one on this machine with \
                 `scripts/kafka.sh start`, or point Riffle at yours with --kafka-bootstrap (RIFFLE_KAFKA_BOOTSTRAP)",
                self.config.bootstrap
            ),
        )
    }

    /// Maps a librdkafka error to an API error with a status that says whose fault it is.
    pub(crate) fn error(&self, context: &str, e: &KafkaError) -> ApiError {
        match e.rdkafka_error_code() {
            Some(
                RDKafkaErrorCode::BrokerTransportFailure
                | RDKafkaErrorCode::AllBrokersDown
                | RDKafkaErrorCode::OperationTimedOut
                | RDKafkaErrorCode::RequestTimedOut
                | RDKafkaErrorCode::BrokerNotAvailable
                | RDKafkaErrorCode::NetworkException,
            ) => self.unreachable(format!("{context}: {e}")),
            Some(RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic) => {
                ApiError::not_found(format!("{context}: {e}"))
            }
            Some(RDKafkaErrorCode::TopicAuthorizationFailed | RDKafkaErrorCode::ClusterAuthorizationFailed) => {
                ApiError::forbidden(format!("{context}: the broker refused: {e}"))
            }
            _ => ApiError::new(StatusCode::BAD_GATEWAY, format!("{context}: {e}")),
        }
    }

    /// Metadata for one topic (or all), within the configured deadline.
    pub(crate) async fn metadata(self: &Arc<Self>, topic: Option<&str>) -> Result<Cluster, ApiError> {
        let meta = self.meta()?;
        let timeout = self.config.timeout;
        let topic = topic.map(str::to_string);
        let this = self.clone();
        blocking(move || meta.fetch_metadata(topic.as_deref(), timeout).map(|m| Cluster::from(&m)))
            .await?
            .map_err(|e| this.error("fetching metadata", &e))
    }

    /// The partitions of a topic, or a 404 that lists the topics there are.
    pub(crate) async fn partitions(self: &Arc<Self>, topic: &str) -> Result<Vec<i32>, ApiError> {
        let metadata = self.metadata(Some(topic)).await?;
        let found = metadata.topics.iter().find(|t| t.name == topic);
        match found {
            Some(t) if t.error.is_none() && !t.partitions.is_empty() => {
                let mut ids: Vec<i32> = t.partitions.iter().map(|p| p.id).collect();
                ids.sort_unstable();
                Ok(ids)
            }
            _ => Err(self.unknown_topic(topic).await),
        }
    }

    /// A 404 for a topic that does not exist, naming the ones that do.
    pub(crate) async fn unknown_topic(self: &Arc<Self>, topic: &str) -> ApiError {
        let names: Vec<String> = match self.metadata(None).await {
            Ok(m) => {
                let mut n: Vec<String> =
                    m.topics.iter().map(|t| t.name.clone()).filter(|n| !n.starts_with("__")).collect();
                n.sort();
                n
            }
            Err(_) => Vec::new(),
        };
        let mut message = format!("topic '{topic}' does not exist on {}", self.config.bootstrap);
        if let Some(near) = nearest(topic, &names) {
            message.push_str(&format!(" (did you mean '{near}'?)"));
        }
        if names.is_empty() {
            message.push_str("; there are no topics yet");
        } else if names.len() <= 20 {
            message.push_str(&format!("; topics: {}", names.join(", ")));
        } else {
            message.push_str(&format!("; topics: {}, and {} more", names[..20].join(", "), names.len() - 20));
        }
        message.push_str(". Create it with POST /api/kafka/topics {\"name\": \"...\", \"partitions\": 1}");
        ApiError::not_found(message)
    }

    /// The low and high watermarks of some partitions.
    pub(crate) async fn watermarks(
        self: &Arc<Self>,
        topic: &str,
        partitions: &[i32],
    ) -> Result<Vec<(i32, i64, i64)>, ApiError> {
        let meta = self.meta()?;
        let timeout = self.config.timeout;
        let topic = topic.to_string();
        let partitions = partitions.to_vec();
        let this = self.clone();
        blocking(move || {
            partitions
                .iter()
                .map(|&p| {
                    // Right after a topic is made its partitions may have no
                    // leader for a moment: ask again for up to 2 s, then say so.
                    let mut tries = 0;
                    loop {
                        match meta.fetch_watermarks(&topic, p, timeout) {
                            Ok((low, high)) => break Ok((p, low, high)),
                            Err(e) if tries < 20 && is_leaderless(&e) => {
                                tries += 1;
                                std::thread::sleep(Duration::from_millis(100));
                            }
                            Err(e) => break Err(this.error(&format!("reading the offsets of {topic}/{p}"), &e)),
                        }
                    }
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await?
    }

    /// Counts a read or a tail of `client` as in flight until the guard is
    /// dropped, or refuses it with a 429 when the client, or everyone
    /// together, already has as many as the limits allow.
    pub(crate) fn track(self: &Arc<Self>, what: Activity, client: &str) -> Result<ActiveGuard, Busy> {
        let (per_client, total, noun, open) = match what {
            Activity::Read => (self.limits.reads_per_client, self.limits.reads, "range reads", "streaming"),
            Activity::Tail => (self.limits.tails_per_client, self.limits.tails, "live tails", "open"),
        };
        let mut clients = self.per_client.lock().unwrap_or_else(|e| e.into_inner());
        let mine = clients.get(&(what, client.to_string())).copied().unwrap_or(0);
        let all = self.counter(what).load(Ordering::SeqCst);
        let refusal = if mine >= per_client {
            Some(format!(
                "{client} already has {mine} {noun} {open}, the most one client may have (limit {per_client}); \
                 close one (a tail's tab, or a read you no longer need) and try again"
            ))
        } else if all >= total {
            Some(format!(
                "this gateway already has {all} {noun} {open}, the most it takes at once (limit {total}); \
                 try again when one has ended"
            ))
        } else {
            None
        };
        if let Some(message) = refusal {
            return Err(Busy { status: StatusCode::TOO_MANY_REQUESTS, message, retry_after_s: 5 });
        }
        *clients.entry((what, client.to_string())).or_insert(0) += 1;
        self.counter(what).fetch_add(1, Ordering::SeqCst);
        Ok(ActiveGuard { kafka: self.clone(), what, client: client.to_string() })
    }

    /// Counts a short request (a page of browsing) as in flight, uncapped:
    /// it ends by itself within the metadata deadline.
    pub(crate) fn track_uncapped(self: &Arc<Self>, what: Activity) -> ActiveGuard {
        let client = String::new();
        *self.per_client.lock().unwrap_or_else(|e| e.into_inner()).entry((what, client.clone())).or_insert(0) += 1;
        self.counter(what).fetch_add(1, Ordering::SeqCst);
        ActiveGuard { kafka: self.clone(), what, client }
    }

    fn counter(&self, what: Activity) -> &AtomicUsize {
        match what {
            Activity::Read => &self.active_reads,
            Activity::Tail => &self.active_tails,
        }
    }

    /// Reserves `bytes` of the produce budget, or a 503 when it is taken.
    pub(crate) fn produce_budget(&self, bytes: usize) -> Result<OwnedSemaphorePermit, Busy> {
        let want = kib(bytes).max(1);
        let busy = || Busy {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: format!(
                "the gateway is busy: produce requests already hold most of the {} it takes at once; \
                 retry in a few seconds, or send smaller batches",
                human_bytes(self.limits.produce_bytes_in_flight)
            ),
            retry_after_s: 2,
        };
        let want = u32::try_from(want).map_err(|_| busy())?;
        self.produce_budget.clone().try_acquire_many_owned(want).map_err(|_| busy())
    }
}

/// Whole KiB, rounded up: the unit of the produce budget.
fn kib(bytes: usize) -> usize {
    bytes.div_ceil(1024)
}

/// "512 MiB", "8 GiB", "1000 bytes": a limit, for messages.
pub(crate) fn human_bytes(n: usize) -> String {
    const UNITS: [(&str, usize); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, size) in UNITS {
        if n >= size && n.is_multiple_of(size) {
            return format!("{} {unit}", n / size);
        }
    }
    format!("{n} bytes")
}

/// Who a request comes from, for per-client limits: the peer's IP address
/// when the server records it (`into_make_service_with_connect_info`), else
/// every client counts as one.
pub(crate) fn client_of(extensions: &axum::http::Extensions) -> String {
    extensions
        .get::<axum::extract::ConnectInfo<crate::conn::PeerAddr>>()
        .map(|c| format!("client {}", c.0.0.ip()))
        .unwrap_or_else(|| "this gateway's clients together".to_string())
}

/// A partition between leaders (a new topic, a broker restart): worth asking again.
fn is_leaderless(e: &KafkaError) -> bool {
    matches!(
        e.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::LeaderNotAvailable
                | RDKafkaErrorCode::NotLeaderForPartition
                | RDKafkaErrorCode::UnknownTopicOrPartition
        )
    )
}

/// A refusal for now: a 429 or 503 with `Retry-After` and a JSON error.
#[derive(Debug)]
pub(crate) struct Busy {
    pub status: StatusCode,
    pub message: String,
    pub retry_after_s: u64,
}

impl axum::response::IntoResponse for Busy {
    fn into_response(self) -> axum::response::Response {
        let mut response = ApiError::new(self.status, self.message).into_response();
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(self.retry_after_s));
        response
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Activity {
    Read,
    Tail,
}

/// Decrements the in-flight counters when a read or tail ends, however it ends.
pub(crate) struct ActiveGuard {
    kafka: Arc<Kafka>,
    what: Activity,
    client: String,
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        let mut clients = self.kafka.per_client.lock().unwrap_or_else(|e| e.into_inner());
        let key = (self.what, std::mem::take(&mut self.client));
        if let Some(n) = clients.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                clients.remove(&key);
            }
        }
        self.kafka.counter(self.what).fetch_sub(1, Ordering::SeqCst);
    }
}

/// Cluster metadata, owned (librdkafka's is not `Send`).
#[derive(Debug, Clone)]
pub(crate) struct Cluster {
    pub brokers: Vec<String>,
    pub topics: Vec<TopicMeta>,
}

#[derive(Debug, Clone)]
pub(crate) struct TopicMeta {
    pub name: String,
    pub error: Option<String>,
    pub partitions: Vec<PartitionMeta>,
}

#[derive(Debug, Clone)]
pub(crate) struct PartitionMeta {
    pub id: i32,
    pub leader: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
    pub error: Option<String>,
}

impl From<&rdkafka::metadata::Metadata> for Cluster {
    fn from(m: &rdkafka::metadata::Metadata) -> Cluster {
        Cluster {
            brokers: m.brokers().iter().map(|b| format!("{}:{}", b.host(), b.port())).collect(),
            topics: m
                .topics()
                .iter()
                .map(|t| TopicMeta {
                    name: t.name().to_string(),
                    error: t.error().map(|e| format!("{:?}", e)),
                    partitions: t
                        .partitions()
                        .iter()
                        .map(|p| PartitionMeta {
                            id: p.id(),
                            leader: p.leader(),
                            replicas: p.replicas().to_vec(),
                            isr: p.isr().to_vec(),
                            error: p.error().map(|e| format!("{:?}", e)),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// Runs a blocking librdkafka call off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("a Kafka task failed: {e}")))
}

/// The closest name by edit distance, when it is close enough to be a typo.
fn nearest<'a>(name: &str, names: &'a [String]) -> Option<&'a str> {
    names
        .iter()
        .map(|n| (edit_distance(&name.to_lowercase(), &n.to_lowercase()), n))
        .filter(|(d, n)| *d <= (n.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n.as_str())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb { prev } else { 1 + prev.min(row[j]).min(row[j + 1]) };
            prev = cur;
        }
    }
    row[b.len()]
}

/// How long a read may go without any message or end-of-partition event
/// before it gives up: the broker is gone or stuck.
const STALL: Duration = Duration::from_secs(30);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_topic() {
        let names = vec!["events".to_string(), "foo".to_string(), "commits".to_string()];
        assert_eq!(nearest("event", &names), Some("events"));
        assert_eq!(nearest("comits", &names), Some("commits"));
        assert_eq!(nearest("zzzzzzzz", &names), None);
    }

    #[test]
    fn reads_and_tails_are_capped_per_client_and_in_total() {
        let limits =
            KafkaLimits { reads_per_client: 2, reads: 3, tails_per_client: 1, tails: 1, ..KafkaLimits::default() };
        let kafka = Arc::new(Kafka::with_limits(KafkaConfig::new("127.0.0.1:1"), CancellationToken::new(), limits));
        let a1 = kafka.track(Activity::Read, "client a").unwrap();
        let _a2 = kafka.track(Activity::Read, "client a").unwrap();
        let e = kafka.track(Activity::Read, "client a").err().unwrap();
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(e.message.contains("client a") && e.message.contains("limit 2"), "{}", e.message);
        let _b1 = kafka.track(Activity::Read, "client b").unwrap();
        let e = kafka.track(Activity::Read, "client c").err().unwrap();
        assert!(e.message.contains("limit 3"), "{}", e.message);
        drop(a1);
        let _c1 = kafka.track(Activity::Read, "client c").unwrap();
        // Tails count apart from reads.
        let t = kafka.track(Activity::Tail, "client a").unwrap();
        assert!(kafka.track(Activity::Tail, "client b").is_err());
        drop(t);
        assert!(kafka.track(Activity::Tail, "client b").is_ok());
        assert_eq!(kafka.active_tails.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn the_produce_budget_is_shared() {
        let limits = KafkaLimits { produce_bytes_in_flight: 10 * 1024, ..KafkaLimits::default() };
        let kafka = Kafka::with_limits(KafkaConfig::new("127.0.0.1:1"), CancellationToken::new(), limits);
        let first = kafka.produce_budget(8 * 1024).unwrap();
        let e = kafka.produce_budget(4 * 1024).unwrap_err();
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(e.message.contains("retry") && e.message.contains("10 KiB"), "{}", e.message);
        drop(first);
        assert!(kafka.produce_budget(4 * 1024).is_ok());
        assert_eq!(human_bytes(8 << 30), "8 GiB");
        assert_eq!(human_bytes(1000), "1000 bytes");
    }
}
