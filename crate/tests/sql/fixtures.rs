//! The corpus's fixture tables, generated deterministically (a small LCG, no
//! rand crate) and committed as Parquet in `crate/tests/sql/fixtures/`.
//!
//! `RIFFLE_SQL_FIXTURES=write cargo test -p riffle --test sql_corpus fixtures`
//! rewrites the files; without it the test checks that the committed files
//! are exactly what this generator makes. Changing a table changes Spark's
//! answers: record them again afterwards (see `worker/tests/sql_corpus.rs`).
//!
//! Timestamps are `Datetime(Microseconds, "UTC")`, which Parquet stores as
//! TIMESTAMP(MICROS, isAdjustedToUTC) and Spark reads as `timestamp`.

#![allow(dead_code)]

use polars::prelude::*;
use polars_io::parquet::write::{ParquetCompression, ParquetWriter};

/// The fixture tables, in the order the corpus lists them.
pub const TABLES: &[&str] = &["trips", "zones", "events", "meter", "tariffs", "holidays"];

/// A 64-bit linear congruential generator (Knuth's MMIX constants).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Picks by weight: `items` are (weight, value).
    fn weighted<'a, T>(&mut self, items: &'a [(u64, T)]) -> &'a T {
        let total: u64 = items.iter().map(|(w, _)| w).sum();
        let mut at = self.below(total);
        for (w, v) in items {
            if at < *w {
                return v;
            }
            at -= w;
        }
        &items[items.len() - 1].1
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Microseconds since the epoch of a UTC civil time.
fn micros(y: i64, mo: u32, d: u32, h: i64, mi: i64, s: i64) -> i64 {
    let days = super::corpus::days_from_civil(y, mo, d);
    ((days * 86_400) + h * 3600 + mi * 60 + s) * 1_000_000
}

fn utc(name: &str, values: Vec<i64>) -> PolarsResult<Column> {
    Ok(Series::new(name.into(), values)
        .cast(&DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)))?
        .into_column())
}

fn structs(name: &str, len: usize, fields: &[Series]) -> PolarsResult<Series> {
    Ok(StructChunked::from_series(name.into(), len, fields.iter())?.into_series())
}

/// The zone lookup: real NYC taxi zone ids. 264 and 265 (unknown, outside
/// NYC) and 7 (Astoria) occur in trips but not here; 1 (Newark) is only a
/// drop-off.
const ZONES: &[(i32, &str, &str, &str)] = &[
    (1, "EWR", "Newark Airport", "EWR"),
    (4, "Manhattan", "Alphabet City", "Yellow Zone"),
    (13, "Manhattan", "Battery Park City", "Yellow Zone"),
    (43, "Manhattan", "Central Park", "Yellow Zone"),
    (48, "Manhattan", "Clinton East", "Yellow Zone"),
    (68, "Manhattan", "East Chelsea", "Yellow Zone"),
    (79, "Manhattan", "East Village", "Yellow Zone"),
    (132, "Queens", "JFK Airport", "Airports"),
    (138, "Queens", "LaGuardia Airport", "Airports"),
    (161, "Manhattan", "Midtown Center", "Yellow Zone"),
    (181, "Brooklyn", "Park Slope", "Boro Zone"),
    (186, "Manhattan", "Penn Station/Madison Sq West", "Yellow Zone"),
    (230, "Manhattan", "Times Sq/Theatre District", "Yellow Zone"),
    (236, "Manhattan", "Upper East Side North", "Yellow Zone"),
    (255, "Brooklyn", "Williamsburg (North Side)", "Boro Zone"),
];

pub fn zones() -> PolarsResult<DataFrame> {
    df! {
        "zone_id" => ZONES.iter().map(|z| z.0).collect::<Vec<i32>>(),
        "borough" => ZONES.iter().map(|z| z.1).collect::<Vec<_>>(),
        "zone" => ZONES.iter().map(|z| z.2).collect::<Vec<_>>(),
        "service_zone" => ZONES.iter().map(|z| z.3).collect::<Vec<_>>(),
    }
}

