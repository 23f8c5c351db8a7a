//! Request guards and response headers.
//!
//! Every request passes [`guard`]: its `Host` must name this gateway (so a
//! DNS-rebound name cannot reach it), its `Origin`, when a browser sends one,
//! must be the gateway's own, and `/api/*` and `/ingest/*` need the token when
//! one is configured (`riffle serve` makes one by default). The UI bundle
//! itself holds no data and is served without the token, so that the page
//! loads even where the browser withholds the SameSite=Strict cookie (the
//! first request after a cross-site link); its API requests then carry it.
//!
//! Every response gets [`headers`]: a Content-Security-Policy for the app,
//! `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::ApiError;

/// The cookie's name; the Host's port is appended (`riffle_token_8080`), so
/// two gateways on one machine do not overwrite each other's cookie.
const COOKIE: &str = "riffle_token";

/// The shortest token `--token` accepts, in bytes.
pub const MIN_TOKEN_LEN: usize = 16;

/// What the guard checks requests against.
#[derive(Debug, Clone, Default)]
pub(crate) struct Policy {
    pub(crate) token: Option<String>,
    /// The address the gateway listens on; an unspecified one (0.0.0.0, ::)
    /// allows every IP address in `Host` (an IP literal cannot be rebound).
    pub(crate) bind: Option<IpAddr>,
    /// `--allow-host` names (lowercase, without a port): a reverse proxy's or
    /// the machine's name. An `https://` Origin is accepted for these.
    pub(crate) allow_hosts: Vec<String>,
}

/// Put on each request that passed the guard: whether it carried the token.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Access {
    pub(crate) token_verified: bool,
}

pub(crate) async fn guard(State(policy): State<Arc<Policy>>, mut request: Request, next: Next) -> Response {
    if let Err(e) = check_host(request.headers(), &policy) {
        return e.into_response();
    }
    if let Err(e) = check_origin(request.headers(), &policy) {
        return e.into_response();
    }
    let Some(token) = policy.token.as_deref() else {
        request.extensions_mut().insert(Access { token_verified: false });
        return next.run(request).await;
    };
    let path = request.uri().path();
    let guarded = is_guarded(path);
    let query_token = request.uri().query().and_then(query_token);
    let verified = query_token.is_some_and(|t| same(t, token)) || carries_token(request.headers(), token);
    if query_token.is_some() && !verified {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this token is not the gateway's: open the URL it printed at start (…/?token=…) again",
        )
        .into_response();
    }
    if guarded && !verified {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this Riffle gateway needs its token: open the URL it printed at start (http://…/?token=…), \
             or send it as `Authorization: Bearer <token>`",
        )
        .into_response();
    }
    if !guarded
        && query_token.is_some()
        && matches!(*request.method(), axum::http::Method::GET | axum::http::Method::HEAD)
    {
        // The page's address: keep the token out of the address bar, history and
        // bookmarks. The page's later requests, and its workers', carry the cookie.
        return redirect_with_cookie(request.uri(), request.headers(), token);
    }
    request.extensions_mut().insert(Access { token_verified: verified });
    next.run(request).await
}

/// `/api/*` and `/ingest/*` need the token; the UI bundle does not.
fn is_guarded(path: &str) -> bool {
    ["/api", "/ingest"].iter().any(|p| path == *p || path.strip_prefix(p).is_some_and(|rest| rest.starts_with('/')))
}

fn query_token(query: &str) -> Option<&str> {
    query.split('&').find_map(|kv| kv.strip_prefix("token="))
}

/// 303 to the same path and query without `token=`, setting the cookie.
fn redirect_with_cookie(uri: &axum::http::Uri, headers: &HeaderMap, token: &str) -> Response {
    let rest: Vec<&str> =
        uri.query().unwrap_or_default().split('&').filter(|kv| !kv.is_empty() && !kv.starts_with("token=")).collect();
    let mut location = uri.path().to_string();
    if !rest.is_empty() {
        location.push('?');
        location.push_str(&rest.join("&"));
    }
    let cookie = format!("{}={token}; Path=/; HttpOnly; SameSite=Strict", cookie_name(headers));
    let mut response = StatusCode::SEE_OTHER.into_response();
    let h = response.headers_mut();
    if let (Ok(location), Ok(cookie)) = (HeaderValue::from_str(&location), HeaderValue::from_str(&cookie)) {
        h.insert(header::LOCATION, location);
        h.append(header::SET_COOKIE, cookie);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn cookie_name(headers: &HeaderMap) -> String {
    let port = host_header(headers).and_then(|h| split_host(h).1);
    match port {
        Some(port) => format!("{COOKIE}_{port}"),
        None => COOKIE.to_string(),
    }
}

fn host_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::HOST).map(|h| h.to_str().unwrap_or("\u{fffd}"))
}

