//! What kind of statement a cell holds. Polars SQL runs queries; Riffle adds
//! `DESCRIBE t`, `COPY (query) TO 'path' (...)` and
//! `INSERT INTO kafka('topic') <query>`, which it recognises here by their
//! tokens. The query inside keeps its place in the cell (the rest is blanked
//! out), so errors in it still point at the right line and column.

use sqlparser::dialect::GenericDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use super::export::{Compression, ExportFormat};
use crate::{CellError, Location};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum CellStatement {
    /// A query: SELECT, WITH, VALUES.
    Query(String),
    /// `DESCRIBE t`: the schema of a table in the catalog.
    Describe(String),
    Copy(CopySpec),
    InsertKafka {
        topic: String,
        query: String,
    },
    /// `SET spark.sql.ansi.enabled = false` (a value) or
    /// `SET spark.sql.ansi.enabled` (show it).
    Set(Setting),
}

/// A setting of the session that `SET` changes or shows.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Setting {
    /// `spark.sql.ansi.enabled`: `Some` sets it.
    Ansi(Option<bool>),
    /// `SET` alone: every setting.
    All,
}

/// The settings `SET` knows.
pub(super) const ANSI_KEY: &str = "spark.sql.ansi.enabled";

/// How `COPY ... TO` treats an existing output directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteMode {
    /// Fail if the directory exists (Spark's default, `errorifexists`).
    #[default]
    Error,
    Overwrite,
    Append,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct CopySpec {
    pub query: String,
    pub path: String,
    pub format: ExportFormat,
    pub mode: WriteMode,
    pub partitions: usize,
    pub compression: Compression,
}

pub(super) fn classify(source: &str) -> Result<CellStatement, CellError> {
    let tokens = tokenize(source)?;
    let quoted = quote_column_keywords(source, &tokens);
    let (source, tokens) = match &quoted {
        Some(text) => (text.as_str(), tokenize(text)?),
        None => (source, tokens),
    };
    let tokens: Vec<&TokenWithSpan> =
        tokens.iter().filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::EOF)).collect();
    let tokens: &[&TokenWithSpan] = match tokens.split_last() {
        Some((last, rest)) if last.token == Token::SemiColon => rest,
        _ => &tokens,
    };
    let Some(first) = tokens.first() else {
        return Err(CellError::new("the cell is empty: it holds no statement, only blanks or comments")
            .at(Some(crate::Location { line: 1, column: 1 }))
            .hint("write a query, such as SELECT 1 + 1 AS two"));
    };
    let keyword = |t: &TokenWithSpan| match &t.token {
        Token::Word(w) => Some(w.keyword),
        _ => None,
    };
    match keyword(first) {
        Some(Keyword::DESCRIBE | Keyword::DESC) => describe(tokens),
        Some(Keyword::COPY) => copy(source, tokens),
        Some(Keyword::INSERT) => insert(source, tokens),
        Some(Keyword::SET) => set(tokens),
        _ => Ok(CellStatement::Query(source.to_string())),
    }
}

pub(super) fn tokenize(source: &str) -> Result<Vec<TokenWithSpan>, CellError> {
    Tokenizer::new(&GenericDialect, source).tokenize_with_location().map_err(|e| {
        CellError::new(e.message.clone())
            .at(Some(Location { line: e.location.line as u32, column: e.location.column as u32 }))
    })
}

