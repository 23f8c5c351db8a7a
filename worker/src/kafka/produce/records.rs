//! A record to send, how a body's bytes become records (its format and the
//! defaults of lines and JSON arrays), and the chunks the decoders hand them
//! on in.

use crate::ApiError;

/// A record's headers: name and value (none for a null value).
pub(crate) type Headers = Vec<(String, Option<Vec<u8>>)>;

/// One record to send.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Outgoing {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Headers,
    pub partition: Option<i32>,
}

impl Outgoing {
    pub(super) fn size(&self) -> usize {
        self.key.as_ref().map_or(0, Vec::len)
            + self.value.as_ref().map_or(0, Vec::len)
            + self.headers.iter().map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len)).sum::<usize>()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Records,
    Lines,
    JsonArray,
    Arrow,
}

/// How the body's bytes become records.
#[derive(Debug, Clone)]
pub(crate) struct Shape {
    pub(crate) format: Format,
    pub(crate) key: Option<String>,
    pub(crate) partition: Option<i32>,
}

/// Records decoded and handed to the sender at a time, and a byte budget
/// that closes a chunk early.
const CHUNK_RECORDS: usize = 1_000;
const CHUNK_BYTES: usize = 1024 * 1024;

/// A chunk's handler: the index of its first record and the records.
pub(crate) type EachChunk<'a> = dyn FnMut(usize, Vec<Outgoing>) -> Result<(), ApiError> + 'a;

/// Gathers records into chunks.
pub(super) struct Sink<'s, 'a> {
    pub(super) each: &'s mut EachChunk<'a>,
    pub(super) chunk: Vec<Outgoing>,
    pub(super) bytes: usize,
    pub(super) count: usize,
    /// What stopped a JSON walk, kept apart from serde's own errors.
    pub(super) error: Option<ApiError>,
}

impl Sink<'_, '_> {
    pub(super) fn push(&mut self, r: Outgoing) -> Result<(), ApiError> {
        self.bytes += r.size() + 64;
        self.count += 1;
        self.chunk.push(r);
        if self.chunk.len() >= CHUNK_RECORDS || self.bytes >= CHUNK_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    pub(super) fn flush(&mut self) -> Result<(), ApiError> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::take(&mut self.chunk);
        self.bytes = 0;
        (self.each)(self.count - chunk.len(), chunk)
    }
}
