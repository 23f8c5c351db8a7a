//! Spark's DDL schema strings: `'LCLid STRING, `KWH/hh` DOUBLE, DateTime TIMESTAMP'`.

use polars::prelude::*;

use crate::CellError;

/// Parses `name TYPE, ...`. Names may be back-quoted to hold spaces or symbols.
pub fn parse(text: &str) -> Result<Schema, CellError> {
    let mut schema = Schema::default();
    for field in split_top_level(text) {
        let field = field.trim();
        if field.is_empty() {
            continue;
        }
        // Spark quotes names with backticks; SQL's double quotes work too.
        let quote = field.chars().next().filter(|c| *c == '`' || *c == '"');
        let (name, rest) = if let Some(q) = quote {
            let quoted = &field[1..];
            let end = quoted.find(q).ok_or_else(|| CellError::new(format!("unclosed {q} in '{field}'")))?;
            (quoted[..end].to_string(), quoted[end + 1..].trim())
        } else {
            let (name, rest) = field
                .split_once(char::is_whitespace)
                .ok_or_else(|| CellError::new(format!("'{field}' needs a name and a type, like 'fare DOUBLE'")))?;
            (name.to_string(), rest.trim())
        };
        let rest = rest.trim_end_matches(|c: char| c.is_whitespace());
        let type_text = rest.strip_suffix("NOT NULL").map(str::trim).unwrap_or(rest);
        let dtype = parse_type(type_text).ok_or_else(|| {
            CellError::new(format!("unknown type '{type_text}' for column {name}"))
                .hint("types are STRING, INT, BIGINT, DOUBLE, FLOAT, BOOLEAN, DATE, TIMESTAMP, BINARY, DECIMAL(p,s)")
        })?;
        if schema.insert(name.clone().into(), dtype).is_some() {
            return Err(CellError::new(format!("column {name} appears twice in the schema")));
        }
    }
    if schema.is_empty() {
        return Err(CellError::new("the schema is empty"));
    }
    Ok(schema)
}

fn split_top_level(text: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut quoted, mut start) = (Vec::new(), 0i32, false, 0);
    for (i, c) in text.char_indices() {
        match c {
            '`' | '"' => quoted = !quoted,
            '(' | '<' if !quoted => depth += 1,
            ')' | '>' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// A Spark SQL type name as a Polars type.
pub fn parse_type(text: &str) -> Option<DataType> {
    let t = text.trim().to_ascii_uppercase();
    if let Some(args) = t.strip_prefix("DECIMAL").or_else(|| t.strip_prefix("NUMERIC")) {
        let args = args.trim().trim_start_matches('(').trim_end_matches(')');
        let mut nums = args.split(',').filter_map(|n| n.trim().parse::<usize>().ok());
        let precision = nums.next().unwrap_or(10);
        let scale = nums.next().unwrap_or(0);
        return Some(DataType::Decimal(Some(precision), Some(scale)));
    }
    if let Some(inner) = t.strip_prefix("ARRAY<").and_then(|r| r.strip_suffix('>')) {
        return parse_type(inner).map(|d| DataType::List(Box::new(d)));
    }
    Some(match t.as_str() {
        "STRING" | "VARCHAR" | "TEXT" | "CHAR" => DataType::String,
        "INT" | "INTEGER" => DataType::Int32,
        "BIGINT" | "LONG" => DataType::Int64,
        "SMALLINT" | "SHORT" => DataType::Int16,
        "TINYINT" | "BYTE" => DataType::Int8,
        "DOUBLE" => DataType::Float64,
        "FLOAT" | "REAL" => DataType::Float32,
        "BOOLEAN" | "BOOL" => DataType::Boolean,
        "DATE" => DataType::Date,
        // Spark's TIMESTAMP is an instant (shown in the session time zone, UTC);
        // TIMESTAMP_NTZ is a wall-clock time.
        "TIMESTAMP" | "TIMESTAMP_LTZ" => super::sql::typed::timestamp_type(),
        "TIMESTAMP_NTZ" => DataType::Datetime(TimeUnit::Microseconds, None),
        "BINARY" => DataType::Binary,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_names() {
        for text in ["`KWH/hh` DOUBLE, Acorn STRING", "\"KWH/hh\" DOUBLE, Acorn STRING"] {
            let schema = parse(text).unwrap();
            let names: Vec<&str> = schema.iter_names().map(|n| n.as_str()).collect();
            assert_eq!(names, ["KWH/hh", "Acorn"], "{text}");
        }
        assert!(parse("\"KWH/hh DOUBLE").unwrap_err().message.contains("unclosed"));
    }

    #[test]
    fn spark_ddl() {
        let s = parse("LCLid STRING, stdorToU string, DateTime TIMESTAMP, `KWH/hh` DOUBLE, n DECIMAL(10, 2)").unwrap();
        assert_eq!(s.len(), 5);
        assert_eq!(s.get("KWH/hh"), Some(&DataType::Float64));
        assert_eq!(s.get("n"), Some(&DataType::Decimal(Some(10), Some(2))));
        assert!(parse("a WHATEVER").unwrap_err().message.contains("WHATEVER"));
        assert!(parse("a INT, a INT").is_err());
    }
}
