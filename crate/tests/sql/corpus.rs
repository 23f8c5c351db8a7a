//! The differential SQL corpus: its plain-text format, the canonical values
//! both sides produce, and how answers are compared.
//!
//! Shared, as source, by the tab side (`crate/tests/sql_corpus.rs`, Polars)
//! and the Spark side (`worker/tests/sql_corpus.rs`, arrow-rs), so it uses
//! std only.
//!
//! # The format
//!
//! A corpus file (`crate/tests/sql/corpus/*.test`) is a list of cases.
//! Outside a case, blank lines and lines starting with `#` are comments.
//!
//! ```text
//! query revenue.per_zone_per_month ordered
//! tags: group.by_expression date.date_trunc join.inner
//! tables: trips zones
//! SELECT z.zone, date_trunc('MONTH', t.pickup_ts) AS month, round(sum(t.fare), 2) AS revenue
//! FROM trips t JOIN zones z ON t.pickup_zone_id = z.zone_id
//! GROUP BY 1, 2 ORDER BY 1, 2
//! ----
//! [["zone", "string"], ["month", "timestamp"], ["revenue", "double"]]
//! ["Alphabet City", "2024-01-01 00:00:00", 123.4]
//! ```
//!
//! - `query <id> [ordered]`: the id is unique over all files (`[a-z0-9_.]`);
//!   `ordered` compares rows in sequence, otherwise as multisets.
//! - `tags:` the features the case exercises, `area.name` each.
//! - `tables:` the fixtures it reads.
//! - the query, up to a line `----`.
//! - Spark's recorded answer, up to the next blank line: a header (the
//!   columns as a JSON array of `[name, spark_type]`), then one JSON array
//!   per row; or one line `error: <Spark's error class>` when Spark refuses.
//!   Nothing after `----` means "not recorded yet".
//!
//! # Canonical values
//!
//! Integers are JSON integers; floating-point numbers JSON numbers in their
//! shortest round-trip form (`NaN`, `Infinity`, `-Infinity` as strings);
//! decimals JSON numbers with their scale (`12.50`); strings JSON strings;
//! booleans; NULL is `null`; dates `"YYYY-MM-DD"`; timestamps in UTC as
//! `"YYYY-MM-DD HH:MM:SS[.ffffff]"` (the fraction without trailing zeros,
//! absent when zero); day-time intervals the number of microseconds,
//! year-month intervals the number of months; binary `"0x…"` (lowercase
//! hex); arrays JSON arrays; structs JSON objects in field order; maps
//! arrays of `[key, value]`.

#![allow(dead_code)]

use std::fmt::Write as _;

