//! How much storage the gateway takes on (issue 17): the size of an upload or
//! part file, the open write sessions and how long an idle one lives, and
//! how old what a killed gateway left behind must be before it is swept.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use futures::{StreamExt, TryStreamExt};

use super::ByteStream;
use crate::ApiError;

/// The default of [`StorageLimits::max_upload_bytes`]: 2 GiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 2 << 30;

/// The storage limits; the defaults are [`StorageLimits::default`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageLimits {
    /// The largest upload or part file (default 2 GiB, `--max-upload-bytes`).
    pub max_upload_bytes: u64,
    /// Write sessions open at once (default 64); one more gets a 429.
    pub max_write_sessions: usize,
    /// A write session unused this long is aborted and its staging removed (default 1 h).
    pub write_idle: Duration,
    /// Staged uploads and orphaned `_temporary/<id>` directories untouched
    /// this long are debris (default 1 h, `RIFFLE_DEBRIS_GRACE_SECS`).
    pub debris_grace: Duration,
    /// How often idle sessions and debris are swept (default 60 s).
    pub sweep_every: Duration,
}

impl Default for StorageLimits {
    fn default() -> Self {
        StorageLimits {
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            max_write_sessions: 64,
            write_idle: Duration::from_secs(3600),
            debris_grace: Duration::from_secs(3600),
            sweep_every: Duration::from_secs(60),
        }
    }
}

/// A request body held to the upload limit. A declared `Content-Length` over
/// it is refused before anything is read; an undeclared (chunked) body is
/// counted as it streams and breaks off the moment it passes the limit.
/// [`SizedBody::explain`] then turns the backend's "broke off" error into the 413.
pub(crate) struct SizedBody {
    over: Arc<AtomicBool>,
    limit: u64,
    what: String,
}

impl SizedBody {
    /// The body's bytes, at most `limit` of them; `what` names it in the
    /// error ("the upload of 'a.csv'").
    pub(crate) fn open(
        headers: &HeaderMap,
        body: Body,
        limit: u64,
        what: String,
    ) -> Result<(ByteStream, SizedBody), ApiError> {
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if let Some(n) = declared
            && n > limit
        {
            return Err(too_large(&what, limit, Some(n)));
        }
        let over = Arc::new(AtomicBool::new(false));
        let flag = over.clone();
        let mut seen = 0u64;
        let stream = body
            .into_data_stream()
            .map_err(std::io::Error::other)
            .map(move |chunk| {
                let chunk = chunk?;
                seen += chunk.len() as u64;
                if seen > limit {
                    flag.store(true, Ordering::SeqCst);
                    return Err(std::io::Error::other(format!("the body passed the limit of {limit} bytes")));
                }
                Ok(chunk)
            })
            .boxed();
        Ok((stream, SizedBody { over, limit, what }))
    }

    /// The 413 to answer instead of `e` when the body passed the limit; else `e`.
    pub(crate) fn explain(&self, e: ApiError) -> ApiError {
        if self.over.load(Ordering::SeqCst) { too_large(&self.what, self.limit, None) } else { e }
    }
}

fn too_large(what: &str, limit: u64, declared: Option<u64>) -> ApiError {
    let size = match declared {
        Some(n) => format!("it declares {n} bytes"),
        None => "it passed the limit while streaming".to_string(),
    };
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "{what} is larger than the gateway's upload limit of {} ({size}); nothing was kept. \
             Split it, or start the gateway with a larger --max-upload-bytes (or RIFFLE_MAX_UPLOAD_BYTES)",
            bytes_text(limit)
        ),
    )
}

/// `2147483648 bytes (2 GiB)`, or `1000 bytes`.
fn bytes_text(n: u64) -> String {
    match usize::try_from(n).map(crate::kafka::human_bytes) {
        Ok(human) if human != format!("{n} bytes") => format!("{n} bytes ({human})"),
        _ => format!("{n} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_well() {
        assert_eq!(bytes_text(DEFAULT_MAX_UPLOAD_BYTES), "2147483648 bytes (2 GiB)");
        assert_eq!(bytes_text(1000), "1000 bytes");
        assert_eq!(bytes_text(3 << 20), "3145728 bytes (3 MiB)");
    }
}
