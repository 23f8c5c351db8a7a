//! Spark's datetime patterns (Java's `DateTimeFormatter` letters, English,
//! session time zone UTC): compiled once, then used to write timestamps
//! (`date_format`, `from_unixtime`) and to read text (`to_timestamp`,
//! `to_date`, `unix_timestamp`). A letter this module cannot honour
//! exactly is refused when the pattern is compiled.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use super::civil::{datetime_of_micros, micros_of_datetime};
use super::text::year_text;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Text(String),
    Field(char, usize),
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    tokens: Vec<Token>,
    /// `G` appears: `y` is then the year of the era, else the proleptic year.
    era: bool,
}

/// The most letters of each kind Java accepts, for the letters written here.
fn max_count(letter: char) -> Option<usize> {
    Some(match letter {
        'G' | 'M' | 'L' | 'Q' | 'q' | 'E' | 'X' | 'x' | 'Z' => 5,
        'y' => 9,
        'd' | 'H' | 'h' | 'K' | 'k' | 'm' | 's' => 2,
        'D' => 3,
        'a' => 1,
        'S' => 9,
        'z' => 4,
        'O' => 4,
        'V' => 2,
        _ => return None,
    })
}

/// Compiles `pattern`; `Err` names what cannot be honoured.
pub(crate) fn compile(pattern: &str) -> Result<Pattern, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut text = String::new();
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            if chars.get(i + 1) == Some(&'\'') {
                text.push('\'');
                i += 2;
                continue;
            }
            let mut j = i + 1;
            loop {
                match chars.get(j) {
                    None => return Err(format!("the pattern '{pattern}' has an unclosed quote")),
                    Some('\'') if chars.get(j + 1) == Some(&'\'') => {
                        text.push('\'');
                        j += 2;
                    }
                    Some('\'') => break,
                    Some(other) => {
                        text.push(*other);
                        j += 1;
                    }
                }
            }
            i = j + 1;
        } else if c.is_ascii_alphabetic() {
            let mut count = 1;
            while chars.get(i + count) == Some(&c) {
                count += 1;
            }
            match c {
                'Y' | 'W' | 'w' | 'u' | 'e' | 'c' => {
                    return Err(format!(
                        "the week-based pattern letter '{c}' (Spark refuses week-based patterns since 3.0)"
                    ));
                }
                _ => {}
            }
            match max_count(c) {
                Some(max) if count <= max && !(c == 'V' && count != 2) => {}
                Some(_) => return Err(format!("{count} pattern letters '{c}'")),
                None => return Err(format!("the pattern letter '{c}'")),
            }
            if !text.is_empty() {
                tokens.push(Token::Text(std::mem::take(&mut text)));
            }
            tokens.push(Token::Field(c, count));
            i += count;
        } else if matches!(c, '[' | ']' | '{' | '}' | '#') {
            return Err(format!("'{c}' (optional sections and reserved characters) in a pattern"));
        } else {
            text.push(c);
            i += 1;
        }
    }
    if !text.is_empty() {
        tokens.push(Token::Text(text));
    }
    let era = tokens.iter().any(|t| matches!(t, Token::Field('G', _)));
    Ok(Pattern { tokens, era })
}

fn padded(value: i64, width: usize) -> String {
    format!("{value:0width$}")
}

fn text_form(full: &str, count: usize) -> String {
    match count {
        4 => full.to_string(),
        5 => full.chars().take(1).collect(),
        _ => full.chars().take(3).collect(),
    }
}

fn ordinal(n: u32) -> &'static str {
    match n {
        1 => "1st",
        2 => "2nd",
        3 => "3rd",
        _ => "4th",
    }
}

impl Pattern {
    /// The letters this pattern reads that [`Pattern::parse`] does not.
    pub(crate) fn unparsable(&self) -> Option<char> {
        self.tokens.iter().find_map(|t| match t {
            Token::Field(c, _) if matches!(c, 'G' | 'D' | 'Q' | 'q' | 'z' | 'O') => Some(*c),
            Token::Field(c @ ('M' | 'L' | 'E'), 5) | Token::Field(c @ ('X' | 'x'), 4..) | Token::Field(c @ 'Z', 4) => {
                Some(*c)
            }
            _ => None,
        })
    }

