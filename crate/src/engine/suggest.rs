//! "Did you mean …?": the nearest name by edit distance.

/// The candidate closest to `name`, if it is close enough to be a typo.
pub fn nearest(name: &str, candidates: &[String]) -> Option<String> {
    let lower = name.to_lowercase();
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .iter()
        .map(|c| (distance(&lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.clone())
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
    }
}
