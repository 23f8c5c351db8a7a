//! Spark's number formatting (`format_number`, `format_string`/`printf`,
//! `to_char`), hashes and encodings, and `soundex`.

use polars::prelude::*;

use super::super::typed::{SqlResult, Typed, bad_args, decimal_text, refuse};
use super::{V, bytes, count_args, int, rows, text};

pub(super) fn call(name: &str, args: &[Typed]) -> Option<SqlResult<Typed>> {
    Some(match name {
        "format_number" => format_number(args),
        "format_string" | "printf" => format_string(name, args),
        "to_char" | "to_varchar" => {
            if !args.first().is_some_and(Typed::is_numeric) {
                return None;
            }
            to_char(name, args)
        }
        "hash" => hash(args),
        "crc32" | "md5" | "sha1" | "sha" | "base64" | "hex" | "unhex" | "unbase64" => codec(name, args),
        "sha2" => sha2(args),
        _ => return None,
    })
}

/// A number as decimal digits: `digits` with the decimal point after
/// `point` of them (which may be negative or past the end).
struct Digits {
    negative: bool,
    digits: Vec<u8>,
    point: i64,
    /// For a double: whether its exact value is above, at or below `digits`.
    exact: std::cmp::Ordering,
}

fn digits_of(v: &V<'_>) -> Result<Option<Digits>, String> {
    let d = |negative: bool, s: String, point: i64| Digits {
        negative,
        point,
        digits: s.into_bytes(),
        exact: std::cmp::Ordering::Equal,
    };
    Ok(Some(match v {
        V::Int(n) => {
            let s = n.unsigned_abs().to_string();
            let point = s.len() as i64;
            d(*n < 0, s, point)
        }
        V::Dec(n, scale) => {
            let s = n.unsigned_abs().to_string();
            let point = s.len() as i64 - *scale as i64;
            d(*n < 0, s, point)
        }
        V::Float(x) => {
            if !x.is_finite() {
                return Err(format!("the engine does not format {x} as Spark does"));
            }
            let negative = x.is_sign_negative();
            let shortest = format!("{:e}", x.abs());
            let (mantissa, exp) = shortest.split_once('e').unwrap_or((&shortest, "0"));
            let exp: i64 = exp.parse().map_err(|_| "bad float".to_string())?;
            let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
            let exact_text = format!("{:.800e}", x.abs());
            let exact_digits: String =
                exact_text.split('e').next().unwrap_or_default().chars().filter(char::is_ascii_digit).collect();
            let padded = format!("{digits:0<801}");
            let mut out = d(negative, digits, exp + 1);
            out.exact = exact_digits.as_str().cmp(padded.as_str());
            out
        }
        V::Null => return Ok(None),
        _ => return Err("not a number".into()),
    }))
}

#[derive(Clone, Copy, PartialEq)]
enum Rounding {
    HalfEven,
    HalfUp,
}

/// `d` rounded to `frac` fraction digits: the integer part's digits and the fraction's.
fn round_digits(d: &Digits, frac: usize, mode: Rounding) -> (String, String) {
    let keep = d.point + frac as i64;
    let digit = |i: i64| if i < 0 || i >= d.digits.len() as i64 { 0 } else { d.digits[i as usize] - b'0' };
    let mut kept: Vec<u8> = (0..keep.max(0)).map(digit).collect();
    if keep < d.digits.len() as i64 {
        let first = digit(keep);
        let rest_nonzero = (keep + 1..d.digits.len() as i64).any(|i| digit(i) != 0);
        let up = match first {
            6..=9 => true,
            // Java's Formatter rounds the shortest digits half up.
            5 if rest_nonzero || mode == Rounding::HalfUp => true,
            // DecimalFormat: a tie of the shortest digits goes by the exact value, then to even.
            5 => match d.exact {
                std::cmp::Ordering::Greater => true,
                std::cmp::Ordering::Less => false,
                std::cmp::Ordering::Equal => kept.last().is_some_and(|k| k % 2 == 1),
            },
            _ => false,
        };
        if up {
            let mut i = kept.len();
            loop {
                if i == 0 {
                    kept.insert(0, 1);
                    break;
                }
                i -= 1;
                if kept[i] == 9 {
                    kept[i] = 0;
                } else {
                    kept[i] += 1;
                    break;
                }
            }
        }
    }
    // `kept` holds the digits up to `frac` places after the point.
    let total = kept.len();
    let int_len = total.saturating_sub(frac);
    let mut int_part: String = kept[..int_len].iter().map(|k| char::from(b'0' + k)).collect();
    let frac_part: String =
        format!("{:0>frac$}", kept[int_len..].iter().map(|k| char::from(b'0' + k)).collect::<String>(), frac = frac);
    let trimmed = int_part.trim_start_matches('0').to_string();
    int_part = if trimmed.is_empty() { "0".into() } else { trimmed };
    (int_part, frac_part)
}

