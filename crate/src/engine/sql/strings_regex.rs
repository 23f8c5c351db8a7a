//! Spark's regular-expression functions and `split`. Spark uses Java regex;
//! patterns are translated to the `regex` crate where the two agree, and
//! refused where they do not (backreferences, lookaround, possessive
//! quantifiers, POSIX classes...).

use std::sync::Arc;

use regex::{Captures, Regex};

use super::super::typed::{Lit, SqlResult, Typed, refuse};
use super::{as_i32, count_args, int, rows, text};

/// A Java pattern, compiled.
pub(super) struct JavaRegex {
    re: Regex,
    /// `\b`, `\B` or `(?i)`: Java treats non-ASCII text differently there.
    ascii_only: bool,
    /// `$`: Java also matches before a final line break.
    dollar: bool,
}

const LINE_BREAKS: &[char] = &['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}'];

impl JavaRegex {
    /// Whether the translation answers as Java would on `s`.
    fn check(&self, s: &str) -> Result<(), String> {
        if self.ascii_only && !s.is_ascii() {
            return Err("regexp: the engine does not match \\b, \\B or (?i) on non-ASCII text as Java does".into());
        }
        if self.dollar && s.ends_with(LINE_BREAKS) {
            return Err("regexp: the engine does not match $ before a final line break as Java does".into());
        }
        Ok(())
    }

    /// Every match, found the way Java's `Matcher.find` steps.
    fn matches<'h>(&self, s: &'h str) -> Result<Vec<Captures<'h>>, String> {
        self.check(s)?;
        let mut out = Vec::new();
        let mut at = 0;
        while at <= s.len() {
            let Some(c) = self.re.captures_at(s, at) else { break };
            let m = c.get(0).map_or(at..at, |m| m.range());
            at = if m.is_empty() { m.end + s[m.end..].chars().next().map_or(1, char::len_utf8) } else { m.end };
            out.push(c);
        }
        Ok(out)
    }

    fn groups(&self) -> usize {
        self.re.captures_len() - 1
    }
}