    /// The text of a timestamp (microseconds, UTC).
    pub(crate) fn format(&self, micros: i64) -> Option<String> {
        let t = datetime_of_micros(micros)?;
        let mut out = String::new();
        for token in &self.tokens {
            match token {
                Token::Text(s) => out.push_str(s),
                Token::Field(c, n) => out.push_str(&self.field(t, micros, *c, *n)),
            }
        }
        Some(out)
    }

    fn field(&self, t: NaiveDateTime, micros: i64, letter: char, count: usize) -> String {
        let year = t.year();
        let hour = t.hour();
        match letter {
            'G' => {
                let bc = year <= 0;
                match count {
                    4 => if bc { "Before Christ" } else { "Anno Domini" }.to_string(),
                    5 => if bc { "B" } else { "A" }.to_string(),
                    _ => if bc { "BC" } else { "AD" }.to_string(),
                }
            }
            'y' => {
                let year = if self.era && year <= 0 { 1 - year } else { year };
                if count == 2 { padded(i64::from(year.rem_euclid(100)), 2) } else { year_text(year, count) }
            }
            'M' | 'L' => match count {
                1 | 2 => padded(i64::from(t.month()), count),
                _ => text_form(MONTHS[t.month0() as usize], count),
            },
            'd' => padded(i64::from(t.day()), count),
            'D' => padded(i64::from(t.ordinal()), count),
            'Q' | 'q' => {
                let q = t.month0() / 3 + 1;
                match count {
                    1 | 5 => q.to_string(),
                    2 => padded(i64::from(q), 2),
                    3 => format!("Q{q}"),
                    _ => format!("{} quarter", ordinal(q)),
                }
            }
            'E' => text_form(DAYS[t.weekday().num_days_from_monday() as usize], count),
            'a' => if hour < 12 { "AM" } else { "PM" }.to_string(),
            'H' => padded(i64::from(hour), count),
            'k' => padded(i64::from(if hour == 0 { 24 } else { hour }), count),
            'K' => padded(i64::from(hour % 12), count),
            'h' => padded(i64::from(if hour.is_multiple_of(12) { 12 } else { hour % 12 }), count),
            'm' => padded(i64::from(t.minute()), count),
            's' => padded(i64::from(t.second()), count),
            'S' => {
                let nanos = format!("{:09}", micros.rem_euclid(1_000_000) * 1000);
                nanos[..count].to_string()
            }
            'X' => "Z".to_string(),
            'x' => match count {
                1 => "+00",
                2 | 4 => "+0000",
                _ => "+00:00",
            }
            .to_string(),
            'Z' => match count {
                4 => "GMT",
                5 => "Z",
                _ => "+0000",
            }
            .to_string(),
            'z' => if count == 4 { "Coordinated Universal Time" } else { "UTC" }.to_string(),
            'O' => "GMT".to_string(),
            'V' => "UTC".to_string(),
            _ => String::new(),
        }
    }

    /// Reads `text` whole, as Spark does with this pattern: microseconds
    /// since the epoch, or `None` when it does not match. Missing fields
    /// default to 1970-01-01 00:00:00.
    pub(crate) fn parse(&self, text: &str) -> Option<i64> {
        self.parse_in(text, &super::zones::ZoneId::UTC)
    }

    /// [`Pattern::parse`], with a time that has no offset or zone id in
    /// the text read as the wall clock in `zone`.
    pub(crate) fn parse_in(&self, text: &str, zone: &super::zones::ZoneId) -> Option<i64> {
        let mut p = Fields::default();
        let bytes = text.as_bytes();
        let mut pos = 0;
        for (k, token) in self.tokens.iter().enumerate() {
            match token {
                Token::Text(s) => {
                    if !bytes[pos..].starts_with(s.as_bytes()) {
                        return None;
                    }
                    pos += s.len();
                }
                Token::Field(c, n) => {
                    let reserved = self.adjacent_width(k + 1);
                    pos = p.read(text, pos, *c, *n, reserved)?;
                }
            }
        }
        if pos != bytes.len() {
            return None;
        }
        let local = p.resolve()?;
        match (&p.offset_seconds, &p.zone) {
            (Some(seconds), _) => local.checked_sub(seconds * 1_000_000),
            (None, Some(id)) => id.instant(local),
            (None, None) => zone.instant(local),
        }
    }

