//! Property tests (issue 17, "fuzzing") of the core's parsers that take user
//! or network input: none panics on any input, and the round trips the
//! formats promise hold for generated documents and frames.
//!
//! Each property runs `RIFFLE_FUZZ_CASES` cases (256 by default, so the
//! normal test run stays quick); `cargo xtask fuzz` runs them with many more.

#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use proptest::test_runner::Config;

use riffle::lang::{Directives, Engine};
use riffle::notebook::{Cell, CellId, CellKind, Notebook, from_text, to_text};
use riffle::spark::{Frame, FrameDecoder, SparkError, SparkProgress, SparkSummary, encode_frame};

/// The case count, from `RIFFLE_FUZZ_CASES`.
fn config() -> Config {
    let cases = std::env::var("RIFFLE_FUZZ_CASES").ok().and_then(|v| v.trim().replace('_', "").parse().ok());
    Config::with_cases(cases.unwrap_or(256))
}

/// Pieces most likely to confuse a Markdown, notebook or directive parser.
const PIECES: &[&str] = &[
    "\n",
    "\n\n",
    "\r\n",
    "\r",
    " ",
    "    ",
    "\t",
    "`",
    "```",
    "````",
    "~~~",
    "```sql",
    "```sql id=3",
    "```SQL name=\"a b\"",
    "```chart id=1",
    "```markdown id=2",
    "```md",
    "```python id=4",
    "```python\n",
    "<!-- cell id=4 -->",
    "<!-- cell -->",
    "<!-- cell name=\"x -->",
    "<!--",
    "-->",
    "---",
    "title: x",
    "# Title",
    "id=",
    "id=18446744073709551615",
    "name=x",
    "\"",
    "\\",
    "é",
    "\u{2028}",
    "\u{85}",
    "\u{feff}",
    "\0",
    "-- name: t",
    "-- engine: spark",
    "-- ENGINE : Browser",
    "-- max_rows: 1_000",
    "-- max_rows: -1",
    "--",
    ":",
    "SELECT 1",
    "<script>alert(1)</script>",
    "<ScRiPt src=x>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](<java\tscript:alert(1)>)",
    "![y](data:text/html,hi)",
    "[r]: vbscript:x\n\n[r]",
    "<https://a.b>",
    "<javascript:alert(1)>",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "- [ ] task",
    "*",
    "_",
    "~~",
    "&lt;",
    "&#x3C;script",
    "<",
    ">",
];

/// Text built of [`PIECES`] and arbitrary strings.
fn tricky_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => proptest::sample::select(PIECES).prop_map(str::to_string),
        1 => any::<String>(),
        1 => "[a-z ]{0,8}",
    ];
    prop::collection::vec(piece, 0..12).prop_map(|parts| parts.concat())
}

/// Arbitrary text: tricky pieces or any string at all.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![tricky_text(), any::<String>()]
}

// ---------------------------------------------------------------- Markdown

/// The tags pulldown-cmark writes for the syntax Riffle enables.
const TAGS: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "em",
    "strong",
    "del",
    "a",
    "img",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
    "br",
    "input",
];
const ATTRIBUTES: &[&str] = &["href", "src", "title", "alt", "class", "style", "type", "checked", "disabled", "start"];

/// Checks the sanitiser's promise on its output: every tag is one Markdown
/// makes (raw HTML such as `<script` is text), and every URL has a harmless
/// scheme or none.
fn check_html(html: &str) -> Result<(), TestCaseError> {
    let lower = html.to_ascii_lowercase();
    prop_assert!(!lower.contains("<script"), "raw <script in {html:?}");
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        let tag = &rest[open + 1..];
        let close = tag.find('>');
        prop_assert!(close.is_some(), "an unclosed tag in {html:?}");
        let inner = &tag[..close.unwrap_or_default()];
        rest = &tag[close.unwrap_or_default()..];
        let inner = inner.strip_prefix('/').unwrap_or(inner).trim_end_matches('/');
        let name_end = inner.find(|c: char| c.is_whitespace()).unwrap_or(inner.len());
        let name = &inner[..name_end];
        prop_assert!(TAGS.contains(&name), "tag <{name}> in {html:?}");
        let mut attrs = inner[name_end..].trim_start();
        while !attrs.is_empty() {
            let end = attrs.find(|c: char| c == '=' || c.is_whitespace()).unwrap_or(attrs.len());
            let attr = &attrs[..end];
            prop_assert!(ATTRIBUTES.contains(&attr), "attribute {attr} of <{name}> in {html:?}");
            attrs = &attrs[end..];
            if let Some(value) = attrs.strip_prefix("=\"") {
                let quote = value.find('"');
                prop_assert!(quote.is_some(), "an unclosed attribute value in {html:?}");
                let value = &value[..quote.unwrap_or_default()];
                if attr == "href" || attr == "src" {
                    prop_assert!(harmless_url(value), "{attr}={value:?} in {html:?}");
                }
                attrs = &attrs[2 + value.len() + 1..];
            }
            attrs = attrs.trim_start();
        }
    }
    Ok(())
}

