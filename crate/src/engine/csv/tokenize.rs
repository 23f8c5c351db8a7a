//! Text to records, as Spark's CSV reader (univocity) splits them: quoted
//! fields with an escape character, doubled quotes, comment lines and blank
//! lines skipped, `\n`, `\r\n` or `\r` line ends, and a quoted field that
//! spans lines only with `multiLine`.

use super::options::Syntax;

/// One record: its fields (in one buffer), where it is in the text, and
/// which fields were empty without quotes (Spark reads those as null).
#[derive(Debug, Default)]
pub(crate) struct Record {
    buf: String,
    ends: Vec<usize>,
    nulls: Vec<bool>,
    /// The 1-based line the record starts on.
    pub(crate) line: usize,
    /// The record's text (without its line end), as byte offsets.
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Record {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Field `i`; `None` when the record is shorter or the field was empty without quotes.
    pub(crate) fn field(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        if self.nulls[i] {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.buf[start..end])
    }

    fn clear(&mut self) {
        self.buf.clear();
        self.ends.clear();
        self.nulls.clear();
    }
}

/// Splits text into records.
pub(crate) struct Tokenizer<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
    syntax: &'a Syntax,
}

fn is_space(c: char) -> bool {
    c <= ' ' && c != '\n' && c != '\r'
}

impl<'a> Tokenizer<'a> {
    pub(crate) fn new(text: &'a str, syntax: &'a Syntax) -> Tokenizer<'a> {
        Tokenizer { text, pos: 0, line: 1, syntax }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn peek_second(&self) -> Option<char> {
        let mut chars = self.text[self.pos..].chars();
        chars.next();
        chars.next()
    }

    fn bump(&mut self, c: char) {
        self.pos += c.len_utf8();
    }

    /// Steps over a line end at `pos`, if there is one.
    fn line_end(&mut self) -> bool {
        let rest = self.text.as_bytes().get(self.pos..).unwrap_or_default();
        let width = match rest {
            [b'\r', b'\n', ..] => 2,
            [b'\n' | b'\r', ..] => 1,
            _ => return false,
        };
        self.pos += width;
        self.line += 1;
        true
    }

    /// Skips blank lines and comment lines; false at the end of the text.
    fn skip_ignored_lines(&mut self) -> bool {
        loop {
            if self.pos >= self.text.len() {
                return false;
            }
            let rest = &self.text[self.pos..];
            let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
            let line = &rest[..end];
            let comment = self.syntax.comment.is_some_and(|c| line.starts_with(c));
            if !comment && !line.chars().all(|c| c <= ' ') {
                return true;
            }
            self.pos += end;
            if !self.line_end() {
                return false;
            }
        }
    }

    /// Reads the next record into `rec`; false at the end of the text.
    pub(crate) fn next_record(&mut self, rec: &mut Record) -> bool {
        rec.clear();
        if !self.skip_ignored_lines() {
            return false;
        }
        rec.line = self.line;
        rec.start = self.pos;
        let s = self.syntax;
        loop {
            let field_start = rec.buf.len();
            if s.ignore_leading {
                while let Some(c) = self.peek().filter(|c| is_space(*c) && *c != s.sep) {
                    self.bump(c);
                }
            }
            let quoted = s.quote.is_some() && self.peek() == s.quote;
            if quoted {
                self.quoted_field(rec);
            } else {
                while let Some(c) = self.peek() {
                    if c == s.sep || c == '\n' || c == '\r' {
                        break;
                    }
                    rec.buf.push(c);
                    self.bump(c);
                }
                if s.ignore_trailing {
                    let kept = rec.buf[field_start..].trim_end_matches(is_space).len();
                    rec.buf.truncate(field_start + kept);
                }
            }
            let empty = rec.buf.len() == field_start;
            if empty && quoted {
                rec.buf.push_str(&s.empty_value);
            }
            rec.ends.push(rec.buf.len());
            rec.nulls.push(empty && !quoted);
            match self.peek() {
                Some(c) if c == s.sep => self.bump(c),
                _ => {
                    rec.end = self.pos;
                    self.line_end();
                    return true;
                }
            }
        }
    }

