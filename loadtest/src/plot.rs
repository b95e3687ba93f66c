//! The latency of a run over time, as an SVG file: every kept sample of each series as a dot
//! (logarithmic milliseconds), and each series' p99 per second as a line. Written by hand: a
//! few dozen lines of SVG need no plotting library and no fonts.

use std::fmt::Write as _;

use crate::stats::Series;

const WIDTH: f64 = 1000.0;
const HEIGHT: f64 = 500.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;
const COLOURS: [&str; 6] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"];

/// Dots drawn per series at most.
const MAX_DOTS: usize = 600;

pub fn svg(title: &str, series: &[&Series]) -> String {
    let all: Vec<Vec<(f32, f32)>> = series.iter().map(|s| s.points()).collect();
    let max_t = all.iter().flatten().map(|p| p.0).fold(1.0f32, f32::max) as f64;
    let max_ms = all.iter().flatten().map(|p| p.1).fold(1.0f32, f32::max) as f64;
    let min_ms = 0.1f64;
    let (top_exp, bottom_exp) = (max_ms.log10().ceil().max(0.0), min_ms.log10().floor());
    let x = |t: f64| LEFT + t / max_t * (WIDTH - LEFT - RIGHT);
    let y = |ms: f64| {
        let v = ms.max(min_ms).log10();
        TOP + (top_exp - v) / (top_exp - bottom_exp) * (HEIGHT - TOP - BOTTOM)
    };
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/><text x="{LEFT}" y="22" font-size="15">{}</text>"##,
        escape(title)
    );
    // Grid: a line per decade, a label per tenth of the run.
    let mut exp = bottom_exp;
    while exp <= top_exp {
        let ms = 10f64.powf(exp);
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{}" y1="{y0:.1}" y2="{y0:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{} ms</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y(ms) + 4.0,
            if ms < 1.0 { format!("{ms}") } else { format!("{ms:.0}") },
            y0 = y(ms)
        );
        exp += 1.0;
    }
    time_labels(&mut out, max_t, x);
    let _ = write!(
        out,
        r##"<text x="{}" y="{}" text-anchor="middle">time into the run (scheduled send)</text>"##,
        (LEFT + WIDTH) / 2.0,
        HEIGHT - 10.0
    );
    for (i, (s, points)) in series.iter().zip(&all).enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let _ = write!(out, r##"<g fill="{colour}" fill-opacity="0.25">"##);
        // Every sample feeds the p99 line; the dots are thinned so a long run stays a small file.
        for (t, ms) in points.iter().step_by(points.len().div_ceil(MAX_DOTS).max(1)) {
            let _ = write!(out, r##"<circle cx="{:.1}" cy="{:.1}" r="1.2"/>"##, x(f64::from(*t)), y(f64::from(*ms)));
        }
        out.push_str("</g>");
        let line: Vec<String> =
            p99_per_second(points).iter().map(|(t, ms)| format!("{:.1},{:.1}", x(*t), y(*ms))).collect();
        let _ =
            write!(out, r##"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"##, line.join(" "));
        let _ = write!(
            out,
            r##"<rect x="{}" y="{}" width="10" height="10" fill="{colour}"/><text x="{}" y="{}">{} (dots: samples; line: p99 per second)</text>"##,
            LEFT + 10.0,
            TOP + 6.0 + 16.0 * i as f64,
            LEFT + 26.0,
            TOP + 15.0 + 16.0 * i as f64,
            escape(&s.name)
        );
    }
    out.push_str("</svg>\n");
    out
}

/// A label under the time axis at every tenth of the run.
fn time_labels(out: &mut String, max_t: f64, x: impl Fn(f64) -> f64) {
    for i in 0..=10 {
        let t = max_t * f64::from(i) / 10.0;
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{}" text-anchor="middle">{t:.0} s</text>"##,
            x(t),
            HEIGHT - BOTTOM + 18.0
        );
    }
}