/// A URL as the browser reads it: entities decoded, blanks and controls
/// dropped; harmless when it has no scheme (a relative or fragment URL, or
/// text before `:` that is no scheme, such as `a/b:c` or `ht%0Atp:`) or an
/// allowed one.
fn harmless_url(value: &str) -> bool {
    let decoded = value
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    if decoded.contains("&#") {
        return false;
    }
    let squeezed: String = decoded.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect();
    let lower = squeezed.to_ascii_lowercase();
    let Some((scheme, _)) = lower.split_once(':') else {
        return true;
    };
    let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    !is_scheme || matches!(scheme, "http" | "https" | "mailto")
}

/// Plain tests, not properties (`cargo xtask fuzz` runs every test outside a
/// `checks` module as a property with its case count).
mod checks {
    use super::*;

    /// The checker itself catches what it is there to catch.
    #[test]
    fn the_html_check_catches_script() {
        assert!(check_html("<p><script>alert(1)</script></p>").is_err());
        assert!(check_html(r#"<p><a href="javascript:alert(1)">x</a></p>"#).is_err());
        assert!(check_html(r#"<p><a href="JAVA&#x09;SCRIPT:x">x</a></p>"#).is_err());
        assert!(check_html(r#"<img src="x" onerror="alert(1)" />"#).is_err());
        assert!(check_html(&riffle::markdown::to_html("[a](https://a.b/c) ![b](c.png) `<b>`\n\n- [x] done")).is_ok());
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn markdown_output_is_sanitised(source in any_text()) {
        check_html(&riffle::markdown::to_html(&source))?;
    }

    #[test]
    fn markdown_html_in_links_and_blocks_is_text(
        before in tricky_text(),
        tag in "(?i)<(script|iframe|object|svg|style)[ >]",
        after in tricky_text(),
    ) {
        let html = riffle::markdown::to_html(&format!("{before}{tag}{after}"));
        check_html(&html)?;
    }
}

// --------------------------------------------------------- notebook text

fn kind() -> impl Strategy<Value = CellKind> {
    prop_oneof![Just(CellKind::Sql), Just(CellKind::Markdown), Just(CellKind::Chart)]
}

fn name() -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(
        0.4,
        prop_oneof![
            "[a-z_][a-z0-9_]{0,8}",
            proptest::sample::select(&["", "my table", "a`b", "x-->y", "\"q\"", "ünï", "a\nb", " "][..])
                .prop_map(str::to_string),
            any::<String>(),
        ],
    )
}

/// A front matter line of another tool: one line, never `---` (what the
/// document model allows), and `title:` only once there is a title.
fn front_line(title: bool) -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(
            &["author: me", "", "  tags: [a, b]", "# a comment", "\r", "title: second", "-- x"][..]
        )
        .prop_map(str::to_string),
        any::<String>(),
    ]
    .prop_map(|line| line.replace('\n', " "))
    .prop_filter("not a front matter fence, nor a second title", move |line| {
        line.trim_end() != "---" && (title || !line.starts_with("title:"))
    })
}

fn notebook() -> impl Strategy<Value = Notebook> {
    let cells = prop::collection::vec((any::<u64>(), 0u64..20, any::<bool>(), kind(), name(), any_text()), 0..7);
    let title = prop::option::of(any_text());
    (title, cells)
        .prop_flat_map(|(title, cells)| {
            let front = prop::collection::vec(front_line(title.is_some()), 0..4);
            (Just(title), Just(cells), front)
        })
        .prop_map(|(title, cells, front_matter)| {
            let mut ids = std::collections::BTreeSet::new();
            let cells = cells
                .into_iter()
                .filter_map(|(big, small, use_big, kind, name, source)| {
                    let id = if use_big { big } else { small };
                    ids.insert(id).then_some(Cell { id: CellId(id), kind, name, source })
                })
                .collect();
            Notebook { title, cells, front_matter }
        })
}

proptest! {
    #![proptest_config(config())]

    /// The format's promise: kinds, names, ids, order and every byte of every source.
    #[test]
    fn notebook_text_round_trips(doc in notebook()) {
        let text = to_text(&doc);
        let back = from_text(&text);
        prop_assert!(back.is_ok(), "{:?}\n--- text:\n{text}", back.err());
        prop_assert_eq!(back.as_ref().ok(), Some(&doc), "--- text:\n{}", text);
    }

    /// Any text reads or fails with a line; what reads prints and reads back the same.
    #[test]
    fn notebook_text_never_panics(text in any_text()) {
        match from_text(&text) {
            Ok(doc) => {
                let printed = to_text(&doc);
                prop_assert_eq!(from_text(&printed).ok(), Some(doc), "--- printed:\n{}", printed);
            }
            Err(e) => prop_assert!(!e.message.is_empty()),
        }
    }

    #[test]
    fn notebook_ipynb_never_panics(text in any_text()) {
        let _ = riffle::notebook::from_ipynb(&text);
    }
}

// ------------------------------------------------------------ directives

proptest! {
    #![proptest_config(config())]

    /// Any text parses; the Spark switch sets exactly the engine and keeps
    /// the other directives.
    #[test]
    fn directives_never_panic(source in any_text()) {
        let d = Directives::parse(&source);
        for engine in [Engine::Spark, Engine::Browser] {
            let edited = Directives::with_engine(&source, engine);
            let e = Directives::parse(&edited);
            prop_assert_eq!(e.engine, engine, "{:?}", edited);
            prop_assert_eq!(&e.name, &d.name);
            prop_assert_eq!(e.max_rows, d.max_rows);
            prop_assert_eq!(Directives::with_engine(&edited, engine), edited.clone());
        }
        // Switching on then off is switching off: every other byte stays.
        let on = Directives::with_engine(&source, Engine::Spark);
        prop_assert_eq!(Directives::with_engine(&on, Engine::Browser), Directives::with_engine(&source, Engine::Browser));
    }
}

// ------------------------------------------------------------- Spark frames

fn progress() -> impl Strategy<Value = SparkProgress> {
    (any::<u32>(), any::<u32>(), any::<String>(), any::<[u64; 6]>()).prop_map(|(statement, statements, stage, n)| {
        SparkProgress {
            statement,
            statements,
            stage,
            tasks: n[0],
            completed_tasks: n[1],
            inflight_tasks: n[2],
            input_bytes: n[3],
            stages: n[4],
            elapsed_ms: n[5],
        }
    })
}

fn summary() -> impl Strategy<Value = SparkSummary> {
    let error = prop::option::of((any::<String>(), any::<String>(), any::<Option<u32>>()))
        .prop_map(|e| e.map(|(message, kind, statement)| SparkError { message, kind, statement }));
    (
        any::<u64>(),
        any::<bool>(),
        any::<Option<u64>>(),
        prop::collection::vec(any::<String>(), 0..3),
        any::<u64>(),
        error,
    )
        .prop_map(|(rows, truncated, total_rows, operation_ids, elapsed_ms, error)| SparkSummary {
            rows,
            truncated,
            total_rows,
            operation_ids,
            elapsed_ms,
            error,
        })
}

fn frame() -> impl Strategy<Value = Frame> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300).prop_map(Frame::Arrow),
        progress().prop_map(Frame::Progress),
        summary().prop_map(Frame::Summary),
    ]
}

fn encode(frame: &Frame) -> Vec<u8> {
    match frame {
        Frame::Arrow(bytes) => encode_frame(b'A', bytes),
        Frame::Progress(p) => encode_frame(b'P', &serde_json::to_vec(p).unwrap()),
        Frame::Summary(s) => encode_frame(b'S', &serde_json::to_vec(s).unwrap()),
    }
}

/// `bytes` cut at the given points (each taken modulo the length).
fn chunks(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    at.push(0);
    at.push(bytes.len());
    at.sort_unstable();
    at.windows(2).map(|w| bytes[w[0]..w[1]].to_vec()).collect()
}

proptest! {
    #![proptest_config(config())]

    /// Frames fed in any chunking come back exactly, with nothing pending.
    #[test]
    fn spark_frames_round_trip_in_any_chunks(
        frames in prop::collection::vec(frame(), 0..8),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let bytes: Vec<u8> = frames.iter().flat_map(encode).collect();
        let mut decoder = FrameDecoder::new();
        let mut back = Vec::new();
        for chunk in chunks(&bytes, &cuts) {
            back.extend(decoder.push(&chunk).map_err(TestCaseError::fail)?);
        }
        prop_assert_eq!(decoder.pending(), 0);
        prop_assert_eq!(back, frames);
    }

    /// Random bytes (or a valid answer with bytes changed) never panic. When
    /// `push` fails it drains nothing: the buffer keeps every byte pushed so
    /// far, the frames it decoded in that call included, so the error stays.
    #[test]
    fn spark_frames_never_panic(
        prefix in prop::collection::vec(frame(), 0..3),
        noise in prop::collection::vec(any::<u8>(), 0..64),
        flips in prop::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let mut bytes: Vec<u8> = prefix.iter().flat_map(encode).collect();
        bytes.extend(&noise);
        for (at, byte) in flips {
            let len = bytes.len();
            if len > 0 {
                bytes[at % len] = byte;
            }
        }
        let mut decoder = FrameDecoder::new();
        for chunk in chunks(&bytes, &cuts) {
            let before = decoder.pending();
            match decoder.push(&chunk) {
                Ok(_) => prop_assert!(decoder.pending() <= before + chunk.len()),
                Err(e) => {
                    prop_assert!(!e.is_empty());
                    prop_assert_eq!(decoder.pending(), before + chunk.len());
                    prop_assert!(decoder.push(&[]).is_err(), "the error must not go away by itself");
                    prop_assert_eq!(decoder.pending(), before + chunk.len());
                    break;
                }
            }
        }
    }
}

// ------------------------------------------------------ the engine's parsers

#[cfg(feature = "engine")]
mod engine {
    use super::*;
    use riffle::engine::{KafkaBound, Session, SourceData};

