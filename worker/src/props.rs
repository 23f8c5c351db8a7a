//! Property tests (issue 17, "fuzzing") of the gateway's parsers of user and
//! network input: storage paths, Kafka positions and cursors, and produce
//! bodies. None panics on any input, an accepted path stays under its
//! backend's root, and what the engine writes the gateway reads back.
//!
//! Each property runs `RIFFLE_FUZZ_CASES` cases (256 by default);
//! `cargo xtask fuzz` runs them with many more.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use arrow_array::{ArrayRef, BinaryArray, Int32Array, Int64Array, LargeBinaryArray, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use axum::http::StatusCode;
use base64::Engine as _;
use proptest::prelude::*;
use proptest::test_runner::Config;
use riffle::engine::KafkaBound;
use serde_json::{Value, json};

use crate::ApiError;
use crate::kafka::browse::{cursor_text, parse_cursor};
use crate::kafka::produce::{Format, Outgoing, Shape, decode};
use crate::kafka::read::Bound;
use crate::storage::{Location, Scheme};

/// The case count, from `RIFFLE_FUZZ_CASES`.
fn config() -> Config {
    let cases = std::env::var("RIFFLE_FUZZ_CASES").ok().and_then(|v| v.trim().replace('_', "").parse().ok());
    Config::with_cases(cases.unwrap_or(256))
}

/// A path as a user (or a crafted request) writes it: schemes, separators,
/// dots and odd characters, or anything at all.
fn user_path() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => proptest::sample::select(
            &[
                "/", "//", "\\", ".", "..", "...", "a", "b.csv", "hdfs:", "hdfs://", "hdfs:///", "HDFS:/", "webhdfs://",
                "file:", "file://", "file:///", "file://localhost/", "file://elsewhere/", "s3://", "://", ":", "nn:8020",
                "%2e%2e", "\0", " ", "é", "_SUCCESS", "C:", "~",
            ][..]
        )
        .prop_map(str::to_string),
        1 => any::<String>(),
    ];
    prop_oneof![prop::collection::vec(piece, 0..10).prop_map(|p| p.concat()), any::<String>()]
}

proptest! {
    #![proptest_config(config())]

    /// Any path reads or is refused as a bad request; an accepted one is only
    /// plain names under its root, so joined to the root it stays there.
    #[test]
    fn storage_paths_stay_confined(user in user_path()) {
        match Location::parse(&user) {
            Ok(at) => {
                for part in at.rel.split('/') {
                    prop_assert!(at.rel.is_empty() || !matches!(part, "" | "." | ".."), "{user:?} -> {at:?}");
                    prop_assert!(!part.contains(['\\', '\0']), "{user:?} -> {at:?}");
                }
                let root = std::path::Path::new("/data/root");
                let joined = root.join(&at.rel);
                prop_assert!(joined.starts_with(root), "{user:?} -> {}", joined.display());
                prop_assert!(
                    joined.components().all(|c| !matches!(c, std::path::Component::ParentDir)),
                    "{user:?} -> {}", joined.display()
                );
                // The canonical form reads back as the same place, unless the
                // first local name looks like a scheme (see below).
                if !first_name_is_a_scheme(&at) {
                    let again = Location::parse(&at.to_string());
                    prop_assert_eq!(again.as_ref().ok(), Some(&at), "{:?} printed {}", user, at);
                }
            }
            Err(e) => prop_assert!(
                matches!(e.status, StatusCode::BAD_REQUEST | StatusCode::FORBIDDEN) && !e.message.is_empty(),
                "{user:?}: {e:?}"
            ),
        }
    }

    /// A `..` segment anywhere in a path is refused, on both backends.
    #[test]
    fn dot_dot_is_always_refused(
        before in prop::collection::vec("[a-z.]{1,3}", 0..4),
        after in prop::collection::vec("[a-z.]{1,3}", 0..4),
        prefix in proptest::sample::select(&["", "/", "file://", "file:///", "file:/", "hdfs:///", "hdfs:/", "hdfs://nn:8020/"][..]),
        separator in proptest::sample::select(&["/", "\\"][..]),
    ) {
        // (Not `hdfs://` alone: the text after it up to a `/` is the authority,
        // taken to mean the configured NameNode, not a segment.)
        let mut parts = before;
        parts.push("..".into());
        parts.extend(after);
        let user = format!("{prefix}{}", parts.join(separator));
        let refused = Location::parse(&user);
        prop_assert!(refused.is_err(), "{:?} -> {:?}", user, refused);
    }
}

