//! The first pass over a produce body: every record decoded and checked
//! against the topic's partitions and the size and count limits, none kept,
//! so that a bad record means nothing is produced.

use axum::http::StatusCode;

use super::decode::decode;
use super::records::{Format, Outgoing, Shape};
use crate::ApiError;

/// The first pass's rules.
pub(super) struct Check {
    pub(super) topic: String,
    pub(super) partitions: Vec<i32>,
    pub(super) max_message: usize,
    pub(super) max_records: usize,
}

impl Check {
    /// Every record decoded and checked, none kept. The count, when all is well.
    pub(super) fn run(&self, body: &[u8], shape: &Shape) -> Result<usize, ApiError> {
        // Lines are counted before any is decoded: a body of newlines is many records.
        if shape.format == Format::Lines {
            let trimmed = body.strip_suffix(b"\n").unwrap_or(body);
            let lines = if trimmed.is_empty() { 0 } else { trimmed.iter().filter(|&&b| b == b'\n').count() + 1 };
            if lines > self.max_records {
                return Err(self.too_many(&lines.to_string()));
            }
        }
        let count = decode(body, shape, &mut |first, chunk| {
            if first + chunk.len() > self.max_records {
                return Err(self.too_many(&format!("more than {}", self.max_records)));
            }
            for (j, r) in chunk.iter().enumerate() {
                self.record(first + j, r)?;
            }
            Ok(())
        })?;
        if count == 0 {
            return Err(ApiError::bad_request("there is nothing to produce: the body holds no records"));
        }
        Ok(count)
    }

    fn too_many(&self, count: &str) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the body holds {count} records; one produce request takes at most {} here, so nothing was produced. \
                 Send them in several requests of at most {} records",
                self.max_records, self.max_records
            ),
        )
    }

    fn record(&self, i: usize, r: &Outgoing) -> Result<(), ApiError> {
        check_record(&self.topic, &self.partitions, self.max_message, i, r)
    }
}

/// A record's partition is one the topic has, and its size fits.
pub(super) fn check_record(
    topic: &str,
    partitions: &[i32],
    limit: usize,
    i: usize,
    r: &Outgoing,
) -> Result<(), ApiError> {
    if let Some(p) = r.partition
        && !partitions.contains(&p)
    {
        return Err(ApiError::bad_request(format!(
            "record {i} asks for partition {p}, but topic '{topic}' has partitions 0 to {}",
            partitions.len() as i32 - 1
        )));
    }
    let size = r.size();
    if size > limit {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "record {i} is {size} bytes, more than Kafka accepts here (message.max.bytes = {limit}); nothing was produced. \
                 Split it, or raise RIFFLE_KAFKA_MESSAGE_MAX_BYTES and the topic's max.message.bytes together"
            ),
        ));
    }
    Ok(())
}
