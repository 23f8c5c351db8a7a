//! Spark DDL type text (`a INT, b ARRAY<STRING>`) to Polars types, for from_json.

use polars::prelude::*;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Word(String),
    Quoted(String),
    Num(usize),
    Text(String),
    Punct(char),
}

pub(super) fn tokens(text: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let n: String = chars[start..i].iter().collect();
            out.push(Tok::Num(n.parse().map_err(|_| format!("the number {n} is too large"))?));
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Word(chars[start..i].iter().collect()));
        } else if c == '`' || c == '\'' || c == '"' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("an unclosed quote".into()),
                    Some(&q) if q == c && chars.get(i + 1) == Some(&c) && c == '`' => {
                        s.push(c);
                        i += 2;
                    }
                    Some(&q) if q == c => {
                        i += 1;
                        break;
                    }
                    Some(&q) => {
                        s.push(q);
                        i += 1;
                    }
                }
            }
            out.push(if c == '`' { Tok::Quoted(s) } else { Tok::Text(s) });
        } else if "<>(),:".contains(c) {
            out.push(Tok::Punct(c));
            i += 1;
        } else {
            return Err(format!("unexpected {c:?}"));
        }
    }
    Ok(out)
}

pub(super) struct Ddl<'a> {
    pub t: &'a [Tok],
    pub i: usize,
}

impl Ddl<'_> {
    fn punct(&mut self, c: char) -> bool {
        if self.t.get(self.i) == Some(&Tok::Punct(c)) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.punct(c) { Ok(()) } else { Err(format!("expected {c:?}")) }
    }

    fn keyword(&mut self, k: &str) -> bool {
        if let Some(Tok::Word(w)) = self.t.get(self.i)
            && w.eq_ignore_ascii_case(k)
        {
            self.i += 1;
            return true;
        }
        false
    }

    fn number(&mut self) -> Result<usize, String> {
        match self.t.get(self.i) {
            Some(Tok::Num(n)) => {
                self.i += 1;
                Ok(*n)
            }
            _ => Err("expected a number".into()),
        }
    }

    fn name(&mut self) -> Result<String, String> {
        match self.t.get(self.i) {
            Some(Tok::Word(w) | Tok::Quoted(w)) => {
                self.i += 1;
                Ok(w.clone())
            }
            other => Err(format!("expected a field name, found {other:?}")),
        }
    }

    /// `name [:] type [NOT NULL] [COMMENT '...']`, comma separated.
    pub(super) fn columns(&mut self, in_struct: bool) -> Result<Vec<Field>, String> {
        let mut fields = Vec::new();
        if in_struct && self.t.get(self.i) == Some(&Tok::Punct('>')) {
            return Ok(fields);
        }
        loop {
            let name = self.name()?;
            if in_struct {
                self.punct(':');
            }
            let dtype = self.data_type()?;
            if self.keyword("not") && !self.keyword("null") {
                return Err("expected NULL after NOT".into());
            }
            if self.keyword("comment") {
                match self.t.get(self.i) {
                    Some(Tok::Text(_)) => self.i += 1,
                    _ => return Err("expected a quoted comment".into()),
                }
            }
            if fields.iter().any(|f: &Field| f.name().as_str() == name) {
                return Err(format!("the field {name} appears twice"));
            }
            fields.push(Field::new(name.into(), dtype));
            if !self.punct(',') {
                return Ok(fields);
            }
        }
    }

    pub(super) fn data_type(&mut self) -> Result<DataType, String> {
        let Some(Tok::Word(w)) = self.t.get(self.i) else { return Err("expected a type".into()) };
        let w = w.to_ascii_lowercase();
        self.i += 1;
        Ok(match w.as_str() {
            "boolean" => DataType::Boolean,
            "tinyint" | "byte" => DataType::Int8,
            "smallint" | "short" => DataType::Int16,
            "int" | "integer" => DataType::Int32,
            "bigint" | "long" => DataType::Int64,
            "float" | "real" => DataType::Float32,
            "double" => DataType::Float64,
            "string" => DataType::String,
            "char" | "varchar" => {
                self.expect('(')?;
                self.number()?;
                self.expect(')')?;
                DataType::String
            }
            "date" => DataType::Date,
            "timestamp" | "timestamp_ltz" => super::super::typed::timestamp_type(),
            "timestamp_ntz" => DataType::Datetime(TimeUnit::Microseconds, None),
            "binary" => DataType::Binary,
            "decimal" | "dec" | "numeric" => {
                let (mut p, mut s) = (10, 0);
                if self.punct('(') {
                    p = self.number()?;
                    if self.punct(',') {
                        s = self.number()?;
                    }
                    self.expect(')')?;
                }
                if p == 0 || p > 38 || s > p {
                    return Err(format!("decimal({p},{s}) is out of range"));
                }
                DataType::Decimal(Some(p), Some(s))
            }
            "array" => {
                self.expect('<')?;
                let inner = self.data_type()?;
                self.expect('>')?;
                DataType::List(Box::new(inner))
            }
            "map" => {
                self.expect('<')?;
                let k = self.data_type()?;
                self.expect(',')?;
                let v = self.data_type()?;
                self.expect('>')?;
                DataType::List(Box::new(DataType::Struct(vec![
                    Field::new("key".into(), k),
                    Field::new("value".into(), v),
                ])))
            }
            "struct" => {
                self.expect('<')?;
                let fields = self.columns(true)?;
                self.expect('>')?;
                DataType::Struct(fields)
            }
            other => return Err(format!("unknown type {other}")),
        })
    }
}
