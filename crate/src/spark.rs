//! The wire format between an engine worker and the gateway for cells that
//! run on Spark (`POST /api/spark/run`, see `docs/spark.md`): the request,
//! and a decoder for the framed answer. No IO: the worker feeds the bytes it
//! receives to [`FrameDecoder`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The row cap when a cell names none (`-- max_rows: N` changes it).
pub const DEFAULT_MAX_ROWS: u64 = 100_000;
/// The largest row cap a cell may ask for (the gateway's limit too).
pub const MAX_ROWS_LIMIT: u64 = 50_000_000;

/// `POST /api/spark/run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOnSpark {
    /// Temporary views the gateway creates on Spark first, one per table
    /// function the cell used (`read_parquet('hdfs:///x')` → a parquet view).
    pub sources: Vec<SparkSource>,
    /// Run in order; the last one's rows are the result.
    pub statements: Vec<String>,
    pub max_rows: u64,
    /// When the result is capped, also count all its rows (a second query).
    pub count_total: bool,
    /// The notebook's `spark.sql.ansi.enabled`, set on Spark before the
    /// statements so both engines follow one setting; none leaves Spark's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ansi: Option<bool>,
    /// The notebook's session: the gateway runs it in a Spark session of its
    /// own, so notebooks do not see each other's views. None: the gateway's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

/// A temporary view over a file, a directory of part files, or a Kafka topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SparkSource {
    pub view: String,
    /// `parquet`, `json`, `csv` or `kafka`.
    pub format: String,
    /// The path as the cell wrote it (`hdfs:///x`, or a path in the data
    /// directory, which the gateway turns into a `file://` URL); none for Kafka.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Spark's data source options (`header`, `subscribe`, `startingOffsets`).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    /// The columns `schema =>` gave, in order, with Spark's type names
    /// (`decimal(10,2)`, `array<string>`); empty when Spark infers them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schema: Vec<SparkColumn>,
}

/// One column of a source's given schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SparkColumn {
    pub name: String,
    /// Spark's name of the type, as `printSchema` writes it.
    #[serde(rename = "type")]
    pub spark_type: String,
}

/// Progress of a Spark run, from Spark's execution progress reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SparkProgress {
    /// Which statement runs (0-based) of how many.
    pub statement: u32,
    pub statements: u32,
    /// `view`, `command`, `query` or `count`.
    pub stage: String,
    pub tasks: u64,
    pub completed_tasks: u64,
    pub inflight_tasks: u64,
    pub input_bytes: u64,
    pub stages: u64,
    pub elapsed_ms: u64,
}

/// How a Spark run ended: the last frame.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SparkSummary {
    pub rows: u64,
    pub truncated: bool,
    pub total_rows: Option<u64>,
    pub operation_ids: Vec<String>,
    pub elapsed_ms: u64,
    pub error: Option<SparkError>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SparkError {
    pub message: String,
    /// `spark`, `interrupted`, `unreachable` or `gateway`.
    pub kind: String,
    pub statement: Option<u32>,
}

/// One frame of the answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Progress(SparkProgress),
    /// A piece of the result's Arrow IPC stream; the pieces in order are one stream.
    Arrow(Vec<u8>),
    Summary(SparkSummary),
}

/// Splits the answer's bytes, as they arrive, into frames:
/// `[kind: u8][length: u32 little-endian][payload]`, kinds `P`, `A`, `S`.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buffer: Vec<u8>,
}

/// The most one frame may hold (a piece of Arrow data is far smaller).
const MAX_FRAME: usize = 512 * 1024 * 1024;

impl FrameDecoder {
    pub fn new() -> FrameDecoder {
        FrameDecoder::default()
    }

    /// Adds bytes; returns the frames they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Frame>, String> {
        self.buffer.extend_from_slice(bytes);
        let mut frames = Vec::new();
        let mut at = 0;
        while self.buffer.len() - at >= 5 {
            let kind = self.buffer[at];
            let len = u32::from_le_bytes([
                self.buffer[at + 1],
                self.buffer[at + 2],
                self.buffer[at + 3],
                self.buffer[at + 4],
            ]) as usize;
            if len > MAX_FRAME {
                return Err(format!("the gateway sent a frame of {len} bytes, more than a Spark answer holds"));
            }
            if self.buffer.len() - at - 5 < len {
                break;
            }
            let payload = &self.buffer[at + 5..at + 5 + len];
            frames.push(match kind {
                b'A' => Frame::Arrow(payload.to_vec()),
                b'P' => Frame::Progress(
                    serde_json::from_slice(payload).map_err(|e| format!("a progress frame is not valid JSON: {e}"))?,
                ),
                b'S' => Frame::Summary(
                    serde_json::from_slice(payload).map_err(|e| format!("the summary frame is not valid JSON: {e}"))?,
                ),
                other => return Err(format!("the gateway sent a frame of unknown kind {other:#04x}")),
            });
            at += 5 + len;
        }
        self.buffer.drain(..at);
        Ok(frames)
    }

    /// Bytes of an unfinished frame: not empty when the answer broke off.
    pub fn pending(&self) -> usize {
        self.buffer.len()
    }
}

/// Encodes one frame (the gateway's side; also for tests).
pub fn encode_frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 5);
    out.push(kind);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// "12 of 40 tasks · 3 stages · 1.2 GB read · statement 2 of 3"
