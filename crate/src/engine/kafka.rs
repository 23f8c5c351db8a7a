//! Kafka ranges: the `kafka(topic, from => ..., to => ...)` source, the
//! columns Spark users know, and the records `INSERT INTO kafka(...)` produces.

use std::collections::BTreeMap;
use std::fmt;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::CellError;

/// One end of a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "at", content = "value", rename_all = "snake_case")]
pub enum KafkaBound {
    Earliest,
    Latest,
    /// An offset, in every partition read.
    Offset(i64),
    /// Milliseconds since the epoch: the first message at or after it.
    Timestamp(i64),
}

impl fmt::Display for KafkaBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KafkaBound::Earliest => f.write_str("earliest"),
            KafkaBound::Latest => f.write_str("latest"),
            KafkaBound::Offset(o) => write!(f, "offset {o}"),
            KafkaBound::Timestamp(ms) => write!(f, "timestamp {ms} ms"),
        }
    }
}

impl KafkaBound {
    /// The form used in the gateway's query strings: `earliest`, `latest`,
    /// `offset:42`, `timestamp:1706700000000`.
    pub fn to_query(&self) -> String {
        match self {
            KafkaBound::Earliest => "earliest".into(),
            KafkaBound::Latest => "latest".into(),
            KafkaBound::Offset(o) => format!("offset:{o}"),
            KafkaBound::Timestamp(ms) => format!("timestamp:{ms}"),
        }
    }

    /// `'earliest'`, `'latest'`, an offset (`42`), or a timestamp
    /// (`'2024-01-31T10:00:00Z'`, `'2024-01-31 10:00:00'`, `'2024-01-31'`, UTC).
    pub fn parse(text: &str) -> Result<KafkaBound, CellError> {
        let t = text.trim();
        match t.to_ascii_lowercase().as_str() {
            "earliest" => return Ok(KafkaBound::Earliest),
            "latest" => return Ok(KafkaBound::Latest),
            _ => {}
        }
        if let Ok(offset) = t.parse::<i64>() {
            if offset < 0 {
                return Err(CellError::new(format!("offset {offset} is negative")).hint("offsets start at 0"));
            }
            return Ok(KafkaBound::Offset(offset));
        }
        match parse_timestamp_ms(t) {
            // Kafka's timestamps start at the epoch (the gateway refuses a negative one).
            Some(ms) if ms < 0 => Err(CellError::new(format!("'{t}' is before 1970, where Kafka's timestamps start"))
                .hint("use a time from 1970-01-01 on, or 'earliest'")),
            Some(ms) => Ok(KafkaBound::Timestamp(ms)),
            None => Err(CellError::new(format!("'{t}' is not a Kafka position"))
                .hint("use 'earliest', 'latest', an offset such as 42, or a time such as '2024-01-31T10:00:00Z'")),
        }
    }
}

fn parse_timestamp_ms(t: &str) -> Option<i64> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.timestamp_millis());
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, format) {
            return Some(dt.and_utc().timestamp_millis());
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|dt| dt.and_utc().timestamp_millis())
}

/// A bounded range of a topic, as `kafka(...)` asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KafkaRange {
    pub topic: String,
    pub from: KafkaBound,
    pub to: KafkaBound,
    /// `None`: every partition.
    pub partitions: Option<Vec<i32>>,
    pub max_messages: Option<u64>,
}

impl KafkaRange {
    /// The query string of the gateway's range read, without the `?`.
    pub fn to_query(&self) -> String {
        let mut q = format!("from={}&to={}", self.from.to_query(), self.to.to_query());
        if let Some(parts) = &self.partitions {
            q.push_str(&format!("&partitions={}", parts.iter().map(i32::to_string).collect::<Vec<_>>().join(",")));
        }
        if let Some(max) = self.max_messages {
            q.push_str(&format!("&max_messages={max}"));
        }
        q
    }

    /// From `kafka('topic', from => ..., to => ..., partitions => '0,1', max_messages => n)`.
    pub fn from_args(topic: String, options: &BTreeMap<String, String>) -> Result<KafkaRange, CellError> {
        if topic.is_empty() {
            return Err(CellError::new("kafka() needs a topic name, such as kafka('events')"));
        }
        let mut range = KafkaRange {
            topic,
            from: KafkaBound::Earliest,
            to: KafkaBound::Latest,
            partitions: None,
            max_messages: None,
        };
        for (key, value) in options {
            match key.as_str() {
                "from" | "starting_offsets" | "startingoffsets" => range.from = KafkaBound::parse(value)?,
                "to" | "ending_offsets" | "endingoffsets" => range.to = KafkaBound::parse(value)?,
                "partitions" => {
                    let parts =
                        value.split(',').map(|p| p.trim().parse::<i32>()).collect::<Result<Vec<_>, _>>().map_err(
                            |_| CellError::new(format!("partitions => '{value}' must list numbers, such as '0,1'")),
                        )?;
                    range.partitions = Some(parts);
                }
                "max_messages" => {
                    range.max_messages = Some(
                        value
                            .parse()
                            .map_err(|_| CellError::new(format!("max_messages => '{value}' must be a whole number")))?,
                    )
                }
                other => {
                    return Err(CellError::new(format!("kafka(): unknown option `{other}`"))
                        .hint("kafka takes from, to, partitions and max_messages"));
                }
            }
        }
        if range.to == KafkaBound::Earliest {
            return Err(
                CellError::new("kafka(): to => 'earliest' reads nothing").hint("use to => 'latest' or an offset")
            );
        }
        Ok(range)
    }
}

