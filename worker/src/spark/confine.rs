//! What a Spark cell's own statements may reach (issue 17).
//!
//! A Spark cell is Spark SQL sent as typed, and Spark in local mode runs on
//! the gateway's machine with the gateway's rights. So, unless the gateway
//! was started with `--spark-allow-local`, each statement is read here
//! before it goes to Spark, and refused when it would:
//! - name a local file outside the data directory: `LOCATION`, `[LOCAL]
//!   DIRECTORY`, `[LOCAL] INPATH`, a `path`/`paths` option, or a query over a
//!   file (`csv.`/etc/passwd``). `hdfs://`, `s3a://`, `gs://` and the other
//!   cluster stores pass; `file:///<data root>/...` passes when it stays
//!   inside the root (no `..`, no symbolic link out, no `{a,b}` globs);
//! - load code or files onto Spark: `ADD`/`LIST JAR|FILE|ARCHIVE`, `CREATE
//!   FUNCTION ... AS 'class'`/`USING JAR`, `SET spark.jars` and the other
//!   class-path, file and Hadoop settings;
//! - run a program or a Java method: `TRANSFORM ... USING 'cmd'`,
//!   `reflect`, `java_method`, `try_reflect`;
//! - hide any of that from this check: `EXECUTE IMMEDIATE` and
//!   `IDENTIFIER(...)` build SQL at run time.
//!
//! The reading is Spark's lexer's: `'...'` and `"..."` strings with `\`
//! escapes (`\u0041`, octal), raw `r'...'` strings, adjacent strings joined,
//! `` `quoted` `` names with doubled back-quotes, `--` and nested `/* */`
//! comments. The views the gateway writes itself (`sources.rs`) are not
//! checked here: their paths were confined when they were built.

use std::path::Path;

use crate::storage::{LocalStore, Location};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Quoted(String),
    Punct(char),
}

impl Tok {
    fn word(&self) -> Option<&str> {
        match self {
            Tok::Word(w) => Some(w),
            _ => None,
        }
    }

    fn is_word(&self, w: &str) -> bool {
        self.word().is_some_and(|x| x.eq_ignore_ascii_case(w))
    }
}

/// Why a statement was refused; the caller names the statement.
pub(crate) type Refusal = String;

const ALLOW_HINT: &str =
    "start the gateway with --spark-allow-local to let Spark cells reach this machine's files and code";

