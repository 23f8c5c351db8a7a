//! Counting the rows of an Arrow IPC stream while its bytes arrive, so a
//! download can show "rows done of total" before it can be decoded.
//!
//! An IPC stream is a sequence of messages: `0xFFFFFFFF`, a 32-bit metadata
//! length, a flatbuffer `Message`, then `bodyLength` bytes. Only the few
//! flatbuffer fields needed are read (the header type, the body length and a
//! record batch's row count); nothing is decoded or kept.

/// Feed it each chunk as it arrives; read `rows` and `bytes`.
#[derive(Debug, Default, Clone)]
pub struct IpcProgress {
    /// Rows in the record batches completely received so far.
    pub rows: u64,
    /// Bytes received so far.
    pub bytes: u64,
    /// Record batches completely received so far.
    pub batches: u64,
    state: State,
    pending: Vec<u8>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for a message's length prefix.
    #[default]
    Prefix,
    /// Gathering `len` bytes of flatbuffer metadata.
    Metadata(usize),
    /// Skipping a body; the message's rows count once it is all here.
    Body { left: u64, rows: u64 },
    /// The end-of-stream marker was seen, or the bytes made no sense.
    End,
}

impl IpcProgress {
    pub fn new() -> IpcProgress {
        IpcProgress::default()
    }

    /// True once the end-of-stream marker has arrived.
    pub fn finished(&self) -> bool {
        self.state == State::End
    }

    pub fn feed(&mut self, mut chunk: &[u8]) {
        self.bytes += chunk.len() as u64;
        while !chunk.is_empty() {
            match self.state {
                State::End => return,
                State::Body { left, rows } => {
                    let n = (left as usize).min(chunk.len());
                    chunk = &chunk[n..];
                    let left = left - n as u64;
                    if left == 0 {
                        self.complete(rows);
                    } else {
                        self.state = State::Body { left, rows };
                    }
                }
                State::Prefix => {
                    let need = if self.pending.len() >= 4 && self.pending[..4] == [0xFF; 4] { 8 } else { 4 };
                    let n = (need - self.pending.len()).min(chunk.len());
                    self.pending.extend_from_slice(&chunk[..n]);
                    chunk = &chunk[n..];
                    if self.pending.len() < need {
                        continue;
                    }
                    if need == 4 && self.pending[..4] == [0xFF; 4] {
                        continue; // the continuation marker: the length follows
                    }
                    let len = i32::from_le_bytes(self.pending[need - 4..need].try_into().unwrap_or_default());
                    self.pending.clear();
                    self.state = if len <= 0 { State::End } else { State::Metadata(len as usize) };
                }
                State::Metadata(len) => {
                    let n = (len - self.pending.len()).min(chunk.len());
                    self.pending.extend_from_slice(&chunk[..n]);
                    chunk = &chunk[n..];
                    if self.pending.len() < len {
                        continue;
                    }
                    let parsed = message_info(&self.pending);
                    self.pending.clear();
                    match parsed {
                        Some((body, rows)) if body > 0 => self.state = State::Body { left: body, rows },
                        Some((_, rows)) => self.complete(rows),
                        None => self.state = State::End,
                    }
                }
            }
        }
    }

    fn complete(&mut self, rows: u64) {
        if rows > 0 {
            self.rows += rows;
            self.batches += 1;
        }
        self.state = State::Prefix;
    }
}

/// `(bodyLength, rows)` of one `Message` flatbuffer; rows is 0 unless the
/// message is a record batch.
fn message_info(buf: &[u8]) -> Option<(u64, u64)> {
    const RECORD_BATCH: u8 = 3;
    let message = table(buf, u32_at(buf, 0)? as usize)?;
    let header_type = message.field(buf, 1).map_or(Some(0), |at| buf.get(at).copied())?;
    let body = message.field(buf, 3).map_or(Some(0), |at| i64_at(buf, at))?;
    let rows = if header_type == RECORD_BATCH {
        let at = message.field(buf, 2)?;
        let batch = table(buf, at + u32_at(buf, at)? as usize)?;
        batch.field(buf, 0).map_or(Some(0), |at| i64_at(buf, at))?
    } else {
        0
    };
    Some((u64::try_from(body).ok()?, u64::try_from(rows).ok()?))
}