/// A canonical value. Numbers keep their text (a decimal's scale is part of it).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(String),
    Str(String),
    List(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    pub fn int(n: impl Into<i128>) -> Value {
        Value::Number(n.into().to_string())
    }

    pub fn f64(x: f64) -> Value {
        if x.is_nan() {
            Value::Str("NaN".into())
        } else if x.is_infinite() {
            Value::Str(if x > 0.0 { "Infinity" } else { "-Infinity" }.into())
        } else {
            // Debug is the shortest text that reads back as the same f64, with ".0" on integers.
            Value::Number(format!("{x:?}"))
        }
    }

    pub fn f32(x: f32) -> Value {
        if x.is_nan() || x.is_infinite() { Value::f64(f64::from(x)) } else { Value::Number(format!("{x:?}")) }
    }

    /// A decimal from its unscaled integer and scale: `decimal(1250, 2)` is `12.50`.
    pub fn decimal(unscaled: i128, scale: usize) -> Value {
        let digits = unscaled.unsigned_abs().to_string();
        let sign = if unscaled < 0 { "-" } else { "" };
        if scale == 0 {
            return Value::Number(format!("{sign}{digits}"));
        }
        let digits = format!("{digits:0>width$}", width = scale + 1);
        let (whole, frac) = digits.split_at(digits.len() - scale);
        Value::Number(format!("{sign}{whole}.{frac}"))
    }

    pub fn date(days: i64) -> Value {
        Value::Str(date_text(days))
    }

    /// A timestamp from microseconds since the epoch (UTC).
    pub fn timestamp(micros: i64) -> Value {
        Value::Str(timestamp_text(micros))
    }

    /// A time of day from nanoseconds since midnight.
    pub fn time(nanos: i64) -> Value {
        let secs = nanos.div_euclid(1_000_000_000);
        let frac = nanos.rem_euclid(1_000_000_000);
        let mut out = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
        push_fraction(&mut out, frac, 9);
        Value::Str(out)
    }

    pub fn binary(bytes: &[u8]) -> Value {
        let mut out = String::from("0x");
        for b in bytes {
            let _ = write!(out, "{b:02x}");
        }
        Value::Str(out)
    }

    /// The compact JSON text, with `, ` and `: ` separators.
    pub fn text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => out.push_str(n),
            Value::Str(s) => write_string(out, s),
            Value::List(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.write(out);
                }
                out.push(']');
            }
            Value::Object(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_string(out, k);
                    out.push_str(": ");
                    v.write(out);
                }
                out.push('}');
            }
        }
    }

    /// A text for sorting rows before a tolerant comparison: floats rounded
    /// to 9 significant digits, so that last-bit differences sort alike.
    fn sort_key(&self, out: &mut String) {
        match self {
            Value::Number(n) if is_float_text(n) => match n.parse::<f64>() {
                Ok(x) => {
                    let _ = write!(out, "{x:.8e}");
                }
                Err(_) => out.push_str(n),
            },
            Value::List(items) => {
                out.push('[');
                for v in items {
                    v.sort_key(out);
                    out.push(',');
                }
                out.push(']');
            }
            Value::Object(fields) => {
                out.push('{');
                for (k, v) in fields {
                    out.push_str(k);
                    out.push(':');
                    v.sort_key(out);
                    out.push(',');
                }
                out.push('}');
            }
            other => other.write(out),
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_fraction(out: &mut String, frac: i64, digits: usize) {
    if frac != 0 {
        let text = format!("{frac:0>digits$}");
        out.push('.');
        out.push_str(text.trim_end_matches('0'));
    }
}

/// Days since 1970-01-01 as `YYYY-MM-DD` (proleptic Gregorian).
pub fn date_text(days: i64) -> String {
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if (0..=9999).contains(&year) {
        format!("{year:04}-{month:02}-{day:02}")
    } else {
        format!("{year}-{month:02}-{day:02}")
    }
}

/// Days since the epoch of a civil date.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Microseconds since the epoch as `YYYY-MM-DD HH:MM:SS[.ffffff]` in UTC.
pub fn timestamp_text(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let s = secs.rem_euclid(86_400);
    let mut out = format!("{} {:02}:{:02}:{:02}", date_text(days), s / 3600, s / 60 % 60, s % 60);
    push_fraction(&mut out, frac, 6);
    out
}

fn is_float_text(n: &str) -> bool {
    n.contains(['.', 'e', 'E'])
}

/// Parses one JSON value, keeping numbers as text.
pub fn parse_value(text: &str) -> Result<Value, String> {
    let mut p = JsonParser { bytes: text.as_bytes(), at: 0 };
    let v = p.value()?;
    p.space();
    if p.at != p.bytes.len() {
        return Err(format!("unexpected text after the value at column {}", p.at + 1));
    }
    Ok(v)
}

struct JsonParser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl JsonParser<'_> {
    fn space(&mut self) {
        while self.at < self.bytes.len() && self.bytes[self.at].is_ascii_whitespace() {
            self.at += 1;
        }
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("{what} at column {}", self.at + 1))
    }

    fn eat(&mut self, word: &str) -> bool {
        if self.bytes[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        self.space();
        let Some(&c) = self.bytes.get(self.at) else { return self.err("expected a JSON value, found the end") };
        match c {
            b'n' if self.eat("null") => Ok(Value::Null),
            b't' if self.eat("true") => Ok(Value::Bool(true)),
            b'f' if self.eat("false") => Ok(Value::Bool(false)),
            b'"' => self.string().map(Value::Str),
            b'[' => {
                self.at += 1;
                let mut items = Vec::new();
                self.space();
                if self.eat("]") {
                    return Ok(Value::List(items));
                }
                loop {
                    items.push(self.value()?);
                    self.space();
                    if self.eat(",") {
                        continue;
                    }
                    if self.eat("]") {
                        return Ok(Value::List(items));
                    }
                    return self.err("expected `,` or `]`");
                }
            }
            b'{' => {
                self.at += 1;
                let mut fields = Vec::new();
                self.space();
                if self.eat("}") {
                    return Ok(Value::Object(fields));
                }
                loop {
                    self.space();
                    if self.bytes.get(self.at) != Some(&b'"') {
                        return self.err("expected a field name in quotes");
                    }
                    let key = self.string()?;
                    self.space();
                    if !self.eat(":") {
                        return self.err("expected `:`");
                    }
                    fields.push((key, self.value()?));
                    self.space();
                    if self.eat(",") {
                        continue;
                    }
                    if self.eat("}") {
                        return Ok(Value::Object(fields));
                    }
                    return self.err("expected `,` or `}`");
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = self.at;
                while self.at < self.bytes.len()
                    && matches!(self.bytes[self.at], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    self.at += 1;
                }
                let n = std::str::from_utf8(&self.bytes[start..self.at]).unwrap_or_default();
                if n.parse::<f64>().is_err() {
                    self.at = start;
                    return self.err("a malformed number");
                }
                Ok(Value::Number(n.to_string()))
            }
            _ => self.err("expected a JSON value"),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.at += 1;
        let mut out = String::new();
        loop {
            let rest = &self.bytes[self.at..];
            let Some(pos) = rest.iter().position(|b| *b == b'"' || *b == b'\\') else {
                return self.err("an unterminated string");
            };
            out.push_str(std::str::from_utf8(&rest[..pos]).map_err(|_| "a string that is not UTF-8".to_string())?);
            self.at += pos;
            if self.bytes[self.at] == b'"' {
                self.at += 1;
                return Ok(out);
            }
            let Some(&esc) = self.bytes.get(self.at + 1) else { return self.err("an unterminated escape") };
            self.at += 2;
            match esc {
                b'"' => out.push('"'),
                b'\\' => out.push('\\'),
                b'/' => out.push('/'),
                b'n' => out.push('\n'),
                b'r' => out.push('\r'),
                b't' => out.push('\t'),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'u' => {
                    let hex = |p: &Self, at: usize| -> Result<u32, String> {
                        let h = p.bytes.get(at..at + 4).and_then(|h| std::str::from_utf8(h).ok());
                        h.and_then(|h| u32::from_str_radix(h, 16).ok()).ok_or_else(|| "a bad \\u escape".to_string())
                    };
                    let mut code = hex(self, self.at)?;
                    self.at += 4;
                    if (0xd800..0xdc00).contains(&code) && self.bytes[self.at..].starts_with(b"\\u") {
                        let low = hex(self, self.at + 2)?;
                        self.at += 6;
                        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
                    }
                    out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                }
                _ => return self.err("an unknown escape"),
            }
        }
    }
}

/// A column of an answer: its name and Spark's name of its type.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub dtype: String,
}

/// A result in canonical form.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Value>>,
}

/// What Spark answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Table(Table),
    /// Spark refused the query: its error class, or the first line of its message.
    Error(String),
}