/// Translates a Java pattern, or says why it cannot be.
pub(super) fn compile(function: &str, pattern: &str) -> SqlResult<Arc<JavaRegex>> {
    let no = |why: &str| {
        refuse(
            format!("{function}: the engine cannot run the regular expression '{pattern}' as Java does: {why}"),
            "rewrite it without backreferences, lookaround, possessive quantifiers, POSIX or Java classes",
        )
    };
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let (mut ascii_only, mut dollar) = (false, false);
    let mut depth = 0usize;
    let mut dotall = false;
    let mut saved: Vec<bool> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c == '\\' {
            let Some(&e) = chars.get(i) else { return Err(no("it ends with a backslash")) };
            i += 1;
            let inside = depth > 0;
            match e {
                'd' => out.push_str(if inside { "0-9" } else { "[0-9]" }),
                'D' => out.push_str(if inside { "[:^digit:]" } else { "[^0-9]" }),
                'w' => out.push_str(if inside { "0-9A-Za-z_" } else { "[0-9A-Za-z_]" }),
                'W' => out.push_str(if inside { "[:^word:]" } else { "[^0-9A-Za-z_]" }),
                's' => out.push_str(if inside { "\\t\\n\\x0B\\x0C\\r " } else { "[\\t\\n\\x0B\\x0C\\r ]" }),
                'S' => out.push_str(if inside { "[:^space:]" } else { "[^\\t\\n\\x0B\\x0C\\r ]" }),
                'v' => out.push_str(if inside {
                    "\\n\\x0B\\x0C\\r\\x{85}\\x{2028}\\x{2029}"
                } else {
                    "[\\n\\x0B\\x0C\\r\\x{85}\\x{2028}\\x{2029}]"
                }),
                'b' | 'B' if !inside && chars.get(i) != Some(&'{') => {
                    ascii_only = true;
                    out.push('\\');
                    out.push(e);
                }
                'A' | 'z' if !inside => {
                    out.push('\\');
                    out.push(e);
                }
                't' | 'n' | 'r' | 'f' | 'a' | 'x' | 'u' => {
                    out.push('\\');
                    out.push(e);
                }
                'e' => out.push_str("\\x1B"),
                'Q' => {
                    let rest: String = chars[i..].iter().collect();
                    let (quoted, len) = match rest.find("\\E") {
                        Some(end) => (&rest[..end], rest[..end].chars().count() + 2),
                        None => (rest.as_str(), rest.chars().count()),
                    };
                    out.push_str(&regex::escape(quoted));
                    i += len;
                }
                'p' | 'P' => {
                    let name: String = if chars.get(i) == Some(&'{') {
                        chars[i + 1..].iter().take_while(|&&c| c != '}').collect()
                    } else {
                        chars.get(i).map(|c| c.to_string()).unwrap_or_default()
                    };
                    let java_only = ["Lower", "Upper", "ASCII", "Alpha", "Digit", "Alnum", "Punct", "Graph", "Print"];
                    let posix = ["Blank", "Cntrl", "XDigit", "Space"];
                    if name.starts_with("java")
                        || name.starts_with("Is")
                        || java_only.contains(&name.as_str())
                        || posix.contains(&name.as_str())
                    {
                        return Err(no(&format!("\\{e}{{{name}}} is a Java class")));
                    }
                    out.push('\\');
                    out.push(e);
                }
                '1'..='9' | 'k' => return Err(no("backreferences are not supported")),
                c if c.is_ascii_alphanumeric() => return Err(no(&format!("\\{c} is not supported"))),
                c => out.push_str(&regex::escape(&c.to_string())),
            }
            continue;
        }
        if depth > 0 {
            match c {
                '[' if chars.get(i) == Some(&':') => {
                    return Err(no("'[:' inside a class means something else in Java"));
                }
                '[' => {
                    depth += 1;
                    out.push('[');
                    if chars.get(i) == Some(&'^') {
                        out.push('^');
                        i += 1;
                    }
                }
                ']' => {
                    depth -= 1;
                    out.push(']');
                }
                '-' if chars.get(i) == Some(&'-') => return Err(no("'--' inside a class")),
                '~' if chars.get(i) == Some(&'~') => return Err(no("'~~' inside a class")),
                c => out.push(c),
            }
            continue;
        }
        match c {
            '[' => {
                depth = 1;
                out.push('[');
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if matches!(chars.get(i), Some(']') | Some('[')) {
                    return Err(no("a class that starts with ']' or '['"));
                }
            }
            '.' => out.push_str(if dotall { "(?s:.)" } else { "[^\\n\\r\\x{85}\\x{2028}\\x{2029}]" }),
            '$' => {
                dollar = true;
                out.push('$');
            }
            '*' | '+' | '?' | '}' if chars.get(i) == Some(&'+') => return Err(no("possessive quantifiers")),
            '(' if chars.get(i) == Some(&'?') => {
                let rest: String = chars[i + 1..].iter().collect();
                if rest.starts_with('=') || rest.starts_with('!') || rest.starts_with("<=") || rest.starts_with("<!") {
                    return Err(no("lookaround is not supported"));
                }
                if rest.starts_with('>') {
                    return Err(no("atomic groups are not supported"));
                }
                if rest.starts_with(':') || rest.starts_with('<') {
                    saved.push(dotall);
                    out.push('(');
                    continue;
                }
                let flags: String = rest.chars().take_while(|c| c.is_ascii_alphabetic() || *c == '-').collect();
                let end = rest.chars().nth(flags.chars().count());
                if flags.chars().any(|f| !matches!(f, 'i' | 's' | '-')) || !matches!(end, Some(')') | Some(':')) {
                    return Err(no("only the flags i and s are supported"));
                }
                let (on, off) = flags.split_once('-').unwrap_or((&flags, ""));
                if on.contains('i') || off.contains('i') {
                    if !pattern.is_ascii() {
                        return Err(no("(?i) with non-ASCII characters"));
                    }
                    ascii_only = true;
                }
                let group = end == Some(':');
                if group {
                    saved.push(dotall);
                }
                if on.contains('s') {
                    dotall = true;
                }
                if off.contains('s') {
                    dotall = false;
                }
                let keep = |s: &str| s.chars().filter(|c| *c == 'i').collect::<String>();
                let (on, off) = (keep(on), keep(off));
                let flags = if off.is_empty() { on } else { format!("{on}-{off}") };
                out.push_str(&match (flags.is_empty(), group) {
                    (true, true) => "(?:".to_string(),
                    (true, false) => String::new(),
                    (false, true) => format!("(?{flags}:"),
                    (false, false) => format!("(?{flags})"),
                });
                i += 1 + flags_len(&rest);
            }
            '(' => {
                saved.push(dotall);
                out.push('(');
            }
            ')' => {
                dotall = saved.pop().unwrap_or(dotall);
                out.push(')');
            }
            c => out.push(c),
        }
    }
    let re = Regex::new(&out).map_err(|e| no(e.to_string().lines().last().unwrap_or_default()))?;
    Ok(Arc::new(JavaRegex { re, ascii_only, dollar }))
}