/// A flatbuffer table: where it starts and where its vtable is.
struct Table {
    at: usize,
    vtable: usize,
    vtable_len: usize,
}

fn table(buf: &[u8], at: usize) -> Option<Table> {
    let soffset = i32::from_le_bytes(buf.get(at..at + 4)?.try_into().ok()?);
    let vtable = usize::try_from(at as i64 - soffset as i64).ok()?;
    let vtable_len = u16::from_le_bytes(buf.get(vtable..vtable + 2)?.try_into().ok()?) as usize;
    Some(Table { at, vtable, vtable_len })
}

impl Table {
    /// Where field `i` is stored, or `None` when it is absent (its default).
    fn field(&self, buf: &[u8], i: usize) -> Option<usize> {
        let slot = 4 + 2 * i;
        if slot + 2 > self.vtable_len {
            return None;
        }
        let offset = u16::from_le_bytes(buf.get(self.vtable + slot..self.vtable + slot + 2)?.try_into().ok()?);
        (offset != 0).then_some(self.at + offset as usize)
    }
}

fn u32_at(buf: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(buf.get(at..at + 4)?.try_into().ok()?))
}

fn i64_at(buf: &[u8], at: usize) -> Option<i64> {
    Some(i64::from_le_bytes(buf.get(at..at + 8)?.try_into().ok()?))
}

#[cfg(all(test, feature = "engine"))]
#[allow(clippy::unwrap_used)]
mod tests {
    use polars::prelude::*;
    use polars_io::ipc::IpcStreamWriter;
    use polars_io::prelude::SerWriter;

    use super::*;

    /// A stream with one record batch per entry: Polars writes one batch per
    /// stream, so single-batch streams are spliced (the first's schema, every
    /// batch, one end marker).
    fn stream(batches: &[usize]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, &rows) in batches.iter().enumerate() {
            let mut df = df! {
                "v" => (0..rows).map(|i| format!("value {i}")).collect::<Vec<_>>(),
                "n" => (0..rows as i64).collect::<Vec<_>>(),
            }
            .unwrap();
            let mut bytes = Vec::new();
            IpcStreamWriter::new(&mut bytes).finish(&mut df).unwrap();
            assert_eq!(bytes[bytes.len() - 8..], [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]);
            bytes.truncate(bytes.len() - 8);
            let schema_len = 8 + i32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
            out.extend_from_slice(if i == 0 { &bytes } else { &bytes[schema_len..] });
        }
        out.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]);
        out
    }

    #[test]
    fn counts_rows_whatever_the_chunking() {
        let bytes = stream(&[3, 1000, 17]);
        for chunk in [1, 7, 64, 4096, bytes.len()] {
            let mut p = IpcProgress::new();
            for c in bytes.chunks(chunk) {
                p.feed(c);
            }
            assert_eq!(p.rows, 1020, "chunks of {chunk}");
            assert_eq!(p.batches, 3);
            assert_eq!(p.bytes, bytes.len() as u64);
            assert!(p.finished());
        }
    }

    #[test]
    fn partial_streams_count_complete_batches_only() {
        let bytes = stream(&[10, 20]);
        let mut p = IpcProgress::new();
        p.feed(&bytes[..bytes.len() - 20]);
        assert_eq!(p.rows, 10);
        assert!(!p.finished());
    }

    #[test]
    fn garbage_does_not_panic() {
        let mut p = IpcProgress::new();
        p.feed(&[0xFF, 0xFF, 0xFF, 0xFF, 0x10, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 9]);
        p.feed(b"more bytes");
        assert_eq!(p.rows, 0);
    }
}
