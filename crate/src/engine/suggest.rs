//! "Did you mean …?": the nearest name by edit distance.

/// The candidate closest to `name`, if it is close enough to be a typo.
/// A name the same but for case or surrounding spaces wins over any typo.
pub fn nearest(name: &str, candidates: &[String]) -> Option<String> {
    let trimmed = name.trim().to_lowercase();
    if let Some(same) = candidates.iter().find(|c| c.trim().to_lowercase() == trimmed) {
        return Some(same.clone());
    }
    let lower = name.to_lowercase();
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .iter()
        .map(|c| (distance(&lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.clone())
}

/// A column name as SQL needs it written: as is when it is a plain
/// identifier, else in backticks (so a trailing space shows).
pub fn quoted(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain { name.to_string() } else { format!("`{}`", name.replace('`', "``")) }
}

/// Levenshtein distance over characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb)).min(row[j] + 1).min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos() {
        let names = vec!["purchases".to_string(), "events".to_string(), "zones".to_string()];
        assert_eq!(nearest("purchse", &names).as_deref(), Some("purchases"));
        assert_eq!(nearest("Events", &names).as_deref(), Some("events"));
        assert_eq!(nearest("taxi", &names), None);
        let meter = vec!["KWH/hh (per half hour) ".to_string(), "KWH".to_string()];
        assert_eq!(nearest("kwh/HH (per half hour)", &meter).as_deref(), Some("KWH/hh (per half hour) "));
        assert_eq!(quoted("KWH/hh "), "`KWH/hh `");
        assert_eq!(quoted("price_1"), "price_1");
    }
}