    /// The digits fixed-width numeric fields right after `from` take, which
    /// a variable-width field before them must leave (Java's adjacent
    /// value parsing).
    fn adjacent_width(&self, from: usize) -> usize {
        let mut width = 0;
        for token in &self.tokens[from..] {
            match token {
                Token::Field(c, n) if numeric(*c, *n) => width += if *c == 'S' { 1 } else { *n.max(&1) },
                _ => break,
            }
        }
        width
    }
}

fn numeric(letter: char, count: usize) -> bool {
    match letter {
        'M' | 'L' => count <= 2,
        'y' | 'd' | 'H' | 'h' | 'K' | 'k' | 'm' | 's' | 'S' => true,
        _ => false,
    }
}

#[derive(Default)]
struct Fields {
    year: Option<i64>,
    month: Option<i64>,
    day: Option<i64>,
    hour: Option<i64>,
    clock_hour: Option<i64>,
    pm: Option<bool>,
    minute: Option<i64>,
    second: Option<i64>,
    micros: Option<i64>,
    weekday: Option<u32>,
    offset_seconds: Option<i64>,
    /// A zone id read by `VV`.
    zone: Option<super::zones::ZoneId>,
}

fn set(slot: &mut Option<i64>, value: i64) -> Option<()> {
    match slot {
        Some(old) if *old != value => None,
        _ => {
            *slot = Some(value);
            Some(())
        }
    }
}

fn digits_at(text: &str, pos: usize) -> usize {
    text.as_bytes()[pos..].iter().take_while(|b| b.is_ascii_digit()).count()
}

/// Case-insensitive match of one of `names` (shortened by `form`) at `pos`.
fn word_at(text: &str, pos: usize, names: &[&str], count: usize) -> Option<(usize, usize)> {
    let rest = &text.as_bytes()[pos..];
    names.iter().enumerate().find_map(|(i, name)| {
        let form = text_form(name, count);
        let f = form.as_bytes();
        (rest.len() >= f.len() && rest[..f.len()].eq_ignore_ascii_case(f)).then_some((i, f.len()))
    })
}