/// Spark's Kafka columns and options use words that are SQL keywords:
/// `SELECT offset, partition FROM kafka('t', from => 'earliest')`. Quotes them
/// where they are names: before `=>`, and `offset`/`partition`/`timestamp`
/// where no clause follows (`OFFSET 10`, `PARTITION BY`, `TIMESTAMP '…'`).
pub(super) fn quote_column_keywords(source: &str, tokens: &[TokenWithSpan]) -> Option<String> {
    let significant: Vec<&TokenWithSpan> = tokens.iter().filter(|t| !matches!(t.token, Token::Whitespace(_))).collect();
    let mut spans = Vec::new();
    for (i, t) in significant.iter().enumerate() {
        let Token::Word(w) = &t.token else { continue };
        if w.quote_style.is_some() {
            continue;
        }
        let next = significant.get(i + 1).map(|n| &n.token);
        let previous = i.checked_sub(1).and_then(|p| significant.get(p)).map(|p| &p.token);
        let is_name = match (w.keyword, next) {
            (_, Some(Token::RArrow)) => w.keyword != Keyword::NoKeyword,
            (Keyword::OFFSET, next) => !matches!(next, Some(Token::Number(..) | Token::Placeholder(_) | Token::LParen)),
            (Keyword::PARTITION, next) => !matches!(next, Some(Token::Word(n)) if n.keyword == Keyword::BY),
            (Keyword::TIMESTAMP, next) => {
                !matches!(next, Some(Token::SingleQuotedString(_)))
                    && !matches!(previous, Some(Token::Word(p)) if p.keyword == Keyword::AS)
            }
            _ => false,
        };
        if is_name {
            spans.push((byte_offset(source, t.span.start.line, t.span.start.column), w.value.len()));
        }
    }
    if spans.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(source.len() + 2 * spans.len());
    let mut at = 0;
    for (start, len) in spans {
        out.push_str(&source[at..start]);
        out.push('`');
        out.push_str(&source[start..start + len]);
        out.push('`');
        at = start + len;
    }
    out.push_str(&source[at..]);
    Some(out)
}

fn location(t: &TokenWithSpan) -> Option<Location> {
    Some(Location { line: t.span.start.line as u32, column: t.span.start.column as u32 })
}

fn error_at(t: Option<&&TokenWithSpan>, message: impl Into<String>) -> CellError {
    CellError::new(message).at(t.and_then(|t| location(t)))
}

fn describe(tokens: &[&TokenWithSpan]) -> Result<CellStatement, CellError> {
    let mut name = String::new();
    for t in &tokens[1..] {
        match &t.token {
            Token::Word(w) => name.push_str(&w.value),
            Token::Period => name.push('.'),
            _ => {
                return Err(error_at(Some(t), format!("DESCRIBE takes a table name, not {}", t.token)));
            }
        }
    }
    if name.is_empty() {
        return Err(CellError::new("DESCRIBE needs a table name, such as DESCRIBE purchases"));
    }
    Ok(CellStatement::Describe(name))
}

