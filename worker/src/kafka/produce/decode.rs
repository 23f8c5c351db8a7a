//! The body decoders' entry point: a body's records in order, by format, a
//! chunk at a time; and the simplest format, one message per line.

use super::arrow::arrow_into;
use super::json::{Json, json_into};
use super::records::{EachChunk, Format, Outgoing, Shape, Sink};
use crate::ApiError;

/// Decodes a body's records in order and hands them on a chunk at a time.
/// Returns how many there were.
pub(crate) fn decode(body: &[u8], shape: &Shape, each: &mut EachChunk<'_>) -> Result<usize, ApiError> {
    let mut sink = Sink { each, chunk: Vec::new(), bytes: 0, count: 0, error: None };
    match shape.format {
        Format::Lines => lines_into(body, shape, &mut sink)?,
        Format::Records => json_into(body, Json::Records, shape, &mut sink)?,
        Format::JsonArray => json_into(body, Json::Array, shape, &mut sink)?,
        Format::Arrow => arrow_into(body, &mut sink)?,
    }
    sink.flush()?;
    Ok(sink.count)
}

/// One message per line; a final newline does not make an empty message.
fn lines_into(body: &[u8], shape: &Shape, sink: &mut Sink<'_, '_>) -> Result<(), ApiError> {
    let body = body.strip_suffix(b"\n").unwrap_or(body);
    if body.is_empty() {
        return Ok(());
    }
    for line in body.split(|&b| b == b'\n') {
        sink.push(Outgoing {
            key: shape.key.as_ref().map(|k| k.as_bytes().to_vec()),
            value: Some(line.strip_suffix(b"\r").unwrap_or(line).to_vec()),
            headers: Vec::new(),
            partition: shape.partition,
        })?;
    }
    Ok(())
}
