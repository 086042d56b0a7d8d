//! Figures and the results file: every number carries its unit, the durability mode it
//! was measured in, its goal, the runs it came from (min/median/max), whether it meets
//! the goal, and a flag when the runs disagree too much to be trusted.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hdrhistogram::Histogram;
use serde::Serialize;

/// A goal: the median of the runs must be at most (`<=`) or at least (`>=`) `value`.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Goal {
    pub op: &'static str,
    pub value: f64,
}

pub fn at_most(value: f64) -> Option<Goal> {
    Some(Goal { op: "<=", value })
}

pub fn at_least(value: f64) -> Option<Goal> {
    Some(Goal { op: ">=", value })
}

impl Goal {
    pub fn met_by(&self, v: f64) -> bool {
        if self.op == "<=" { v <= self.value } else { v >= self.value }
    }
}

/// One value from one run of a scenario, or the reason there is none.
#[derive(Clone, Debug)]
pub struct Measure {
    pub id: String,
    pub name: String,
    pub unit: &'static str,
    /// How the server was configured, e.g. `durability=full`; empty when irrelevant.
    pub mode: String,
    pub goal: Option<Goal>,
    pub value: Result<f64, String>,
    pub note: String,
}

impl Measure {
    pub fn new(id: &str, name: &str, unit: &'static str, value: f64) -> Self {
        Self { id: id.into(), name: name.into(), unit, mode: String::new(), goal: None, value: Ok(value), note: String::new() }
    }

    /// A figure that could not be measured, with the reason.
    pub fn not_run(id: &str, name: &str, unit: &'static str, reason: impl Into<String>) -> Self {
        Self { value: Err(reason.into()), ..Self::new(id, name, unit, 0.0) }
    }

    pub fn goal(mut self, goal: Option<Goal>) -> Self {
        self.goal = goal;
        self
    }

    pub fn mode(mut self, mode: impl Into<String>) -> Self {
        self.mode = mode.into();
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }
}

/// What one run of a scenario produced: its figures, and details worth keeping
/// (per-step tables, counts) that are not figures themselves.
#[derive(Default)]
pub struct Outcome {
    pub measures: Vec<Measure>,
    pub details: serde_json::Value,
}

/// A figure aggregated over the runs of a scenario.
#[derive(Clone, Debug, Serialize)]
pub struct Figure {
    pub id: String,
    pub scenario: String,
    pub name: String,
    pub unit: &'static str,
    pub mode: String,
    /// `ok` or `not_run`.
    pub status: &'static str,
    pub runs: Vec<f64>,
    pub min: Option<f64>,
    pub median: Option<f64>,
    pub max: Option<f64>,
    pub goal: Option<Goal>,
    /// Judged on the median; `None` when there is no goal or no value.
    pub meets: Option<bool>,
    /// Whether every run met the goal, not only the median.
    pub meets_every_run: Option<bool>,
    /// (max − min) / median, in percent.
    pub spread_pct: Option<f64>,
    /// Runs disagree by more than [`NOISY_SPREAD_PCT`]: read with care.
    pub noisy: bool,
    pub note: String,
}

/// Runs more than this far apart (relative to the median) are flagged noisy.
pub const NOISY_SPREAD_PCT: f64 = 25.0;

/// Folds the measures of several runs into figures, keeping first-seen order.
pub fn aggregate(scenario: &str, runs: &[Vec<Measure>]) -> Vec<Figure> {
    let mut order: Vec<String> = vec![];
    let mut by_id: BTreeMap<String, Vec<&Measure>> = BTreeMap::new();
    for m in runs.iter().flatten() {
        if !by_id.contains_key(&m.id) {
            order.push(m.id.clone());
        }
        by_id.entry(m.id.clone()).or_default().push(m);
    }
    order.iter().map(|id| figure(scenario, &by_id[id])).collect()
}

fn figure(scenario: &str, ms: &[&Measure]) -> Figure {
    let first = ms[0];
    let mut values: Vec<f64> = ms.iter().filter_map(|m| m.value.as_ref().ok().copied()).filter(|v| v.is_finite()).collect();
    let reasons: Vec<&str> = ms.iter().filter_map(|m| m.value.as_ref().err().map(String::as_str)).collect();
    let mut notes: Vec<String> = ms.iter().map(|m| m.note.clone()).filter(|n| !n.is_empty()).collect();
    notes.dedup();
    let runs = values.clone();
    values.sort_by(f64::total_cmp);
    let (min, median, max) = match values.len() {
        0 => (None, None, None),
        n => {
            let median = if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 };
            (Some(values[0]), Some(median), Some(values[n - 1]))
        }
    };
    let spread_pct = match (min, median, max) {
        (Some(lo), Some(mid), Some(hi)) if values.len() > 1 && mid.abs() > f64::EPSILON => Some((hi - lo) / mid.abs() * 100.0),
        _ => None,
    };
    let meets = first.goal.zip(median).map(|(g, m)| g.met_by(m));
    let meets_every_run = first.goal.filter(|_| !values.is_empty()).map(|g| values.iter().all(|v| g.met_by(*v)));
    let mut note = notes.join("; ");
    if !reasons.is_empty() {
        let mut r: Vec<&str> = reasons.clone();
        r.dedup();
        let prefix = if values.is_empty() { "not run: " } else { "some runs failed: " };
        if !note.is_empty() {
            note.push_str("; ");
        }
        note.push_str(prefix);
        note.push_str(&r.join(" / "));
    }
    Figure {
        id: first.id.clone(),
        scenario: scenario.into(),
        name: first.name.clone(),
        unit: first.unit,
        mode: first.mode.clone(),
        status: if values.is_empty() { "not_run" } else { "ok" },
        runs,
        min,
        median,
        max,
        goal: first.goal,
        meets,
        meets_every_run,
        spread_pct,
        noisy: spread_pct.is_some_and(|s| s > NOISY_SPREAD_PCT),
        note,
    }
}

