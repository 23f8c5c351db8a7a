//! Kafka, through librdkafka: the topics REST API, bounded range reads as
//! Arrow IPC, pages of messages as JSON for browsing, produce, a WebSocket
//! live tail and the event-ingest endpoint.
//!
//! Every blocking librdkafka call runs on tokio's blocking pool, and each one
//! has a deadline, so a dead broker answers with a 503 quickly instead of
//! hanging a request.

mod admin;
mod browse;
pub mod config;
mod ingest;
mod produce;
mod read;
mod tail;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::FutureProducer;
use tokio_util::sync::CancellationToken;

pub use config::KafkaConfig;
pub use ingest::DEFAULT_INGEST_HEADERS;

use crate::{ApiError, AppState};

/// The largest produce request body: a batch of records or an Arrow IPC stream.
const PRODUCE_BODY_LIMIT: usize = 512 * 1024 * 1024;

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
    shutdown: CancellationToken,
}

impl Kafka {
    pub fn new(config: KafkaConfig, shutdown: CancellationToken) -> Kafka {
        Kafka {
            config,
            meta: OnceLock::new(),
            admin: OnceLock::new(),
            producer: OnceLock::new(),
            active_reads: AtomicUsize::new(0),
            active_tails: AtomicUsize::new(0),
            shutdown,
        }
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
                    meta.fetch_watermarks(&topic, p, timeout)
                        .map(|(low, high)| (p, low, high))
                        .map_err(|e| this.error(&format!("reading the offsets of {topic}/{p}"), &e))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await?
    }

    /// Counts a read or a tail as in flight until the guard is dropped.
    pub(crate) fn track(self: &Arc<Self>, what: Activity) -> ActiveGuard {
        self.counter(what).fetch_add(1, Ordering::SeqCst);
        ActiveGuard { kafka: self.clone(), what }
    }

    fn counter(&self, what: Activity) -> &AtomicUsize {
        match what {
            Activity::Read => &self.active_reads,
            Activity::Tail => &self.active_tails,
        }
    }
}

#[derive(Clone, Copy)]
pub(crate) enum Activity {
    Read,
    Tail,
}

/// Decrements an in-flight counter when a read or tail ends, however it ends.
pub(crate) struct ActiveGuard {
    kafka: Arc<Kafka>,
    what: Activity,
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
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
}
