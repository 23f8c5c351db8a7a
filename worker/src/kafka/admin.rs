//! Topics: list, describe, create, delete; and the connection's status.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Kafka;
use crate::{ApiError, AppState};

#[derive(Deserialize, Default)]
pub(crate) struct ListQuery {
    /// Also list `__consumer_offsets` and other internal topics.
    #[serde(default)]
    internal: bool,
}

pub(crate) async fn status(State(state): State<AppState>) -> Json<Value> {
    let kafka = &state.kafka;
    let mut body = json!({
        "bootstrap": kafka.config.bootstrap,
        "active_reads": kafka.active_reads.load(Ordering::SeqCst),
        "active_tails": kafka.active_tails.load(Ordering::SeqCst),
    });
    match kafka.metadata(None).await {
        Ok(m) => {
            body["reachable"] = true.into();
            body["brokers"] = m.brokers.clone().into();
            body["topics"] = m.topics.iter().filter(|t| !t.name.starts_with("__")).count().into();
        }
        Err(e) => {
            body["reachable"] = false.into();
            body["error"] = e.message.into();
        }
    }
    Json(body)
}

/// One topic's partitions with their watermarks.
async fn topic_json(kafka: &Arc<Kafka>, name: &str, detail: Option<&super::TopicMeta>) -> Result<Value, ApiError> {
    let partitions = kafka.partitions(name).await?;
    let marks = kafka.watermarks(name, &partitions).await?;
    let mut total = 0i64;
    let parts: Vec<Value> = marks
        .iter()
        .map(|&(p, low, high)| {
            total += high - low;
            let mut v = json!({ "partition": p, "low": low, "high": high, "messages": high - low });
            if let Some(meta) = detail.and_then(|t| t.partitions.iter().find(|x| x.id == p)) {
                v["leader"] = meta.leader.into();
                v["replicas"] = meta.replicas.clone().into();
                v["isr"] = meta.isr.clone().into();
            }
            v
        })
        .collect();
    Ok(json!({ "name": name, "partitions": parts.len(), "messages": total, "partition_offsets": parts }))
}

pub(crate) async fn list(State(state): State<AppState>, Query(q): Query<ListQuery>) -> Result<Json<Value>, ApiError> {
    let kafka = &state.kafka;
    let metadata = kafka.metadata(None).await?;
    let mut names: Vec<String> =
        metadata.topics.iter().map(|t| t.name.clone()).filter(|n| q.internal || !n.starts_with("__")).collect();
    names.sort();
    let mut topics = Vec::with_capacity(names.len());
    for name in &names {
        match topic_json(kafka, name, None).await {
            Ok(t) => topics.push(t),
            // Deleted between the two calls: leave it out.
            Err(e) if e.status == StatusCode::NOT_FOUND => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Json(json!({ "bootstrap": kafka.config.bootstrap, "topics": topics })))
}

pub(crate) async fn describe(
    State(state): State<AppState>,
    Path(topic): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let kafka = &state.kafka;
    let metadata = kafka.metadata(Some(&topic)).await?;
    let detail = metadata.topics.iter().find(|t| t.name == topic).cloned();
    let mut body = topic_json(kafka, &topic, detail.as_ref()).await?;
    // The settings that differ from the broker's defaults, plus the two everyone asks about.
    let admin = kafka.admin()?;
    let options = AdminOptions::new().request_timeout(Some(kafka.config.timeout));
    if let Ok(results) = admin.describe_configs(&[ResourceSpecifier::Topic(&topic)], &options).await {
        let mut config = serde_json::Map::new();
        for resource in results.into_iter().flatten() {
            for entry in resource.entries {
                let wanted = !entry.is_default || matches!(entry.name.as_str(), "retention.ms" | "cleanup.policy");
                if wanted && !entry.is_sensitive {
                    config.insert(entry.name, entry.value.map(Value::from).unwrap_or(Value::Null));
                }
            }
        }
        body["config"] = Value::Object(config);
    }
    Ok(Json(body))
}

#[derive(Deserialize)]
pub(crate) struct CreateTopic {
    name: String,
    #[serde(default = "one")]
    partitions: i32,
    #[serde(default = "one")]
    replication_factor: i32,
    #[serde(default)]
    config: std::collections::BTreeMap<String, String>,
}

fn one() -> i32 {
    1
}

/// Kafka's rule for topic names.
fn check_topic_name(name: &str) -> Result<(), ApiError> {
    let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if name.is_empty() || name.len() > 249 || name == "." || name == ".." || !name.chars().all(legal) {
        return Err(ApiError::bad_request(format!(
            "'{name}' is not a valid topic name: use 1 to 249 characters from a-z, A-Z, 0-9, '.', '_' and '-'"
        )));
    }
    Ok(())
}

pub(crate) async fn create(State(state): State<AppState>, body: axum::body::Bytes) -> Result<Response, ApiError> {
    let request: CreateTopic = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the topic to create must be JSON such as {{\"name\": \"events\", \"partitions\": 3, \"replication_factor\": 1}}: {e}"
        ))
    })?;
    check_topic_name(&request.name)?;
    if request.partitions < 1 || request.replication_factor < 1 {
        return Err(ApiError::bad_request("partitions and replication_factor must be at least 1"));
    }
    let kafka = &state.kafka;
    // Fails fast when the broker is down, before the admin request's own timeout.
    let metadata = kafka.metadata(None).await?;
    if metadata.brokers.len() < request.replication_factor as usize {
        return Err(ApiError::bad_request(format!(
            "replication_factor {} is more than the {} broker(s) this cluster has",
            request.replication_factor,
            metadata.brokers.len()
        )));
    }
    let admin = kafka.admin()?;
    let mut new = NewTopic::new(&request.name, request.partitions, TopicReplication::Fixed(request.replication_factor));
    for (k, v) in &request.config {
        new = new.set(k, v);
    }
    let options =
        AdminOptions::new().request_timeout(Some(kafka.config.timeout)).operation_timeout(Some(kafka.config.timeout));
    let results = admin.create_topics(&[new], &options).await.map_err(|e| kafka.error("creating the topic", &e))?;
    let created = match results.into_iter().next() {
        Some(Ok(_)) => true,
        Some(Err((_, RDKafkaErrorCode::TopicAlreadyExists))) => false,
        Some(Err((_, code))) => {
            let status = match code {
                RDKafkaErrorCode::InvalidConfig
                | RDKafkaErrorCode::InvalidPartitions
                | RDKafkaErrorCode::InvalidReplicationFactor
                | RDKafkaErrorCode::InvalidTopic => StatusCode::BAD_REQUEST,
                RDKafkaErrorCode::TopicAuthorizationFailed | RDKafkaErrorCode::ClusterAuthorizationFailed => {
                    StatusCode::FORBIDDEN
                }
                _ => StatusCode::BAD_GATEWAY,
            };
            return Err(ApiError::new(status, format!("could not create topic '{}': {code}", request.name)));
        }
        None => {
            return Err(ApiError::new(StatusCode::BAD_GATEWAY, "the broker gave no answer for the topic"));
        }
    };
    if created {
        wait_for_leaders(kafka, &request.name, request.partitions).await;
    }
    let body = topic_json(kafka, &request.name, None).await.unwrap_or_else(|_| json!({ "name": request.name }));
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(json!({ "created": created, "topic": body }))).into_response())
}