const PICKUP_ZONES: &[(u64, i32)] = &[
    (9, 161),
    (9, 230),
    (8, 236),
    (7, 186),
    (7, 48),
    (6, 79),
    (5, 68),
    (5, 43),
    (4, 4),
    (3, 13),
    (5, 132),
    (4, 138),
    (3, 181),
    (3, 255),
    (2, 264),
    (1, 265),
    (1, 7),
];

pub fn trips() -> PolarsResult<DataFrame> {
    let mut r = Lcg(20_240_101);
    let n = 240;
    let (mut ids, mut vendors, mut pickups, mut dropoffs) = (vec![], vec![], vec![], vec![]);
    let (mut pu, mut dz, mut passengers, mut distances) = (vec![], vec![], vec![], vec![]);
    let (mut fares, mut tips, mut payments) = (vec![], vec![], vec![]);
    let start = micros(2024, 1, 1, 0, 0, 0);
    for i in 0..n {
        ids.push(1000 + i as i64);
        vendors.push(*r.weighted(&[(45, "CMT"), (48, "VTS"), (7, "DDS")]));
        // 121 days from January 1 to April 30, in trip order; every 20th trip
        // starts in the same second as the one before it.
        let pickup = if i % 20 == 7 {
            pickups[i - 1]
        } else {
            let day = (i as i64 * 121) / n as i64;
            let hour =
                *r.weighted(&[(2, 0), (1, 3), (3, 7), (5, 8), (4, 9), (4, 12), (4, 15), (6, 18), (5, 19), (3, 22)]);
            start + ((day * 86_400) + hour * 3600 + r.int(0, 3599)) * 1_000_000
        };
        pickups.push(pickup);
        let from = *r.weighted(PICKUP_ZONES);
        let airport = from == 132 || from == 138;
        let to = if airport {
            *r.pick(&[161, 230, 236, 186, 48])
        } else if r.chance(6) {
            *r.pick(&[132, 138, 1])
        } else {
            *r.weighted(PICKUP_ZONES)
        };
        pu.push(from);
        dz.push(to);
        let long = airport || to == 132 || to == 138 || to == 1;
        let distance = if long { r.int(1000, 2100) as f64 / 100.0 } else { r.int(30, 900) as f64 / 100.0 };
        distances.push(distance);
        let minutes = if long { r.int(25, 70) } else { r.int(3, 40) };
        dropoffs.push(pickup + (minutes * 60 + r.int(0, 59)) * 1_000_000);
        passengers.push(if r.chance(5) {
            None
        } else {
            Some(*r.weighted(&[(2, 0), (60, 1), (20, 2), (8, 3), (5, 4), (3, 5), (2, 6)]))
        });
        let payment = *r.weighted(&[(64, Some("card")), (26, Some("cash")), (4, Some("dispute")), (6, None)]);
        payments.push(payment);
        // JFK's flat fare, a minimum fare, else metered: deliberate ties.
        let fare = if r.chance(4) {
            None
        } else if from == 132 || to == 132 {
            Some(70.0)
        } else if distance < 0.8 {
            Some(10.0)
        } else {
            Some(round2(3.0 + 2.8 * distance + minutes as f64 * 0.35))
        };
        fares.push(fare);
        let tip = match (payment, fare) {
            (Some("card"), Some(f)) => round2(f * r.int(0, 25) as f64 / 100.0),
            _ => 0.0,
        };
        tips.push(tip);
    }
    DataFrame::new(vec![
        Series::new("trip_id".into(), ids).into_column(),
        Series::new("vendor".into(), vendors).into_column(),
        utc("pickup_ts", pickups)?,
        utc("dropoff_ts", dropoffs)?,
        Series::new("pickup_zone_id".into(), pu).into_column(),
        Series::new("dropoff_zone_id".into(), dz).into_column(),
        Series::new("passengers".into(), passengers).into_column(),
        Series::new("distance".into(), distances).into_column(),
        Series::new("fare".into(), fares).into_column(),
        Series::new("tip".into(), tips).into_column(),
        Series::new("payment_type".into(), payments).into_column(),
    ])
}

