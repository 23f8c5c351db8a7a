//! A deterministic generator of random Spark-SQL queries over the corpus's
//! fixture tables (`fixtures.rs`), for fuzzing the engine's SQL path.
//!
//! Each query comes from one seed (a splitmix64 stream, no rand crate), so
//! seed `n` is the same query on every machine and in every run. The grammar
//! is typed: it knows each fixture column's type and builds expressions of a
//! wanted type (integers, other numbers, strings, booleans, dates,
//! timestamps, arrays of strings) from column references, literals,
//! arithmetic, comparisons, logic, CASE/COALESCE/NULLIF/IF, CAST and
//! TRY_CAST, string, math and date functions, IS NULL, IN, BETWEEN and LIKE.
//! Queries are projections with WHERE, GROUP BY with aggregates and HAVING,
//! window functions, joins on the tables' natural keys (inner, left, semi,
//! anti), UNION ALL, subqueries in FROM, and ORDER BY with LIMIT.
//!
//! Every query is meant to be deterministic in Spark: an ORDER BY names every
//! output column (rows equal on all of them are indistinguishable, so the
//! order and any LIMIT are total), window functions that depend on row order
//! end their ORDER BY with the source's unique key, `collect_list` is
//! wrapped in `sort_array` or `size`, and every output column has a unique
//! alias. Queries that Spark refuses are fine: the recorded answer is then
//! Spark's error class.

#![allow(dead_code)]

/// splitmix64: a tiny, good-enough PRNG with a 64-bit state.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5249_4646_4c45_5351) // "RIFFLESQ"
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as usize) as i64
    }
}

/// The types the grammar tells apart. `Int` is integral (int, bigint),
/// `Num` any other number (double, decimal); `Arr` is array<string>.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Int,
    Num,
    Str,
    Bool,
    Date,
    Ts,
    Arr,
}

const SCALARS: &[Ty] = &[Ty::Int, Ty::Num, Ty::Str, Ty::Bool, Ty::Date, Ty::Ts];
/// Types with an order (for comparisons, min/max, ORDER BY).
const ORDERED: &[Ty] = &[Ty::Int, Ty::Num, Ty::Str, Ty::Date, Ty::Ts];

#[derive(Debug, Clone)]
struct Col {
    sql: String,
    ty: Ty,
}

/// What a FROM clause offers: its columns, a unique key (when known) and the
/// fixture tables it reads.
#[derive(Debug, Clone)]
struct Scope {
    cols: Vec<Col>,
    key: Vec<String>,
    tables: Vec<&'static str>,
    from: String,
}