    /// The oldest instant RFC 3339 writes (year 0000), the epoch, and the newest (9999).
    const MIN_MS: i64 = -62_167_219_200_000;
    const EPOCH_MS: i64 = 0;
    const MAX_MS: i64 = 253_402_300_799_999;

    fn rfc3339(ms: i64) -> String {
        let at = chrono::DateTime::from_timestamp_millis(ms).unwrap();
        at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }

    fn spaced(text: String, pad: (bool, bool)) -> String {
        format!("{}{text}{}", if pad.0 { " \t" } else { "" }, if pad.1 { "\n" } else { "" })
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn kafka_bounds_never_panic(text in any_text()) {
            if let Ok(bound) = KafkaBound::parse(&text) {
                // What reads is never a negative offset, and prints for the gateway.
                prop_assert!(!matches!(bound, KafkaBound::Offset(n) | KafkaBound::Timestamp(n) if n < 0), "{:?}", bound);
                prop_assert!(!bound.to_query().is_empty());
            }
        }

        /// What a cell writes reads back as the bound it means, and each bound
        /// prints the gateway's form of itself.
        #[test]
        fn kafka_bounds_round_trip(
            which in 0..4u8,
            offset in 0..=i64::MAX,
            ms in EPOCH_MS..=MAX_MS,
            upper in any::<bool>(),
            pad in any::<(bool, bool)>(),
        ) {
            let (text, expected) = match which {
                0 => ("earliest".to_string(), KafkaBound::Earliest),
                1 => ("latest".to_string(), KafkaBound::Latest),
                2 => (offset.to_string(), KafkaBound::Offset(offset)),
                _ => (rfc3339(ms), KafkaBound::Timestamp(ms)),
            };
            let text = if upper { text.to_ascii_uppercase() } else { text };
            let bound = KafkaBound::parse(&spaced(text.clone(), pad));
            prop_assert_eq!(bound.as_ref().ok(), Some(&expected), "{:?}: {:?}", text, bound);
            let query = expected.to_query();
            let expected_query = match expected {
                KafkaBound::Earliest => "earliest".to_string(),
                KafkaBound::Latest => "latest".to_string(),
                KafkaBound::Offset(o) => format!("offset:{o}"),
                KafkaBound::Timestamp(ms) => format!("timestamp:{ms}"),
            };
            prop_assert_eq!(query, expected_query);
        }

        /// Negative offsets, and times before 1970 (which the gateway would
        /// refuse as negative timestamps), are the cell's errors.
        #[test]
        fn negative_positions_are_errors(offset in i64::MIN..0, ms in MIN_MS..EPOCH_MS) {
            let e = KafkaBound::parse(&offset.to_string());
            prop_assert!(e.is_err(), "{:?}", e);
            let e = KafkaBound::parse(&rfc3339(ms));
            prop_assert!(e.as_ref().is_err_and(|e| e.message.contains("before 1970")), "{:?}", e);
        }
    }

