//! Prints the leak detector's evidence at every verdict change of a replayed trace:
//! `cargo run --release --example replay_evidence -- TRACE.json`
//! (a development aid for tuning; the public entry is `analyzeTrace`).

use memwarden::engine::config::{resolve, Input};
use memwarden::engine::platform::HostFacts;
use memwarden::engine::replay;
use memwarden::engine::trace::Trace;
use std::collections::BTreeMap;

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: replay_evidence TRACE.json");
    let text = std::fs::read_to_string(&path).expect("cannot read the trace");
    let trace: Trace = serde_json::from_str(&text).expect("not a trace");
    let env: BTreeMap<String, String> = [("NODE_ENV".to_string(), "production".to_string())].into();
    let options = serde_json::Map::new();
    let mut config = resolve(&Input {
        options: &options,
        env: &env,
        host: &HostFacts::default(),
    })
    .expect("config");
    config.monitoring_interval_ms = replay::inferred_interval_ms(&trace);
    let limit = trace.limit_bytes.unwrap_or(512.0 * 1048576.0) as u64;
    let t0 = trace.samples[0].t_ms;
    let a = replay::analyze_with(&trace, &config, limit, |t, report| {
        let s = &report.state;
        let f = |e: &memwarden::engine::leak::SignalEvidence| {
            format!(
                "{:?} n={} w={}s slope={:.0}KB/s low={:.0} z={:.1} thirds={} survived={:?} susp={}",
                e.signal,
                e.points,
                e.window_ms / 1000,
                e.slope_bytes_per_sec / 1024.0,
                e.slope_low_bytes_per_sec / 1024.0,
                e.z,
                e.rising_thirds,
                e.survived_gc,
                e.suspicious
            )
        };
        println!(
            "{:6.1} flag={} | {} | {}",
            (t as f64 - t0) / 1000.0,
            s.leak_suspected,
            f(&s.heap),
            f(&s.external)
        );
    })
    .expect("replay");
    println!(
        "first flagged at {:?}, last cleared at {:?}",
        a.first_flagged_at.map(|t| (t as f64 - t0) / 1000.0),
        a.last_cleared_at.map(|t| (t as f64 - t0) / 1000.0)
    );
}