/// A local location whose first name starts `hdfs:`, `webhdfs:` or `file:`
/// (from `/hdfs:/x`, `./file:` or `/hdfs:.`) prints as `hdfs:/x` (or `file:`,
/// `hdfs:.`), which reads as a path on the other backend (or is refused): the
/// one case where the canonical form is not the same place. The path is
/// still confined; it only cannot be passed back as printed.
fn first_name_is_a_scheme(at: &Location) -> bool {
    let scheme = at.rel.split_once(':').map(|(s, _)| s).unwrap_or_default();
    at.scheme == Scheme::Local && ["hdfs", "webhdfs", "file"].iter().any(|n| n.eq_ignore_ascii_case(scheme))
}

// ------------------------------------------------------------ Kafka query

fn position_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => proptest::sample::select(
            &["earliest", "LATEST", "now", "end", "beginning", "offset:", "timestamp:", "-", "+", "0", "42", " ",
              "9223372036854775807", "9223372036854775808", ":", ",", "0:17", "1:20", "-1", "é"][..]
        )
        .prop_map(str::to_string),
        1 => any::<String>(),
    ];
    prop::collection::vec(piece, 0..6).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn kafka_bounds_never_panic(text in position_text()) {
        match Bound::parse(&text, "from") {
            Ok(Bound::Offset(n) | Bound::Timestamp(n)) => prop_assert!(n >= 0, "{text:?}"),
            Ok(_) => {}
            Err(e) => prop_assert!(e.status == StatusCode::BAD_REQUEST && e.message.starts_with("from="), "{e:?}"),
        }
    }

    /// What the engine asks for (`KafkaBound::to_query`) the gateway reads as
    /// the same position (Kafka's offsets and timestamps are never negative).
    #[test]
    fn engine_bounds_read_back(which in 0..4u8, n in 0..=i64::MAX) {
        let (bound, expected) = match which {
            0 => (KafkaBound::Earliest, Bound::Earliest),
            1 => (KafkaBound::Latest, Bound::Latest),
            2 => (KafkaBound::Offset(n), Bound::Offset(n)),
            _ => (KafkaBound::Timestamp(n), Bound::Timestamp(n)),
        };
        let read = Bound::parse(&bound.to_query(), "to");
        prop_assert_eq!(read.ok(), Some(expected));
    }

    #[test]
    fn cursors_never_panic(text in position_text()) {
        if let Ok(positions) = parse_cursor(&text) {
            prop_assert!(!positions.is_empty());
            prop_assert!(positions.windows(2).all(|w| w[0].0 < w[1].0), "{positions:?}");
            prop_assert!(positions.iter().all(|(p, o)| *p >= 0 && *o >= 0));
            prop_assert_eq!(parse_cursor(&cursor_text(&positions)).ok(), Some(positions));
        }
    }

    /// A page's cursor reads back as its positions, in partition order.
    #[test]
    fn cursors_round_trip(positions in prop::collection::btree_map(0..=i32::MAX, 0..=i64::MAX, 1..8)) {
        let mut shuffled: Vec<(i32, i64)> = positions.iter().map(|(p, o)| (*p, *o)).collect();
        shuffled.reverse();
        let read = parse_cursor(&cursor_text(&shuffled));
        prop_assert_eq!(read.ok(), Some(positions.into_iter().collect::<Vec<_>>()));
    }
}

// ------------------------------------------------------------ produce bodies

fn decode_all(
    body: &[u8],
    format: Format,
    key: Option<&str>,
    partition: Option<i32>,
) -> Result<Vec<Outgoing>, ApiError> {
    let shape = Shape { format, key: key.map(str::to_string), partition };
    let mut out = Vec::new();
    let count = decode(body, &shape, &mut |first, chunk| {
        assert_eq!(first, out.len(), "chunks come in order");
        out.extend(chunk);
        Ok(())
    })?;
    assert_eq!(count, out.len(), "the count is the records handed on");
    Ok(out)
}

