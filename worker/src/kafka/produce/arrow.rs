//! Arrow IPC bodies (what `INSERT INTO kafka(...)` sends): the stream's
//! framing checked before arrow-rs reads it, then its `value`, `key` and
//! `partition` columns as records, a batch at a time.

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;

use super::records::{Outgoing, Sink};
use crate::ApiError;

/// An Arrow IPC stream with a `value` column and optional `key` and
/// `partition` columns (what `INSERT INTO kafka(...)` sends), a batch at a
/// time. A malformed stream is a 400 naming what is wrong: the framing is
/// checked first, and a panic inside arrow-rs is caught as the last guard.
pub(super) fn arrow_into(body: &[u8], sink: &mut Sink<'_, '_>) -> Result<(), ApiError> {
    let bad = |why: String| ApiError::bad_request(format!("the body is not a usable Arrow IPC stream: {why}"));
    check_ipc_framing(body).map_err(bad)?;
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> Result<(), ApiError> {
        let reader = arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(body), None)
            .map_err(|e| bad(e.to_string()))?;
        for batch in reader {
            let batch = batch.map_err(|e| bad(e.to_string()))?;
            append_batch(&batch, sink, bad)?;
        }
        Ok(())
    }));
    match decoded {
        Ok(result) => result,
        Err(panic) => {
            let why = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("the decoder failed");
            Err(bad(format!("it is malformed ({why})")))
        }
    }
}

/// The IPC stream's framing, before arrow-rs decodes anything: every
/// message is a continuation marker (or a legacy bare length), a metadata
/// length, a flatbuffer `Message` that verifies, and the body length it
/// declares, each within the bytes there are; then an end marker or the end
/// of the body, nothing else. Catches truncated, random and trailing bytes
/// with a plain reason.
fn check_ipc_framing(body: &[u8]) -> Result<(), String> {
    if body.is_empty() {
        return Err("the body is empty (an IPC stream starts with its schema)".into());
    }
    let word =
        |at: usize| -> Option<u32> { body.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])) };
    let mut at = 0usize;
    let mut index = 0usize;
    while at < body.len() {
        let Some(mut len) = word(at) else {
            return Err(format!("{} stray bytes follow message {index}", body.len() - at));
        };
        at += 4;
        if len == 0xFFFF_FFFF {
            len = word(at).ok_or_else(|| format!("message {index} is cut off in its length"))?;
            at += 4;
        }
        if len == 0 {
            if at < body.len() {
                return Err(format!("{} bytes follow the end-of-stream marker", body.len() - at));
            }
            break;
        }
        let len = len as usize;
        let metadata = body.get(at..at + len).ok_or_else(|| {
            format!(
                "message {index} says its header is {len} bytes, but only {} follow; the stream is truncated or not Arrow IPC",
                body.len() - at
            )
        })?;
        let message = arrow_ipc::root_as_message(metadata)
            .map_err(|e| format!("message {index} is not an Arrow IPC message header ({e})"))?;
        if index == 0 && message.header_type() != arrow_ipc::MessageHeader::Schema {
            return Err("it does not start with a schema message".into());
        }
        let body_len =
            usize::try_from(message.bodyLength()).map_err(|_| format!("message {index} has a negative body length"))?;
        // A batch's buffers lie within its data (arrow-rs would panic slicing past it).
        let batch =
            message.header_as_record_batch().or_else(|| message.header_as_dictionary_batch().and_then(|d| d.data()));
        if let Some(buffers) = batch.and_then(|b| b.buffers()) {
            for (n, buffer) in buffers.iter().enumerate() {
                let end = u64::try_from(buffer.offset()).ok().zip(u64::try_from(buffer.length()).ok());
                if end.is_none_or(|(o, l)| o.saturating_add(l) > body_len as u64) {
                    return Err(format!(
                        "buffer {n} of message {index} lies outside the message's {body_len} bytes of data"
                    ));
                }
            }
        }
        at += len;
        if body_len > body.len() - at {
            return Err(format!(
                "message {index} says its data is {body_len} bytes, but only {} follow; the stream is truncated",
                body.len() - at
            ));
        }
        at += body_len;
        index += 1;
    }
    if index == 0 {
        return Err("it ends before its schema".into());
    }
    Ok(())
}

fn append_batch(
    batch: &RecordBatch,
    sink: &mut Sink<'_, '_>,
    bad: impl Fn(String) -> ApiError,
) -> Result<(), ApiError> {
    let value = batch.column_by_name("value").ok_or_else(|| bad("it has no column named value".into()))?;
    let key = batch.column_by_name("key");
    let partition = batch.column_by_name("partition");
    for i in 0..batch.num_rows() {
        let record = Outgoing {
            key: key.map(|k| bytes_at(k, i)).transpose().map_err(&bad)?.flatten(),
            value: bytes_at(value, i).map_err(&bad)?,
            headers: Vec::new(),
            partition: partition.map(|p| int_at(p, i)).transpose().map_err(&bad)?.flatten(),
        };
        sink.push(record)?;
    }
    Ok(())
}

fn bytes_at(array: &dyn Array, i: usize) -> Result<Option<Vec<u8>>, String> {
    if array.is_null(i) {
        return Ok(None);
    }
    Ok(Some(match array.data_type() {
        DataType::Binary => array.as_binary::<i32>().value(i).to_vec(),
        DataType::LargeBinary => array.as_binary::<i64>().value(i).to_vec(),
        DataType::BinaryView => array.as_binary_view().value(i).to_vec(),
        DataType::Utf8 => array.as_string::<i32>().value(i).as_bytes().to_vec(),
        DataType::LargeUtf8 => array.as_string::<i64>().value(i).as_bytes().to_vec(),
        DataType::Utf8View => array.as_string_view().value(i).as_bytes().to_vec(),
        other => return Err(format!("key and value must be text or binary, not {other}")),
    }))
}

fn int_at(array: &dyn Array, i: usize) -> Result<Option<i32>, String> {
    if array.is_null(i) {
        return Ok(None);
    }
    use arrow_array::types::{Int32Type, Int64Type};
    match array.data_type() {
        DataType::Int32 => Ok(Some(array.as_primitive::<Int32Type>().value(i))),
        DataType::Int64 => i32::try_from(array.as_primitive::<Int64Type>().value(i))
            .map(Some)
            .map_err(|_| "a partition number is out of range".to_string()),
        other => Err(format!("partition must be an integer, not {other}")),
    }
}