const TAGS: &[(u64, Option<&str>)] = &[
    (5, Some("pvp;daily;new")),
    (5, Some("pve")),
    (4, Some("pvp;ranked")),
    (4, Some("daily")),
    (2, Some("pve;daily;event;weekend")),
    (2, Some("")),
    (2, None),
];

const AGENTS: &[&str] = &[
    "Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Safari/604.1",
    "curl/8.5.0",
    "python-requests/2.31.0",
    "okhttp/4.12.0",
];

pub fn events() -> PolarsResult<DataFrame> {
    let mut r = Lcg(1_706_745_600);
    let n = 120;
    let mut at = micros(2024, 2, 1, 8, 0, 0);
    let (mut ids, mut ts, mut users, mut types) = (vec![], vec![], vec![], vec![]);
    let (mut swords, mut prices, mut levels, mut items) = (vec![], vec![], vec![], vec![]);
    let (mut tags, mut tag_lists, mut raws) = (vec![], vec![], vec![]);
    let (mut hosts, mut agents, mut accepts) = (vec![], vec![], vec![]);
    let item_dtype =
        DataType::Struct(vec![Field::new("name".into(), DataType::String), Field::new("qty".into(), DataType::Int32)]);
    let item_list = |list: &[(&str, i32)]| -> PolarsResult<Series> {
        let names = Series::new("name".into(), list.iter().map(|x| x.0).collect::<Vec<_>>());
        let qty = Series::new("qty".into(), list.iter().map(|x| x.1).collect::<Vec<i32>>());
        structs("", list.len(), &[names, qty])
    };
    for i in 0..n {
        let id = 1 + i as i64;
        ids.push(id);
        // Kafka timestamps have milliseconds; events 40 and 41 arrive in the same millisecond.
        if i != 40 {
            at += (r.int(20, 5400) * 1000 + r.int(0, 999)) * 1000;
        }
        ts.push(at);
        let user = format!(
            "u{:02}",
            r.weighted(&[
                (6, 1),
                (5, 2),
                (4, 3),
                (4, 4),
                (3, 5),
                (3, 6),
                (2, 7),
                (2, 8),
                (2, 9),
                (1, 10),
                (1, 11),
                (1, 12)
            ])
        );
        let kind = *r.weighted(&[(35, "default"), (25, "purchase_sword"), (20, "level_up"), (20, "purchase_potion")]);
        let mut raw = format!("{{\"event_id\": {id}, \"event_type\": \"{kind}\", \"user\": \"{user}\"");
        let (mut sword, mut price, mut level) = (None, None, None);
        let list: Option<Vec<(&str, i32)>> = match kind {
            "purchase_sword" => {
                let s = *r.pick(&["katana", "claymore", "rapier", "scimitar"]);
                let p = *r.pick(&[9.99, 14.99, 24.99, 49.0]);
                sword = Some(s);
                price = Some(p);
                raw.push_str(&format!(", \"sword\": \"{s}\""));
                match r.below(10) {
                    0..=4 => raw.push_str(&format!(", \"amount\": {p}")),
                    5..=8 => raw.push_str(&format!(", \"amount\": \"{p:.2}\"")),
                    _ => {}
                }
                Some(vec![(s, 1)])
            }
            "purchase_potion" => {
                let mut list = Vec::new();
                for name in ["health", "mana", "stamina"] {
                    if list.is_empty() || r.chance(40) {
                        list.push((name, r.int(1, 5) as i32));
                    }
                }
                let p = round2(list.iter().map(|x| f64::from(x.1)).sum::<f64>() * 1.5);
                price = Some(p);
                if r.chance(60) {
                    raw.push_str(&format!(", \"amount\": {p}"));
                } else {
                    raw.push_str(&format!(", \"amount\": \"{p}\""));
                }
                Some(list)
            }
            "level_up" => {
                let l = r.int(2, 40) as i32;
                level = Some(l);
                if r.chance(70) {
                    raw.push_str(&format!(", \"level\": {l}"));
                } else {
                    raw.push_str(&format!(", \"level\": \"{l}\""));
                }
                Some(vec![])
            }
            _ => {
                if r.chance(50) {
                    None
                } else {
                    Some(vec![])
                }
            }
        };
        if r.chance(70) {
            let os = *r.pick(&["ios", "android", "web"]);
            let version = *r.pick(&["1.4.2", "1.5.0", "2.0.1"]);
            raw.push_str(&format!(", \"client\": {{\"os\": \"{os}\", \"version\": \"{version}\"}}"));
        }
        raw.push('}');
        // Two messages were cut off in transit.
        if i == 57 || i == 93 {
            raw.truncate(raw.len() / 2);
        }
        raws.push(raw);
        users.push(user);
        types.push(kind);
        swords.push(sword);
        prices.push(price);
        levels.push(level);
        items.push(match list {
            Some(l) => Some(item_list(&l)?),
            None => None,
        });
        let tag = *r.weighted(TAGS);
        tags.push(tag);
        tag_lists.push(tag.map(|t| {
            let parts: Vec<&str> = if t.is_empty() { vec![] } else { t.split(';').collect() };
            Series::new("".into(), parts)
        }));
        hosts.push(*r.weighted(&[(3, "game.example.com"), (1, "api.game.example.com")]));
        agents.push(*r.pick(AGENTS));
        accepts.push(*r.pick(&["*/*", "application/json", "text/html,application/xhtml+xml"]));
    }
    let empty_items = Series::new_empty("".into(), &item_dtype);
    let items: Vec<Option<Series>> =
        items.into_iter().map(|s| s.map(|s| if s.is_empty() { empty_items.clone() } else { s })).collect();
    let items = Series::new("items".into(), items).cast(&DataType::List(Box::new(item_dtype)))?;
    let payload = structs(
        "payload",
        n,
        &[
            Series::new("sword_type".into(), swords),
            Series::new("price".into(), prices),
            Series::new("level".into(), levels),
            items,
        ],
    )?;
    let empty_tags = Series::new_empty("".into(), &DataType::String);
    let tag_lists: Vec<Option<Series>> =
        tag_lists.into_iter().map(|s| s.map(|s| if s.is_empty() { empty_tags.clone() } else { s })).collect();
    let tag_list = Series::new("tag_list".into(), tag_lists).cast(&DataType::List(Box::new(DataType::String)))?;
    let headers = structs(
        "headers",
        n,
        &[
            Series::new("host".into(), hosts),
            Series::new("user_agent".into(), agents),
            Series::new("accept".into(), accepts),
        ],
    )?;
    DataFrame::new(vec![
        Series::new("event_id".into(), ids).into_column(),
        utc("ts", ts)?,
        Series::new("user_id".into(), users).into_column(),
        Series::new("event_type".into(), types).into_column(),
        payload.into_column(),
        Series::new("tags".into(), tags).into_column(),
        tag_list.into_column(),
        Series::new("raw".into(), raws).into_column(),
        headers.into_column(),
    ])
}