/// A decoder's answer to bad bytes: a 400 that says what is wrong.
///
/// For Arrow bodies that may be the panic guard's answer ("it is malformed
/// (...)"): some streams that pass the framing check still make arrow-rs
/// panic (see [`arrow_rs_panics_behind_the_framing_check`]), and only the
/// guard turns that into a 400.
fn typed(result: &Result<Vec<Outgoing>, ApiError>) -> Result<(), TestCaseError> {
    if let Err(e) = result {
        prop_assert_eq!(e.status, StatusCode::BAD_REQUEST, "{}", e.message);
        prop_assert!(!e.message.is_empty());
    }
    Ok(())
}

fn format() -> impl Strategy<Value = Format> {
    prop_oneof![Just(Format::Records), Just(Format::Lines), Just(Format::JsonArray), Just(Format::Arrow)]
}

/// One `{"records": [...]}` element and the record it stands for.
fn json_record() -> impl Strategy<Value = (Value, Outgoing)> {
    let bytes = prop::collection::vec(any::<u8>(), 0..16);
    let text_or_bytes = prop_oneof![
        Just(None),
        any::<String>().prop_map(|s| Some((json!(s), s.into_bytes()))),
        any::<i64>().prop_map(|n| Some((json!(n), n.to_string().into_bytes()))),
        bytes.prop_map(|b| Some((json!({ "base64": base64::engine::general_purpose::STANDARD.encode(&b) }), b))),
    ];
    let headers = prop::collection::vec((any::<String>(), prop::option::of(any::<String>())), 0..3);
    (text_or_bytes.clone(), text_or_bytes, headers, prop::option::of(0..64i32), any::<bool>()).prop_map(
        |(key, value, headers, partition, pairs)| {
            let mut record = serde_json::Map::new();
            for (name, part) in [("key", &key), ("value", &value)] {
                match part {
                    Some((Value::Object(b64), _)) => {
                        record.insert(format!("{name}_base64"), b64["base64"].clone());
                    }
                    Some((v, _)) => {
                        record.insert(name.to_string(), v.clone());
                    }
                    None => {}
                }
            }
            // Objects keep one value per name; pairs keep every one, in order.
            let headers: Vec<(String, Option<String>)> = if pairs {
                headers
            } else {
                let unique: std::collections::BTreeMap<_, _> = headers.into_iter().collect();
                unique.into_iter().collect()
            };
            if !headers.is_empty() {
                record.insert(
                    "headers".into(),
                    if pairs {
                        Value::Array(headers.iter().map(|(k, v)| json!([k, v])).collect())
                    } else {
                        Value::Object(headers.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
                    },
                );
            }
            if let Some(p) = partition {
                record.insert("partition".into(), json!(p));
            }
            let outgoing = Outgoing {
                key: key.map(|(_, b)| b),
                value: value.map(|(_, b)| b),
                headers: headers.into_iter().map(|(k, v)| (k, v.map(String::into_bytes))).collect(),
                partition,
            };
            (Value::Object(record), outgoing)
        },
    )
}

/// `bytes` with some bytes changed, some cut off the end, or some added.
fn mangle(mut bytes: Vec<u8>, flips: &[(usize, u8)], cut: Option<usize>, extra: &[u8]) -> Vec<u8> {
    for (at, byte) in flips {
        let len = bytes.len();
        if len > 0 {
            bytes[at % len] = *byte;
        }
    }
    if let Some(cut) = cut {
        bytes.truncate(cut % (bytes.len() + 1));
    }
    bytes.extend_from_slice(extra);
    bytes
}

proptest! {
    #![proptest_config(config())]

    /// Any bytes, in any format, are records or a 400: never a panic.
    #[test]
    fn produce_bodies_never_panic(
        format in format(),
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..256),
            any::<String>().prop_map(String::into_bytes),
        ],
        key in prop::option::of("[a-z]{0,3}"),
        partition in prop::option::of(any::<i32>()),
    ) {
        typed(&decode_all(&body, format, key.as_deref(), partition))?;
    }

    /// `{"records": [...]}` (or the bare list) reads back as the records.
    #[test]
    fn produce_records_round_trip(records in prop::collection::vec(json_record(), 0..6), bare in any::<bool>()) {
        let list = Value::Array(records.iter().map(|(v, _)| v.clone()).collect());
        let body = if bare { list } else { json!({ "records": list }) };
        let read = decode_all(body.to_string().as_bytes(), Format::Records, None, None);
        prop_assert!(read.is_ok(), "{:?}\n{}", read.as_ref().err(), body);
        prop_assert_eq!(read.unwrap(), records.into_iter().map(|(_, r)| r).collect::<Vec<_>>());
    }

    /// A records body with bytes changed or cut: records or a 400.
    #[test]
    fn produce_records_mangled(
        records in prop::collection::vec(json_record(), 1..4),
        flips in prop::collection::vec((any::<usize>(), any::<u8>()), 0..3),
        cut in prop::option::of(any::<usize>()),
        format in format(),
    ) {
        let body = json!({ "records": records.iter().map(|(v, _)| v.clone()).collect::<Vec<_>>() }).to_string();
        let body = mangle(body.into_bytes(), &flips, cut, b"");
        typed(&decode_all(&body, format, None, None))?;
    }

    /// One message per line, the final newline and each line's `\r` dropped.
    #[test]
    fn produce_lines_round_trip(
        lines in prop::collection::vec(
            prop::collection::vec(any::<u8>().prop_map(|b| if b == b'\n' { b' ' } else { b }), 0..12),
            1..8,
        ),
        crlf in any::<bool>(),
        final_newline in any::<bool>(),
        key in prop::option::of("[a-z]{1,3}"),
        partition in prop::option::of(0..8i32),
    ) {
        // A line's own last `\r` is taken for the line ending.
        let mut lines: Vec<Vec<u8>> = lines
            .into_iter()
            .map(|mut l| {
                while l.last() == Some(&b'\r') {
                    l.pop();
                }
                l
            })
            .collect();
        // An empty body is no message, and a body that ends in a newline has a
        // final newline, not a last empty line: so a last empty line needs one.
        if lines.len() == 1 && lines[0].is_empty() {
            lines[0].push(b'x');
        }
        let final_newline = final_newline || lines.last().is_some_and(Vec::is_empty);
        let ending: &[u8] = if crlf { b"\r\n" } else { b"\n" };
        let mut body = lines.join(ending);
        if final_newline {
            body.extend_from_slice(ending);
        }
        let read = decode_all(&body, Format::Lines, key.as_deref(), partition).unwrap();
        let expected: Vec<Outgoing> = lines
            .into_iter()
            .map(|l| Outgoing { key: key.clone().map(String::into_bytes), value: Some(l), headers: Vec::new(), partition })
            .collect();
        prop_assert_eq!(read, expected);
    }
}