fn group_thousands(int_part: &str) -> String {
    let mut out = String::new();
    for (i, c) in int_part.chars().enumerate() {
        if i > 0 && (int_part.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn format_number(args: &[Typed]) -> SqlResult<Typed> {
    count_args("format_number", args, 2, 2, "format_number(x, d)")?;
    if !args[0].is_numeric() {
        return Err(bad_args("format_number", "format_number(number, decimal_places)"));
    }
    if args[1].is_string() {
        return Err(refuse(
            "format_number: the engine does not take a format pattern, only a number of decimal places",
            "write format_number(x, 2)",
        ));
    }
    Ok(rows(vec![args[0].clone(), int("format_number", &args[1])?], |r| {
        let (Some(d), Some(frac)) = (digits_of(&r[0]).map_err(|m| format!("format_number: {m}"))?, r[1].int()) else {
            return Ok(None);
        };
        if frac < 0 {
            return Ok(None);
        }
        let (int_part, frac_part) = round_digits(&d, frac as usize, Rounding::HalfEven);
        let sign = if d.negative { "-" } else { "" };
        let point = if frac > 0 { "." } else { "" };
        Ok(Some(format!("{sign}{}{point}{frac_part}", group_thousands(&int_part))))
    }))
}

/// One `%...` of a Java format string.
#[derive(Clone, Debug)]
struct Spec {
    arg: Option<usize>,
    flags: String,
    width: Option<usize>,
    precision: Option<usize>,
    conv: char,
}

#[derive(Clone, Debug)]
enum Piece {
    Text(String),
    Spec(Spec),
}

fn parse_format(f: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut chars = f.chars().peekable();
    let mut text = String::new();
    let mut ordinary = 0;
    while let Some(c) = chars.next() {
        if c != '%' {
            text.push(c);
            continue;
        }
        let mut number = String::new();
        while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit() && (**d != '0' || !number.is_empty())) {
            number.push(*d);
            chars.next();
        }
        let mut index = None;
        if !number.is_empty() && chars.peek() == Some(&'$') {
            chars.next();
            index = Some(number.parse::<usize>().map_err(|_| "bad index")?);
            number.clear();
        }
        let mut flags = String::new();
        if number.is_empty() {
            while let Some(fl) = chars.peek().filter(|c| "-#+ 0,(<".contains(**c)) {
                flags.push(*fl);
                chars.next();
            }
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                number.push(*d);
                chars.next();
            }
        }
        let width = if number.is_empty() { None } else { Some(number.parse().map_err(|_| "bad width")?) };
        let mut precision = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                p.push(*d);
                chars.next();
            }
            precision = Some(p.parse().map_err(|_| "a precision needs digits")?);
        }
        let conv = chars.next().ok_or("the format ends with '%'")?;
        if flags.contains('<') || flags.contains('#') || index == Some(0) {
            return Err(format!("the engine does not do the flags '{flags}'"));
        }
        if !"sSdxXofn%bB".contains(conv) {
            return Err(format!("the engine does not do the conversion %{conv}"));
        }
        if (flags.contains('-') || flags.contains('0')) && width.is_none() {
            return Err(format!("[MissingFormatWidth] %{flags}{conv} needs a width"));
        }
        let numeric = "dxXof".contains(conv);
        if (!numeric && flags.chars().any(|f| f != '-')) || (precision.is_some() && "dxXo%n".contains(conv)) {
            return Err(format!("[IllegalFormatFlags] %{flags}{conv}"));
        }
        if !text.is_empty() {
            out.push(Piece::Text(std::mem::take(&mut text)));
        }
        let arg = match conv {
            '%' | 'n' => None,
            _ => Some(index.map_or_else(
                || {
                    ordinary += 1;
                    ordinary - 1
                },
                |i| i - 1,
            )),
        };
        out.push(Piece::Spec(Spec { arg, flags, width, precision, conv }));
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    Ok(out)
}