/// `host[:port]` or `[v6]:port` → (lowercase host without a trailing dot, port).
fn split_host(authority: &str) -> (String, Option<&str>) {
    let (host, port) = if authority.starts_with('[') {
        match authority.find(']') {
            Some(end) => (&authority[..=end], authority[end + 1..].strip_prefix(':')),
            None => (authority, None),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    (host.trim_end_matches('.').to_ascii_lowercase(), port)
}

fn host_allowed(host: &str, policy: &Policy) -> bool {
    if matches!(host, "localhost" | "127.0.0.1" | "[::1]") || policy.allow_hosts.iter().any(|h| h == host) {
        return true;
    }
    let ip = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().ok();
    match (policy.bind, ip) {
        (Some(bind), Some(ip)) => bind.is_unspecified() || bind == ip,
        _ => false,
    }
}

/// A DNS-rebinding page reaches the gateway under its own name: `Host` must
/// be loopback, the bound address or an `--allow-host` name. A request
/// without `Host` is not from a browser (browsers always send it).
fn check_host(headers: &HeaderMap, policy: &Policy) -> Result<(), ApiError> {
    let Some(raw) = host_header(headers) else {
        return Ok(());
    };
    let (host, port) = split_host(raw);
    if host_allowed(&host, policy) {
        return Ok(());
    }
    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
    Err(ApiError::forbidden(format!(
        "this gateway does not answer to the host name '{raw}' (a page could have rebound that name to it): open it \
         at http://127.0.0.1{port}/ or http://localhost{port}/, or, if it is behind a reverse proxy or reached by \
         that name on purpose, start it with `riffle serve --allow-host {host}`"
    )))
}

/// Browsers send `Origin` on cross-site requests and WebSocket upgrades; it
/// must name this very server: `http://` and the request's `Host`, or
/// `https://` for an `--allow-host` name (a TLS-terminating proxy).
fn check_origin(headers: &HeaderMap, policy: &Policy) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    let same = match origin.split_once("://") {
        Some((scheme, authority)) if !host.is_empty() && authority.eq_ignore_ascii_case(host) => {
            scheme.eq_ignore_ascii_case("http")
                || (scheme.eq_ignore_ascii_case("https") && policy.allow_hosts.contains(&split_host(host).0))
        }
        _ => false,
    };
    if same {
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
        .is_some_and(|t| same(t.trim(), token));
    let cookie = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(';').filter_map(|kv| kv.trim().split_once('=')).any(|(name, value)| {
            (name == COOKIE || name.strip_prefix(COOKIE).is_some_and(|r| r.starts_with('_'))) && same(value, token)
        })
    });
    bearer || cookie
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether a GET that changes state (`GET /ingest/{topic}`) may: it carried
/// the token, or the browser says a page of this gateway or the user (typing
/// the address) sent it. An `<img src>` on another site sends `cross-site`;
/// a client that sends no `Sec-Fetch-Site` (curl, an old browser) needs the token.
pub(crate) fn may_change_state_on_get(access: Option<Access>, headers: &HeaderMap) -> bool {
    access.is_some_and(|a| a.token_verified)
        || headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("same-origin") || v.eq_ignore_ascii_case("none"))
}

/// Checks a `--token`: long enough, and only characters that survive a URL
/// and a cookie unchanged.
pub fn check_token(token: &str) -> Result<(), String> {
    if token.len() < MIN_TOKEN_LEN {
        return Err(format!(
            "the token is {} bytes long; use at least {MIN_TOKEN_LEN} (leave --token out and the gateway makes one)",
            token.len()
        ));
    }
    if let Some(c) = token.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'))) {
        return Err(format!(
            "the token contains {c:?}; use only letters, digits and - . _ ~ (it goes into a URL and a cookie)"
        ));
    }
    Ok(())
}

/// A fresh token: 24 random bytes (from the OS, through uuid's v4), base64url.
pub fn new_token() -> String {
    use base64::Engine;
    let mut bytes = Vec::with_capacity(28);
    for _ in 0..2 {
        let id = uuid::Uuid::new_v4().into_bytes();
        // Bytes 6 and 8 carry the version and variant bits; the other 14 are random.
        bytes.extend(id.iter().enumerate().filter(|(i, _)| *i != 6 && *i != 8).map(|(_, b)| *b));
    }
    bytes.truncate(24);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The Content-Security-Policy. Trunk puts the app's start as an inline
/// module script into `index.html`; its SHA-256 (read from the bundle when
/// the gateway starts) is allowed by hash, so no `'unsafe-inline'` scripts.
/// `'wasm-unsafe-eval'` lets the page and the worker compile WebAssembly;
/// styles may be inline (CodeMirror and Leptos set style attributes).
pub(crate) fn content_security_policy(index_html: Option<&str>) -> String {
    let hashes: String = index_html.map(inline_scripts).unwrap_or_default().iter().map(|s| format!(" '{s}'")).collect();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; worker-src 'self' blob:; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; \
         frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
    )
}

