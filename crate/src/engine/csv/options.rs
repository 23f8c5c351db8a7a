//! `read_csv`'s options, with Spark's names (case-insensitive) and meanings.
//! Riffle's defaults differ from Spark's in two places, as the notebook's
//! "run it on Spark" translation does too: `header` and `inferSchema` are
//! on unless turned off.

use std::collections::BTreeMap;

use polars::prelude::Schema;

use super::super::schema_text;
use super::super::sql::datetime::javafmt::{self, Pattern};
use super::super::sql::datetime::zones::ZoneId;
use crate::CellError;

/// How a malformed record is treated (Spark's `mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Bad fields become null; the note counts them.
    Permissive,
    /// Malformed records are dropped; the note counts them.
    DropMalformed,
    /// The first malformed record stops the read.
    FailFast,
}

/// The text encodings `encoding` (or `charset`) names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Utf8,
    Latin1,
    /// UTF-16: the byte order from the BOM (big-endian without one, as Java does).
    Utf16,
    Utf16Le,
    Utf16Be,
}

/// What the tokenizer needs.
#[derive(Debug, Clone)]
pub(crate) struct Syntax {
    pub(crate) sep: char,
    pub(crate) quote: Option<char>,
    pub(crate) escape: Option<char>,
    pub(crate) comment: Option<char>,
    pub(crate) multi_line: bool,
    pub(crate) ignore_leading: bool,
    pub(crate) ignore_trailing: bool,
    pub(crate) empty_value: String,
}

/// Every option, parsed.
#[derive(Debug, Clone)]
pub(crate) struct CsvOptions {
    pub(crate) syntax: Syntax,
    pub(crate) header: bool,
    pub(crate) encoding: Encoding,
    pub(crate) null_value: String,
    pub(crate) nan_value: String,
    pub(crate) positive_inf: String,
    pub(crate) negative_inf: String,
    pub(crate) date_format: Option<(String, Pattern)>,
    pub(crate) timestamp_format: Option<(String, Pattern)>,
    /// `timeZone`: the zone of timestamps written without an offset or zone
    /// id (the session's, UTC, by default).
    pub(crate) time_zone: ZoneId,
    pub(crate) infer_schema: bool,
    pub(crate) sampling_ratio: f64,
    pub(crate) mode: Mode,
    /// The corrupt-record column, and whether the user named it.
    pub(crate) corrupt_column: String,
    pub(crate) corrupt_given: bool,
    pub(crate) schema: Option<Schema>,
}

/// The options `read_csv` takes, as Spark spells them.
pub(crate) const KNOWN: &[&str] = &[
    "header",
    "sep",
    "delimiter",
    "quote",
    "escape",
    "comment",
    "multiLine",
    "encoding",
    "charset",
    "nullValue",
    "emptyValue",
    "nanValue",
    "positiveInf",
    "negativeInf",
    "dateFormat",
    "timestampFormat",
    "timeZone",
    "inferSchema",
    "samplingRatio",
    "ignoreLeadingWhiteSpace",
    "ignoreTrailingWhiteSpace",
    "mode",
    "columnNameOfCorruptRecord",
    "schema",
];

/// Spark's CSV options Riffle does not take (yet), so the message can say so.
const SPARK_ONLY: &[&str] = &[
    "lineSep",
    "locale",
    "maxColumns",
    "maxCharsPerColumn",
    "unescapedQuoteHandling",
    "charToEscapeQuoteEscaping",
    "enforceSchema",
    "preferDate",
    "prefersDecimal",
    "timestampNTZFormat",
    "enableDateTimeParsingFallback",
    "quoteAll",
    "escapeQuotes",
    "compression",
];

fn bad(message: String) -> CellError {
    CellError::new(format!("read_csv(): {message}"))
}