/// The Arrow IPC stream `INSERT INTO kafka(...)` would send: a `value`
/// column, and maybe `key` and `partition` columns, of the types the decoder
/// takes.
fn arrow_body() -> impl Strategy<Value = (Vec<u8>, Vec<Outgoing>)> {
    let row = (prop::option::of("[ -~é]{0,8}"), prop::option::of("[a-z]{0,4}"), prop::option::of(0..64i32));
    (prop::collection::vec(row, 0..12), 0..4u8, any::<bool>(), 0..3u8, 1..4usize).prop_map(
        |(rows, value_type, with_key, partition_type, batches)| {
            let values: Vec<Option<&str>> = rows.iter().map(|r| r.0.as_deref()).collect();
            let keys: Vec<Option<&str>> = rows.iter().map(|r| r.1.as_deref()).collect();
            let value: ArrayRef = match value_type {
                0 => Arc::new(StringArray::from(values)),
                1 => Arc::new(BinaryArray::from(values.iter().map(|v| v.map(str::as_bytes)).collect::<Vec<_>>())),
                2 => Arc::new(LargeBinaryArray::from(values.iter().map(|v| v.map(str::as_bytes)).collect::<Vec<_>>())),
                _ => Arc::new(arrow_array::LargeStringArray::from(values)),
            };
            let mut fields = vec![Field::new("value", value.data_type().clone(), true)];
            let mut columns = vec![value];
            if with_key {
                fields.push(Field::new("key", DataType::Utf8, true));
                columns.push(Arc::new(StringArray::from(keys)));
            }
            let partitions: Vec<Option<i32>> = rows.iter().map(|r| r.2).collect();
            match partition_type {
                1 => {
                    fields.push(Field::new("partition", DataType::Int32, true));
                    columns.push(Arc::new(Int32Array::from(partitions)));
                }
                2 => {
                    fields.push(Field::new("partition", DataType::Int64, true));
                    columns.push(Arc::new(Int64Array::from(
                        partitions.iter().map(|p| p.map(i64::from)).collect::<Vec<_>>(),
                    )));
                }
                _ => {}
            }
            let schema = Arc::new(Schema::new(fields));
            let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
            let mut writer = arrow_ipc::writer::StreamWriter::try_new(Vec::new(), &schema).unwrap();
            for _ in 0..batches {
                writer.write(&batch).unwrap();
            }
            writer.finish().unwrap();
            let one: Vec<Outgoing> = rows
                .iter()
                .map(|(v, k, p)| Outgoing {
                    key: if with_key { k.clone().map(String::into_bytes) } else { None },
                    value: v.clone().map(String::into_bytes),
                    headers: Vec::new(),
                    partition: if partition_type > 0 { *p } else { None },
                })
                .collect();
            let all: Vec<Outgoing> = (0..batches).flat_map(|_| one.iter().cloned()).collect();
            (writer.into_inner().unwrap(), all)
        },
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn produce_arrow_round_trips((body, records) in arrow_body()) {
        let read = decode_all(&body, Format::Arrow, None, None);
        prop_assert!(read.is_ok(), "{:?}", read.as_ref().err());
        prop_assert_eq!(read.unwrap(), records);
    }

    /// A stream with bytes changed, cut short or followed by more: records or
    /// a 400 that the framing check or arrow-rs gives, never arrow-rs panicking.
    #[test]
    fn produce_arrow_mangled(
        (body, _) in arrow_body(),
        flips in prop::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        cut in prop::option::of(any::<usize>()),
        extra in prop::collection::vec(any::<u8>(), 0..4),
    ) {
        let body = mangle(body, &flips, cut, &extra);
        typed(&decode_all(&body, Format::Arrow, None, None))?;
    }
}

/// One row, `value = 'a'` (Utf8), as `StreamWriter` writes it, with the byte
/// at `at` (which holds `was`) set to `to`.
fn one_row_with(at: usize, was: u8, to: u8) -> Vec<u8> {
    let schema = Arc::new(Schema::new(vec![Field::new("value", DataType::Utf8, true)]));
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(StringArray::from(vec![Some("a")]))]).unwrap();
    let mut writer = arrow_ipc::writer::StreamWriter::try_new(Vec::new(), &schema).unwrap();
    writer.write(&batch).unwrap();
    writer.finish().unwrap();
    let mut body = writer.into_inner().unwrap();
    assert_eq!(decode_all(&body, Format::Arrow, None, None).unwrap().len(), 1);
    assert_eq!(body[at], was, "the writer's layout changed: find the byte again");
    body[at] = to;
    body
}

