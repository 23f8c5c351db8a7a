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

pub fn write_all(root: &Path) -> Result<()> {
    let dir = root.join("data/samples");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("trips.csv"), trips_csv(240))?;
    println!("wrote {}", dir.join("trips.csv").display());
    Ok(())
}