impl Fields {
    /// Reads one field at `pos`, returning the position after it.
    fn read(&mut self, text: &str, pos: usize, letter: char, count: usize, reserved: usize) -> Option<usize> {
        if letter == 'S' {
            let available = digits_at(text, pos).saturating_sub(reserved).min(count);
            if available == 0 {
                return None;
            }
            let digits = &text[pos..pos + available];
            let mut micros: i64 = digits.chars().take(6).collect::<String>().parse().ok()?;
            for _ in digits.len().min(6)..6 {
                micros *= 10;
            }
            set(&mut self.micros, micros)?;
            return Some(pos + available);
        }
        if numeric(letter, count) {
            let available = digits_at(text, pos);
            let width = if count == 2 {
                2
            } else {
                let most = if letter == 'y' { 9 } else { 2 };
                available.saturating_sub(reserved).min(most)
            };
            let least = if letter == 'y' { count } else { 1 };
            if width < least || width > available {
                return None;
            }
            let value: i64 = text[pos..pos + width].parse().ok()?;
            let slot = match letter {
                'y' => {
                    set(&mut self.year, if count == 2 { 2000 + value } else { value })?;
                    return Some(pos + width);
                }
                'M' | 'L' => &mut self.month,
                'd' => &mut self.day,
                'H' => &mut self.hour,
                'k' => {
                    set(&mut self.hour, if value == 24 { 0 } else { value }).filter(|_| (1..=24).contains(&value))?;
                    return Some(pos + width);
                }
                'h' => {
                    (1..=12).contains(&value).then_some(())?;
                    &mut self.clock_hour
                }
                'K' => {
                    (0..=11).contains(&value).then_some(())?;
                    &mut self.clock_hour
                }
                'm' => &mut self.minute,
                _ => &mut self.second,
            };
            set(slot, value)?;
            return Some(pos + width);
        }
        match letter {
            'M' | 'L' => {
                let (i, len) = word_at(text, pos, &MONTHS, count)?;
                set(&mut self.month, i as i64 + 1)?;
                Some(pos + len)
            }
            'E' => {
                let (i, len) = word_at(text, pos, &DAYS, count)?;
                self.weekday = Some(i as u32);
                Some(pos + len)
            }
            'a' => {
                let (i, len) = word_at(text, pos, &["AM", "PM"], 3)?;
                self.pm = Some(i == 1);
                Some(pos + len)
            }
            'X' | 'x' | 'Z' => self.read_offset(text, pos, letter, count),
            'V' => {
                // The longest run of a zone id's characters that is a zone.
                let rest = &text.as_bytes()[pos..];
                let run = rest
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'+' | b'-' | b':'))
                    .count();
                let (len, zone) = (1..=run)
                    .rev()
                    .find_map(|len| super::zones::ZoneId::parse(&text[pos..pos + len]).map(|z| (len, z)))?;
                self.zone = Some(zone);
                Some(pos + len)
            }
            _ => None,
        }
    }

    fn read_offset(&mut self, text: &str, pos: usize, letter: char, count: usize) -> Option<usize> {
        let rest = &text.as_bytes()[pos..];
        let zulu = letter == 'X' || (letter == 'Z' && count == 5);
        if zulu && rest.first() == Some(&b'Z') {
            self.offset_seconds = Some(0);
            return Some(pos + 1);
        }
        let sign = match rest.first() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return None,
        };
        let two = |at: usize| -> Option<i64> {
            let d = rest.get(at..at + 2)?;
            d.iter().all(u8::is_ascii_digit).then(|| i64::from(d[0] - b'0') * 10 + i64::from(d[1] - b'0'))
        };
        let hours = two(1)?;
        let colon = matches!((letter, count), ('X' | 'x', 3 | 5) | ('Z', 5));
        let minutes_optional = letter != 'Z' && count == 1;
        let (minutes, used) = if colon {
            if rest.get(3) != Some(&b':') {
                return None;
            }
            (two(4)?, 6)
        } else {
            match two(3) {
                Some(m) => (m, 5),
                None if minutes_optional => (0, 3),
                None => return None,
            }
        };
        if hours > 18 || minutes > 59 {
            return None;
        }
        self.offset_seconds = Some(sign * (hours * 3600 + minutes * 60));
        Some(pos + used)
    }

    fn resolve(&self) -> Option<i64> {
        let date = NaiveDate::from_ymd_opt(
            i32::try_from(self.year.unwrap_or(1970)).ok()?,
            u32::try_from(self.month.unwrap_or(1)).ok()?,
            u32::try_from(self.day.unwrap_or(1)).ok()?,
        )?;
        if let Some(w) = self.weekday
            && date.weekday().num_days_from_monday() != w
        {
            return None;
        }
        let hour = match (self.clock_hour, self.pm) {
            (Some(h), pm) => {
                let h = h % 12 + if pm == Some(true) { 12 } else { 0 };
                if let Some(h24) = self.hour
                    && h24 != h
                {
                    return None;
                }
                h
            }
            (None, Some(pm)) => match self.hour {
                Some(h) if (h >= 12) != pm => return None,
                Some(h) => h,
                None => 0,
            },
            (None, None) => self.hour.unwrap_or(0),
        };
        let time = NaiveTime::from_hms_micro_opt(
            u32::try_from(hour).ok()?,
            u32::try_from(self.minute.unwrap_or(0)).ok()?,
            u32::try_from(self.second.unwrap_or(0)).ok()?,
            u32::try_from(self.micros.unwrap_or(0)).ok()?,
        )?;
        // The wall clock; the offset or zone is applied by the caller.
        Some(micros_of_datetime(date.and_time(time)))
    }
}
