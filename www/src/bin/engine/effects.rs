//! A cell's effects: `INSERT INTO kafka(...)` produces, `COPY ... TO` writes,
//! both through the gateway's JSON calls.

use riffle::CellError;
use riffle::engine::{ProducePlan, WritePlan};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{RequestInit, Response};

use super::{Worker, encode, js_error};

impl Worker {
    /// Sends `INSERT INTO kafka(...)`'s records to the gateway's produce
    /// endpoint; every record must be acknowledged (acks=all).
    pub(crate) async fn produce(&self, plan: &ProducePlan) -> Result<String, CellError> {
        let what = format!("kafka('{}')", plan.topic);
        let url = format!("/api/kafka/topics/{}/produce?format=arrow&results=errors", encode(&plan.topic));
        let init = RequestInit::new();
        init.set_method("POST");
        let body = js_sys::Uint8Array::from(plan.ipc.as_slice());
        init.set_body(&body);
        if let Ok(headers) = web_sys::Headers::new() {
            let _ = headers.set("content-type", "application/vnd.apache.arrow.stream");
            init.set_headers(&headers);
        }
        if let Some(signal) = self.signal() {
            init.set_signal(Some(&signal));
        }
        let failed = |why: String| CellError::new(format!("could not produce to {what}: {why}"));
        let response = JsFuture::from(self.scope.fetch_with_str_and_init(&url, &init))
            .await
            .map_err(|e| failed(format!("the gateway did not answer ({})", js_error(&e))))?;
        let response: Response = response.unchecked_into();
        let text = match response.text() {
            Ok(p) => JsFuture::from(p).await.ok().and_then(|t| t.as_string()).unwrap_or_default(),
            Err(_) => String::new(),
        };
        let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if !response.ok() {
            let detail = body["error"].as_str().map(str::to_string).unwrap_or(text);
            return Err(failed(format!("{} {detail}", response.status())));
        }
        let produced = body["produced"].as_u64().unwrap_or_default();
        Ok(format!("produced {produced} record(s) to '{}', each acknowledged by the broker (acks=all)", plan.topic))
    }

    /// Carries out `COPY ... TO`: opens a write, stages each part file, and
    /// commits (parts into place, then `_SUCCESS`). On any failure or a
    /// cancel, the write is aborted and the old output stays as it was.
    pub(crate) async fn write(&self, plan: &WritePlan) -> Result<String, CellError> {
        let failed = |why: String| CellError::new(format!("could not write '{}': {why}", plan.path));
        let mode = serde_json::to_value(plan.mode).unwrap_or_default();
        let open = serde_json::json!({ "path": plan.path, "mode": mode }).to_string();
        let opened =
            self.call("POST", "/api/fs/writes", Some(open.as_bytes()), "application/json").await.map_err(failed)?;
        let id = opened["id"].as_str().unwrap_or_default().to_string();
        let mut bytes = 0;
        for (i, part) in plan.parts.iter().enumerate() {
            let name = plan.part_name(i, &id);
            let url = format!("/api/fs/writes/{id}/parts/{}", encode(&name));
            if let Err(why) = self.call("PUT", &url, Some(part), "application/octet-stream").await {
                let _ = self.call("DELETE", &format!("/api/fs/writes/{id}"), None, "").await;
                return Err(failed(why));
            }
            bytes += part.len();
        }
        let committed = match self.call("POST", &format!("/api/fs/writes/{id}/commit"), None, "").await {
            Ok(c) => c,
            Err(why) => {
                let _ = self.call("DELETE", &format!("/api/fs/writes/{id}"), None, "").await;
                return Err(failed(why));
            }
        };
        let replaced = committed["replaced"].as_u64().unwrap_or_default();
        Ok(format!(
            "wrote {} part file(s), {}, and _SUCCESS to '{}' ({} mode{})",
            plan.parts.len(),
            riffle::text::human_bytes(bytes as u64),
            plan.path,
            mode.as_str().unwrap_or_default(),
            if replaced > 0 { format!(", replacing {replaced} old file(s)") } else { String::new() }
        ))
    }

    /// One JSON call to the gateway: the body of a 2xx answer, or its error
    /// message. Aborted with the run (except the cleanup DELETE).
    pub(crate) async fn call(
        &self,
        method: &str,
        url: &str,
        body: Option<&[u8]>,
        content_type: &str,
    ) -> Result<serde_json::Value, String> {
        let init = RequestInit::new();
        init.set_method(method);
        if let Some(body) = body {
            init.set_body(&js_sys::Uint8Array::from(body));
            if let Ok(headers) = web_sys::Headers::new() {
                let _ = headers.set("content-type", content_type);
                init.set_headers(&headers);
            }
        }
        if method != "DELETE"
            && let Some(signal) = self.signal()
        {
            init.set_signal(Some(&signal));
        }
        let response = JsFuture::from(self.scope.fetch_with_str_and_init(url, &init))
            .await
            .map_err(|e| format!("the gateway did not answer ({})", js_error(&e)))?;
        let response: Response = response.unchecked_into();
        let text = match response.text() {
            Ok(p) => JsFuture::from(p).await.ok().and_then(|t| t.as_string()).unwrap_or_default(),
            Err(_) => String::new(),
        };
        let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if response.ok() {
            Ok(value)
        } else {
            Err(format!("{} {}", response.status(), value["error"].as_str().map(str::to_string).unwrap_or(text)))
        }
    }
}