/// London smart meters: (LCLid, tariff, Acorn, group, base kWh per half hour).
const HOUSEHOLDS: &[(&str, &str, &str, &str, f64)] = &[
    ("MAC000002", "Std", "ACORN-A", "Affluent", 0.32),
    ("MAC000033", "Std", "ACORN-C", "Affluent", 0.27),
    ("MAC000246", "ToU", "ACORN-F", "Comfortable", 0.21),
    ("MAC000450", "Std", "ACORN-H", "Comfortable", 0.18),
    ("MAC001074", "ToU", "ACORN-L", "Adversity", 0.14),
    ("MAC003223", "Std", "ACORN-Q", "Adversity", 0.12),
];

pub fn meter() -> PolarsResult<DataFrame> {
    let mut r = Lcg(2_013_022_712);
    let (mut ids, mut tariffs, mut times, mut kwh, mut acorn, mut grouped) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let start = micros(2013, 2, 27, 12, 0, 0);
    for (k, (id, tariff, a, g, base)) in HOUSEHOLDS.iter().enumerate() {
        let first = start + k as i64 * 9 * 3600 * 1_000_000;
        for slot in 0..50i64 {
            let t = first + slot * 1800 * 1_000_000;
            let hour = (t / 1_000_000 / 3600).rem_euclid(24);
            // Morning and evening peaks, a quiet night.
            let shape = match hour {
                0..=5 => 0.45,
                6..=8 => 1.6,
                9..=16 => 0.9,
                17..=21 => 2.1,
                _ => 1.0,
            };
            ids.push(*id);
            tariffs.push(*tariff);
            times.push(t);
            kwh.push(if r.chance(3) {
                None
            } else {
                Some((base * shape * (0.7 + r.below(60) as f64 / 100.0) * 1000.0).round() / 1000.0)
            });
            acorn.push(*a);
            grouped.push(*g);
        }
    }
    DataFrame::new(vec![
        Series::new("LCLid".into(), ids).into_column(),
        Series::new("stdorToU".into(), tariffs).into_column(),
        utc("DateTime", times)?,
        Series::new("kwh".into(), kwh).into_column(),
        Series::new("Acorn".into(), acorn).into_column(),
        Series::new("Acorn_grouped".into(), grouped).into_column(),
    ])
}