/// Refuses what `statement` must not do (see the module docs).
pub(crate) fn check(statement: &str, local: &LocalStore) -> Result<(), Refusal> {
    let toks = tokens(statement)?;
    let at = |i: usize| toks.get(i);
    if let (Some(first), Some(second)) = (at(0), at(1))
        && (first.is_word("add") || first.is_word("list"))
        && second.word().is_some_and(|w| {
            ["jar", "jars", "file", "files", "archive", "archives"].iter().any(|k| w.eq_ignore_ascii_case(k))
        })
    {
        return Err(format!(
            "{} {} puts files or code on Spark's class path, which Spark cells may not do; {ALLOW_HINT}",
            first.word().unwrap_or_default().to_ascii_uppercase(),
            second.word().unwrap_or_default().to_ascii_uppercase()
        ));
    }
    if at(0).is_some_and(|t| t.is_word("set")) {
        check_setting(&toks[1..])?;
    }
    let creates_function = at(0).is_some_and(|t| t.is_word("create")) && toks.iter().any(|t| t.is_word("function"));
    for (i, tok) in toks.iter().enumerate() {
        let next = at(i + 1);
        let prev = i.checked_sub(1).and_then(at);
        match tok {
            Tok::Word(w) => {
                let w = w.to_ascii_lowercase();
                let opens = next == Some(&Tok::Punct('('));
                match w.as_str() {
                    "execute" if next.is_some_and(|t| t.is_word("immediate")) => {
                        return Err(format!(
                            "EXECUTE IMMEDIATE runs SQL built at run time, which cannot be checked; write the \
                             statement itself, or {ALLOW_HINT}"
                        ));
                    }
                    "identifier" if opens => {
                        return Err(format!(
                            "IDENTIFIER(...) names a table with an expression, which cannot be checked; write the \
                             name itself, or {ALLOW_HINT}"
                        ));
                    }
                    "reflect" | "java_method" | "try_reflect" if opens => {
                        return Err(format!("{w}() calls Java methods on Spark's machine; {ALLOW_HINT}"));
                    }
                    "using" => match next {
                        Some(Tok::Str(_)) => {
                            return Err(format!("TRANSFORM ... USING runs a program on Spark's machine; {ALLOW_HINT}"));
                        }
                        Some(t) if t.is_word("jar") || t.is_word("file") || t.is_word("archive") => {
                            return Err(format!("USING JAR/FILE/ARCHIVE loads code onto Spark; {ALLOW_HINT}"));
                        }
                        _ => {}
                    },
                    "as" if creates_function && matches!(next, Some(Tok::Str(_))) => {
                        return Err(format!(
                            "CREATE FUNCTION ... AS 'class' loads a Java class on Spark; SQL functions \
                             (RETURNS ... RETURN ...) are fine, or {ALLOW_HINT}"
                        ));
                    }
                    "location" | "directory" | "inpath" => {
                        if let Some(Tok::Str(path)) = next {
                            let local_word = prev.is_some_and(|t| t.is_word("local"));
                            check_path(path, local_word, local)?;
                        }
                    }
                    _ => {}
                }
                if (w == "path" || w == "paths") && !matches!(prev, Some(Tok::Punct('.'))) {
                    check_option(&w, &toks[i + 1..], local)?;
                }
            }
            Tok::Str(key) | Tok::Quoted(key)
                if (key.eq_ignore_ascii_case("path") || key.eq_ignore_ascii_case("paths"))
                    && matches!(at(i + 1), Some(Tok::Str(_)) | Some(Tok::Punct('='))) =>
            {
                check_option(&key.to_ascii_lowercase(), &toks[i + 1..], local)?;
            }
            Tok::Quoted(name) if prev == Some(&Tok::Punct('.')) => {
                // `format.`path``: Spark's SQL over a file.
                let format = i.checked_sub(2).and_then(at).and_then(Tok::word).map(str::to_ascii_lowercase);
                let is_format = format.as_deref().is_some_and(|f| FILE_FORMATS.contains(&f));
                if is_format || name.contains(['/', '\\', ':']) {
                    check_path(name, false, local)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Data sources Spark can query a file with as `format.`path``.
const FILE_FORMATS: &[&str] = &["csv", "json", "parquet", "orc", "text", "avro", "binaryfile", "xml", "delta"];

/// `path 'x'`, `path = 'x'` and `paths '["x","y"]'` in OPTIONS.
fn check_option(key: &str, rest: &[Tok], local: &LocalStore) -> Result<(), Refusal> {
    let rest = match rest.first() {
        Some(Tok::Punct('=')) => &rest[1..],
        _ => rest,
    };
    let Some(Tok::Str(value)) = rest.first() else { return Ok(()) };
    if key == "paths"
        && let Ok(list) = serde_json::from_str::<Vec<String>>(value)
    {
        return list.iter().try_for_each(|p| check_path(p, false, local));
    }
    check_path(value, false, local)
}

/// Cluster file systems a statement may name freely.
const REMOTE_SCHEMES: &[&str] =
    &["hdfs", "webhdfs", "viewfs", "s3", "s3a", "s3n", "gs", "abfs", "abfss", "wasb", "wasbs", "oss"];

/// A path in a statement: a cluster store, or a file inside the data root.
fn check_path(path: &str, local_word: bool, local: &LocalStore) -> Result<(), Refusal> {
    let trimmed = path.trim();
    let scheme = trimmed.split_once(':').map(|(s, _)| s).filter(|s| {
        s.len() >= 2
            && s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
    });
    let scheme = scheme.map(str::to_ascii_lowercase);
    if local_word && scheme.as_deref().is_some_and(|s| s != "file" && s != "local") {
        return Err(format!(
            "LOCAL names this machine's files, so '{path}' would not go where it says; drop LOCAL to write to a \
             cluster path, or {ALLOW_HINT}"
        ));
    }
    let absolute = match scheme {
        Some(s) if REMOTE_SCHEMES.contains(&s.as_str()) && !local_word => return Ok(()),
        Some(s) if s == "file" || s == "local" => {
            let rest = &trimmed[s.len() + 1..];
            match rest.strip_prefix("//") {
                Some(after) => {
                    let (authority, path) = after.split_at(after.find('/').unwrap_or(after.len()));
                    if !authority.is_empty() && !authority.eq_ignore_ascii_case("localhost") {
                        return Err(outside(path));
                    }
                    path.to_string()
                }
                None => rest.to_string(),
            }
        }
        Some(s) => {
            return Err(format!(
                "'{path}': Spark cells read and write {}, or files in the gateway's data directory; not {s}:; \
                 or {ALLOW_HINT}",
                REMOTE_SCHEMES.iter().map(|s| format!("{s}://")).collect::<Vec<_>>().join(", ")
            ));
        }
        None => trimmed.to_string(),
    };
    if !absolute.starts_with('/') {
        return Err(format!(
            "'{path}' is a path relative to Spark's working directory, outside the gateway's data directory; write \
             hdfs:///..., or read the file with read_csv/read_json/read_parquet('{path}'), which reads it from the \
             data directory; or {ALLOW_HINT}"
        ));
    }
    if absolute.contains(['{', '}']) {
        return Err(format!(
            "'{path}': a local path may not hold {{a,b}} alternatives; name each path, or {ALLOW_HINT}"
        ));
    }
    let inside = Path::new(&absolute).strip_prefix(local.root()).ok().and_then(|rel| rel.to_str());
    let Some(rel) = inside else { return Err(outside(path)) };
    let at = Location::parse(rel).map_err(|e| format!("'{path}': {}", e.message))?;
    local.path(&at).map_err(|e| format!("'{path}': {}", e.message))?;
    Ok(())
}

fn outside(path: &str) -> Refusal {
    format!(
        "'{path}' is a file on this machine outside the gateway's data directory; Spark cells may name hdfs:// and \
         other cluster paths, or file:/// paths in the data directory (read_csv('x') etc. find them for you); or \
         {ALLOW_HINT}"
    )
}

/// `SET key = value`: settings that put code or files on Spark, or move
/// where paths lead, are refused.
fn check_setting(rest: &[Tok]) -> Result<(), Refusal> {
    let mut key = String::new();
    for tok in rest {
        match tok {
            Tok::Punct('=') => break,
            Tok::Word(w) | Tok::Quoted(w) => key.push_str(w),
            Tok::Punct(c) => key.push(*c),
            Tok::Str(_) => break,
        }
    }
    let key = key.to_ascii_lowercase();
    let refused =
        ["spark.jars", "spark.files", "spark.archives", "spark.hadoop.", "spark.sql.catalog.", "spark.plugins"]
            .iter()
            .any(|p| key.starts_with(p))
            || [
                "classpath",
                "javaoptions",
                "extensions",
                "warehouse.dir",
                "metastore.jars",
                "spark.sql.defaultcatalog",
            ]
            .iter()
            .any(|p| key.contains(p));
    if refused {
        return Err(format!("SET {key} changes what code or files Spark loads, or where paths lead; {ALLOW_HINT}"));
    }
    Ok(())
}

/// Spark SQL's tokens, without white space and comments; adjacent strings joined.
fn tokens(sql: &str) -> Result<Vec<Tok>, Refusal> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out: Vec<Tok> = Vec::new();
    let mut i = 0;
    let unreadable = |what: &str| format!("the statement has {what}, so it could not be checked before Spark");
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            let mut depth = 0usize;
            loop {
                if i + 1 >= chars.len() {
                    return Err(unreadable("an unclosed /* comment"));
                }
                if chars[i] == '/' && chars[i + 1] == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars[i + 1] == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == '\'' || c == '"' {
            let raw = matches!(out.last(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case("r"))
                && i > 0
                && (chars[i - 1] == 'r' || chars[i - 1] == 'R');
            if raw {
                out.pop();
            }
            let (text, end) = string(&chars, i, raw).ok_or_else(|| unreadable("an unclosed string"))?;
            i = end;
            match out.last_mut() {
                Some(Tok::Str(prev)) => prev.push_str(&text),
                _ => out.push(Tok::Str(text)),
            }
        } else if c == '`' {
            let mut name = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(unreadable("an unclosed ` name")),
                    Some('`') if chars.get(i + 1) == Some(&'`') => {
                        name.push('`');
                        i += 2;
                    }
                    Some('`') => {
                        i += 1;
                        break;
                    }
                    Some(&ch) => {
                        name.push(ch);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Quoted(name));
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$') {
                i += 1;
            }
            out.push(Tok::Word(chars[start..i].iter().collect()));
        } else {
            out.push(Tok::Punct(c));
            i += 1;
        }
    }
    Ok(out)
}

/// The string literal opening at `chars[start]`, decoded as Spark does, and
/// the index after it.
fn string(chars: &[char], start: usize, raw: bool) -> Option<(String, usize)> {
    let quote = chars[start];
    let mut out = String::new();
    let mut i = start + 1;
    loop {
        let c = *chars.get(i)?;
        if c == quote {
            return Some((out, i + 1));
        }
        if c != '\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let e = *chars.get(i + 1)?;
        if raw {
            // A raw string keeps its backslashes; `\'` still does not close it.
            out.push('\\');
            out.push(e);
            i += 2;
            continue;
        }
        let hex = |n: usize| -> Option<char> {
            let digits: String = chars.get(i + 2..i + 2 + n)?.iter().collect();
            u32::from_str_radix(&digits, 16).ok().and_then(char::from_u32)
        };
        match e {
            'u' if hex(4).is_some() => {
                out.push(hex(4)?);
                i += 6;
            }
            'U' if hex(8).is_some() => {
                out.push(hex(8)?);
                i += 10;
            }
            '0'..='7' if chars.get(i + 1..i + 4).is_some_and(|d| d.iter().all(|c| ('0'..='7').contains(c))) => {
                let digits: String = chars[i + 1..i + 4].iter().collect();
                out.push(u32::from_str_radix(&digits, 8).ok().and_then(char::from_u32)?);
                i += 4;
            }
            'n' => {
                out.push('\n');
                i += 2;
            }
            't' => {
                out.push('\t');
                i += 2;
            }
            'r' => {
                out.push('\r');
                i += 2;
            }
            '0' => {
                out.push('\0');
                i += 2;
            }
            other => {
                out.push(other);
                i += 2;
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn store() -> LocalStore {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir = std::env::temp_dir().join(format!("riffle-spark-confine-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(dir.join("in")).unwrap();
        LocalStore::new(dir).unwrap()
    }

    #[test]
    fn spark_strings_are_decoded_and_joined() {
        let toks = tokens(r#"SELECT 'a' "b" /* x /* nested */ */ 'c\u0041\101\'', r'\n', `x``y` -- end"#).unwrap();
        assert_eq!(toks[1], Tok::Str("abcAA'".into()));
        assert_eq!(toks[3], Tok::Str(r"\n".into()));
        assert_eq!(toks[5], Tok::Quoted("x`y".into()));
        assert!(tokens("SELECT 'open").is_err());
        assert!(tokens("SELECT /* open").is_err());
    }

    #[test]
    fn cluster_paths_and_plain_sql_pass() {
        let local = store();
        let root = local.root().display().to_string();
        for ok in [
            "SELECT 1".to_string(),
            "INSERT OVERWRITE DIRECTORY 'hdfs:///lake/p' USING parquet SELECT 1".into(),
            "SELECT count(*) FROM parquet.`hdfs:///lake/p`".into(),
            "CREATE TABLE t USING parquet LOCATION 's3a://bucket/t' AS SELECT 1".into(),
            format!("SELECT * FROM csv.`file://{root}/in/x.csv`"),
            format!("CREATE TEMPORARY VIEW v USING csv OPTIONS (path '{root}/in/*.csv', header 'true')"),
            "SET spark.sql.ansi.enabled = false".into(),
            "SELECT 'the path /etc/passwd' AS s, path FROM t".into(),
            "CREATE FUNCTION f(x INT) RETURNS INT RETURN x + 1".into(),
            "SELECT db.`my table`.a FROM db.`my table`".into(),
        ] {
            assert_eq!(check(&ok, &local), Ok(()), "{ok}");
        }
    }

    #[test]
    fn local_files_code_and_programs_are_refused() {
        let local = store();
        let root = local.root().display().to_string();
        for (bad, says) in [
            ("SELECT * FROM csv.`/etc/passwd`".to_string(), "outside the gateway's data directory"),
            ("SELECT * FROM text.`file:///etc/passwd`".into(), "outside"),
            ("SELECT * FROM `org.apache.spark.sql.csv`.`/etc/passwd`".into(), "outside"),
            ("SELECT * FROM text.`etc/passwd`".into(), "relative to Spark's working directory"),
            ("INSERT OVERWRITE LOCAL DIRECTORY '/tmp/x' SELECT 1".into(), "outside"),
            ("INSERT OVERWRITE DIRECTORY 'file:///tmp/x' USING csv SELECT 1".into(), "outside"),
            ("INSERT OVERWRITE LOCAL DIRECTORY 'hdfs:///tmp/x' SELECT 1".into(), "drop LOCAL"),
            ("CREATE TABLE t (a INT) USING csv LOCATION '/etc'".into(), "outside"),
            ("LOAD DATA LOCAL INPATH '/etc/passwd' INTO TABLE t".into(), "outside"),
            ("CREATE TEMPORARY VIEW v USING text OPTIONS (path '/etc/passwd')".into(), "outside"),
            ("CREATE TEMPORARY VIEW v USING text OPTIONS ('path' = '/et' 'c/passwd')".into(), "outside"),
            ("CREATE TEMPORARY VIEW v USING text OPTIONS (`path` '\\u002fetc/passwd')".into(), "outside"),
            ("CREATE TEMPORARY VIEW v USING text OPTIONS (paths '[\"/etc/passwd\"]')".into(), "outside"),
            (format!("SELECT * FROM text.`{root}/../etc/passwd`"), "'..'"),
            (format!("SELECT * FROM text.`{root}/in/{{x,/etc/passwd}}`"), "alternatives"),
            ("SELECT * FROM text.`jar:file:/x!/y`".into(), "not jar:"),
            ("ADD JAR /tmp/evil.jar".into(), "ADD JAR"),
            ("add file 'hdfs:///x'".into(), "ADD FILE"),
            ("LIST JARS".into(), "LIST JARS"),
            ("CREATE FUNCTION f AS 'com.evil.Udf' USING JAR 'hdfs:///e.jar'".into(), "Java class"),
            ("CREATE TEMPORARY FUNCTION f AS 'org.apache.hadoop.hive.ql.udf.UDFReflect'".into(), "Java class"),
            ("SELECT TRANSFORM (a) USING 'cat /etc/passwd' FROM t".into(), "runs a program"),
            ("SELECT reflect('java.lang.System', 'getenv', 'HOME')".into(), "Java methods"),
            ("SELECT java_method('java.lang.Runtime', 'getRuntime')".into(), "Java methods"),
            ("EXECUTE IMMEDIATE 'SELECT * FROM text.`/etc/passwd`'".into(), "EXECUTE IMMEDIATE"),
            ("SELECT * FROM IDENTIFIER('text.`/etc/passwd`')".into(), "IDENTIFIER"),
            ("SET spark.jars = /tmp/evil.jar".into(), "spark.jars"),
            ("SET spark.hadoop.fs.defaultFS=file:///".into(), "spark.hadoop.fs.defaultfs"),
            ("SET `spark.driver.extraClassPath` = /tmp".into(), "extraclasspath"),
            ("SET spark.sql.warehouse.dir=/etc".into(), "warehouse"),
        ] {
            let err = check(&bad, &local).expect_err(&bad);
            assert!(err.contains(says), "{bad}: {err}");
            assert!(err.contains("--spark-allow-local") || says == "'..'", "{bad}: {err}");
        }
    }

    #[test]
    fn a_symlink_out_of_the_root_is_refused() {
        let local = store();
        let root = local.root().display().to_string();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc", local.root().join("in/etc")).unwrap();
            let err = check(&format!("SELECT * FROM text.`{root}/in/etc/passwd`"), &local).unwrap_err();
            assert!(err.contains("symbolic link"), "{err}");
        }
    }
}