impl SparkProgress {
    pub fn label(&self) -> String {
        let mut parts = Vec::new();
        if self.statements > 1 {
            parts.push(format!("statement {} of {}", self.statement + 1, self.statements));
        }
        if self.stage == "count" {
            parts.push("counting all rows".into());
        }
        if self.tasks > 0 {
            parts.push(format!(
                "{} of {} tasks",
                crate::text::thousands(self.completed_tasks),
                crate::text::thousands(self.tasks)
            ));
        }
        if self.input_bytes > 0 {
            parts.push(format!("{} read", crate::text::human_bytes(self.input_bytes)));
        }
        parts.join(" · ")
    }
}

/// Whether a browser source is big enough that the cell would do better on
/// Spark: the note the cell shows, or none.
pub fn sizing_hint(what: &str, bytes: Option<u64>, messages: Option<u64>, limits: &HintLimits) -> Option<String> {
    let over_bytes = bytes.filter(|b| *b >= limits.bytes);
    let over_messages = messages.filter(|m| *m >= limits.messages);
    let size = match (over_bytes, over_messages) {
        (Some(b), _) => crate::text::human_bytes(b),
        (None, Some(m)) => format!("{} messages", crate::text::thousands(m)),
        (None, None) => return None,
    };
    Some(format!(
        "{what} is {size}: this tab holds all of it in memory. Cells over sources this big run better on Spark: \
         add -- engine: spark as the cell's first line (or press its Spark switch)"
    ))
}

/// Where Spark says an error is: its messages end with `(line 4, pos 9)` or
/// `; line 1 pos 7`; `pos` counts from 0 in the statement's text.
pub fn spark_location(message: &str) -> Option<(u32, u32)> {
    let start = message.rfind("line ")?;
    let rest = &message[start + 5..];
    let line: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let rest = rest[line.len()..].trim_start_matches([',', ' ']);
    let pos: String = rest.strip_prefix("pos ")?.chars().take_while(char::is_ascii_digit).collect();
    Some((line.parse().ok()?, pos.parse().ok()?))
}

/// From what size a browser source gets a "run it on Spark" hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HintLimits {
    pub bytes: u64,
    pub messages: u64,
}

impl Default for HintLimits {
    fn default() -> Self {
        HintLimits { bytes: 256 * 1024 * 1024, messages: 2_000_000 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_decoded_across_chunk_boundaries() {
        let mut bytes = encode_frame(b'P', br#"{"statement":1,"statements":2,"tasks":8,"completed_tasks":3}"#);
        bytes.extend(encode_frame(b'A', &[1, 2, 3]));
        bytes.extend(encode_frame(b'A', &[]));
        bytes.extend(encode_frame(b'S', br#"{"rows":3,"truncated":true,"total_rows":9,"error":null}"#));
        let mut decoder = FrameDecoder::new();
        let mut frames = Vec::new();
        for chunk in bytes.chunks(3) {
            frames.extend(decoder.push(chunk).unwrap());
        }
        assert_eq!(decoder.pending(), 0);
        assert_eq!(frames.len(), 4);
        let Frame::Progress(p) = &frames[0] else { panic!("{frames:?}") };
        assert_eq!(p.label(), "statement 2 of 2 · 3 of 8 tasks");
        assert_eq!(frames[1], Frame::Arrow(vec![1, 2, 3]));
        let Frame::Summary(s) = &frames[3] else { panic!("{frames:?}") };
        assert_eq!((s.rows, s.truncated, s.total_rows), (3, true, Some(9)));
    }

    #[test]
    fn bad_frames_are_errors_not_panics() {
        assert!(FrameDecoder::new().push(&encode_frame(b'X', b"")).unwrap_err().contains("unknown kind"));
        assert!(FrameDecoder::new().push(&encode_frame(b'S', b"{oops")).unwrap_err().contains("not valid JSON"));
        let mut huge = vec![b'A'];
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(FrameDecoder::new().push(&huge).is_err());
        let mut partial = FrameDecoder::new();
        assert!(partial.push(&encode_frame(b'A', &[0; 10])[..7]).unwrap().is_empty());
        assert_eq!(partial.pending(), 7);
    }

    #[test]
    fn spark_error_positions() {
        let parse = "[PARSE_SYNTAX_ERROR] Syntax error at or near 'BY'. SQLSTATE: 42601 (line 4, pos 9)\n\n== SQL ==";
        assert_eq!(spark_location(parse), Some((4, 9)));
        assert_eq!(spark_location("[UNRESOLVED_COLUMN] ... SQLSTATE: 42703; line 1 pos 7;\n'Project"), Some((1, 7)));
        assert_eq!(spark_location("no place"), None);
    }

    #[test]
    fn sizing_hints_name_the_source_and_what_to_do() {
        let limits = HintLimits { bytes: 1000, messages: 10 };
        assert_eq!(sizing_hint("x", Some(999), Some(9), &limits), None);
        let hint = sizing_hint("read_parquet('hdfs:///big')", Some(2_500_000), None, &limits).unwrap();
        assert!(hint.starts_with("read_parquet('hdfs:///big') is 2.5 MB"), "{hint}");
        assert!(hint.contains("-- engine: spark"), "{hint}");
        assert!(sizing_hint("kafka('events')", None, Some(12), &limits).unwrap().contains("12 messages"));
    }
}