/// `COPY (query) TO 'path' [WITH] (FORMAT parquet, MODE overwrite, PARTITIONS 4, COMPRESSION zstd)`
fn copy(source: &str, tokens: &[&TokenWithSpan]) -> Result<CellStatement, CellError> {
    const SHAPE: &str = "write COPY (SELECT ...) TO 'path' (FORMAT parquet, MODE overwrite)";
    if tokens.get(1).map(|t| &t.token) != Some(&Token::LParen) {
        return Err(error_at(tokens.get(1), "COPY needs a query in parentheses").hint(SHAPE));
    }
    let close = matching_paren(tokens, 1).ok_or_else(|| error_at(tokens.get(1), "this parenthesis is never closed"))?;
    if close == 2 {
        return Err(error_at(tokens.get(2), "COPY needs a query inside the parentheses").hint(SHAPE));
    }
    let query = keep_only(source, tokens[2], Some(tokens[close]));
    let mut i = close + 1;
    match tokens.get(i).map(|t| &t.token) {
        Some(Token::Word(w)) if w.keyword == Keyword::TO => i += 1,
        _ => {
            return Err(
                error_at(tokens.get(i).or(tokens.last()), "COPY (query) must be followed by TO 'path'").hint(SHAPE)
            );
        }
    }
    let path = match tokens.get(i).map(|t| &t.token) {
        Some(Token::SingleQuotedString(p)) if !p.is_empty() => p.clone(),
        _ => {
            return Err(
                error_at(tokens.get(i).or(tokens.last()), "TO needs a path in quotes, such as 'out/trips'").hint(SHAPE)
            );
        }
    };
    i += 1;
    let mut spec = CopySpec {
        query,
        path,
        format: ExportFormat::Parquet,
        mode: WriteMode::Error,
        partitions: 1,
        compression: Compression::Snappy,
    };
    if let Some(Token::Word(w)) = tokens.get(i).map(|t| &t.token)
        && w.keyword == Keyword::WITH
    {
        i += 1;
    }
    if i == tokens.len() {
        return Ok(CellStatement::Copy(spec));
    }
    if tokens[i].token != Token::LParen {
        return Err(error_at(tokens.get(i), format!("unexpected {} after the path", tokens[i].token)).hint(SHAPE));
    }
    let end = matching_paren(tokens, i).ok_or_else(|| error_at(tokens.get(i), "this parenthesis is never closed"))?;
    if end + 1 != tokens.len() {
        return Err(error_at(tokens.get(end + 1), format!("unexpected {} after the options", tokens[end + 1].token)));
    }
    for option in tokens[i + 1..end].split(|t| t.token == Token::Comma) {
        let option: Vec<&&TokenWithSpan> = option.iter().filter(|t| t.token != Token::Eq).collect();
        let [key, value] = option.as_slice() else {
            return Err(error_at(option.first().copied(), "each option is a name and a value, like FORMAT parquet"));
        };
        let text = |t: &TokenWithSpan| match &t.token {
            Token::Word(w) => Some(w.value.clone()),
            Token::Number(n, _) => Some(n.clone()),
            Token::SingleQuotedString(s) => Some(s.clone()),
            _ => None,
        };
        let (Some(name), Some(value_text)) = (text(key), text(value)) else {
            return Err(error_at(Some(key), "each option is a name and a value, like FORMAT parquet"));
        };
        let at = |e: CellError| e.at(location(value));
        match name.to_ascii_lowercase().as_str() {
            "format" => spec.format = value_text.parse().map_err(at)?,
            "compression" => spec.compression = value_text.parse().map_err(at)?,
            "mode" => {
                spec.mode = match value_text.to_ascii_lowercase().as_str() {
                    "overwrite" => WriteMode::Overwrite,
                    "append" => WriteMode::Append,
                    "error" | "errorifexists" => WriteMode::Error,
                    other => {
                        return Err(at(CellError::new(format!("unknown mode '{other}'"))
                            .hint("modes are overwrite, append and error")));
                    }
                }
            }
            "partitions" => {
                spec.partitions = value_text
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=10_000).contains(n))
                    .ok_or_else(|| at(CellError::new("PARTITIONS must be a whole number from 1 to 10000")))?;
            }
            other => {
                return Err(CellError::new(format!("unknown COPY option {other}"))
                    .at(location(key))
                    .hint("options are FORMAT, MODE, PARTITIONS and COMPRESSION"));
            }
        }
    }
    Ok(CellStatement::Copy(spec))
}

/// `INSERT INTO kafka('topic') SELECT key, value FROM ...`
fn insert(source: &str, tokens: &[&TokenWithSpan]) -> Result<CellStatement, CellError> {
    const SHAPE: &str =
        "write INSERT INTO kafka('topic') SELECT key, value FROM ...; to save a table, use COPY (query) TO 'path'";
    let word = |i: usize| match tokens.get(i).map(|t| &t.token) {
        Some(Token::Word(w)) => Some(w.value.to_ascii_lowercase()),
        _ => None,
    };
    if word(1).as_deref() != Some("into") || word(2).as_deref() != Some("kafka") {
        return Err(error_at(tokens.get(2).or(tokens.get(1)), "INSERT INTO works with kafka('topic') only").hint(SHAPE));
    }
    let topic =
        match (tokens.get(3).map(|t| &t.token), tokens.get(4).map(|t| &t.token), tokens.get(5).map(|t| &t.token)) {
            (Some(Token::LParen), Some(Token::SingleQuotedString(topic)), Some(Token::RParen)) if !topic.is_empty() => {
                topic.clone()
            }
            _ => {
                return Err(error_at(tokens.get(3), "kafka( ) needs a topic name in quotes, such as kafka('events')")
                    .hint(SHAPE));
            }
        };
    let Some(start) = tokens.get(6) else {
        return Err(error_at(tokens.get(5), "INSERT INTO kafka(...) needs a query after it").hint(SHAPE));
    };
    Ok(CellStatement::InsertKafka { topic, query: keep_only(source, start, None) })
}

