//! Time zone ids as Spark reads them in text (`Europe/London`, `UTC`,
//! `+02:00`, `GMT+1`) and a wall-clock time in a zone as an instant, with
//! Java's rules: a time in a gap moves forward by the gap, a time in an
//! overlap takes the earlier offset.

use chrono::{Duration, LocalResult, Offset, TimeZone as _};
use polars::prelude::TimeZone;

use super::text::zone_offset_seconds;

/// A zone: a fixed offset or a region with its rules.
#[derive(Debug, Clone)]
pub(crate) enum ZoneId {
    Fixed(i64),
    Region(TimeZone),
}

impl ZoneId {
    pub(crate) const UTC: ZoneId = ZoneId::Fixed(0);

    /// Spark's zone id text: an offset form (`Z`, `UTC`, `GMT+1`, `+02:00`)
    /// or a region id (`Europe/London`, `America/New_York`, `CET`).
    pub(crate) fn parse(text: &str) -> Option<ZoneId> {
        let text = text.trim();
        if let Some(seconds) = zone_offset_seconds(text) {
            return Some(ZoneId::Fixed(seconds));
        }
        if text.is_empty() || !text.chars().all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c)) {
            return None;
        }
        let tz = TimeZone::opt_try_new(Some(text)).ok().flatten()?;
        // The rules must be there (polars checks the name only).
        tz.to_chrono().ok()?;
        Some(ZoneId::Region(tz))
    }

    /// The instant (microseconds since the epoch) of the wall-clock time
    /// `local` (microseconds as if UTC) in this zone.
    pub(crate) fn instant(&self, local: i64) -> Option<i64> {
        match self {
            ZoneId::Fixed(seconds) => local.checked_sub(seconds.checked_mul(1_000_000)?),
            ZoneId::Region(tz) => {
                let tz = tz.to_chrono().ok()?;
                let naive = chrono::DateTime::from_timestamp_micros(local)?.naive_utc();
                match tz.from_local_datetime(&naive) {
                    LocalResult::Single(t) => Some(t.timestamp_micros()),
                    // The earlier offset is the earlier instant.
                    LocalResult::Ambiguous(a, b) => Some(a.timestamp_micros().min(b.timestamp_micros())),
                    // In a gap: the offset before it, which moves the time forward by the gap.
                    LocalResult::None => {
                        let before = naive.checked_sub_signed(Duration::days(1))?;
                        let offset = tz.offset_from_utc_datetime(&before).fix().local_minus_utc();
                        local.checked_sub(i64::from(offset) * 1_000_000)
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(text: &str) -> i64 {
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap().and_utc().timestamp_micros()
    }

    #[test]
    fn java_rules_for_gaps_and_overlaps() {
        let london = ZoneId::parse("Europe/London").unwrap();
        let hour = 3_600_000_000;
        // 01:30 does not exist on 2024-03-31 (01:00 -> 02:00): 02:30 BST, 01:30 UTC.
        assert_eq!(london.instant(local("2024-03-31 01:30:00")), Some(local("2024-03-31 01:30:00")));
        assert_eq!(london.instant(local("2024-03-31 02:30:00")), Some(local("2024-03-31 01:30:00")));
        // 01:30 happens twice on 2024-10-27: the earlier, BST.
        assert_eq!(london.instant(local("2024-10-27 01:30:00")), Some(local("2024-10-27 01:30:00") - hour));
        assert_eq!(london.instant(local("2024-07-01 12:00:00")), Some(local("2024-07-01 11:00:00")));
        let ny = ZoneId::parse("America/New_York").unwrap();
        assert_eq!(ny.instant(local("2024-01-15 07:00:00")), Some(local("2024-01-15 12:00:00")));
        assert_eq!(
            ZoneId::parse("+05:30").unwrap().instant(local("2024-01-01 05:30:00")),
            Some(local("2024-01-01 00:00:00"))
        );
        assert_eq!(ZoneId::parse("UTC").unwrap().instant(0), Some(0));
        assert!(ZoneId::parse("Mars/Base").is_none());
        assert!(ZoneId::parse("").is_none());
    }
}
