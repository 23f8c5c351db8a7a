//! A small JSON reader and writer that keeps object key order and numbers'
//! original text (serde_json would sort keys and reparse numbers).

use super::super::nested::rows_udf;
use super::super::typed::{SqlResult, Typed, refuse};
use polars::prelude::*;

// ---------------------------------------------------------------- parsing

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Json {
    Null,
    Bool(bool),
    /// The number's text, as written.
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

pub(super) struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    /// from_json's defaults: 'single quoted' strings allowed, raw control characters not.
    lenient_quotes: bool,
    depth: usize,
}

/// The first JSON value in `text` (what follows it is ignored, as Jackson
/// reads one value), or `None` when there is none or it is malformed.
pub(super) fn parse(text: &str, lenient_quotes: bool) -> Option<Json> {
    let mut p = Parser { s: text.as_bytes(), i: 0, lenient_quotes, depth: 0 };
    p.ws();
    p.value()
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn word(&mut self, w: &[u8], v: Json) -> Option<Json> {
        if self.s[self.i..].starts_with(w) {
            self.i += w.len();
            Some(v)
        } else {
            None
        }
    }

    fn value(&mut self) -> Option<Json> {
        match self.peek()? {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' => self.string(b'"').map(Json::Str),
            b'\'' if self.lenient_quotes => self.string(b'\'').map(Json::Str),
            b't' => self.word(b"true", Json::Bool(true)),
            b'f' => self.word(b"false", Json::Bool(false)),
            b'n' => self.word(b"null", Json::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn nest(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= 1000).then_some(())
    }

    fn object(&mut self) -> Option<Json> {
        self.nest()?;
        self.i += 1;
        let mut fields = Vec::new();
        self.ws();
        if self.peek()? == b'}' {
            self.i += 1;
            self.depth -= 1;
            return Some(Json::Obj(fields));
        }
        loop {
            self.ws();
            let key = match self.peek()? {
                b'"' => self.string(b'"')?,
                b'\'' if self.lenient_quotes => self.string(b'\'')?,
                _ => return None,
            };
            self.ws();
            if self.peek()? != b':' {
                return None;
            }
            self.i += 1;
            self.ws();
            let v = self.value()?;
            fields.push((key, v));
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    self.depth -= 1;
                    return Some(Json::Obj(fields));
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self) -> Option<Json> {
        self.nest()?;
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.peek()? == b']' {
            self.i += 1;
            self.depth -= 1;
            return Some(Json::Arr(items));
        }
        loop {
            self.ws();
            items.push(self.value()?);
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    self.depth -= 1;
                    return Some(Json::Arr(items));
                }
                _ => return None,
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.s.get(self.i..self.i + 4)?;
        self.i += 4;
        u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
    }

    fn string(&mut self, quote: u8) -> Option<String> {
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let c = self.peek()?;
            self.i += 1;
            match c {
                _ if c == quote => break,
                b'\\' => {
                    let e = self.peek()?;
                    self.i += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'\'' if self.lenient_quotes => out.push(e),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let mut code = self.hex4()?;
                            if (0xD800..0xDC00).contains(&code) && self.s[self.i..].starts_with(b"\\u") {
                                self.i += 2;
                                let low = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return None;
                                }
                                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                            }
                            let ch = char::from_u32(code)?;
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => return None,
                    }
                }
                // Raw control characters: get_json_object allows them, from_json does not.
                c if c < 0x20 && self.lenient_quotes => return None,
                c => out.push(c),
            }
        }
        String::from_utf8(out).ok()
    }

    fn number(&mut self) -> Option<Json> {
        let start = self.i;
        let digits = |p: &mut Self| {
            let from = p.i;
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.i += 1;
            }
            p.i - from
        };
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let lead = self.peek();
        let n = digits(self);
        if n == 0 || (n > 1 && lead == Some(b'0')) {
            return None;
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if digits(self) == 0 {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return None;
            }
        }
        Some(Json::Num(String::from_utf8_lossy(&self.s[start..self.i]).into_owned()))
    }
}

// ---------------------------------------------------------------- writing

pub(super) fn is_integer_text(raw: &str) -> bool {
    !raw.contains(['.', 'e', 'E'])
}

/// Java's `Double.toString`: `100.0`, `0.001`, `1.0E7`, `1.5E-5`.
pub(super) fn java_double(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let a = x.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        return format!("{x:?}");
    }
    let e = format!("{x:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let mantissa = if mantissa.contains('.') { mantissa.to_string() } else { format!("{mantissa}.0") };
    format!("{mantissa}E{exp}")
}

/// A number's text as Jackson writes it back: integers as they are, other
/// numbers through a double.
pub(super) fn number_text(raw: &str) -> String {
    if is_integer_text(raw) {
        match raw.parse::<i64>() {
            Ok(n) => n.to_string(),
            Err(_) => raw.to_string(),
        }
    } else {
        raw.parse::<f64>().map(java_double).unwrap_or_else(|_| raw.to_string())
    }
}

pub(super) fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

pub(super) fn write_json(j: &Json, out: &mut String) {
    match j {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Num(n) => out.push_str(&number_text(n)),
        Json::Str(s) => write_str(s, out),
        Json::Arr(items) => {
            out.push('[');
            for (k, item) in items.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Json::Obj(fields) => {
            out.push('{');
            for (k, (name, v)) in fields.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                write_str(name, out);
                out.push(':');
                write_json(v, out);
            }
            out.push('}');
        }
    }
}

pub(super) fn compact(j: &Json) -> String {
    let mut out = String::new();
    write_json(j, &mut out);
    out
}

pub(super) fn string_udf(input: Expr, f: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Expr {
    rows_udf(vec![input], DataType::String, move |s, _| {
        let out: StringChunked = s[0].str()?.into_iter().map(|t| t.and_then(&f)).collect();
        Ok(out.into_series())
    })
}

pub(super) fn json_text(name: &str, j: &Typed) -> SqlResult<Expr> {
    if j.dtype == DataType::String || j.dtype == DataType::Null {
        Ok(j.expr.clone().cast(DataType::String))
    } else {
        Err(refuse(format!("{name}: the JSON argument is {}, not a string", j.dtype), "pass JSON text (a STRING)"))
    }
}