/// The length of `flags)` or `flags:` at the start of `rest`.
fn flags_len(rest: &str) -> usize {
    rest.chars().take_while(|c| c.is_ascii_alphabetic() || *c == '-').count() + 1
}

/// The compiled pattern of a constant argument; a column of patterns is refused.
fn pattern(function: &str, arg: &Typed) -> SqlResult<Option<Arc<JavaRegex>>> {
    match &arg.lit {
        Some(Lit::Str(p)) => compile(function, p).map(Some),
        Some(Lit::Null) => Ok(None),
        _ if arg.dtype == polars::prelude::DataType::Null => Ok(None),
        _ => Err(refuse(
            format!("{function}: the engine needs the regular expression to be a constant string"),
            format!("write {function}(col, 'pattern')"),
        )),
    }
}

pub(super) fn call(name: &str, args: &[Typed]) -> Option<SqlResult<Typed>> {
    Some(match name {
        "rlike" | "regexp" | "regexp_like" => like(name, args),
        "regexp_extract" | "regexp_extract_all" => extract(name, args),
        "regexp_replace" => replace(args),
        "regexp_count" | "regexp_substr" | "regexp_instr" => search(name, args),
        "split" => split(args),
        "split_part" => split_part(args),
        _ => return None,
    })
}

/// A row result when the pattern is NULL.
fn null_row<R: super::Out>(args: Vec<Typed>) -> Typed {
    rows(args, |_| Ok(None::<R>))
}

fn like(name: &str, args: &[Typed]) -> SqlResult<Typed> {
    count_args(name, args, 2, 2, &format!("{name}(str, 'regexp')"))?;
    let s = text(name, &args[0])?;
    let Some(re) = pattern(name, &args[1])? else { return Ok(null_row::<bool>(vec![s])) };
    Ok(rows(vec![s], move |r| match r[0].str() {
        Some(s) => re.check(s).map(|()| Some(re.re.is_match(s))),
        None => Ok(None),
    }))
}

fn group_index(name: &str, args: &[Typed], at: usize, groups: usize) -> SqlResult<Typed> {
    let idx = match args.get(at) {
        Some(a) => int(name, a)?,
        None => Typed::constant(Lit::Int(1)),
    };
    if let Some(n) = idx.lit_int()
        && (n < 0 || n as usize > groups)
    {
        return Err(refuse(
            format!(
                "{name}: [INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX] the pattern has {groups} groups, the index is {n}"
            ),
            format!("pass a group index from 0 to {groups}"),
        ));
    }
    Ok(idx)
}

fn group_of(c: &Captures<'_>, n: i64, groups: usize) -> Result<String, String> {
    if n < 0 || n as usize > groups {
        return Err(format!(
            "[INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX] the pattern has {groups} groups, the index is {n}"
        ));
    }
    Ok(c.get(n as usize).map_or(String::new(), |m| m.as_str().to_string()))
}

fn extract(name: &str, args: &[Typed]) -> SqlResult<Typed> {
    count_args(name, args, 2, 3, &format!("{name}(str, 'regexp'[, group])"))?;
    let s = text(name, &args[0])?;
    let all = name == "regexp_extract_all";
    let Some(re) = pattern(name, &args[1])? else {
        return Ok(if all { null_row::<Vec<String>>(vec![s]) } else { null_row::<String>(vec![s]) });
    };
    let groups = re.groups();
    let idx = group_index(name, args, 2, groups)?;
    Ok(if all {
        rows(vec![s, idx], move |r| {
            let (Some(s), Some(n)) = (r[0].str(), r[1].int()) else { return Ok(None) };
            re.matches(s)?.iter().map(|c| group_of(c, n, groups)).collect::<Result<Vec<_>, _>>().map(Some)
        })
    } else {
        rows(vec![s, idx], move |r| {
            let (Some(s), Some(n)) = (r[0].str(), r[1].int()) else { return Ok(None) };
            re.check(s)?;
            match re.re.captures(s) {
                Some(c) => group_of(&c, n, groups).map(Some),
                None => Ok(Some(String::new())),
            }
        })
    })
}