impl Answer {
    /// The lines after `----`.
    pub fn lines(&self) -> Vec<String> {
        match self {
            Answer::Error(e) => vec![format!("error: {e}")],
            Answer::Table(t) => {
                let header = Value::List(
                    t.columns
                        .iter()
                        .map(|c| Value::List(vec![Value::Str(c.name.clone()), Value::Str(c.dtype.clone())]))
                        .collect(),
                );
                let mut out = vec![header.text()];
                out.extend(t.rows.iter().map(|r| Value::List(r.clone()).text()));
                out
            }
        }
    }

    fn parse(lines: &[(usize, &str)], file: &str) -> Result<Answer, String> {
        let at = |line: usize, msg: String| format!("{file}:{line}: {msg}");
        let (first_no, first) = lines[0];
        if let Some(e) = first.strip_prefix("error:") {
            if lines.len() > 1 {
                return Err(at(lines[1].0, "an error answer has one line".into()));
            }
            return Ok(Answer::Error(e.trim().to_string()));
        }
        let header = parse_value(first).map_err(|e| at(first_no, format!("the header: {e}")))?;
        let Value::List(cols) = header else {
            return Err(at(first_no, "the header must be a JSON array of [name, type] pairs".into()));
        };
        let mut columns = Vec::new();
        for c in cols {
            match c {
                Value::List(pair) if pair.len() == 2 => match (&pair[0], &pair[1]) {
                    (Value::Str(name), Value::Str(dtype)) => {
                        columns.push(Column { name: name.clone(), dtype: dtype.clone() })
                    }
                    _ => return Err(at(first_no, "a header entry must be [\"name\", \"type\"]".into())),
                },
                _ => return Err(at(first_no, "a header entry must be [\"name\", \"type\"]".into())),
            }
        }
        let mut rows = Vec::new();
        for &(no, line) in &lines[1..] {
            match parse_value(line).map_err(|e| at(no, format!("a row: {e}")))? {
                Value::List(row) if row.len() == columns.len() => rows.push(row),
                Value::List(row) => {
                    return Err(at(
                        no,
                        format!("a row of {} values under a header of {} columns", row.len(), columns.len()),
                    ));
                }
                _ => return Err(at(no, "a row must be a JSON array".into())),
            }
        }
        Ok(Answer::Table(Table { columns, rows }))
    }
}