fn table_columns(table: &str) -> (Vec<(&'static str, Ty)>, Vec<&'static str>) {
    use Ty::*;
    match table {
        "trips" => (
            vec![
                ("trip_id", Int),
                ("vendor", Str),
                ("pickup_ts", Ts),
                ("dropoff_ts", Ts),
                ("pickup_zone_id", Int),
                ("dropoff_zone_id", Int),
                ("passengers", Int),
                ("distance", Num),
                ("fare", Num),
                ("tip", Num),
                ("payment_type", Str),
            ],
            vec!["trip_id"],
        ),
        "zones" => (vec![("zone_id", Int), ("borough", Str), ("zone", Str), ("service_zone", Str)], vec!["zone_id"]),
        "events" => (
            vec![
                ("event_id", Int),
                ("ts", Ts),
                ("user_id", Str),
                ("event_type", Str),
                ("payload.price", Num),
                ("payload.level", Int),
                ("payload.sword_type", Str),
                ("tags", Str),
                ("tag_list", Arr),
                ("raw", Str),
                ("headers.host", Str),
            ],
            vec!["event_id"],
        ),
        "meter" => (
            vec![
                ("LCLid", Str),
                ("stdorToU", Str),
                ("DateTime", Ts),
                ("kwh", Num),
                ("Acorn", Str),
                ("Acorn_grouped", Str),
            ],
            vec!["LCLid", "DateTime"],
        ),
        "tariffs" => (
            vec![("stdorToU", Str), ("band", Str), ("price_per_kwh", Num), ("valid_from", Date)],
            vec!["stdorToU", "band"],
        ),
        "holidays" => (vec![("day", Date), ("name", Str), ("federal", Bool)], vec!["day"]),
        other => panic!("no fixture table {other}"),
    }
}

/// A single table, its columns qualified by `alias` when there is one.
fn table_scope(table: &'static str, alias: Option<&str>) -> Scope {
    let (cols, key) = table_columns(table);
    let q = |c: &str| match alias {
        Some(a) => format!("{a}.{c}"),
        None => c.to_string(),
    };
    Scope {
        cols: cols.iter().map(|(c, ty)| Col { sql: q(c), ty: *ty }).collect(),
        key: key.iter().map(|c| q(c)).collect(),
        tables: vec![table],
        from: match alias {
            Some(a) => format!("{table} {a}"),
            None => table.to_string(),
        },
    }
}

const STRINGS: &[&str] = &[
    "CMT",
    "VTS",
    "DDS",
    "card",
    "cash",
    "dispute",
    "Manhattan",
    "Queens",
    "Brooklyn",
    "EWR",
    "Yellow Zone",
    "Airports",
    "Boro Zone",
    "JFK Airport",
    "Std",
    "ToU",
    "peak",
    "low",
    "standard",
    "u01",
    "u05",
    "u12",
    "purchase_sword",
    "level_up",
    "default",
    "katana",
    "MAC000246",
    "ACORN-A",
    "Affluent",
    "Adversity",
    "pvp;daily;new",
    "daily",
    "game.example.com",
    "",
    " padded ",
    "Memorial Day",
    "2024-03-01",
    "42",
    "3.5",
    "abc",
];
const LIKES: &[&str] = &["C%", "%a%", "_T_", "Man%", "%Airport", "u0_", "%pvp%", "%", "%Day", "MAC%46", "%e_"];
const REGEXES: &[(&str, &str)] = &[
    ("[0-9]+", "#"),
    ("[aeiou]", ""),
    ("^[A-Z]", "X"),
    ("\\\\s+", "_"),
    ("a|e", "<$0>"),
    ("(\\\\w+)@", "$1"),
    ("[;/]", ","),
];
const SPLITS: &[&str] = &[",", " ", ";", "[;/ ]", "a"];
const DATE_FORMATS: &[&str] = &["yyyy-MM-dd", "yyyy-MM", "HH:mm", "EEE", "MMM d, yyyy", "yyyyMMdd HH:mm:ss", "D"];
const TRUNC_UNITS: &[&str] = &["YEAR", "QUARTER", "MONTH", "WEEK", "DAY", "HOUR", "MINUTE"];
const DATES: &[&str] =
    &["2024-01-01", "2024-01-15", "2024-02-19", "2024-02-29", "2024-03-17", "2024-04-30", "2013-02-28"];
const TIMESTAMPS: &[&str] = &[
    "2024-01-01 00:00:00",
    "2024-02-01 12:30:00",
    "2024-03-15 18:00:00",
    "2024-04-30 23:59:59",
    "2013-02-28 06:00:00",
    "2024-02-05 09:15:00.5",
];

struct Gen {
    r: Rng,
    /// Whether the query uses a feature (for its tags).
    tags: Vec<&'static str>,
}

impl Gen {
    fn tag(&mut self, t: &'static str) {
        if !self.tags.contains(&t) {
            self.tags.push(t);
        }
    }

    fn column(&mut self, scope: &Scope, ty: Ty) -> Option<String> {
        let cols: Vec<&Col> = scope.cols.iter().filter(|c| c.ty == ty).collect();
        if cols.is_empty() { None } else { Some(self.r.pick(&cols).sql.clone()) }
    }

    fn literal(&mut self, ty: Ty) -> String {
        let r = &mut self.r;
        if r.chance(4) {
            return match ty {
                Ty::Int => "CAST(NULL AS INT)".into(),
                Ty::Num => "CAST(NULL AS DOUBLE)".into(),
                Ty::Str => "CAST(NULL AS STRING)".into(),
                _ => "NULL".into(),
            };
        }
        match ty {
            Ty::Int => match r.below(10) {
                0 => "-1".into(),
                1 => "2147483647".into(),
                2 => format!("{}L", r.range(0, 5000)),
                3 => "0".into(),
                _ => r.range(1, 100).to_string(),
            },
            Ty::Num => match r.below(6) {
                0 => format!("{}.{}", r.range(0, 80), r.range(0, 99)),
                1 => format!("{}.5D", r.range(-5, 60)),
                2 => "1e2".into(),
                3 => "0.25".into(),
                4 => format!("-{}.75", r.range(0, 9)),
                _ => format!("{}.0", r.range(0, 100)),
            },
            Ty::Str => format!("'{}'", r.pick(STRINGS)),
            Ty::Bool => r.pick(&["true", "false"]).to_string(),
            Ty::Date => format!("DATE '{}'", r.pick(DATES)),
            Ty::Ts => format!("TIMESTAMP '{}'", r.pick(TIMESTAMPS)),
            Ty::Arr => format!("array('{}', '{}')", r.pick(STRINGS), r.pick(STRINGS)),
        }
    }

    fn leaf(&mut self, scope: &Scope, ty: Ty) -> String {
        if !self.r.chance(15)
            && let Some(c) = self.column(scope, ty)
        {
            return c;
        }
        if self.r.chance(25) {
            return self.literal(ty);
        }
        // No column of the type: one made from a column of another type.
        let from = |g: &mut Gen, ty: Ty| g.column(scope, ty);
        let made = match ty {
            Ty::Arr => from(self, Ty::Str).map(|s| {
                let p = self.r.pick(SPLITS);
                self.tag("fuzz.split");
                format!("split({s}, '{p}')")
            }),
            Ty::Bool => {
                let ty = *self.r.pick(&[Ty::Int, Ty::Num, Ty::Str, Ty::Ts]);
                match from(self, ty) {
                    Some(c) if self.r.chance(25) => Some(format!("{c} IS NOT NULL")),
                    Some(c) => {
                        let op = *self.r.pick(&["=", "<", ">", "<>"]);
                        Some(format!("{c} {op} {}", self.literal(ty)))
                    }
                    None => None,
                }
            }
            Ty::Date => from(self, Ty::Ts).map(|c| format!("CAST({c} AS DATE)")),
            Ty::Ts => from(self, Ty::Date).map(|c| format!("CAST({c} AS TIMESTAMP)")),
            Ty::Num => from(self, Ty::Int),
            Ty::Int => from(self, Ty::Str).map(|c| format!("length({c})")),
            Ty::Str => from(self, Ty::Int).map(|c| format!("CAST({c} AS STRING)")),
        };
        made.unwrap_or_else(|| self.literal(ty))
    }

    fn expr(&mut self, scope: &Scope, ty: Ty, depth: u32) -> String {
        if depth == 0 || self.r.chance(35) {
            return self.leaf(scope, ty);
        }
        let d = depth - 1;
        // Shapes of any type, a fifth of the time.
        if ty != Ty::Arr && self.r.chance(20) {
            return self.generic(scope, ty, d);
        }
        match ty {
            Ty::Int => self.int_expr(scope, d),
            Ty::Num => self.num_expr(scope, d),
            Ty::Str => self.str_expr(scope, d),
            Ty::Bool => self.bool_expr(scope, d),
            Ty::Date => self.date_expr(scope, d),
            Ty::Ts => self.ts_expr(scope, d),
            Ty::Arr => match self.r.below(3) {
                0 => {
                    self.tag("fuzz.sort_array");
                    format!("sort_array({})", self.expr(scope, Ty::Arr, d))
                }
                1 => {
                    let s = self.expr(scope, Ty::Str, d);
                    self.tag("fuzz.split");
                    format!("split({s}, '{}')", self.r.pick(SPLITS))
                }
                _ => self.leaf(scope, Ty::Arr),
            },
        }
    }

    /// An expression of one of `types`.
    fn expr_of(&mut self, scope: &Scope, types: &[Ty], depth: u32) -> String {
        let ty = *self.r.pick(types);
        self.expr(scope, ty, depth)
    }

    fn generic(&mut self, scope: &Scope, ty: Ty, d: u32) -> String {
        match self.r.below(5) {
            0 | 1 => {
                self.tag("fuzz.case");
                let mut out = String::from("CASE");
                for _ in 0..self.r.range(1, 2) {
                    let c = self.expr(scope, Ty::Bool, d);
                    let v = self.expr(scope, ty, d);
                    out.push_str(&format!(" WHEN {c} THEN {v}"));
                }
                if self.r.chance(75) {
                    out.push_str(&format!(" ELSE {}", self.expr(scope, ty, d)));
                }
                out.push_str(" END");
                out
            }
            2 => {
                self.tag("fuzz.coalesce");
                let n = self.r.range(2, 3);
                let args: Vec<String> = (0..n).map(|_| self.expr(scope, ty, d)).collect();
                format!("coalesce({})", args.join(", "))
            }
            3 => {
                self.tag("fuzz.nullif");
                let a = self.expr(scope, ty, d);
                let b = self.leaf(scope, ty);
                format!("nullif({a}, {b})")
            }
            _ => {
                self.tag("fuzz.if");
                let c = self.expr(scope, Ty::Bool, d);
                let a = self.expr(scope, ty, d);
                let b = self.expr(scope, ty, d);
                format!("if({c}, {a}, {b})")
            }
        }
    }

    /// A divisor: usually guarded with nullif(x, 0), as Spark (ANSI) fails on zero.
    fn divisor(&mut self, scope: &Scope, ty: Ty, d: u32) -> String {
        let x = self.expr(scope, ty, d);
        if self.r.chance(70) { format!("nullif({x}, 0)") } else { x }
    }

    fn int_expr(&mut self, scope: &Scope, d: u32) -> String {
        match self.r.below(13) {
            0 | 1 => {
                self.tag("fuzz.arithmetic");
                let op = *self.r.pick(&["+", "-", "*", "+"]);
                format!("({} {op} {})", self.expr(scope, Ty::Int, d), self.expr(scope, Ty::Int, d))
            }
            2 => {
                self.tag("fuzz.arithmetic");
                let a = self.expr(scope, Ty::Int, d);
                format!("({a} % {})", self.divisor(scope, Ty::Int, d))
            }
            3 => {
                self.tag("fuzz.length");
                format!("length({})", self.expr(scope, Ty::Str, d))
            }
            4 => {
                let f = *self.r.pick(&["year", "month", "dayofmonth", "hour"]);
                self.tag("fuzz.date_part");
                let ty = if f == "hour" { Ty::Ts } else { *self.r.pick(&[Ty::Date, Ty::Ts]) };
                format!("{f}({})", self.expr(scope, ty, d))
            }
            5 => {
                self.tag("fuzz.datediff");
                let a = self.expr_of(scope, &[Ty::Date, Ty::Ts], d);
                let b = self.expr_of(scope, &[Ty::Date, Ty::Ts], d);
                format!("datediff({a}, {b})")
            }
            6 => {
                self.tag("fuzz.abs");
                format!("abs({})", self.expr(scope, Ty::Int, d))
            }
            7 => {
                self.tag("fuzz.cast");
                let from = *self.r.pick(&[Ty::Num, Ty::Int, Ty::Str, Ty::Bool, Ty::Num]);
                let to = *self.r.pick(&["INT", "BIGINT", "SMALLINT", "INT"]);
                let x = self.expr(scope, from, d);
                if from == Ty::Str || self.r.chance(15) {
                    self.tag("fuzz.try_cast");
                    format!("TRY_CAST({x} AS {to})")
                } else {
                    format!("CAST({x} AS {to})")
                }
            }
            8 => {
                self.tag("fuzz.size");
                format!("size({})", self.expr(scope, Ty::Arr, d))
            }
            9 => {
                self.tag("fuzz.floor_ceil");
                let f = *self.r.pick(&["floor", "ceil"]);
                format!("{f}({})", self.expr(scope, Ty::Num, d))
            }
            10 => {
                self.tag("fuzz.instr");
                format!("instr({}, '{}')", self.expr(scope, Ty::Str, d), self.r.pick(&["a", "e", " ", ";", "o"]))
            }
            11 => {
                self.tag("fuzz.unary_minus");
                format!("-({})", self.leaf(scope, Ty::Int))
            }
            _ => self.leaf(scope, Ty::Int),
        }
    }

    fn num_expr(&mut self, scope: &Scope, d: u32) -> String {
        match self.r.below(10) {
            0 | 1 => {
                self.tag("fuzz.arithmetic");
                let op = *self.r.pick(&["+", "-", "*"]);
                let a = self.expr_of(scope, &[Ty::Num, Ty::Int], d);
                let b = self.expr_of(scope, &[Ty::Num, Ty::Num, Ty::Int], d);
                format!("({a} {op} {b})")
            }
            2 => {
                self.tag("fuzz.divide");
                let a = self.expr_of(scope, &[Ty::Num, Ty::Int], d);
                let ty = *self.r.pick(&[Ty::Num, Ty::Int]);
                format!("({a} / {})", self.divisor(scope, ty, d))
            }
            3 => {
                self.tag("fuzz.arithmetic");
                let a = self.expr(scope, Ty::Num, d);
                format!("({a} % {})", self.divisor(scope, Ty::Num, d))
            }
            4 => {
                self.tag("fuzz.round");
                let k = *self.r.pick(&[0, 1, 2, -1]);
                format!("round({}, {k})", self.expr(scope, Ty::Num, d))
            }
            5 => {
                self.tag("fuzz.abs");
                format!("abs({})", self.expr(scope, Ty::Num, d))
            }
            6 => {
                self.tag("fuzz.floor_ceil");
                let f = *self.r.pick(&["floor", "ceil"]);
                format!("{f}({})", self.expr(scope, Ty::Num, d))
            }
            7 => {
                self.tag("fuzz.cast");
                let from = *self.r.pick(&[Ty::Num, Ty::Int, Ty::Str]);
                let to = *self.r.pick(&["DOUBLE", "DECIMAL(10,2)", "DECIMAL(5,1)", "FLOAT"]);
                let x = self.expr(scope, from, d);
                if from == Ty::Str || self.r.chance(15) {
                    self.tag("fuzz.try_cast");
                    format!("TRY_CAST({x} AS {to})")
                } else {
                    format!("CAST({x} AS {to})")
                }
            }
            8 => {
                self.tag("fuzz.unary_minus");
                format!("-({})", self.leaf(scope, Ty::Num))
            }
            _ => self.leaf(scope, Ty::Num),
        }
    }

    fn str_expr(&mut self, scope: &Scope, d: u32) -> String {
        match self.r.below(13) {
            0 => {
                let f = *self.r.pick(&["upper", "lower"]);
                self.tag("fuzz.upper_lower");
                format!("{f}({})", self.expr(scope, Ty::Str, d))
            }
            1 => {
                self.tag("fuzz.substring");
                let pos = *self.r.pick(&[1, 2, 0, -3, 5]);
                let s = self.expr(scope, Ty::Str, d);
                if self.r.chance(30) {
                    format!("substring({s}, {pos})")
                } else {
                    format!("substring({s}, {pos}, {})", self.r.pick(&[1, 3, 10]))
                }
            }
            2 => {
                self.tag("fuzz.concat");
                let n = self.r.range(2, 3);
                let args: Vec<String> = (0..n).map(|_| self.expr(scope, Ty::Str, d)).collect();
                format!("concat({})", args.join(", "))
            }
            3 => {
                self.tag("fuzz.concat_ws");
                let sep = *self.r.pick(&["-", ", ", "/"]);
                if self.r.chance(30) {
                    format!("concat_ws('{sep}', {})", self.expr(scope, Ty::Arr, d))
                } else {
                    let a = self.expr(scope, Ty::Str, d);
                    let b = self.expr(scope, Ty::Str, d);
                    format!("concat_ws('{sep}', {a}, {b})")
                }
            }
            4 => {
                let f = *self.r.pick(&["trim", "ltrim", "rtrim", "trim"]);
                self.tag("fuzz.trim");
                format!("{f}({})", self.expr(scope, Ty::Str, d))
            }
            5 => {
                self.tag("fuzz.regexp_replace");
                let (p, w) = *self.r.pick(REGEXES);
                format!("regexp_replace({}, '{p}', '{w}')", self.expr(scope, Ty::Str, d))
            }
            6 => {
                self.tag("fuzz.split");
                let s = self.expr(scope, Ty::Str, d);
                format!("split({s}, '{}')[0]", self.r.pick(SPLITS))
            }
            7 => {
                self.tag("fuzz.date_format");
                let x = self.expr_of(scope, &[Ty::Ts, Ty::Date], d);
                format!("date_format({x}, '{}')", self.r.pick(DATE_FORMATS))
            }
            8 | 9 => {
                self.tag("fuzz.cast");
                let from = *self.r.pick(SCALARS);
                format!("CAST({} AS STRING)", self.expr(scope, from, d))
            }
            10 => {
                self.tag("fuzz.lpad");
                let f = *self.r.pick(&["lpad", "rpad"]);
                format!("{f}({}, {}, '*')", self.expr(scope, Ty::Str, d), self.r.pick(&[3, 8]))
            }
            _ => self.leaf(scope, Ty::Str),
        }
    }

    fn comparable(&mut self) -> Ty {
        *self.r.pick(&[Ty::Int, Ty::Num, Ty::Str, Ty::Date, Ty::Ts, Ty::Int, Ty::Num, Ty::Str])
    }

    fn bool_expr(&mut self, scope: &Scope, d: u32) -> String {
        match self.r.below(12) {
            0..=2 => {
                self.tag("fuzz.comparison");
                let ty = self.comparable();
                let op = *self.r.pick(&["=", "<>", "<", "<=", ">", ">=", "!=", "<=>"]);
                let a = self.expr(scope, ty, d);
                // Mostly against a literal, so that predicates select something.
                let b = if self.r.chance(60) { self.literal(ty) } else { self.expr(scope, ty, d) };
                format!("{a} {op} {b}")
            }
            3 => {
                self.tag("fuzz.logic");
                let op = *self.r.pick(&["AND", "OR"]);
                format!("({} {op} {})", self.expr(scope, Ty::Bool, d), self.expr(scope, Ty::Bool, d))
            }
            4 => {
                self.tag("fuzz.logic");
                format!("NOT ({})", self.expr(scope, Ty::Bool, d))
            }
            5 => {
                self.tag("fuzz.is_null");
                let ty = *self.r.pick(SCALARS);
                let not = if self.r.chance(50) { " NOT" } else { "" };
                format!("{} IS{not} NULL", self.expr(scope, ty, d))
            }
            6 => {
                self.tag("fuzz.in");
                let ty = *self.r.pick(&[Ty::Int, Ty::Str, Ty::Str, Ty::Num, Ty::Date]);
                let x = self.expr(scope, ty, d);
                let n = self.r.range(1, 4);
                let items: Vec<String> = (0..n).map(|_| self.literal(ty)).collect();
                let not = if self.r.chance(30) { " NOT" } else { "" };
                format!("{x}{not} IN ({})", items.join(", "))
            }
            7 => {
                self.tag("fuzz.between");
                let ty = *self.r.pick(&[Ty::Int, Ty::Num, Ty::Date, Ty::Ts, Ty::Str]);
                let x = self.expr(scope, ty, d);
                let (lo, hi) = (self.literal(ty), self.literal(ty));
                let not = if self.r.chance(20) { " NOT" } else { "" };
                format!("{x}{not} BETWEEN {lo} AND {hi}")
            }
            8 => {
                self.tag("fuzz.like");
                let x = self.expr(scope, Ty::Str, d);
                let not = if self.r.chance(25) { " NOT" } else { "" };
                format!("{x}{not} LIKE '{}'", self.r.pick(LIKES))
            }
            9 => {
                self.tag("fuzz.cast");
                format!("CAST({} AS BOOLEAN)", self.expr_of(scope, &[Ty::Int, Ty::Str], d))
            }
            _ => self.leaf(scope, Ty::Bool),
        }
    }

    fn date_expr(&mut self, scope: &Scope, d: u32) -> String {
        match self.r.below(5) {
            0 => {
                self.tag("fuzz.cast");
                let from = *self.r.pick(&[Ty::Ts, Ty::Str, Ty::Ts]);
                let cast = if from == Ty::Str && self.r.chance(50) { "TRY_CAST" } else { "CAST" };
                format!("{cast}({} AS DATE)", self.expr(scope, from, d))
            }
            1 => {
                self.tag("fuzz.date_add");
                let f = *self.r.pick(&["date_add", "date_sub", "date_add"]);
                let x = self.expr_of(scope, &[Ty::Date, Ty::Ts], d);
                let n =
                    if self.r.chance(70) { self.r.range(-40, 40).to_string() } else { self.expr(scope, Ty::Int, d) };
                format!("{f}({x}, {n})")
            }
            2 => {
                self.tag("fuzz.to_date");
                format!("to_date({})", self.expr(scope, Ty::Ts, d))
            }
            _ => self.leaf(scope, Ty::Date),
        }
    }

    fn ts_expr(&mut self, scope: &Scope, d: u32) -> String {
        match self.r.below(4) {
            0 => {
                self.tag("fuzz.date_trunc");
                let u = *self.r.pick(TRUNC_UNITS);
                format!("date_trunc('{u}', {})", self.expr_of(scope, &[Ty::Ts, Ty::Ts, Ty::Date], d))
            }
            1 => {
                self.tag("fuzz.cast");
                format!("CAST({} AS TIMESTAMP)", self.expr_of(scope, &[Ty::Date, Ty::Str], d))
            }
            _ => self.leaf(scope, Ty::Ts),
        }
    }

    /// An aggregate (possibly inside arithmetic) and its type.
    fn aggregate(&mut self, scope: &Scope) -> (String, Ty) {
        let d = self.r.range(0, 2) as u32;
        let (sql, ty) = match self.r.below(12) {
            0 | 1 => ("count(*)".to_string(), Ty::Int),
            2 => {
                let ty = *self.r.pick(SCALARS);
                (format!("count({})", self.expr(scope, ty, d)), Ty::Int)
            }
            3 => {
                self.tag("fuzz.count_distinct");
                let ty = *self.r.pick(SCALARS);
                (format!("count(DISTINCT {})", self.expr(scope, ty, d)), Ty::Int)
            }
            4 | 5 => {
                let ty = *self.r.pick(&[Ty::Int, Ty::Num, Ty::Num]);
                (format!("sum({})", self.expr(scope, ty, d)), ty)
            }
            6 => {
                let ty = *self.r.pick(&[Ty::Int, Ty::Num]);
                let x = self.expr(scope, ty, d);
                if self.r.chance(40) {
                    self.tag("fuzz.round");
                    (format!("round(avg({x}), 6)"), Ty::Num)
                } else {
                    (format!("avg({x})"), Ty::Num)
                }
            }
            7 | 8 => {
                let f = *self.r.pick(&["min", "max"]);
                let ty = *self.r.pick(ORDERED);
                (format!("{f}({})", self.expr(scope, ty, d)), ty)
            }
            9 => {
                self.tag("fuzz.collect_list");
                let ty = *self.r.pick(SCALARS);
                (format!("size(collect_list({}))", self.expr(scope, ty, d)), Ty::Int)
            }
            10 => {
                self.tag("fuzz.collect_list");
                let ty = *self.r.pick(&[Ty::Int, Ty::Str, Ty::Date, Ty::Str]);
                let f = *self.r.pick(&["collect_list", "collect_set"]);
                let desc = if self.r.chance(25) { ", false" } else { "" };
                (format!("sort_array({f}({}){desc})", self.expr(scope, ty, d)), Ty::Arr)
            }
            _ => {
                // Aggregates combined.
                let x = self.expr(scope, Ty::Num, d);
                match self.r.below(3) {
                    0 => (format!("max({x}) - min({x})"), Ty::Num),
                    1 => (format!("sum({x}) / count(*)"), Ty::Num),
                    _ => (format!("count(*) + count({x})"), Ty::Int),
                }
            }
        };
        self.tag("fuzz.aggregate");
        (sql, ty)
    }

    /// The FROM clause: one table, or a join on the tables' natural keys.
    fn source(&mut self) -> Scope {
        let tables: &[&'static str] = &["trips", "trips", "zones", "events", "events", "meter", "tariffs", "holidays"];
        if self.r.chance(30) {
            return self.join();
        }
        let t = *self.r.pick(tables);
        let alias = if self.r.chance(50) { Some(&t[..1]) } else { None };
        table_scope(t, alias)
    }

    fn join(&mut self) -> Scope {
        let kind =
            *self.r.pick(&["JOIN", "INNER JOIN", "LEFT JOIN", "LEFT OUTER JOIN", "LEFT SEMI JOIN", "LEFT ANTI JOIN"]);
        let (left, right, on) = match self.r.below(5) {
            0 | 1 => (table_scope("trips", Some("t")), table_scope("zones", Some("z")), "t.pickup_zone_id = z.zone_id"),
            2 => (table_scope("trips", Some("t")), table_scope("zones", Some("z")), "t.dropoff_zone_id = z.zone_id"),
            3 => (table_scope("meter", Some("m")), table_scope("tariffs", Some("ta")), "m.stdorToU = ta.stdorToU"),
            _ => (
                table_scope("trips", Some("t")),
                table_scope("holidays", Some("h")),
                "CAST(t.pickup_ts AS DATE) = h.day",
            ),
        };
        self.tag("fuzz.join");
        let extra = if self.r.chance(20) {
            let c = self.bool_expr(&right, 0);
            format!(" AND {c}")
        } else {
            String::new()
        };
        let from = format!("{} {kind} {} ON {on}{extra}", left.from, right.from);
        let mut tables = left.tables.clone();
        tables.extend(right.tables.iter());
        if kind.contains("SEMI") || kind.contains("ANTI") {
            self.tag("fuzz.semi_anti_join");
            return Scope { from, tables, ..left };
        }
        if kind.starts_with("LEFT") {
            self.tag("fuzz.left_join");
        }
        let mut cols = left.cols;
        cols.extend(right.cols);
        let mut key = left.key;
        // A meter reading meets one tariff band per row: the band makes the key.
        if left.tables[0] == "meter" {
            key.push("ta.band".into());
        }
        Scope { cols, key, tables, from }
    }

    /// `ORDER BY` every output column (optionally with a LIMIT), or nothing.
    fn order_by(&mut self, n: usize, aliases: &[String]) -> (String, bool) {
        if self.r.chance(40) {
            return (String::new(), false);
        }
        self.tag("fuzz.order_by");
        let mut items = Vec::new();
        let mut order: Vec<usize> = (0..n).collect();
        // Rotate which column sorts first.
        order.rotate_left(self.r.below(n));
        for i in order {
            let name = if self.r.chance(50) { (i + 1).to_string() } else { aliases[i].clone() };
            let dir = *self.r.pick(&["", "", " DESC", " ASC", " NULLS LAST", " DESC NULLS FIRST"]);
            items.push(format!("{name}{dir}"));
        }
        let mut out = format!("\nORDER BY {}", items.join(", "));
        if self.r.chance(50) {
            self.tag("fuzz.limit");
            out.push_str(&format!("\nLIMIT {}", self.r.range(1, 15)));
        }
        (out, true)
    }

    fn filter(&mut self, scope: &Scope) -> String {
        if self.r.chance(55) {
            self.tag("fuzz.where");
            let d = self.r.range(1, 3) as u32;
            format!("\nWHERE {}", self.expr(scope, Ty::Bool, d))
        } else {
            String::new()
        }
    }

    fn projection(&mut self, scope: &Scope, types: Option<&[Ty]>) -> (String, Vec<Ty>) {
        let n = types.map_or_else(|| self.r.range(1, 4) as usize, |t| t.len());
        let mut items = Vec::new();
        let mut tys = Vec::new();
        for i in 0..n {
            let ty = match types {
                Some(t) => t[i],
                None => {
                    *self.r.pick(&[Ty::Int, Ty::Num, Ty::Str, Ty::Str, Ty::Bool, Ty::Date, Ty::Ts, Ty::Int, Ty::Num])
                }
            };
            let d = self.r.range(0, 3) as u32;
            items.push(format!("{} AS c{i}", self.expr(scope, ty, d)));
            tys.push(ty);
        }
        let distinct = if types.is_none() && self.r.chance(10) {
            self.tag("fuzz.distinct");
            "DISTINCT "
        } else {
            ""
        };
        let sql = format!("SELECT {distinct}{}\nFROM {}{}", items.join(", "), scope.from, self.filter(scope));
        (sql, tys)
    }

    fn grouped(&mut self, scope: &Scope) -> (String, Vec<Ty>) {
        self.tag("fuzz.group_by");
        let keys = self.r.range(0, 2) as usize;
        let mut items = Vec::new();
        let mut key_sql = Vec::new();
        let mut tys = Vec::new();
        for i in 0..keys {
            let ty = *self.r.pick(&[Ty::Str, Ty::Str, Ty::Int, Ty::Bool, Ty::Date, Ty::Ts, Ty::Num]);
            let d = *self.r.pick(&[0, 0, 1, 2]);
            let e = self.expr(scope, ty, d);
            items.push(format!("{e} AS k{i}"));
            key_sql.push(e);
            tys.push(ty);
        }
        let aggs = self.r.range(1, 3) as usize;
        for i in 0..aggs {
            let (a, ty) = self.aggregate(scope);
            items.push(format!("{a} AS a{i}"));
            tys.push(ty);
        }
        let mut sql = format!("SELECT {}\nFROM {}{}", items.join(", "), scope.from, self.filter(scope));
        if keys > 0 {
            let by: Vec<String> = match self.r.below(3) {
                0 => (1..=keys).map(|i| i.to_string()).collect(),
                1 => (0..keys).map(|i| format!("k{i}")).collect(),
                _ => key_sql,
            };
            sql.push_str(&format!("\nGROUP BY {}", by.join(", ")));
        }
        if self.r.chance(30) {
            self.tag("fuzz.having");
            let (a, ty) = self.aggregate(scope);
            let ty = if ty == Ty::Arr { Ty::Int } else { ty };
            let a = if ty == Ty::Int && a.starts_with("sort_array") { format!("size({a})") } else { a };
            let op = *self.r.pick(&[">", ">=", "<", "<>"]);
            sql.push_str(&format!("\nHAVING {a} {op} {}", self.literal(ty)));
        }
        (sql, tys)
    }

    fn window_spec(&mut self, scope: &Scope, total: bool) -> String {
        let mut parts = Vec::new();
        if self.r.chance(70) {
            let ty = *self.r.pick(&[Ty::Str, Ty::Str, Ty::Int, Ty::Bool, Ty::Date]);
            let d = *self.r.pick(&[0, 0, 1]);
            let p = self.expr(scope, ty, d);
            parts.push(format!("PARTITION BY {p}"));
        }
        let ty = *self.r.pick(ORDERED);
        let d = *self.r.pick(&[0, 0, 1]);
        let o = self.expr(scope, ty, d);
        let dir = *self.r.pick(&["", " DESC", " ASC NULLS LAST"]);
        let mut order = vec![format!("{o}{dir}")];
        if total {
            order.extend(scope.key.iter().cloned());
        }
        parts.push(format!("ORDER BY {}", order.join(", ")));
        parts.join(" ")
    }

    fn window(&mut self, scope: &Scope) -> (String, Ty) {
        self.tag("fuzz.window");
        match self.r.below(8) {
            0 => (format!("row_number() OVER ({})", self.window_spec(scope, true)), Ty::Int),
            1 => {
                let f = *self.r.pick(&["rank", "dense_rank"]);
                (format!("{f}() OVER ({})", self.window_spec(scope, false)), Ty::Int)
            }
            2 | 3 => {
                let f = *self.r.pick(&["lag", "lead"]);
                let ty = *self.r.pick(&[Ty::Int, Ty::Num, Ty::Str, Ty::Ts]);
                let x = self.expr(scope, ty, 1);
                let n = *self.r.pick(&[1, 1, 2]);
                let default = if self.r.chance(30) { format!(", {}", self.literal(ty)) } else { String::new() };
                (format!("{f}({x}, {n}{default}) OVER ({})", self.window_spec(scope, true)), ty)
            }
            4 => {
                self.tag("fuzz.window_frame");
                let f = *self.r.pick(&["sum", "avg", "min", "max", "count"]);
                let x = self.expr(scope, Ty::Num, 1);
                let frame = *self.r.pick(&[
                    "ROWS BETWEEN 2 PRECEDING AND CURRENT ROW",
                    "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW",
                    "ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING",
                    "ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING",
                ]);
                let ty = if f == "count" { Ty::Int } else { Ty::Num };
                (format!("{f}({x}) OVER ({} {frame})", self.window_spec(scope, true)), ty)
            }
            5 => {
                // The default frame: RANGE up to the current row, ties included.
                let f = *self.r.pick(&["sum", "avg", "count", "max"]);
                let x = self.expr_of(scope, &[Ty::Num, Ty::Int], 1);
                (format!("{f}({x}) OVER ({})", self.window_spec(scope, false)), Ty::Num)
            }
            _ => {
                // Over the whole partition.
                let f = *self.r.pick(&["sum", "avg", "count", "min", "max"]);
                let x = self.expr_of(scope, &[Ty::Num, Ty::Int], 1);
                let ty = *self.r.pick(&[Ty::Str, Ty::Int, Ty::Bool]);
                let p = self.expr(scope, ty, 0);
                let spec = if self.r.chance(80) { format!("PARTITION BY {p}") } else { String::new() };
                (format!("{f}({x}) OVER ({spec})"), Ty::Num)
            }
        }
    }

    fn windowed(&mut self, scope: &Scope) -> (String, Vec<Ty>) {
        let mut items = Vec::new();
        let mut tys = Vec::new();
        let plain = self.r.range(1, 2) as usize;
        for i in 0..plain {
            let ty = *self.r.pick(&[Ty::Int, Ty::Str, Ty::Num, Ty::Ts]);
            let d = *self.r.pick(&[0, 0, 1]);
            items.push(format!("{} AS c{i}", self.expr(scope, ty, d)));
            tys.push(ty);
        }
        for i in 0..self.r.range(1, 2) as usize {
            let (w, ty) = self.window(scope);
            items.push(format!("{w} AS w{i}"));
            tys.push(ty);
        }
        let sql = format!("SELECT {}\nFROM {}{}", items.join(", "), scope.from, self.filter(scope));
        (sql, tys)
    }

    /// A query over a derived table's columns `s.c0..` (or `s.k0`, `s.a0`, `s.w0`).
    fn derived_scope(inner: &str, names: &[String], tys: &[Ty], tables: Vec<&'static str>) -> Scope {
        Scope {
            cols: names.iter().zip(tys).map(|(n, ty)| Col { sql: format!("s.{n}"), ty: *ty }).collect(),
            key: Vec::new(),
            tables,
            from: format!("(\n{inner}\n) s"),
        }
    }
}

/// Output aliases of a select list, in order (`c0 ..`, `k0 ..`, `a0 ..`, `w0 ..`).
fn aliases(sql: &str) -> Vec<String> {
    let head = sql.split("\nFROM").next().unwrap_or_default();
    let mut out = Vec::new();
    for (i, _) in head.match_indices(" AS ") {
        let rest = &head[i + 4..];
        let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        let is_alias = name.len() >= 2
            && matches!(name.as_bytes()[0], b'c' | b'k' | b'a' | b'w')
            && name[1..].chars().all(|c| c.is_ascii_digit());
        if is_alias && !rest[name.len()..].starts_with(')') {
            out.push(name);
        }
    }
    out
}

/// One generated query.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    pub seed: u64,
    pub sql: String,
    pub tables: Vec<String>,
    pub tags: Vec<String>,
    pub ordered: bool,
}

impl Generated {
    pub fn id(&self) -> String {
        format!("fuzz.q{:05}", self.seed)
    }

    /// The case in the corpus format, without an answer.
    pub fn case_text(&self) -> String {
        format!(
            "query {}{}\ntags: {}\ntables: {}\n{}\n----\n",
            self.id(),
            if self.ordered { " ordered" } else { "" },
            self.tags.join(" "),
            self.tables.join(" "),
            self.sql
        )
    }
}

/// The query of one seed.
pub fn generate(seed: u64) -> Generated {
    let mut g = Gen { r: Rng::new(seed), tags: Vec::new() };
    let (body, tys, read) = match g.r.below(20) {
        0..=5 => {
            g.tag("fuzz.select");
            let scope = g.source();
            let (sql, tys) = g.projection(&scope, None);
            (sql, tys, scope.tables)
        }
        6..=10 => {
            let scope = g.source();
            let (sql, tys) = g.grouped(&scope);
            (sql, tys, scope.tables)
        }
        11..=13 => {
            let scope = g.source();
            let (sql, tys) = g.windowed(&scope);
            (sql, tys, scope.tables)
        }
        14 | 15 => {
            g.tag("fuzz.union_all");
            let a = g.source();
            let (left, tys) = g.projection(&a, None);
            let b = g.source();
            let (right, _) = g.projection(&b, Some(&tys));
            let mut tables = a.tables;
            tables.extend(b.tables);
            (format!("{left}\nUNION ALL\n{right}"), tys, tables)
        }
        _ => {
            g.tag("fuzz.subquery");
            let scope = g.source();
            let (inner, tys) = match g.r.below(3) {
                0 => g.projection(&scope, None),
                1 => g.grouped(&scope),
                _ => g.windowed(&scope),
            };
            let names = aliases(&inner);
            assert_eq!(names.len(), tys.len(), "aliases of {inner}");
            let outer = Gen::derived_scope(&inner, &names, &tys, scope.tables);
            let (sql, tys) = if g.r.chance(40) { g.grouped(&outer) } else { g.projection(&outer, None) };
            (sql, tys, outer.tables)
        }
    };
    let names = aliases(body.rsplit("UNION ALL\n").last().unwrap_or(&body));
    let names = if names.len() == tys.len() { names } else { (1..=tys.len()).map(|i| i.to_string()).collect() };
    let (order, ordered) = g.order_by(tys.len(), &names);
    let mut tables: Vec<String> = Vec::new();
    for t in read {
        if !tables.iter().any(|x| x.as_str() == t) {
            tables.push(t.to_string());
        }
    }
    g.tags.sort();
    Generated {
        seed,
        sql: format!("{body}{order}"),
        tables,
        tags: g.tags.iter().map(|t| t.to_string()).collect(),
        ordered,
    }
}