fn format_string(name: &str, args: &[Typed]) -> SqlResult<Typed> {
    count_args(name, args, 1, usize::MAX, &format!("{name}('%s ...', args...)"))?;
    let Some(f) = args[0].lit_str() else {
        return Err(refuse(format!("{name}: the format must be a constant string"), format!("write {name}('%s', x)")));
    };
    let pieces = parse_format(f).map_err(|m| refuse(format!("{name}: {m}"), "use %s, %d, %x, %o, %f, %b, %% or %n"))?;
    let vals = &args[1..];
    // The bit width of each integer argument, for %x and %o.
    let mut bits = Vec::new();
    for p in &pieces {
        let Piece::Spec(s) = p else { continue };
        let Some(i) = s.arg else { continue };
        let Some(a) = vals.get(i) else {
            return Err(refuse(
                format!("{name}: [MissingFormatArgument] no argument for '%{}'", s.conv),
                "pass one argument per %",
            ));
        };
        let ok = match s.conv {
            'd' | 'x' | 'X' | 'o' => a.dtype.is_integer() || a.is_null_literal(),
            'f' => a.dtype.is_float() || a.is_null_literal(),
            'b' | 'B' => true,
            _ => {
                a.dtype.is_integer()
                    || matches!(a.dtype, DataType::String | DataType::Boolean | DataType::Null | DataType::Decimal(..))
            }
        };
        if !ok {
            return Err(refuse(
                format!("{name}: [IllegalFormatConversion] %{} does not take a {} argument", s.conv, a.dtype),
                "cast the argument: %d takes integers, %f doubles, %s strings",
            ));
        }
    }
    for a in vals {
        bits.push(match a.dtype {
            DataType::Int8 => 8,
            DataType::Int16 => 16,
            DataType::Int32 => 32,
            _ => 64,
        });
    }
    let mut inputs = vec![args[0].clone()];
    inputs.extend(
        vals.iter().map(|a| if a.dtype == DataType::Null { a.clone().cast_to(DataType::String) } else { a.clone() }),
    );
    Ok(rows(inputs, move |r| {
        if matches!(r[0], V::Null) {
            return Ok(None);
        }
        let mut out = String::new();
        for p in &pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Spec(s) => {
                    let v = s.arg.map_or(&V::Null, |i| &r[i + 1]);
                    let body = format_one(s, v, s.arg.map_or(64, |i| bits[i]))?;
                    let width = s.width.unwrap_or(0);
                    let len = body.chars().count();
                    if len < width && !(s.flags.contains('0') && s.conv != '%') {
                        let fill = " ".repeat(width - len);
                        if s.flags.contains('-') {
                            out.push_str(&(body + &fill))
                        } else {
                            out.push_str(&(fill + &body))
                        }
                    } else {
                        out.push_str(&body);
                    }
                }
            }
        }
        Ok(Some(out))
    }))
}