/// One character, as Spark reads it: `\t`, `\n`, `\\` and `\u0001` spelled out work too.
fn one_char(key: &str, value: &str, allow_empty: bool) -> Result<Option<char>, CellError> {
    let c = match value {
        "" if allow_empty => return Ok(None),
        "\\t" => '\t',
        "\\n" => '\n',
        "\\r" => '\r',
        "\\\\" => '\\',
        "\\0" => return Ok(None),
        v if v.len() == 6 && v.starts_with("\\u") => {
            let code = u32::from_str_radix(&v[2..], 16).ok().and_then(char::from_u32);
            match code {
                Some('\0') => return Ok(None),
                Some(c) => c,
                None => return Err(bad(format!("option {key} => '{value}' is not a character"))),
            }
        }
        v => {
            let mut chars = v.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => c,
                _ => {
                    let what = if key == "delimiter" || key == "sep" { "delimiter" } else { key };
                    return Err(bad(format!("{what} must be a single character, such as ',' or ';', not '{value}'"))
                        .hint(format!("write {key} => ';' (or '\\t' for a tab)")));
                }
            }
        }
    };
    Ok(Some(c))
}

struct Given<'a> {
    /// Lower-cased names (as the SQL front end passes them) to values.
    options: &'a BTreeMap<String, String>,
}

impl Given<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.options.get(&name.to_ascii_lowercase()).map(String::as_str)
    }

    fn flag(&self, name: &str, default: bool) -> Result<bool, CellError> {
        match self.get(name).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(other) => Err(bad(format!("option {name} must be true or false, not '{other}'"))
                .hint(format!("write {name} => true or {name} => false"))),
        }
    }

    fn pattern(&self, name: &str) -> Result<Option<(String, Pattern)>, CellError> {
        let Some(text) = self.get(name) else { return Ok(None) };
        let pattern = javafmt::compile(text).map_err(|why| {
            bad(format!("{name} => '{text}': {why} is not supported")).hint(
                "write the pattern with Spark's letters y M d H m s S a E, offsets X x Z, zone ids VV and quoted 'text', such as 'yyyy-MM-dd HH:mm:ss.SSSSSSS'",
            )
        })?;
        if let Some(letter) = pattern.unparsable() {
            return Err(bad(format!("{name} => '{text}': reading the pattern letter '{letter}' is not supported"))
                .hint("read the text with y M d H h m s S a E, offsets X x Z, zone ids VV and quoted 'text'"));
        }
        Ok(Some((text.to_string(), pattern)))
    }
}