/// A Java replacement string: text and `$n` / `${name}` group references.
enum Rep {
    Text(String),
    Group(usize),
}

fn parse_replacement(rep: &str, re: &JavaRegex) -> Result<Vec<Rep>, String> {
    let chars: Vec<char> = rep.chars().collect();
    let mut out = Vec::new();
    let mut text = String::new();
    let mut i = 0;
    let groups = re.groups();
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                let c = chars.get(i + 1).ok_or("character to be escaped is missing")?;
                text.push(*c);
                i += 2;
            }
            '$' => {
                i += 1;
                let first = *chars.get(i).ok_or("Illegal group reference: group index is missing")?;
                let n = if first == '{' {
                    let name: String = chars[i + 1..].iter().take_while(|c| c.is_ascii_alphanumeric()).collect();
                    i += 1 + name.len();
                    if chars.get(i) != Some(&'}') || name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
                        return Err(format!("bad named group reference ${{{name}"));
                    }
                    i += 1;
                    re.re
                        .capture_names()
                        .position(|n| n == Some(name.as_str()))
                        .ok_or(format!("No group with name {{{name}}}"))?
                } else {
                    let mut n = first.to_digit(10).ok_or("Illegal group reference")? as usize;
                    i += 1;
                    while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
                        if n * 10 + d as usize > groups {
                            break;
                        }
                        n = n * 10 + d as usize;
                        i += 1;
                    }
                    if n > groups {
                        return Err(format!("No group {n}"));
                    }
                    n
                };
                out.push(Rep::Text(std::mem::take(&mut text)));
                out.push(Rep::Group(n));
            }
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
    out.push(Rep::Text(text));
    Ok(out)
}

fn replace(args: &[Typed]) -> SqlResult<Typed> {
    let name = "regexp_replace";
    count_args(name, args, 3, 4, "regexp_replace(str, 'regexp', 'replacement')")?;
    if args.get(3).is_some_and(|p| p.lit_int() != Some(1)) {
        return Err(refuse("regexp_replace: the engine replaces only from position 1", "drop the position argument"));
    }
    let s = text(name, &args[0])?;
    let rep = text(name, &args[2])?;
    let Some(re) = pattern(name, &args[1])? else { return Ok(null_row::<String>(vec![s, rep])) };
    if let Some(r) = rep.lit_str() {
        parse_replacement(r, &re).map_err(|m| {
            refuse(format!("regexp_replace: {m}"), "write groups as $1 or ${name}, and \\$ for a dollar")
        })?;
    }
    Ok(rows(vec![s, rep], move |r| {
        let (Some(s), Some(rep)) = (r[0].str(), r[1].str()) else { return Ok(None) };
        let pieces = parse_replacement(rep, &re)?;
        let mut out = String::with_capacity(s.len());
        let mut last = 0;
        for c in re.matches(s)? {
            let Some(m) = c.get(0) else { continue };
            out.push_str(&s[last..m.start()]);
            for p in &pieces {
                match p {
                    Rep::Text(t) => out.push_str(t),
                    Rep::Group(g) => out.push_str(c.get(*g).map_or("", |m| m.as_str())),
                }
            }
            last = m.end();
        }
        out.push_str(&s[last..]);
        Ok(Some(out))
    }))
}