/// A new topic's partitions get leaders a moment after the create call
/// returns; wait for that, so a produce right after it succeeds.
async fn wait_for_leaders(kafka: &Arc<Kafka>, topic: &str, partitions: i32) {
    let deadline = Instant::now() + kafka.config.timeout;
    while Instant::now() < deadline {
        if let Ok(m) = kafka.metadata(Some(topic)).await {
            let ready = m.topics.iter().find(|t| t.name == topic).is_some_and(|t| {
                t.error.is_none()
                    && t.partitions.len() == partitions as usize
                    && t.partitions.iter().all(|p| p.leader >= 0 && p.error.is_none())
            });
            if ready {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct DeleteQuery {
    confirm: Option<String>,
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(topic): Path<String>,
    Query(q): Query<DeleteQuery>,
) -> Result<Json<Value>, ApiError> {
    let kafka = &state.kafka;
    let partitions = kafka.partitions(&topic).await?;
    if q.confirm.as_deref() != Some(topic.as_str()) {
        let messages: i64 = kafka.watermarks(&topic, &partitions).await?.iter().map(|(_, l, h)| h - l).sum();
        return Err(ApiError::bad_request(format!(
            "deleting topic '{topic}' removes its {messages} message(s) for good; repeat the request with ?confirm={topic}"
        )));
    }
    let admin = kafka.admin()?;
    let options =
        AdminOptions::new().request_timeout(Some(kafka.config.timeout)).operation_timeout(Some(kafka.config.timeout));
    let results = admin.delete_topics(&[&topic], &options).await.map_err(|e| kafka.error("deleting the topic", &e))?;
    match results.into_iter().next() {
        Some(Ok(_)) => Ok(Json(json!({ "deleted": topic }))),
        Some(Err((_, code))) => {
            Err(ApiError::new(StatusCode::BAD_GATEWAY, format!("could not delete topic '{topic}': {code}")))
        }
        None => Err(ApiError::new(StatusCode::BAD_GATEWAY, "the broker gave no answer for the topic")),
    }
}

impl Kafka {
    pub(crate) fn admin(&self) -> Result<&AdminClient<DefaultClientContext>, ApiError> {
        self.admin
            .get_or_init(|| self.config.admin().create().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| self.misconfigured(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names() {
        assert!(check_topic_name("game.events-v1_x").is_ok());
        assert!(check_topic_name("").is_err());
        assert!(check_topic_name("has space").is_err());
        assert!(check_topic_name(&"x".repeat(250)).is_err());
    }
}
