//! Spark's LIKE, `initcap`, `levenshtein` and `mask`.

use super::super::typed::{Lit, SqlResult, Typed, bad_args, refuse};
use super::{V, count_args, int, rows, text, unary_text};

/// SQL `value [NOT] LIKE pattern [ESCAPE c]` and `ILIKE`: `%` any run of
/// characters, `_` one character.
pub(in super::super) fn like(
    value: Typed,
    pattern: &Typed,
    escape: Option<char>,
    case_insensitive: bool,
) -> SqlResult<Typed> {
    let escape = escape.unwrap_or('\\');
    let value = text("like", &value)?;
    let pattern_in = text("like", pattern)?;
    if let Some(p) = pattern_in.lit_str() {
        let p = if case_insensitive { p.to_lowercase() } else { p.to_string() };
        like_tokens(&p, escape).map_err(|m| refuse(m, "escape only %, _ or the escape character itself"))?;
    }
    Ok(rows(vec![value, pattern_in], move |r| {
        let (Some(s), Some(p)) = (r[0].str(), r[1].str()) else { return Ok(None) };
        if case_insensitive {
            let tokens = like_tokens(&p.to_lowercase(), escape)?;
            Ok(Some(like_match(&s.to_lowercase().chars().collect::<Vec<_>>(), &tokens)))
        } else {
            Ok(Some(like_match(&s.chars().collect::<Vec<_>>(), &like_tokens(p, escape)?)))
        }
    }))
}

/// A LIKE pattern: `None` for `%`, `Some(None)` for `_`, `Some(Some(c))` for a character.
type LikeToken = Option<Option<char>>;

fn like_tokens(pattern: &str, escape: char) -> Result<Vec<LikeToken>, String> {
    let mut out = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == escape {
            match chars.next() {
                Some(n) if n == '_' || n == '%' || n == escape => out.push(Some(Some(n))),
                Some(n) => {
                    return Err(format!(
                        "[INVALID_FORMAT.ESC_IN_THE_MIDDLE] LIKE pattern '{pattern}': the escape character is not allowed to precede '{n}'"
                    ));
                }
                None => {
                    return Err(format!(
                        "[INVALID_FORMAT.ESC_AT_THE_END] LIKE pattern '{pattern}': it is not allowed to end with the escape character"
                    ));
                }
            }
        } else {
            out.push(match c {
                '%' => None,
                '_' => Some(None),
                c => Some(Some(c)),
            });
        }
    }
    Ok(out)
}

fn like_match(s: &[char], p: &[LikeToken]) -> bool {
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        match p.get(j) {
            Some(Some(t)) if t.is_none_or(|c| c == s[i]) => {
                i += 1;
                j += 1;
            }
            Some(None) => {
                star = Some((j, i));
                j += 1;
            }
            _ => match star {
                Some((sj, si)) => {
                    j = sj + 1;
                    i = si + 1;
                    star = Some((sj, si + 1));
                }
                None => return false,
            },
        }
    }
    p[j..].iter().all(Option::is_none)
}

/// Spark's `initcap`: lower case, then the first character of each
/// space-separated word in title case.
pub(super) fn initcap(s: &str) -> Result<String, String> {
    let lower = s.to_lowercase();
    let mut out = String::with_capacity(lower.len());
    let mut after_space = true;
    for c in lower.chars() {
        if after_space {
            out.push(title_char(c)?);
        } else {
            out.push(c);
        }
        after_space = c == ' ';
    }
    Ok(out)
}

/// Java's `Character.toTitleCase` for one character.
fn title_char(c: char) -> Result<char, String> {
    if c.is_ascii() {
        return Ok(c.to_ascii_uppercase());
    }
    match c {
        'Ǆ' | 'ǅ' | 'ǆ' => return Ok('ǅ'),
        'Ǉ' | 'ǈ' | 'ǉ' => return Ok('ǈ'),
        'Ǌ' | 'ǋ' | 'ǌ' => return Ok('ǋ'),
        'Ǳ' | 'ǲ' | 'ǳ' => return Ok('ǲ'),
        '\u{10D0}'..='\u{10FF}' => return Ok(c),
        _ => {}
    }
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(u), None) => Ok(u),
        _ => Err(format!("initcap: the engine cannot title-case '{c}' as Spark does")),
    }
}

pub(super) fn levenshtein(args: &[Typed]) -> SqlResult<Typed> {
    count_args("levenshtein", args, 2, 3, "levenshtein(str1, str2[, threshold])")?;
    let mut inputs = vec![text("levenshtein", &args[0])?, text("levenshtein", &args[1])?];
    if let Some(t) = args.get(2) {
        inputs.push(int("levenshtein", t)?);
    }
    Ok(rows(inputs, |r| {
        let (Some(a), Some(b)) = (r[0].str(), r[1].str()) else { return Ok(None) };
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.iter().enumerate() {
            let mut cur = vec![i + 1; b.len() + 1];
            for (j, cb) in b.iter().enumerate() {
                cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
            }
            prev = cur;
        }
        let d = prev[b.len()] as i32;
        Ok(Some(match r.get(2) {
            None => d,
            Some(V::Int(t)) => {
                if i64::from(d) > *t {
                    -1
                } else {
                    d
                }
            }
            Some(_) => return Ok(None),
        }))
    }))
}

/// Spark's `mask(str[, upper, lower, digit, other])`: Java's character
/// types Lu, Ll and Nd; a NULL replacement keeps the character.
pub(super) fn mask(args: &[Typed]) -> SqlResult<Typed> {
    count_args("mask", args, 1, 5, "mask(str[, upperChar, lowerChar, digitChar, otherChar])")?;
    let defaults = [Some('X'), Some('x'), Some('n'), None];
    let mut with = defaults;
    for (i, a) in args[1..].iter().enumerate() {
        with[i] = match &a.lit {
            Some(Lit::Null) => None,
            Some(Lit::Str(s)) if s.chars().count() == 1 => s.chars().next(),
            _ => {
                return Err(bad_args("mask", "mask(str, 'X', 'x', 'n', NULL): each replacement one character or NULL"));
            }
        };
    }
    let [upper, lower, digit, other] = with;
    unary_text("mask", &args[..1], move |s| {
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            let kind = if c.is_ascii() {
                if c.is_ascii_uppercase() {
                    0
                } else if c.is_ascii_lowercase() {
                    1
                } else if c.is_ascii_digit() {
                    2
                } else {
                    3
                }
            } else if !c.is_alphanumeric() || (c.is_alphabetic() && !c.is_uppercase() && !c.is_lowercase()) {
                3
            } else if c.is_uppercase() && !c.is_lowercase() && !(0x2160..=0x24FF).contains(&u32::from(c)) {
                0
            } else if c.is_lowercase()
                && !c.is_uppercase()
                && !matches!(u32::from(c), 0xAA | 0xBA | 0x2B0..=0x36F | 0x1D2C..=0x1DBF | 0x2070..=0x24FF)
            {
                1
            } else {
                return Err(format!("mask: the engine cannot classify '{c}' as Spark does"));
            };
            out.push([upper, lower, digit, other][kind].unwrap_or(c));
        }
        Ok(Some(out))
    })
}