/// A number for people: thousands grouped, few decimals.
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let a = v.abs();
    if a >= 1000.0 {
        let n = v.round() as i64;
        let digits = n.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        if n < 0 { format!("-{out}") } else { out }
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 0.1 || a == 0.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// The readable table: figure, unit, mode, min/median/max, goal, verdict.
pub fn table(figures: &[Figure]) -> String {
    let opt = |v: Option<f64>| v.map(fmt_num).unwrap_or_else(|| "–".into());
    let rows: Vec<[String; 8]> = figures
        .iter()
        .map(|f| {
            let goal = f.goal.map(|g| format!("{} {}", g.op, fmt_num(g.value))).unwrap_or_else(|| "–".into());
            let verdict = match (f.status, f.meets) {
                ("not_run", _) => "NOT RUN".to_string(),
                (_, Some(true)) if f.meets_every_run == Some(false) => "yes (median)".into(),
                (_, Some(true)) => "yes".into(),
                (_, Some(false)) => "NO".into(),
                _ => "".into(),
            };
            let verdict = if f.noisy { format!("{verdict} ~noisy") } else { verdict };
            [f.name.clone(), f.unit.into(), f.mode.clone(), opt(f.min), opt(f.median), opt(f.max), goal, verdict]
        })
        .collect();
    let header = ["figure", "unit", "mode", "min", "median", "max", "goal", "meets?"];
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[String]| {
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            let pad = w - c.chars().count();
            // Numbers right-aligned, text left-aligned.
            if (3..=5).contains(&i) {
                let _ = write!(out, "{}{c}  ", " ".repeat(pad));
            } else {
                let _ = write!(out, "{c}{}  ", " ".repeat(pad));
            }
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    };
    line(&mut out, &header.map(String::from));
    line(&mut out, &widths.map(|w| "-".repeat(w)));
    for r in &rows {
        line(&mut out, r);
    }
    for f in figures.iter().filter(|f| !f.note.is_empty()) {
        let _ = writeln!(out, "  * {}: {}", f.name, f.note);
    }
    out
}

/// The same table in Markdown, for docs/benchmarks.md.
pub fn markdown(figures: &[Figure]) -> String {
    let opt = |v: Option<f64>| v.map(fmt_num).unwrap_or_else(|| "–".into());
    let mut out = String::from("| figure | unit | mode | min | median | max | goal | meets? |\n|---|---|---|--:|--:|--:|---|---|\n");
    for f in figures {
        let goal = f.goal.map(|g| format!("{} {}", if g.op == "<=" { "≤" } else { "≥" }, fmt_num(g.value)));
        let verdict = match (f.status, f.meets) {
            ("not_run", _) => "not run".to_string(),
            (_, Some(true)) if f.meets_every_run == Some(false) => "yes (median only)".into(),
            (_, Some(true)) => "yes".into(),
            (_, Some(false)) => "**no**".into(),
            _ => "".into(),
        };
        let verdict = if f.noisy { format!("{verdict}, noisy") } else { verdict };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            f.name,
            f.unit,
            f.mode,
            opt(f.min),
            opt(f.median),
            opt(f.max),
            goal.unwrap_or_else(|| "–".into()),
            verdict
        );
    }
    out
}

/// A latency histogram in microseconds, 1 µs to 10 min, three significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

/// The usual quantiles of a microsecond histogram, in milliseconds.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Latency {
    pub count: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Self {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
        }
    }
}

/// Least-squares slope of `y` over `x`.
pub fn slope(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregate_takes_the_median_and_flags_spread() {
        let m = |v| vec![Measure::new("x", "X", "ms", v).goal(at_most(10.0))];
        let figs = aggregate("s", &[m(5.0), m(9.0), m(20.0)]);
        let f = &figs[0];
        assert_eq!((f.min, f.median, f.max), (Some(5.0), Some(9.0), Some(20.0)));
        assert_eq!(f.meets, Some(true));
        assert_eq!(f.meets_every_run, Some(false));
        assert!(f.noisy);
    }

    #[test]
    fn a_figure_without_values_is_not_run() {
        let figs = aggregate("s", &[vec![Measure::not_run("x", "X", "ms", "no peer")]]);
        assert_eq!(figs[0].status, "not_run");
        assert!(figs[0].note.contains("no peer"));
        assert_eq!(figs[0].meets, None);
    }

    #[test]
    fn slope_of_a_line() {
        let s = slope(&[(1.0, 3.0), (2.0, 5.0), (4.0, 9.0)]).unwrap();
        assert!((s - 2.0).abs() < 1e-9);
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(fmt_num(25_000.4), "25,000");
        assert_eq!(fmt_num(3.456), "3.46");
        assert_eq!(fmt_num(0.01234), "0.012");
    }
}