/// The bodies the fuzzing found that pass `check_ipc_framing` and then make
/// arrow-rs 60 panic; one changed byte each:
/// - byte 91, the field's type in the schema, Utf8 (5) made Union (14):
///   "the offset of the new Buffer cannot exceed the existing length";
/// - byte 264, the length of the batch's offsets buffer, 8 made 9 (not a
///   whole number of i32 offsets): "assertion failed: prefix.is_empty() &&
///   suffix.is_empty()" in `Buffer::typed_data`, from `validate_offsets`.
///
/// The panic guard in `arrow_into` answers both with a 400 (checked here);
/// the panic still reaches the panic hook (a backtrace in the log), and
/// would abort a build with `panic = "abort"`.
const ARROW_RS_PANICS: [(usize, u8, u8); 2] = [(91, 5, 14), (264, 8, 9)];

/// Plain tests, not properties (`cargo xtask fuzz` runs every test outside a
/// `checks` module as a property with its case count).
mod checks {
    use super::*;

    #[test]
    fn arrow_rs_panics_are_a_400() {
        for (at, was, to) in ARROW_RS_PANICS {
            let e = decode_all(&one_row_with(at, was, to), Format::Arrow, None, None).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{}", e.message);
            assert!(e.message.contains("it is malformed ("), "{}", e.message);
        }
    }

    /// KNOWN BUG (issue 17's fuzzing), left open: the framing check should refuse
    /// these before arrow-rs sees them (a schema field type the produce endpoint
    /// does not take; a buffer length that is no whole number of its type's
    /// values), so that no panic happens at all. Run with `--ignored`.
    #[test]
    #[ignore = "known: arrow-rs panics on these, only the panic guard catches them"]
    fn arrow_rs_panics_behind_the_framing_check() {
        for (at, was, to) in ARROW_RS_PANICS {
            let e = decode_all(&one_row_with(at, was, to), Format::Arrow, None, None).unwrap_err();
            assert!(!e.message.contains("it is malformed ("), "byte {at} = {to}: {}", e.message);
        }
    }
}
