//! Generates the bundled sample data under `data/samples/`, deterministically,
//! so that the files in git can always be made again (`cargo xtask samples`).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

/// A small linear congruential generator: the same numbers on every machine.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const ZONES: [&str; 6] = ["Astoria", "Chelsea", "Harlem", "Midtown", "SoHo", "Williamsburg"];

/// Taxi-like trips: one row per trip in January 2024.
pub fn trips_csv(rows: usize) -> String {
    let mut rng = Lcg(42);
    let mut out = String::from("trip_id,pickup_datetime,zone,passengers,distance_km,fare\n");
    for id in 1..=rows {
        let day = 1 + rng.below(31);
        let (hour, minute) = (rng.below(24), rng.below(60));
        let zone = ZONES[rng.below(ZONES.len() as u64) as usize];
        let passengers = 1 + rng.below(4);
        let distance_tenths = 5 + rng.below(250);
        // Fare in cents: a flag drop plus a rate per 100 m, so it tracks distance.
        let fare_cents = 300 + distance_tenths * 17 + rng.below(200);
        let _ = writeln!(
            out,
            "{id},2024-01-{day:02} {hour:02}:{minute:02}:00,{zone},{passengers},{}.{},{}.{:02}",
            distance_tenths / 10,
            distance_tenths % 10,
            fare_cents / 100,
            fare_cents % 100
        );
    }
    out
}

/// The zone lookup table the trips join to.
pub fn zones_csv() -> String {
    let boroughs = ["Queens", "Manhattan", "Manhattan", "Manhattan", "Manhattan", "Brooklyn"];
    let mut out = String::from("zone_id,zone,borough\n");
    for (i, (zone, borough)) in ZONES.iter().zip(boroughs).enumerate() {
        let _ = writeln!(out, "{},{zone},{borough}", i + 1);
    }
    out
}

const NAMES: [&str; 5] = ["Ada Lovelace", "Grace Hopper", "Linus Torvalds", "Margaret Hamilton", "Ken Thompson"];