/// `sha256-…` of each inline `<script>` (one without `src`) in an HTML page.
fn inline_scripts(html: &str) -> Vec<String> {
    use base64::Engine;
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else { break };
        let attrs = &after[..open_end];
        let body_start = open_end + 1;
        let Some(close) = after[body_start..].find("</script") else { break };
        let body = &after[body_start..body_start + close];
        if !attrs.contains("src=") && !body.trim().is_empty() {
            let digest = sha256(body.as_bytes());
            out.push(format!("sha256-{}", base64::engine::general_purpose::STANDARD.encode(digest)));
        }
        rest = &after[body_start + close..];
    }
    out
}

#[derive(Clone)]
pub(crate) struct Headers {
    csp: HeaderValue,
}

impl Headers {
    pub(crate) fn new(index_html: Option<&str>) -> Headers {
        let csp = HeaderValue::from_str(&content_security_policy(index_html))
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
        Headers { csp }
    }
}

/// Adds the security headers to every response (a handler's own win).
pub(crate) async fn headers(State(h): State<Arc<Headers>>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let out = response.headers_mut();
    out.entry(header::CONTENT_SECURITY_POLICY).or_insert_with(|| h.csp.clone());
    out.entry(header::X_CONTENT_TYPE_OPTIONS).or_insert(HeaderValue::from_static("nosniff"));
    out.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static("no-referrer"));
    out.entry(header::X_FRAME_OPTIONS).or_insert(HeaderValue::from_static("DENY"));
    response
}

/// SHA-256 (FIPS 180-4), for the CSP hashes of inline scripts.
fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
        0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
        0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
        0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
        0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
        0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
        0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] =
        [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&((data.len() as u64).wrapping_mul(8)).to_be_bytes());
    for block in message.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh.wrapping_add(s1).wrapping_add(ch).wrapping_add(K[i]).wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sha256_matches_the_standard_vectors() {
        assert_eq!(hex(&sha256(b"")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(hex(&sha256(b"abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(
            hex(&sha256(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        assert_eq!(hex(&sha256(&[b'a'; 1000])), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
    }

    #[test]
    fn inline_scripts_are_hashed_and_external_ones_are_not() {
        let html = "<head><script type=\"module\">alert(1)</script><script src=\"/a.js\"></script></head>";
        let hashes = inline_scripts(html);
        assert_eq!(hashes.len(), 1);
        // echo -n 'alert(1)' | openssl dgst -sha256 -binary | base64
        assert_eq!(hashes[0], "sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI=");
        assert!(content_security_policy(Some(html)).contains("'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"));
    }

    #[test]
    fn hosts_split_and_match() {
        assert_eq!(split_host("LocalHost:8080"), ("localhost".to_string(), Some("8080")));
        assert_eq!(split_host("[::1]:80"), ("[::1]".to_string(), Some("80")));
        assert_eq!(split_host("localhost."), ("localhost".to_string(), None));
        let loopback = Policy { bind: Some("127.0.0.1".parse().unwrap()), ..Policy::default() };
        assert!(host_allowed("localhost", &loopback));
        assert!(host_allowed("[::1]", &loopback));
        assert!(!host_allowed("evil.example", &loopback));
        assert!(!host_allowed("10.0.0.5", &loopback));
        let any = Policy { bind: Some("0.0.0.0".parse().unwrap()), ..Policy::default() };
        assert!(host_allowed("10.0.0.5", &any));
        assert!(!host_allowed("notebook.example", &any));
        let proxied = Policy { allow_hosts: vec!["notebook.example".into()], ..Policy::default() };
        assert!(host_allowed("notebook.example", &proxied));
    }

    #[test]
    fn tokens_are_long_random_and_url_safe() {
        let a = new_token();
        assert_eq!(a.len(), 32);
        assert!(check_token(&a).is_ok());
        assert_ne!(a, new_token());
        assert!(check_token("short").unwrap_err().contains("at least 16"));
        assert!(check_token("sixteen bytes long!").unwrap_err().contains("letters, digits"));
    }

    #[test]
    fn only_api_and_ingest_paths_need_the_token() {
        assert!(is_guarded("/api/health"));
        assert!(is_guarded("/ingest/events"));
        assert!(is_guarded("/api"));
        assert!(!is_guarded("/"));
        assert!(!is_guarded("/app.js"));
        assert!(!is_guarded("/apis.html"));
    }
}