fn format_one(s: &Spec, v: &V<'_>, bits: u32) -> Result<String, String> {
    let upper = s.conv.is_ascii_uppercase();
    let body = match (s.conv, v) {
        ('%', _) => "%".to_string(),
        ('n', _) => "\n".to_string(),
        ('b' | 'B', v) => (!matches!(v, V::Null | V::Bool(false))).to_string(),
        (_, V::Null) => "null".to_string(),
        ('s' | 'S', v) => {
            let t = match v {
                V::Str(t) => t.to_string(),
                V::Int(n) => n.to_string(),
                V::Bool(b) => b.to_string(),
                V::Dec(n, scale) => {
                    if (n.unsigned_abs().to_string().len() as i64 - 1 - *scale as i64) < -6 {
                        return Err("format_string: the engine does not print this decimal as Spark does".into());
                    }
                    decimal_text(*n, *scale)
                }
                _ => return Err("format_string: unsupported argument".into()),
            };
            match s.precision {
                Some(p) => t.chars().take(p).collect(),
                None => t,
            }
        }
        ('x' | 'X' | 'o', V::Int(n)) => {
            let unsigned = if *n < 0 && bits < 64 { (*n + (1i64 << bits)) as u64 } else { *n as u64 };
            let t = if s.conv == 'o' { format!("{unsigned:o}") } else { format!("{unsigned:x}") };
            return Ok(zero_pad(s, String::new(), t, upper));
        }
        ('d', V::Int(n)) => {
            let mut digits = n.unsigned_abs().to_string();
            if s.flags.contains(',') {
                digits = group_thousands(&digits);
            }
            return Ok(signed(s, *n < 0, digits));
        }
        ('f', V::Float(_)) => {
            let d = digits_of(v)?.ok_or("null")?;
            let (int_part, frac_part) = round_digits(&d, s.precision.unwrap_or(6), Rounding::HalfUp);
            let mut t = if s.flags.contains(',') { group_thousands(&int_part) } else { int_part };
            if s.precision != Some(0) {
                t = format!("{t}.{frac_part}");
            }
            return Ok(signed(s, d.negative, t));
        }
        _ => return Err(format!("format_string: %{} does not take this argument", s.conv)),
    };
    Ok(if upper { body.to_uppercase() } else { body })
}

/// A number's sign by Java's flags (`+`, ` `, `(`), zero-padded to the width with `0`.
fn signed(s: &Spec, negative: bool, digits: String) -> String {
    let (pre, post) = if negative {
        if s.flags.contains('(') { ("(", ")") } else { ("-", "") }
    } else if s.flags.contains('+') {
        ("+", "")
    } else if s.flags.contains(' ') {
        (" ", "")
    } else {
        ("", "")
    };
    zero_pad(s, pre.to_string(), digits + post, false)
}

fn zero_pad(s: &Spec, prefix: String, digits: String, upper: bool) -> String {
    let digits = if upper { digits.to_uppercase() } else { digits };
    match s.width {
        Some(w) if s.flags.contains('0') => {
            let len = prefix.chars().count() + digits.chars().count();
            format!("{prefix}{}{digits}", "0".repeat(w.saturating_sub(len)))
        }
        _ => prefix + &digits,
    }
}

/// `to_char(number, '999.99')`: digits `9` and `0`, one optional `.`.
fn to_char(name: &str, args: &[Typed]) -> SqlResult<Typed> {
    count_args(name, args, 2, 2, &format!("{name}(number, '999.99')"))?;
    let unsupported = || {
        refuse(
            format!("{name}: the engine formats only with 9, 0 and one '.'"),
            format!("write {name}(x, '999.99') or use format_number"),
        )
    };
    let Some(f) = args[1].lit_str().map(str::to_string) else { return Err(unsupported()) };
    let (whole, frac) = f.split_once('.').unwrap_or((&f, ""));
    if whole.is_empty() || !whole.chars().chain(frac.chars()).all(|c| c == '9' || c == '0') {
        return Err(unsupported());
    }
    let scale = match args[0].dtype {
        DataType::Decimal(_, Some(s)) => s,
        ref dt if dt.is_integer() => 0,
        _ => return Err(unsupported()),
    };
    if scale != frac.len() {
        return Err(refuse(
            format!("{name}: the engine needs the value's scale ({scale}) to match the format's decimal places"),
            format!("CAST the value to DECIMAL(p, {}) first", frac.len()),
        ));
    }
    let (width, zeros, point) = (whole.len(), whole.starts_with('0'), !f.contains('.'));
    Ok(rows(vec![args[0].clone()], move |r| {
        let Some(d) = digits_of(&r[0])? else { return Ok(None) };
        let (int_part, frac_part) = round_digits(&d, scale, Rounding::HalfEven);
        if d.negative || int_part.len() > width || (int_part == "0" && !zeros) {
            return Err("to_char: the engine does not format this value as Spark does".into());
        }
        let pad = if zeros { "0" } else { " " }.repeat(width - int_part.len());
        Ok(Some(if point { format!("{pad}{int_part}") } else { format!("{pad}{int_part}.{frac_part}") }))
    }))
}