impl CsvOptions {
    pub(crate) fn parse(options: &BTreeMap<String, String>) -> Result<CsvOptions, CellError> {
        for key in options.keys() {
            if KNOWN.iter().any(|k| k.eq_ignore_ascii_case(key)) {
                continue;
            }
            if let Some(spark) = SPARK_ONLY.iter().find(|k| k.eq_ignore_ascii_case(key)) {
                return Err(bad(format!("the option {spark} is not supported"))
                    .hint(format!("read_csv takes these options: {}", KNOWN.join(", "))));
            }
            let known: Vec<String> = KNOWN.iter().map(|k| k.to_string()).collect();
            let near =
                crate::engine::suggest::nearest(key, &known).map(|n| format!("did you mean {n}? ")).unwrap_or_default();
            return Err(bad(format!("unknown option `{key}`"))
                .hint(format!("{near}read_csv takes these options: {}", KNOWN.join(", "))));
        }
        let given = Given { options };
        if given.get("sep").is_some() && given.get("delimiter").is_some() {
            return Err(bad("sep and delimiter are the same option; give one of them".into()));
        }
        let (sep_key, sep_text) = match (given.get("sep"), given.get("delimiter")) {
            (Some(s), _) => ("sep", s),
            (None, Some(d)) => ("delimiter", d),
            (None, None) => ("sep", ","),
        };
        let sep = one_char(sep_key, sep_text, false)?.ok_or_else(|| bad(format!("{sep_key} cannot be empty")))?;
        let quote = match given.get("quote") {
            None => Some('"'),
            Some(q) => one_char("quote", q, true)?,
        };
        let escape = match given.get("escape") {
            None => Some('\\'),
            Some(e) => one_char("escape", e, true)?,
        };
        let comment = match given.get("comment") {
            None => None,
            Some(c) => one_char("comment", c, true)?,
        };
        if quote == Some(sep) {
            return Err(bad(format!("quote and {sep_key} are both '{sep}'")).hint("give them different characters"));
        }
        let encoding = match given.get("encoding").or(given.get("charset")) {
            None => Encoding::Utf8,
            Some(name) => match name.to_ascii_uppercase().replace('_', "-").as_str() {
                "UTF-8" | "UTF8" => Encoding::Utf8,
                "ISO-8859-1" | "ISO8859-1" | "LATIN1" | "LATIN-1" | "L1" | "US-ASCII" | "ASCII" => Encoding::Latin1,
                "UTF-16" | "UTF16" => Encoding::Utf16,
                "UTF-16LE" => Encoding::Utf16Le,
                "UTF-16BE" => Encoding::Utf16Be,
                _ => {
                    return Err(bad(format!("the encoding '{name}' is not supported")).hint(
                        "write encoding => 'UTF-8', 'ISO-8859-1' (Latin-1), 'UTF-16', 'UTF-16LE' or 'UTF-16BE'",
                    ));
                }
            },
        };
        let sampling_ratio = match given.get("samplingRatio") {
            None => 1.0,
            Some(text) => match text.trim().parse::<f64>() {
                Ok(r) if r > 0.0 && r <= 1.0 => r,
                _ => {
                    return Err(bad(format!("samplingRatio must be a number above 0 and at most 1, not '{text}'"))
                        .hint("write samplingRatio => 0.1 to infer the types from one row in ten"));
                }
            },
        };
        let mode = match given.get("mode").map(str::to_ascii_uppercase).as_deref() {
            None | Some("PERMISSIVE") => Mode::Permissive,
            Some("DROPMALFORMED") => Mode::DropMalformed,
            Some("FAILFAST") => Mode::FailFast,
            Some(other) => {
                return Err(bad(format!("mode => '{other}' is not a mode"))
                    .hint("write mode => 'PERMISSIVE' (bad fields become null), 'DROPMALFORMED' or 'FAILFAST'"));
            }
        };
        let schema = given
            .get("schema")
            .map(|text| {
                schema_text::parse(text).map_err(|e| {
                    bad(format!("schema => '{text}': {}", e.message)).hint(
                        "write the schema as 'name TYPE, ...', e.g. 'LCLid STRING, `KWH/hh` DOUBLE, DateTime TIMESTAMP'",
                    )
                })
            })
            .transpose()?;
        let corrupt_given = given.get("columnNameOfCorruptRecord").is_some();
        let corrupt_column = given.get("columnNameOfCorruptRecord").unwrap_or("_corrupt_record").to_string();
        if corrupt_given && corrupt_column.is_empty() {
            return Err(bad("columnNameOfCorruptRecord cannot be empty".into()));
        }
        let time_zone = match given.get("timeZone") {
            None => ZoneId::UTC,
            Some(text) => ZoneId::parse(text).ok_or_else(|| {
                bad(format!("timeZone => '{text}' is not a time zone")).hint(
                    "write a region id such as timeZone => 'Europe/London' or an offset such as timeZone => '+02:00'",
                )
            })?,
        };
        let text = |name: &str, default: &str| given.get(name).unwrap_or(default).to_string();
        Ok(CsvOptions {
            syntax: Syntax {
                sep,
                quote,
                escape,
                comment,
                multi_line: given.flag("multiLine", false)?,
                ignore_leading: given.flag("ignoreLeadingWhiteSpace", false)?,
                ignore_trailing: given.flag("ignoreTrailingWhiteSpace", false)?,
                empty_value: text("emptyValue", ""),
            },
            header: given.flag("header", true)?,
            encoding,
            null_value: text("nullValue", ""),
            nan_value: text("nanValue", "NaN"),
            positive_inf: text("positiveInf", "Inf"),
            negative_inf: text("negativeInf", "-Inf"),
            date_format: given.pattern("dateFormat")?,
            timestamp_format: given.pattern("timestampFormat")?,
            time_zone,
            infer_schema: given.flag("inferSchema", true)?,
            sampling_ratio,
            mode,
            corrupt_column,
            corrupt_given,
            schema,
        })
    }
}