    /// A JSON value, written out.
    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            any::<String>().prop_map(Value::String),
            "[a-z]{0,4}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-c]{1,2}|_corrupt_record|[A-Z ]{0,3}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// A line of a JSON file: a record, a record with bytes changed or cut
    /// off, a piece of JSON syntax, or anything.
    fn json_line() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => json_value().prop_map(|v| v.to_string()),
            2 => (json_value(), any::<usize>(), any::<char>()).prop_map(|(v, at, c)| {
                let mut text = v.to_string();
                let at = (0..=at % (text.len() + 1)).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
                text.insert(at, c);
                text
            }),
            2 => (json_value(), any::<usize>()).prop_map(|(v, at)| {
                let text = v.to_string();
                let at = (0..=at % (text.len() + 1)).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
                text[..at].to_string()
            }),
            1 => proptest::sample::select(&["{", "}", "[", "]", "\"", "//", "/*", "'a'", "{'id': 1}", "", " "][..])
                .prop_map(str::to_string),
            1 => any::<String>(),
        ]
    }

    const READS: &[&str] = &[
        "SELECT * FROM read_json('f.jsonl')",
        "SELECT * FROM read_json('f.json', multiLine => true)",
        "SELECT * FROM read_json('f.jsonl', schema => 'a INT, b STRING')",
        "SELECT * FROM read_json('f.jsonl', schema => 'a BIGINT, b ARRAY<STRING>', mode => 'DROPMALFORMED')",
        "SELECT * FROM read_json('f.jsonl', schema => 'a DOUBLE', mode => 'FAILFAST')",
        "SELECT * FROM read_json('f.jsonl', primitivesAsString => true, allowComments => true, allowSingleQuotes => true)",
        "SELECT * FROM read_json('f.jsonl', schema => 'a INT, bad STRING', columnNameOfCorruptRecord => 'bad')",
        "SELECT COUNT(*) AS n FROM read_json('f.jsonl')",
    ];

    proptest! {
        #![proptest_config(config())]

        /// Any lines, however malformed, give rows or an error that says what
        /// is wrong: never a panic.
        #[test]
        fn json_lines_never_panic(
            read in proptest::sample::select(READS),
            lines in prop::collection::vec(json_line(), 0..6),
            crlf in any::<bool>(),
        ) {
            let text = lines.join(if crlf { "\r\n" } else { "\n" });
            let mut session = Session::new();
            let prepared = session.prepare(read, "t").map_err(|e| TestCaseError::fail(e.message))?;
            match session.execute(prepared, vec![SourceData { parts: vec![text.into_bytes()] }]) {
                Ok(outcome) => prop_assert!(outcome.table.df.width() > 0),
                Err(e) => prop_assert!(!e.message.trim().is_empty()),
            }
        }

        /// Records of one shape read as one row each.
        #[test]
        fn json_records_read_as_rows(ids in prop::collection::vec(any::<i64>(), 1..20)) {
            let text: String = ids.iter().map(|id| format!("{{\"id\": {id}}}\n")).collect();
            let mut session = Session::new();
            let prepared = session.prepare("SELECT id FROM read_json('f.jsonl')", "t").unwrap();
            let outcome = session.execute(prepared, vec![SourceData { parts: vec![text.into_bytes()] }]);
            prop_assert!(outcome.is_ok(), "{:?}", outcome.err());
            let df = outcome.unwrap().table.df;
            let read: Vec<Option<i64>> = df.column("id").unwrap().i64().unwrap().into_iter().collect();
            prop_assert_eq!(read, ids.into_iter().map(Some).collect::<Vec<_>>());
        }
    }
}
