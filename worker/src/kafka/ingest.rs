//! Event ingest: what the Flask game API did. `POST /ingest/{topic}` takes a
//! JSON object (`GET` takes query parameters, for quick tests with curl or a
//! browser), merges chosen request headers into it (Host, User-Agent, Accept
//! by default), and produces it as one compact JSON message.
//!
//! A `GET` that writes is what any page could make a browser send (an
//! `<img src>`), so `GET` produces only with the gateway's token or when the
//! browser says it came from this gateway's page or the address bar
//! (`Sec-Fetch-Site: same-origin` or `none`); otherwise use `POST`, which a
//! foreign page cannot send here without an `Origin` the guard refuses.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Map, Value, json};

use super::produce::{Outgoing, send};
use crate::security::{Access, may_change_state_on_get};
use crate::{ApiError, AppState};

/// Request headers never merged into an event, whatever `--ingest-headers`
/// says: they carry the gateway's token or other credentials.
const SECRET_HEADERS: &[&str] = &["authorization", "cookie", "proxy-authorization"];

/// The request headers merged into each event unless configured otherwise.
pub const DEFAULT_INGEST_HEADERS: &[&str] = &["Host", "User-Agent", "Accept"];

pub(crate) async fn ingest_get(
    State(state): State<AppState>,
    Path(topic): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
    access: Option<Extension<Access>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    if !may_change_state_on_get(access.map(|Extension(a)| a), &headers) {
        return Err(ApiError::forbidden(format!(
            "GET /ingest/{topic} writes to Kafka, so it is refused from other sites and from clients that do not \
             say where they come from: send the event with POST /ingest/{topic} and a JSON body \
             (curl -X POST -H 'Content-Type: application/json' -d '{{\"event_type\": \"...\"}}' …/ingest/{topic}), \
             or add the gateway's token (?token=… or Authorization: Bearer …)"
        )));
    }
    ingest(state, topic, params, headers, Map::new()).await
}

pub(crate) async fn ingest_post(
    State(state): State<AppState>,
    Path(topic): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let event = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(o)) => o,
            Ok(other) => {
                return Err(ApiError::bad_request(format!(
                    "an event must be a JSON object such as {{\"event_type\": \"purchase_sword\"}}, not {}",
                    match other {
                        Value::Array(_) =>
                            "a list (post each event on its own, or use /api/kafka/topics/{topic}/produce?format=json-array)",
                        Value::String(_) => "a string",
                        Value::Number(_) => "a number",
                        _ => "null or a boolean",
                    }
                )));
            }
            Err(e) => {
                return Err(ApiError::bad_request(format!("the event is not valid JSON ({e})")));
            }
        }
    };
    ingest(state, topic, params, headers, event).await
}

async fn ingest(
    state: AppState,
    topic: String,
    mut params: BTreeMap<String, String>,
    headers: HeaderMap,
    mut event: Map<String, Value>,
) -> Result<Json<Value>, ApiError> {
    let key = params.remove("key");
    params.remove("token");
    for (k, v) in params {
        event.entry(k).or_insert(Value::String(v));
    }
    merge_headers(&mut event, &headers, &state.ingest_headers);
    let value = Value::Object(event);
    let record = Outgoing {
        key: key.map(String::into_bytes),
        value: Some(value.to_string().into_bytes()),
        ..Outgoing::default()
    };
    let report = send(&state.kafka, &topic, vec![record]).await?;
    match report.results.first() {
        Some(Ok((partition, offset))) => {
            Ok(Json(json!({ "topic": topic, "partition": partition, "offset": offset, "event": value })))
        }
        Some(Err(e)) => {
            Err(ApiError::new(StatusCode::BAD_GATEWAY, format!("the event was not produced to '{topic}': {e}")))
        }
        None => Err(ApiError::new(StatusCode::BAD_GATEWAY, "the event was not produced")),
    }
}

/// Adds the chosen headers under their usual spelling, as Flask's
/// `event.update(request.headers)` did; the event's own fields win.
fn merge_headers(event: &mut Map<String, Value>, headers: &HeaderMap, names: &[String]) {
    for name in names {
        if SECRET_HEADERS.iter().any(|s| name.eq_ignore_ascii_case(s)) {
            continue;
        }
        if let Some(v) = headers.get(name.as_str()).and_then(|v| v.to_str().ok()) {
            event.entry(name.clone()).or_insert_with(|| Value::String(v.to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_merge_without_overwriting() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "localhost:5000".parse().unwrap());
        headers.insert("user-agent", "curl/7.88".parse().unwrap());
        headers.insert("x-secret", "no".parse().unwrap());
        let names: Vec<String> = DEFAULT_INGEST_HEADERS.iter().map(|s| s.to_string()).collect();
        let mut event = Map::new();
        event.insert("event_type".into(), "purchase_sword".into());
        event.insert("Host".into(), "mine".into());
        merge_headers(&mut event, &headers, &names);
        assert_eq!(event["Host"], "mine");
        assert_eq!(event["User-Agent"], "curl/7.88");
        assert!(!event.contains_key("Accept"));
        assert!(!event.contains_key("x-secret"));
    }

    #[test]
    fn credentials_are_never_merged() {
        let mut headers = HeaderMap::new();
        headers.insert("cookie", "riffle_token_8080=abc".parse().unwrap());
        headers.insert("authorization", "Bearer abc".parse().unwrap());
        let names = vec!["Cookie".to_string(), "Authorization".to_string()];
        let mut event = Map::new();
        merge_headers(&mut event, &headers, &names);
        assert!(event.is_empty());
    }
}