/// The columns of a Kafka read, as Spark's Kafka source names them.
pub fn schema() -> Schema {
    Schema::from_iter([
        Field::new("key".into(), DataType::Binary),
        Field::new("value".into(), DataType::Binary),
        Field::new("topic".into(), DataType::String),
        Field::new("partition".into(), DataType::Int32),
        Field::new("offset".into(), DataType::Int64),
        Field::new("timestamp".into(), timestamp_type()),
        Field::new("timestampType".into(), DataType::Int32),
        Field::new("headers".into(), DataType::List(Box::new(header_type()))),
    ])
}

fn timestamp_type() -> DataType {
    DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
}

fn header_type() -> DataType {
    DataType::Struct(vec![Field::new("key".into(), DataType::String), Field::new("value".into(), DataType::Binary)])
}

/// One Kafka record, for fixtures and for produce requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub timestamp_ms: i64,
    /// 0: CreateTime, 1: LogAppendTime.
    pub timestamp_type: i32,
    pub headers: Vec<(String, Vec<u8>)>,
}

/// Records as a frame with Kafka's columns.
pub fn frame(records: &[Record]) -> PolarsResult<DataFrame> {
    let headers: ListChunked = records
        .iter()
        .map(|r| {
            let keys = Series::new("key".into(), r.headers.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>());
            let values = Series::new("value".into(), r.headers.iter().map(|(_, v)| v.as_slice()).collect::<Vec<_>>());
            StructChunked::from_series("headers".into(), r.headers.len(), [keys, values].iter())
                .map(|s| Some(s.into_series()))
        })
        .collect::<PolarsResult<Vec<_>>>()?
        .into_iter()
        .collect();
    let columns = vec![
        Column::new("key".into(), records.iter().map(|r| r.key.as_deref()).collect::<Vec<_>>()),
        Column::new("value".into(), records.iter().map(|r| r.value.as_deref()).collect::<Vec<_>>()),
        Column::new("topic".into(), records.iter().map(|r| r.topic.as_str()).collect::<Vec<_>>()),
        Column::new("partition".into(), records.iter().map(|r| r.partition).collect::<Vec<_>>()),
        Column::new("offset".into(), records.iter().map(|r| r.offset).collect::<Vec<_>>()),
        Column::new("timestamp".into(), records.iter().map(|r| r.timestamp_ms).collect::<Vec<_>>())
            .cast(&timestamp_type())?,
        Column::new("timestampType".into(), records.iter().map(|r| r.timestamp_type).collect::<Vec<_>>()),
        headers.with_name("headers".into()).into_series().cast(&DataType::List(Box::new(header_type())))?.into_column(),
    ];
    DataFrame::new(columns)
}

/// Parses the gateway's Arrow IPC stream for a range into Kafka's columns.
pub fn parse_range(bytes: &[u8], range: &KafkaRange) -> Result<DataFrame, CellError> {
    let expected = schema();
    if bytes.is_empty() {
        return Ok(DataFrame::empty_with_schema(&expected));
    }
    let df = super::ipc::read_stream(bytes).map_err(|e| {
        CellError::new(format!("the gateway's answer for kafka('{}') is not Arrow IPC: {e}", range.topic))
    })?;
    let columns = expected
        .iter()
        .map(|(name, dtype)| {
            let column = df.column(name).map_err(|_| {
                CellError::new(format!("the gateway's answer for kafka('{}') has no column {name}", range.topic))
            })?;
            column.cast(dtype).map_err(|e| CellError::new(format!("kafka column {name}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    DataFrame::new(columns).map_err(|e| CellError::new(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert_eq!(KafkaBound::parse("EARLIEST").unwrap(), KafkaBound::Earliest);
        assert_eq!(KafkaBound::parse("17").unwrap(), KafkaBound::Offset(17));
        assert_eq!(KafkaBound::parse("1970-01-01T00:00:01Z").unwrap(), KafkaBound::Timestamp(1000));
        assert_eq!(KafkaBound::parse("1970-01-02").unwrap(), KafkaBound::Timestamp(86_400_000));
        assert!(KafkaBound::parse("-3").is_err());
        // Before the epoch: refused here, not sent to the gateway as a negative timestamp.
        let e = KafkaBound::parse("1969-12-31T23:59:59Z").unwrap_err();
        assert!(e.message.contains("before 1970"), "{e}");
        assert!(KafkaBound::parse("yesterday").unwrap_err().hint.unwrap().contains("earliest"));
    }

    #[test]
    fn records_make_kafka_columns() {
        let records = vec![Record {
            key: None,
            value: Some(b"1".to_vec()),
            topic: "foo".into(),
            headers: vec![("Host".into(), b"localhost".to_vec())],
            ..Record::default()
        }];
        let df = frame(&records).unwrap();
        assert_eq!(df.schema().as_ref(), &schema());
    }
}