/// One case of the corpus.
#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub ordered: bool,
    pub tags: Vec<String>,
    pub tables: Vec<String>,
    pub sql: String,
    /// Spark's recorded answer; `None` when not recorded yet.
    pub answer: Option<Answer>,
    pub file: String,
    /// The 1-based line of `query`.
    pub line: usize,
    /// The 0-based line range of the answer (after `----`) in the file.
    answer_lines: std::ops::Range<usize>,
}

impl Case {
    /// `file:line`, for messages.
    pub fn place(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

/// A corpus file, parsed, with its text kept for rewriting answers.
pub struct CorpusFile {
    pub name: String,
    pub cases: Vec<Case>,
    lines: Vec<String>,
    trailing_newline: bool,
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
}

fn valid_tag(tag: &str) -> bool {
    let Some((area, name)) = tag.split_once('.') else { return false };
    !area.is_empty() && !name.is_empty() && valid_id(area) && valid_id(name) && !area.contains('.')
}

impl CorpusFile {
    pub fn parse(name: &str, text: &str) -> Result<CorpusFile, String> {
        let lines: Vec<String> = text.lines().map(String::from).collect();
        let mut cases = Vec::new();
        let mut i = 0;
        let at = |line: usize, msg: &str| format!("{name}:{}: {msg}", line + 1);
        while i < lines.len() {
            let line = lines[i].trim_end();
            if line.trim().is_empty() || line.starts_with('#') {
                i += 1;
                continue;
            }
            let Some(head) = line.strip_prefix("query ") else {
                return Err(at(i, &format!("expected `query <id> [ordered]`, found `{line}`")));
            };
            let start = i;
            let words: Vec<&str> = head.split_whitespace().collect();
            let (id, ordered) = match words.as_slice() {
                [id] => (*id, false),
                [id, "ordered"] => (*id, true),
                _ => return Err(at(i, "expected `query <id>` or `query <id> ordered`")),
            };
            if !valid_id(id) {
                return Err(at(i, &format!("the id `{id}` may only have a-z, 0-9, `_` and `.`")));
            }
            i += 1;
            let mut tags = None;
            let mut tables = None;
            while i < lines.len() {
                if let Some(t) = lines[i].strip_prefix("tags:") {
                    let list: Vec<String> = t.split_whitespace().map(String::from).collect();
                    if let Some(bad) = list.iter().find(|t| !valid_tag(t)) {
                        return Err(at(i, &format!("the tag `{bad}` is not `area.name` (a-z, 0-9, `_`)")));
                    }
                    if list.is_empty() {
                        return Err(at(i, "a case needs at least one tag"));
                    }
                    tags = Some(list);
                } else if let Some(t) = lines[i].strip_prefix("tables:") {
                    tables = Some(t.split_whitespace().map(String::from).collect::<Vec<_>>());
                } else {
                    break;
                }
                i += 1;
            }
            let tags = tags.ok_or_else(|| at(start, "the case has no `tags:` line after `query`"))?;
            let tables = tables.ok_or_else(|| at(start, "the case has no `tables:` line after `tags:`"))?;
            let sql_start = i;
            while i < lines.len() && lines[i].trim_end() != "----" {
                if lines[i].starts_with("query ") {
                    return Err(at(i, "a new `query` before the previous one's `----`"));
                }
                i += 1;
            }
            if i == lines.len() {
                return Err(at(start, "the case has no `----` line after its query"));
            }
            let sql = lines[sql_start..i].join("\n").trim().to_string();
            if sql.is_empty() {
                return Err(at(start, "the case has no query"));
            }
            i += 1;
            let answer_start = i;
            while i < lines.len() && !lines[i].trim().is_empty() {
                if lines[i].starts_with("query ") {
                    return Err(at(i, "a blank line must end the answer before the next `query`"));
                }
                i += 1;
            }
            let answer_lines = answer_start..i;
            let body: Vec<(usize, &str)> = (answer_start..i).map(|n| (n + 1, lines[n].as_str())).collect();
            let answer = if body.is_empty() { None } else { Some(Answer::parse(&body, name)?) };
            cases.push(Case {
                id: id.to_string(),
                ordered,
                tags,
                tables,
                sql,
                answer,
                file: name.to_string(),
                line: start + 1,
                answer_lines,
            });
        }
        Ok(CorpusFile { name: name.to_string(), cases, lines, trailing_newline: text.ends_with('\n') })
    }

    /// The file's text with some cases' answers replaced (by case index);
    /// everything else stays byte for byte.
    pub fn with_answers(&self, answers: &[(usize, Answer)]) -> String {
        let mut out: Vec<String> = Vec::new();
        let mut at = 0;
        let mut sorted: Vec<&(usize, Answer)> = answers.iter().collect();
        sorted.sort_by_key(|(i, _)| *i);
        for (index, answer) in sorted {
            let range = &self.cases[*index].answer_lines;
            out.extend(self.lines[at..range.start].iter().cloned());
            out.extend(answer.lines());
            at = range.end;
        }
        out.extend(self.lines[at..].iter().cloned());
        let mut text = out.join("\n");
        if self.trailing_newline {
            text.push('\n');
        }
        text
    }
}

/// Parses every file and checks that ids are unique and tables known.
pub fn parse_corpus(files: &[(String, String)], tables: &[&str]) -> Result<Vec<CorpusFile>, String> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeMap::new();
    for (name, text) in files {
        let file = CorpusFile::parse(name, text)?;
        for case in &file.cases {
            if let Some(first) = seen.insert(case.id.clone(), case.place()) {
                return Err(format!("{}: the id `{}` is also used at {first}", case.place(), case.id));
            }
            if let Some(bad) = case.tables.iter().find(|t| !tables.contains(&t.as_str())) {
                return Err(format!(
                    "{}: `{bad}` is not a fixture table (there are {})",
                    case.place(),
                    tables.join(", ")
                ));
            }
        }
        out.push(file);
    }
    Ok(out)
}

/// The error class in Spark's message (`[DIVIDE_BY_ZERO] Division by zero...`),
/// else the Java exception a failed job names, else the first line, shortened.
pub fn spark_error_class(message: &str) -> String {
    let is_class = |c: &str| {
        !c.is_empty() && c.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '.')
    };
    let mut rest = message;
    while let Some(start) = rest.find('[') {
        let after = &rest[start + 1..];
        if let Some(end) = after.find(']')
            && is_class(&after[..end])
            && after[..end].chars().next().is_some_and(|c| c.is_ascii_uppercase())
        {
            return after[..end].to_string();
        }
        rest = after;
    }
    let exception = message.split_whitespace().map(|w| w.trim_end_matches(':')).find(|w| {
        w.contains('.')
            && (w.ends_with("Exception") || w.ends_with("Error"))
            && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '$')
    });
    if let Some(e) = exception {
        return e.to_string();
    }
    let first = message.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    first.chars().take(120).collect()
}

