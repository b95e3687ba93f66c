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
    for i in 0..=10 {
        let t = max_t * f64::from(i) / 10.0;
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{}" text-anchor="middle">{t:.0} s</text>"##,
            x(t),
            HEIGHT - BOTTOM + 18.0
        );
    }
    let _ = write!(
        out,
        r##"<text x="{}" y="{}" text-anchor="middle">time into the run (scheduled send)</text>"##,
        (LEFT + WIDTH) / 2.0,
        HEIGHT - 10.0
    );
    for (i, (s, points)) in series.iter().zip(&all).enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let _ = write!(out, r##"<g fill="{colour}" fill-opacity="0.25">"##);
        for (t, ms) in points {
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
