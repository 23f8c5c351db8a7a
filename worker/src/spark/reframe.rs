//! Spark sends each Arrow batch as its own IPC stream (schema, batch, end);
//! the browser gets them as ONE stream, cut at the row cap.

use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;
use bytes::Bytes;

/// Turns Spark's per-batch Arrow IPC streams into one stream, and stops at the row cap.
pub(crate) struct Reframer {
    writer: Option<StreamWriter<Vec<u8>>>,
    pub rows: u64,
    cap: u64,
    /// Rows were left out: the result has more than `cap`.
    pub truncated: bool,
}

impl Reframer {
    pub fn new(cap: u64) -> Reframer {
        Reframer { writer: None, rows: 0, cap, truncated: false }
    }

    /// Adds one of Spark's Arrow payloads; returns the bytes to send on
    /// (empty when there are none yet). After the cap, a batch with rows sets
    /// `truncated` and is dropped; the caller stops reading then.
    pub fn push(&mut self, data: Bytes) -> Result<Bytes, String> {
        let reader = StreamReader::try_new(std::io::Cursor::new(data), None)
            .map_err(|e| format!("Spark sent Arrow data the gateway cannot read: {e}"))?;
        if self.writer.is_none() {
            // From the stream's schema, so a result without rows still has its columns.
            let writer = StreamWriter::try_new(Vec::new(), &reader.schema())
                .map_err(|e| format!("could not start the Arrow stream: {e}"))?;
            self.writer = Some(writer);
        }
        for batch in reader {
            let batch = batch.map_err(|e| format!("Spark sent an Arrow batch the gateway cannot read: {e}"))?;
            if self.truncated || batch.num_rows() == 0 {
                continue;
            }
            let room = self.cap - self.rows;
            let batch = if batch.num_rows() as u64 > room {
                self.truncated = true;
                batch.slice(0, room as usize)
            } else {
                batch
            };
            self.rows += batch.num_rows() as u64;
            if batch.num_rows() > 0
                && let Some(writer) = self.writer.as_mut()
            {
                writer.write(&batch).map_err(|e| format!("could not write an Arrow batch: {e}"))?;
            }
        }
        Ok(self.take())
    }

    fn take(&mut self) -> Bytes {
        self.writer.as_mut().map(|w| Bytes::from(std::mem::take(w.get_mut()))).unwrap_or_default()
    }

    /// Ends the stream; when no Arrow data came at all, it is a stream with no columns.
    pub fn finish(&mut self) -> Bytes {
        if self.writer.is_none()
            && let Ok(writer) = StreamWriter::try_new(Vec::new(), &arrow_schema::Schema::empty())
        {
            self.writer = Some(writer);
        }
        if let Some(w) = self.writer.as_mut() {
            let _ = w.finish();
        }
        self.take()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Int64Array, RecordBatch};
    use arrow_schema::{DataType, Field, Schema};

    use super::*;

    fn spark_payload(values: &[i64]) -> Bytes {
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
        let mut writer = StreamWriter::try_new(Vec::new(), &schema).unwrap();
        if !values.is_empty() {
            let batch = RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(values.to_vec()))]).unwrap();
            writer.write(&batch).unwrap();
        }
        writer.finish().unwrap();
        Bytes::from(writer.into_inner().unwrap())
    }

    fn read(bytes: &[u8]) -> (usize, Vec<i64>) {
        let reader = StreamReader::try_new(std::io::Cursor::new(bytes), None).unwrap();
        let columns = reader.schema().fields().len();
        let mut values = Vec::new();
        for batch in reader {
            let batch = batch.unwrap();
            values.extend(batch.column(0).as_any().downcast_ref::<Int64Array>().unwrap().values().iter());
        }
        (columns, values)
    }

    #[test]
    fn joins_batches_and_cuts_at_the_cap() {
        let mut r = Reframer::new(5);
        let mut out = r.push(spark_payload(&[1, 2, 3])).unwrap().to_vec();
        assert!(!r.truncated);
        out.extend_from_slice(&r.push(spark_payload(&[4, 5])).unwrap());
        // Exactly at the cap: not truncated until more rows come.
        assert!(!r.truncated);
        out.extend_from_slice(&r.push(spark_payload(&[6])).unwrap());
        assert!(r.truncated);
        out.extend_from_slice(&r.finish());
        assert_eq!(read(&out), (1, vec![1, 2, 3, 4, 5]));
        assert_eq!(r.rows, 5);
    }

    #[test]
    fn a_result_without_rows_keeps_its_schema() {
        let mut r = Reframer::new(5);
        let mut out = r.push(spark_payload(&[])).unwrap().to_vec();
        out.extend_from_slice(&r.finish());
        assert_eq!(read(&out), (1, vec![]));
        let mut r = Reframer::new(5);
        assert_eq!(read(&r.finish()), (0, vec![]));
    }
}