/// `SET key = value`, `SET key` or `SET`.
fn set(tokens: &[&TokenWithSpan]) -> Result<CellStatement, CellError> {
    const SHAPE: &str =
        "write SET spark.sql.ansi.enabled = false (or = true), or SET spark.sql.ansi.enabled to show it";
    let text = |t: &TokenWithSpan| match &t.token {
        Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => s.clone(),
        other => other.to_string(),
    };
    let eq = tokens.iter().position(|t| t.token == Token::Eq);
    let key_tokens = &tokens[1..eq.unwrap_or(tokens.len())];
    let key: String = key_tokens.iter().map(|t| text(t)).collect();
    if key.is_empty() {
        if eq.is_some() {
            return Err(error_at(tokens.get(1), "SET needs a setting's name before =").hint(SHAPE));
        }
        return Ok(CellStatement::Set(Setting::All));
    }
    if !key.eq_ignore_ascii_case(ANSI_KEY) {
        let what = if key.starts_with("spark.") {
            format!("the setting {key} is not supported in the browser engine, which follows only {ANSI_KEY}")
        } else {
            format!("{key} is not a setting the browser engine knows; it knows {ANSI_KEY}")
        };
        return Err(error_at(key_tokens.first(), what)
            .hint(format!("run the cell on Spark (-- engine: spark) for other settings; {SHAPE}")));
    }
    let Some(eq) = eq else {
        return Ok(CellStatement::Set(Setting::Ansi(None)));
    };
    let value: String = tokens[eq + 1..].iter().map(|t| text(t)).collect();
    let ansi = match value.trim().to_ascii_lowercase().as_str() {
        "true" => true,
        "false" => false,
        "" => {
            return Err(error_at(tokens.get(eq), format!("SET {ANSI_KEY} = needs a value: true or false")).hint(SHAPE));
        }
        _ => {
            return Err(
                error_at(tokens.get(eq + 1), format!("{ANSI_KEY} is true or false, not {}", value.trim())).hint(SHAPE)
            );
        }
    };
    Ok(CellStatement::Set(Setting::Ansi(Some(ansi))))
}