/// A JSON array of commit-like records, nested the way GitHub's API nests them.
pub fn commits_json(count: usize) -> String {
    let mut rng = Lcg(7);
    let mut items = Vec::with_capacity(count);
    for i in 0..count {
        let author = NAMES[rng.below(NAMES.len() as u64) as usize];
        let committer = NAMES[rng.below(NAMES.len() as u64) as usize];
        let email = |name: &str| format!("{}@example.org", name.split(' ').next().unwrap_or("dev").to_lowercase());
        let sha = format!("{:016x}{:016x}", rng.next(), rng.next());
        let (day, hour) = (1 + rng.below(28), rng.below(24));
        let files = 1 + rng.below(5);
        let parents = if i == 0 { String::new() } else { format!(r#"{{"sha": "parent{:06}"}}"#, i - 1) };
        items.push(format!(
            r#"  {{"sha": "{sha}", "commit": {{"author": {{"name": "{author}", "email": "{}", "date": "2024-02-{day:02}T{hour:02}:00:00Z"}}, "committer": {{"name": "{committer}", "email": "{}", "date": "2024-02-{day:02}T{hour:02}:30:00Z"}}, "message": "Change number {i}: touch {files} files", "comment_count": {}}}, "stats": {{"additions": {}, "deletions": {}}}, "parents": [{parents}]}}"#,
            email(author),
            email(committer),
            rng.below(3),
            rng.below(200),
            rng.below(80),
        ));
    }
    format!("[\n{}\n]\n", items.join(",\n"))
}

/// Game events as the Flask API logged them: the event merged with request
/// headers. Three types with different fields; one line each.
pub fn game_events(count: usize) -> String {
    let mut rng = Lcg(11);
    let swords = ["katana", "claymore", "rapier"];
    let agents = ["curl/8.5.0", "Mozilla/5.0", "python-requests/2.31"];
    let mut out = String::new();
    for _ in 0..count {
        let headers = format!(
            r#""Host": "game.example:5000", "User-Agent": "{}", "Accept": "*/*""#,
            agents[rng.below(3) as usize]
        );
        let line = match rng.below(10) {
            0..=3 => format!(r#"{{"event_type": "default", {headers}}}"#),
            4..=7 => format!(
                r#"{{"event_type": "purchase_sword", "sword_type": "{}", "price": {}, {headers}}}"#,
                swords[rng.below(3) as usize],
                10 + rng.below(90)
            ),
            _ => format!(
                r#"{{"event_type": "join_guild", "guild": {{"name": "guild-{}", "level": {}}}, {headers}}}"#,
                rng.below(4),
                1 + rng.below(9)
            ),
        };
        let _ = writeln!(out, "{line}");
    }
    out
}

/// The Acorn groups of CACI's classification: A–E, F–J and K–Q.
fn acorn_group(letter: u8) -> &'static str {
    match letter {
        b'A'..=b'E' => "Affluent",
        b'F'..=b'J' => "Comfortable",
        _ => "Adversity",
    }
}

/// A household's use in one half hour, relative to its base load: low at
/// night, a morning peak (later at weekends) and a larger evening peak.
fn daily_shape(half_hour: u32, weekend: bool) -> f64 {
    let hour = half_hour as f64 / 2.0;
    let bump = |centre: f64, width: f64, height: f64| height * (-((hour - centre) / width).powi(2)).exp();
    let morning = if weekend { bump(9.5, 1.5, 1.0) } else { bump(7.75, 1.0, 1.1) };
    let midday = if weekend { bump(13.0, 2.0, 0.6) } else { bump(13.0, 2.0, 0.25) };
    0.55 + morning + midday + bump(18.75, 1.75, 1.9)
}

/// Smart-meter readings like the London "Smart Meters in London" data set:
/// `households` homes, half-hourly for `days` days from Monday 2013-01-07.
/// Time-of-use (ToU) homes use a little less in the 16:00–19:30 peak and a
/// little more at night, when their price is low.
pub fn energy_csv(households: u32, days: u32) -> String {
    let mut rng = Lcg(2013);
    let mut out = String::from("LCLid,stdorToU,DateTime,KWH/hh,Acorn,Acorn_grouped\n");
    for h in 0..households {
        let letter = b'A' + rng.below(17) as u8;
        let group = acorn_group(letter);
        let tou = rng.below(3) == 0;
        let base = match group {
            "Affluent" => 0.21,
            "Comfortable" => 0.17,
            _ => 0.14,
        } * (0.7 + rng.below(70) as f64 / 100.0);
        let id = format!("MAC{:06}", 100 + h * 37);
        let tariff = if tou { "ToU" } else { "Std" };
        for day in 0..days {
            // 2013-01-07 was a Monday; days 5 and 6 of each week are the weekend.
            let weekend = day % 7 >= 5;
            let date = 7 + day;
            for half_hour in 0..48 {
                let peak = (32..39).contains(&half_hour);
                let night = half_hour < 14;
                let tou_factor = match (tou, peak, night) {
                    (true, true, _) => 0.82,
                    (true, _, true) => 1.12,
                    _ => 1.0,
                };
                let noise = 0.75 + rng.below(500) as f64 / 1000.0;
                let kwh = base * daily_shape(half_hour, weekend) * tou_factor * noise;
                let _ = writeln!(
                    out,
                    "{id},{tariff},2013-01-{date:02} {:02}:{:02}:00,{kwh:.3},ACORN-{},{group}",
                    half_hour / 2,
                    (half_hour % 2) * 30,
                    letter as char
                );
            }
        }
    }
    out
}

/// The London smart-meter file's quirks, small: the header's
/// `KWH/hh (per half hour) ` with its trailing space, `.0000000` on every
/// timestamp, `Null` where a reading is missing, and CRLF line ends.
/// `households` homes, half-hourly for `days` days from 2012-11-13.
pub fn smart_meter_csv(households: u32, days: u32) -> String {
    let mut rng = Lcg(2012);
    let mut out = String::from("LCLid,stdorToU,DateTime,KWH/hh (per half hour) ,Acorn,Acorn_grouped\r\n");
    for h in 0..households {
        let letter = b'A' + rng.below(17) as u8;
        let group = acorn_group(letter);
        let tariff = if rng.below(4) == 0 { "ToU" } else { "Std" };
        let id = format!("MAC{:06}", 2 + h * 11);
        for day in 0..days {
            for half_hour in 0..48 {
                let reading = if rng.below(40) == 0 {
                    "Null".to_string()
                } else {
                    let kwh = 0.05 + daily_shape(half_hour, false) * rng.below(200) as f64 / 1000.0;
                    format!("{kwh:.3}")
                };
                let _ = write!(
                    out,
                    "{id},{tariff},2012-11-{:02} {:02}:{:02}:00.0000000,{reading},ACORN-{},{group}\r\n",
                    13 + day,
                    half_hour / 2,
                    (half_hour % 2) * 30,
                    letter as char
                );
            }
        }
    }
    out
}

pub fn write_all(root: &Path) -> Result<()> {
    let dir = root.join("data/samples");
    std::fs::create_dir_all(&dir)?;
    let files = [
        ("trips.csv", trips_csv(240)),
        ("zones.csv", zones_csv()),
        ("commits.json", commits_json(100)),
        ("game_events.jsonl", game_events(60)),
        ("energy.csv", energy_csv(30, 14)),
        ("smart_meter.csv", smart_meter_csv(8, 2)),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text)?;
        println!("wrote {}", dir.join(name).display());
    }
    Ok(())
}
