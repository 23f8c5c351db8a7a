//! Request guards: same-origin only, and a token when one is configured.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::ApiError;

const COOKIE: &str = "riffle_token";

pub(crate) async fn guard(State(token): State<Option<Arc<String>>>, request: Request, next: Next) -> Response {
    if let Err(e) = check_origin(request.headers()) {
        return e.into_response();
    }
    let Some(token) = token else {
        return next.run(request).await;
    };
    let from_query = request
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("token=")))
        .is_some_and(|t| same(t, &token));
    if !(from_query || carries_token(request.headers(), &token)) {
        return ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "this Riffle gateway needs its token: open the URL it printed at start (…/?token=…)",
        )
        .into_response();
    }
    let mut response = next.run(request).await;
    if from_query {
        // The page's later requests, and its workers', carry the cookie instead.
        let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// Browsers send `Origin` on cross-site requests and WebSocket upgrades; it
/// must name this very server.
fn check_origin(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    let authority = origin.split_once("://").map(|(_, rest)| rest).unwrap_or_default();
    if !host.is_empty() && authority.eq_ignore_ascii_case(host) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "cross-origin request from {origin} refused: only pages served by this gateway may use it"
        )))
    }
}

fn carries_token(headers: &HeaderMap, token: &str) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| same(t, token));
    let cookie = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(';').filter_map(|kv| kv.trim().strip_prefix(COOKIE)?.strip_prefix('=')).any(|t| same(t, token))
    });
    bearer || cookie
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