    /// A field that starts with the quote character.
    fn quoted_field(&mut self, rec: &mut Record) {
        let s = self.syntax;
        let Some(quote) = s.quote else { return };
        self.bump(quote);
        while let Some(c) = self.peek() {
            if Some(c) == s.escape && c != quote {
                match self.peek_second() {
                    Some(next) if next == quote || Some(next) == s.escape => {
                        rec.buf.push(next);
                        self.bump(c);
                        self.bump(next);
                    }
                    _ => {
                        rec.buf.push(c);
                        self.bump(c);
                    }
                }
            } else if c == quote {
                if self.peek_second() == Some(quote) {
                    rec.buf.push(quote);
                    self.bump(c);
                    self.bump(c);
                } else {
                    self.bump(c);
                    break;
                }
            } else if c == '\n' || c == '\r' {
                if !s.multi_line {
                    // Without multiLine a record is one line: the quote stays open.
                    return;
                }
                let at = self.pos;
                self.line_end();
                rec.buf.push_str(&self.text[at..self.pos]);
            } else {
                rec.buf.push(c);
                self.bump(c);
            }
        }
        // Text after the closing quote, up to the separator, is kept (spaces dropped).
        while let Some(c) = self.peek() {
            if c == s.sep || c == '\n' || c == '\r' {
                break;
            }
            if !is_space(c) {
                rec.buf.push(c);
            }
            self.bump(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syntax() -> Syntax {
        Syntax {
            sep: ',',
            quote: Some('"'),
            escape: Some('\\'),
            comment: None,
            multi_line: false,
            ignore_leading: false,
            ignore_trailing: false,
            empty_value: String::new(),
        }
    }

    fn records(text: &str, s: &Syntax) -> Vec<(usize, Vec<Option<String>>)> {
        let mut t = Tokenizer::new(text, s);
        let mut rec = Record::default();
        let mut out = Vec::new();
        while t.next_record(&mut rec) {
            out.push((rec.line, (0..rec.len()).map(|i| rec.field(i).map(String::from)).collect()));
        }
        out
    }

    fn some(v: &[&str]) -> Vec<Option<String>> {
        v.iter().map(|s| Some(s.to_string())).collect()
    }

    #[test]
    fn quotes_escapes_and_lines() {
        let s = syntax();
        let got = records("a,b\r\n\"x,1\",\"say \\\"hi\\\"\"\r\n\r\n\"a \"\"b\"\"\",,\"\"\n", &s);
        assert_eq!(got[0], (1, some(&["a", "b"])));
        assert_eq!(got[1], (2, some(&["x,1", "say \"hi\""])));
        assert_eq!(got[2], (4, vec![Some("a \"b\"".into()), None, Some(String::new())]));
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn multi_line_and_comments() {
        let mut s = syntax();
        s.comment = Some('#');
        let text = "# note\nid,text\n1,\"two\nlines\"\n2,x\n";
        let single = records(text, &s);
        assert_eq!(single.len(), 4, "{single:?}");
        s.multi_line = true;
        let multi = records(text, &s);
        assert_eq!(multi[1], (3, some(&["1", "two\nlines"])));
        assert_eq!(multi[2], (5, some(&["2", "x"])));
    }

    #[test]
    fn whitespace() {
        let mut s = syntax();
        assert_eq!(records(" a , b ", &s)[0].1, some(&[" a ", " b "]));
        s.ignore_leading = true;
        s.ignore_trailing = true;
        assert_eq!(records(" a , \"b \" ", &s)[0].1, some(&["a", "b "]));
        s.quote = None;
        assert_eq!(records("\"a\",b", &s)[0].1, some(&["\"a\"", "b"]));
    }
}