fn search(name: &str, args: &[Typed]) -> SqlResult<Typed> {
    let max = if name == "regexp_instr" { 3 } else { 2 };
    count_args(name, args, 2, max, &format!("{name}(str, 'regexp')"))?;
    if args.get(2).is_some_and(|a| a.lit_int() != Some(0)) {
        return Err(refuse(
            format!("{name}: the engine finds only the whole match (group 0)"),
            format!("write {name}(str, 'regexp')"),
        ));
    }
    let s = text(name, &args[0])?;
    let Some(re) = pattern(name, &args[1])? else {
        return Ok(match name {
            "regexp_substr" => null_row::<String>(vec![s]),
            _ => null_row::<i32>(vec![s]),
        });
    };
    Ok(match name {
        "regexp_count" => rows(vec![s], move |r| match r[0].str() {
            Some(s) => Ok(Some(re.matches(s)?.len() as i32)),
            None => Ok(None),
        }),
        "regexp_substr" => rows(vec![s], move |r| match r[0].str() {
            Some(s) => re.check(s).map(|()| re.re.find(s).map(|m| m.as_str().to_string())),
            None => Ok(None),
        }),
        _ => rows(vec![s], move |r| match r[0].str() {
            Some(s) => {
                re.check(s)?;
                Ok(Some(re.re.find(s).map_or(0, |m| s[..m.start()].chars().count() as i32 + 1)))
            }
            None => Ok(None),
        }),
    })
}

/// Java's `Pattern.split(s, limit)` (Spark passes -1 for a limit of 0 or less).
fn java_split(re: &JavaRegex, s: &str, limit: i32) -> Result<Vec<String>, String> {
    let mut parts: Vec<String> = Vec::new();
    let mut index = 0;
    let mut matched = false;
    for c in re.matches(s)? {
        let Some(m) = c.get(0) else { continue };
        if limit > 0 && parts.len() >= limit as usize - 1 {
            break;
        }
        if index == 0 && m.start() == 0 && m.is_empty() {
            continue;
        }
        parts.push(s[index..m.start()].to_string());
        index = m.end();
        matched = true;
    }
    if !matched {
        return Ok(vec![s.to_string()]);
    }
    parts.push(s[index..].to_string());
    Ok(parts)
}

fn split(args: &[Typed]) -> SqlResult<Typed> {
    count_args("split", args, 2, 3, "split(str, 'regexp'[, limit])")?;
    let s = text("split", &args[0])?;
    let limit = match args.get(2) {
        Some(l) => int("split", l)?,
        None => Typed::constant(Lit::Int(-1)),
    };
    let empty = args[1].lit_str() == Some("");
    let Some(re) = pattern("split", &args[1])? else { return Ok(null_row::<Vec<String>>(vec![s])) };
    Ok(rows(vec![s, limit], move |r| {
        let (Some(s), Some(limit)) = (r[0].str(), r[1].int()) else { return Ok(None) };
        let limit = as_i32(limit)?;
        if empty && !s.is_empty() {
            let chars: Vec<char> = s.chars().collect();
            let n = if limit <= 0 || limit as usize > chars.len() { chars.len() } else { limit as usize };
            let mut parts: Vec<String> = chars[..n - 1].iter().map(|c| c.to_string()).collect();
            parts.push(chars[n - 1..].iter().collect());
            return Ok(Some(parts));
        }
        java_split(&re, s, if limit <= 0 { -1 } else { limit }).map(Some)
    }))
}

fn split_part(args: &[Typed]) -> SqlResult<Typed> {
    count_args("split_part", args, 3, 3, "split_part(str, delimiter, part)")?;
    let inputs = vec![text("split_part", &args[0])?, text("split_part", &args[1])?, int("split_part", &args[2])?];
    if args[2].lit_int() == Some(0) {
        return Err(refuse(
            "split_part: [INVALID_INDEX_OF_ZERO] the part number must not be 0",
            "count parts from 1, or from -1 at the end",
        ));
    }
    Ok(rows(inputs, |r| {
        let (Some(s), Some(d), Some(n)) = (r[0].str(), r[1].str(), r[2].int()) else { return Ok(None) };
        let parts: Vec<&str> = if d.is_empty() { vec![s] } else { s.split(d).collect() };
        let i = match n {
            0 => return Err("[INVALID_INDEX_OF_ZERO] split_part: the part number must not be 0".into()),
            n if n > 0 => (n - 1) as usize,
            n => match parts.len().checked_sub(n.unsigned_abs() as usize) {
                Some(i) => i,
                None => return Ok(Some(String::new())),
            },
        };
        Ok(Some(parts.get(i).map_or(String::new(), |p| p.to_string())))
    }))
}