fn mix_k1(k: u32) -> u32 {
    k.wrapping_mul(0xcc9e_2d51).rotate_left(15).wrapping_mul(0x1b87_3593)
}
fn mix_h1(h: u32, k: u32) -> u32 {
    (h ^ k).rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64)
}
fn fmix(h: u32, len: u32) -> u32 {
    let mut h = h ^ len;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}
fn hash_int(v: u32, seed: u32) -> u32 {
    fmix(mix_h1(seed, mix_k1(v)), 4)
}
fn hash_long(v: u64, seed: u32) -> u32 {
    fmix(mix_h1(mix_h1(seed, mix_k1(v as u32)), mix_k1((v >> 32) as u32)), 8)
}
/// Spark's `Murmur3_x86_32.hashUnsafeBytes` (its tail bytes one by one, signed).
fn hash_bytes(b: &[u8], seed: u32) -> u32 {
    let aligned = b.len() - b.len() % 4;
    let mut h = seed;
    for c in b[..aligned].chunks_exact(4) {
        h = mix_h1(h, mix_k1(u32::from_le_bytes([c[0], c[1], c[2], c[3]])));
    }
    for &byte in &b[aligned..] {
        h = mix_h1(h, mix_k1(i32::from(byte as i8) as u32));
    }
    fmix(h, b.len() as u32)
}

/// Spark's `hash(...)`: Murmur3 x86 32-bit, seed 42, nulls skipped.
fn hash(args: &[Typed]) -> SqlResult<Typed> {
    count_args("hash", args, 1, usize::MAX, "hash(expr, ...)")?;
    let mut inputs = Vec::new();
    let mut kinds = Vec::new();
    for a in args {
        let (kind, input) = match &a.dtype {
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Boolean => (4, a.clone()),
            DataType::Date => (4, a.clone().cast_to(DataType::Int32)),
            DataType::Int64 => (8, a.clone()),
            DataType::Float64 => (9, a.clone()),
            DataType::Float32 => (5, a.clone()),
            DataType::String | DataType::Binary => (0, a.clone()),
            DataType::Decimal(Some(p), _) if *p <= 18 => (8, a.clone()),
            DataType::Null => (1, a.clone()),
            dt => {
                return Err(refuse(
                    format!("hash: the engine does not hash {dt} values as Spark does"),
                    "hash strings, integers, doubles or small decimals",
                ));
            }
        };
        inputs.push(input);
        kinds.push(kind);
    }
    Ok(rows(inputs, move |r| {
        let mut h: u32 = 42;
        for (v, kind) in r.iter().zip(&kinds) {
            h = match (v, kind) {
                (V::Null, _) => h,
                (V::Bool(b), _) => hash_int(u32::from(*b), h),
                (V::Int(n), 4) => hash_int(*n as i32 as u32, h),
                (V::Int(n), _) => hash_long(*n as u64, h),
                (V::Dec(n, _), _) => hash_long(*n as i64 as u64, h),
                (V::Float(x), 5) => hash_int(
                    if *x == 0.0 {
                        0
                    } else if x.is_nan() {
                        0x7fc0_0000
                    } else {
                        (*x as f32).to_bits()
                    },
                    h,
                ),
                (V::Float(x), _) => hash_long(
                    if *x == 0.0 {
                        0
                    } else if x.is_nan() {
                        0x7ff8_0000_0000_0000
                    } else {
                        x.to_bits()
                    },
                    h,
                ),
                (v, _) => hash_bytes(v.bytes().unwrap_or_default(), h),
            };
        }
        Ok(Some(h as i32))
    }))
}

fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn codec(name: &str, args: &[Typed]) -> SqlResult<Typed> {
    count_args(name, args, 1, 1, &format!("{name}(expr)"))?;
    let a = &args[0];
    Ok(match name {
        "crc32" => rows(vec![bytes(name, a)?], |r| Ok(r[0].bytes().map(|b| i64::from(crc32fast::hash(b))))),
        "md5" => rows(vec![bytes(name, a)?], |r| {
            use md5::Digest;
            Ok(r[0].bytes().map(|b| hex_lower(&md5::Md5::digest(b))))
        }),
        "sha1" | "sha" => rows(vec![bytes(name, a)?], |r| {
            use sha1::Digest;
            Ok(r[0].bytes().map(|b| hex_lower(&sha1::Sha1::digest(b))))
        }),
        "base64" => rows(vec![bytes(name, a)?], |r| Ok(r[0].bytes().map(base64))),
        "unbase64" => rows(vec![text(name, a)?], |r| r[0].str().map(unbase64).transpose()),
        "hex" => {
            let input = if a.dtype.is_integer() { int(name, a)? } else { bytes(name, a)? };
            rows(vec![input], |r| {
                Ok(match &r[0] {
                    V::Int(n) => Some(format!("{:X}", *n as u64)),
                    v => v.bytes().map(|b| hex_lower(b).to_uppercase()),
                })
            })
        }
        _ => rows(vec![text(name, a)?], |r| Ok(r[0].str().and_then(unhex))),
    })
}

fn sha2(args: &[Typed]) -> SqlResult<Typed> {
    count_args("sha2", args, 2, 2, "sha2(expr, 256)")?;
    Ok(rows(vec![bytes("sha2", &args[0])?, int("sha2", &args[1])?], |r| {
        use sha2::Digest;
        let (Some(b), Some(bits)) = (r[0].bytes(), r[1].int()) else { return Ok(None) };
        Ok(match bits {
            0 | 256 => Some(hex_lower(&sha2::Sha256::digest(b))),
            224 => Some(hex_lower(&sha2::Sha224::digest(b))),
            384 => Some(hex_lower(&sha2::Sha384::digest(b))),
            512 => Some(hex_lower(&sha2::Sha512::digest(b))),
            _ => None,
        })
    }))
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for chunk in b.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &x)| n | u32::from(x) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Commons-codec's lenient decoding, as Spark's `unbase64`: both alphabets,
/// other characters skipped, stops at `=`.
fn unbase64(s: &str) -> Result<Vec<u8>, String> {
    // Never fails: Spark's unbase64 has no ANSI check (to_binary has).
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    };
    let mut out = Vec::new();
    let (mut acc, mut n) = (0u32, 0);
    for c in s.bytes() {
        if c == b'=' {
            break;
        }
        let Some(v) = value(c) else { continue };
        acc = acc << 6 | u32::from(v);
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            (acc, n) = (0, 0);
        }
    }
    match n {
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => {}
    }
    Ok(out)
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s.chars().map(|c| c.to_digit(16).map(|d| d as u8)).collect::<Option<_>>()?;
    let mut padded = Vec::with_capacity(digits.len() + 1);
    if digits.len() % 2 == 1 {
        padded.push(0);
    }
    padded.extend(digits);
    Some(padded.chunks(2).map(|p| p[0] << 4 | p[1]).collect())
}

/// Spark's `soundex`: byte-wise, American rules, non-letters reset the last code.
pub(super) fn soundex(s: &str) -> String {
    const CODES: &[u8; 26] = b"01230127022455012623017202";
    let b = s.as_bytes();
    let Some(&first) = b.first() else { return String::new() };
    let first = first.to_ascii_uppercase();
    if !first.is_ascii_uppercase() {
        return s.to_string();
    }
    let mut sx = vec![first, b'0', b'0', b'0'];
    let mut n = 1;
    let mut last = CODES[usize::from(first - b'A')];
    for &c in &b[1..] {
        let c = c.to_ascii_uppercase();
        if !c.is_ascii_uppercase() {
            last = b'0';
            continue;
        }
        let code = CODES[usize::from(c - b'A')];
        if code != b'7' {
            if code != b'0' && code != last {
                sx[n] = code;
                n += 1;
                if n > 3 {
                    break;
                }
            }
            last = code;
        }
    }
    String::from_utf8_lossy(&sx).into_owned()
}