fn p99_per_second(points: &[(f32, f32)]) -> Vec<(f64, f64)> {
    let mut buckets: std::collections::BTreeMap<u64, Vec<f32>> = std::collections::BTreeMap::new();
    for (t, ms) in points {
        buckets.entry(*t as u64).or_default().push(*ms);
    }
    buckets
        .into_iter()
        .map(|(second, mut v)| {
            v.sort_by(f32::total_cmp);
            let at = ((v.len() as f64 * 0.99).ceil() as usize).clamp(1, v.len()) - 1;
            (second as f64 + 0.5, f64::from(v[at]))
        })
        .collect()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// SVG documents one under the other, in one document.
pub fn stack(parts: &[String]) -> String {
    let height = HEIGHT * parts.len() as f64;
    let mut out = format!(r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}">"##);
    for (i, part) in parts.iter().enumerate() {
        let y = HEIGHT * i as f64;
        out.push_str(&part.trim_end().replacen("<svg ", &format!(r#"<svg y="{y}" "#), 1));
    }
    out.push_str("</svg>\n");
    out
}

/// The server's resident memory (MB, left axis) and open files (right axis) over a soak; the
/// warm-up is shaded grey, the two windows the verdict compares green.
pub fn memory(samples: &[crate::scenarios::soak::Sample], warm_up: f64, growth: f64, failures: &[String]) -> String {
    let max_t = samples.iter().map(|s| s.t).fold(1.0, f64::max);
    let max_mb = samples.iter().map(|s| s.rss as f64 / 1e6).fold(1.0, f64::max) * 1.1;
    let max_files = samples.iter().map(|s| s.files as f64).fold(1.0, f64::max) * 1.1;
    let x = |t: f64| LEFT + t / max_t * (WIDTH - LEFT - 2.0 * RIGHT - 40.0);
    let y = |v: f64, max: f64| TOP + (1.0 - v / max) * (HEIGHT - TOP - BOTTOM);
    let verdict = if failures.is_empty() { "flat".to_owned() } else { failures.join("; ") };
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/><text x="{LEFT}" y="22" font-size="15">server memory and open files ({growth:+.1} % from the second third to the end: {})</text>"##,
        escape(&verdict)
    );
    let (judged, span) = (warm_up.min(max_t), max_t - warm_up.min(max_t));
    let band = |from: f64, to: f64, colour: &str| {
        format!(
            r##"<rect x="{:.1}" y="{TOP}" width="{:.1}" height="{}" fill="{colour}"/>"##,
            x(from),
            (x(to) - x(from)).max(0.0),
            HEIGHT - TOP - BOTTOM
        )
    };
    out.push_str(&band(0.0, judged, "#eee"));
    out.push_str(&band(judged + span / 3.0, judged + 2.0 * span / 3.0, "#e3f4e3"));
    out.push_str(&band(max_t - span / 10.0, max_t, "#e3f4e3"));
    for i in 0..=5 {
        let mb = max_mb * f64::from(i) / 5.0;
        let files = max_files * f64::from(i) / 5.0;
        let at = y(mb, max_mb);
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{at:.1}" y2="{at:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{mb:.0} MB</text><text x="{:.1}" y="{:.1}" fill="#ff7f0e">{files:.0}</text>"##,
            x(max_t),
            LEFT - 6.0,
            at + 4.0,
            x(max_t) + 6.0,
            at + 4.0
        );
    }
    time_labels(&mut out, max_t, x);
    let line = |value: &dyn Fn(&crate::scenarios::soak::Sample) -> f64, max: f64| -> String {
        samples.iter().map(|s| format!("{:.1},{:.1}", x(s.t), y(value(s), max))).collect::<Vec<_>>().join(" ")
    };
    let _ = write!(
        out,
        r##"<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="{}"/><polyline fill="none" stroke="#ff7f0e" stroke-width="1.5" points="{}"/>"##,
        line(&|s| s.rss as f64 / 1e6, max_mb),
        line(&|s| s.files as f64, max_files)
    );
    let _ = write!(
        out,
        r##"<rect x="{a}" y="{b}" width="10" height="10" fill="#1f77b4"/><text x="{c}" y="{d}">resident memory (left, MB)</text><rect x="{a}" y="{e}" width="10" height="10" fill="#ff7f0e"/><text x="{c}" y="{f}">open files (right)</text><text x="{g}" y="{h}" text-anchor="middle">time into the run (grey: warm-up, not judged; green: the windows compared)</text></svg>"##,
        a = LEFT + 10.0,
        b = TOP + 6.0,
        c = LEFT + 26.0,
        d = TOP + 15.0,
        e = TOP + 22.0,
        f = TOP + 31.0,
        g = (LEFT + WIDTH) / 2.0,
        h = HEIGHT - 10.0
    );
    out.push('\n');
    out
}