fn numbers_close(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    if !(is_float_text(a) || is_float_text(b)) {
        return false;
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => {
            let scale = x.abs().max(y.abs());
            (x - y).abs() <= 1e-9 * scale || (x - y).abs() < 1e-12
        }
        _ => false,
    }
}

/// Equal, with floating-point numbers to 1e-9 relative.
pub fn close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => numbers_close(x, y),
        (Value::List(x), Value::List(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| close(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((ka, a), (kb, b))| ka == kb && close(a, b))
        }
        _ => a == b,
    }
}

fn row_key(row: &[Value]) -> String {
    let mut out = String::new();
    for v in row {
        v.sort_key(&mut out);
        out.push('|');
    }
    out
}

fn row_text(row: &[Value]) -> String {
    Value::List(row.to_vec()).text()
}

/// Compares an engine's table with Spark's: names, types, rows (in sequence
/// when `ordered`, otherwise as multisets), floats to 1e-9 relative. Says
/// what differs first.
pub fn compare(expected: &Table, got: &Table, ordered: bool) -> Result<(), String> {
    let names = |t: &Table| t.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
    let types = |t: &Table| t.columns.iter().map(|c| c.dtype.clone()).collect::<Vec<_>>();
    if names(expected) != names(got) {
        return Err(format!("columns: Spark {:?}, the engine {:?}", names(expected), names(got)));
    }
    if types(expected) != types(got) {
        let diffs: Vec<String> = expected
            .columns
            .iter()
            .zip(&got.columns)
            .filter(|(a, b)| a.dtype != b.dtype)
            .map(|(a, b)| format!("{}: Spark {}, the engine {}", a.name, a.dtype, b.dtype))
            .collect();
        return Err(format!("types: {}", diffs.join("; ")));
    }
    if expected.rows.len() != got.rows.len() {
        return Err(format!("rows: Spark {}, the engine {}", expected.rows.len(), got.rows.len()));
    }
    let (mut want, mut have): (Vec<&Vec<Value>>, Vec<&Vec<Value>>) =
        (expected.rows.iter().collect(), got.rows.iter().collect());
    if !ordered {
        want.sort_by_cached_key(|r| row_key(r));
        have.sort_by_cached_key(|r| row_key(r));
    }
    for (i, (w, h)) in want.iter().zip(&have).enumerate() {
        let same = w.len() == h.len() && w.iter().zip(h.iter()).all(|(a, b)| close(a, b));
        if !same {
            if ordered && compare(expected, got, false).is_ok() {
                return Err(format!(
                    "order: the same rows, but row {} is {} for Spark and {} for the engine",
                    i + 1,
                    row_text(w),
                    row_text(h)
                ));
            }
            let which = if ordered { format!("row {}", i + 1) } else { format!("sorted row {}", i + 1) };
            return Err(format!("values, {which}: Spark {}, the engine {}", row_text(w), row_text(h)));
        }
    }
    Ok(())
}