/// Unit prices in pounds per kWh, as decimal(6,4) (Economy 7 style bands for ToU).
pub fn tariffs() -> PolarsResult<DataFrame> {
    let prices = Int128Chunked::from_vec("price_per_kwh".into(), vec![1434, 6720, 1176, 399])
        .into_decimal_unchecked(Some(6), 4)
        .into_series();
    let from = super::corpus::days_from_civil(2013, 1, 1) as i32;
    DataFrame::new(vec![
        Series::new("stdorToU".into(), ["Std", "ToU", "ToU", "ToU"]).into_column(),
        Series::new("band".into(), ["standard", "peak", "normal", "low"]).into_column(),
        prices.into_column(),
        Series::new("valid_from".into(), vec![from; 4]).cast(&DataType::Date)?.into_column(),
    ])
}

/// Holidays (a DATE column); the last is after the trips end.
pub fn holidays() -> PolarsResult<DataFrame> {
    let days: Vec<i32> = [(2024, 1, 1), (2024, 1, 15), (2024, 2, 19), (2024, 3, 17), (2024, 5, 27)]
        .iter()
        .map(|(y, m, d)| super::corpus::days_from_civil(*y, *m, *d) as i32)
        .collect();
    DataFrame::new(vec![
        Series::new("day".into(), days).cast(&DataType::Date)?.into_column(),
        Series::new(
            "name".into(),
            ["New Year's Day", "Martin Luther King Jr. Day", "Presidents' Day", "St. Patrick's Day", "Memorial Day"],
        )
        .into_column(),
        Series::new("federal".into(), [true, true, true, false, true]).into_column(),
    ])
}

pub fn table(name: &str) -> PolarsResult<DataFrame> {
    match name {
        "trips" => trips(),
        "zones" => zones(),
        "events" => events(),
        "meter" => meter(),
        "tariffs" => tariffs(),
        "holidays" => holidays(),
        other => Err(polars_err!(ComputeError: "no fixture named {other}")),
    }
}

/// The Parquet bytes of a generated table (Snappy, Spark's default).
pub fn parquet(name: &str) -> PolarsResult<Vec<u8>> {
    let mut df = table(name)?;
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes).with_compression(ParquetCompression::Snappy).finish(&mut df)?;
    Ok(bytes)
}