fn matching_paren(tokens: &[&TokenWithSpan], open: usize) -> Option<usize> {
    let mut depth = 0;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        match t.token {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The source with everything outside [from, until) replaced by spaces,
/// keeping line breaks, so positions in what is left are unchanged.
fn keep_only(source: &str, from: &TokenWithSpan, until: Option<&TokenWithSpan>) -> String {
    let start = byte_offset(source, from.span.start.line, from.span.start.column);
    let end = until.map(|t| byte_offset(source, t.span.start.line, t.span.start.column)).unwrap_or(source.len());
    source.char_indices().map(|(i, c)| if (start..end).contains(&i) || c == '\n' { c } else { ' ' }).collect()
}

/// The byte offset of a 1-based line and column (in characters).
pub(super) fn byte_offset(source: &str, line: u64, column: u64) -> usize {
    let mut offset = 0;
    for (n, text) in source.split_inclusive('\n').enumerate() {
        if n as u64 + 1 == line {
            return offset
                + text.char_indices().nth(column.saturating_sub(1) as usize).map(|(i, _)| i).unwrap_or(text.len());
        }
        offset += text.len();
    }
    source.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_with_options() {
        let src = "-- name: w\nCOPY (SELECT *\n  FROM t) TO 'out/trips' (FORMAT parquet, MODE overwrite, PARTITIONS 4, COMPRESSION zstd);";
        let CellStatement::Copy(spec) = classify(src).unwrap() else { panic!() };
        assert_eq!(spec.path, "out/trips");
        assert_eq!((spec.mode, spec.partitions, spec.compression), (WriteMode::Overwrite, 4, Compression::Zstd));
        assert_eq!(spec.query.lines().count(), src.lines().count());
        assert!(spec.query.trim().starts_with("SELECT *"));
        assert!(!spec.query.contains("COPY") && !spec.query.contains("TO"));
        assert_eq!(spec.query.find("SELECT"), src.find("SELECT"));
    }

    #[test]
    fn copy_errors_point_at_the_option() {
        let e = classify("COPY (SELECT 1) TO 'x'\n(FORMAT xml)").unwrap_err();
        assert!(e.message.contains("xml"), "{e:?}");
        assert_eq!(e.location.map(|l| (l.line, l.column)), Some((2, 9)));
        assert!(classify("COPY SELECT 1 TO 'x'").is_err());
        assert!(classify("COPY (SELECT 1) 'x'").is_err());
    }

    #[test]
    fn insert_into_kafka_and_describe() {
        let CellStatement::InsertKafka { topic, query } =
            classify("INSERT INTO kafka('foo') SELECT 1 AS value").unwrap()
        else {
            panic!()
        };
        assert_eq!(topic, "foo");
        assert_eq!(query.trim(), "SELECT 1 AS value");
        assert!(classify("INSERT INTO t VALUES (1)").unwrap_err().hint.unwrap().contains("COPY"));
        assert_eq!(classify("-- x\nDESCRIBE purchases;").unwrap(), CellStatement::Describe("purchases".into()));
        assert_eq!(classify("SELECT 1").unwrap(), CellStatement::Query("SELECT 1".into()));
        assert!(classify("  -- only a comment\n").is_err());
    }

    #[test]
    fn set_statements() {
        let set = |sql: &str| classify(sql);
        assert_eq!(set("SET spark.sql.ansi.enabled = false").unwrap(), CellStatement::Set(Setting::Ansi(Some(false))));
        assert_eq!(set("set spark.sql.ansi.enabled=TRUE;").unwrap(), CellStatement::Set(Setting::Ansi(Some(true))));
        assert_eq!(
            set("SET spark.sql.ansi.enabled = 'false'").unwrap(),
            CellStatement::Set(Setting::Ansi(Some(false)))
        );
        assert_eq!(set("-- name: s\nSET spark.sql.ansi.enabled").unwrap(), CellStatement::Set(Setting::Ansi(None)));
        assert_eq!(set("SET").unwrap(), CellStatement::Set(Setting::All));
        let e = set("SET spark.sql.ansi.enabled = maybe").unwrap_err();
        assert!(e.message.contains("true or false, not maybe"), "{e:?}");
        assert_eq!(e.location.map(|l| (l.line, l.column)), Some((1, 30)));
        let e = set("SET spark.sql.shuffle.partitions = 4").unwrap_err();
        assert!(e.message.contains("spark.sql.shuffle.partitions is not supported"), "{e:?}");
        assert!(e.hint.unwrap().contains("engine: spark"));
        assert_eq!(e.location.map(|l| (l.line, l.column)), Some((1, 5)));
        assert!(set("SET = true").is_err());
    }

    #[test]
    fn kafka_words_become_names() {
        let q = |sql: &str| match classify(sql).unwrap() {
            CellStatement::Query(q) => q,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            q("SELECT offset, partition, timestamp FROM kafka('t', from => 'earliest', to => 5)"),
            r#"SELECT `offset`, `partition`, `timestamp` FROM kafka('t', `from` => 'earliest', `to` => 5)"#
        );
        let kept = "SELECT SUM(x) OVER (PARTITION BY y), CAST(t AS TIMESTAMP), TIMESTAMP '2024-01-01' FROM t LIMIT 5 OFFSET 10";
        assert_eq!(q(kept), kept);
    }
}
