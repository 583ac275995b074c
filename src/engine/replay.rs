//! Replays a recorded trace through the same engine: same input, same output.

use super::config::Config;
use super::gc::{GcEvent, GcKind};
use super::limit::{Limit, LimitSource};
use super::monitor::Engine;
use super::report::{Event, HeapSample, LeakReport, NativeSample, TrendReport};
use super::trace::{self, Trace, TraceGc};
use serde::Serialize;

/// One change of the verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerdictChange {
    pub t: u64,
    pub leak_suspected: bool,
    pub confidence: f64,
    pub signal: Option<super::leak::Signal>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Analysis {
    pub samples: usize,
    pub gc_events: usize,
    pub duration_ms: u64,
    pub limit_bytes: u64,
    pub interval_ms: u64,
    /// First time the leak flag was raised, and the last time it cleared.
    pub first_flagged_at: Option<u64>,
    pub last_cleared_at: Option<u64>,
    pub timeline: Vec<VerdictChange>,
    pub events: Vec<Event>,
    pub trend: TrendReport,
    pub leak: LeakReport,
    /// The trace had no after-GC readings: the first sample after each full collection
    /// stood in for them (`leak::foreign`).
    pub approximate: bool,
    /// What the verdict rests on when it is not exact, and why growth was not confirmed.
    pub notes: Vec<String>,
}

/// Interval to assume: the trace's own, else the median spacing of its samples.
pub fn inferred_interval_ms(t: &Trace) -> u64 {
    if let Some(i) = t.interval_ms {
        return i.round().max(1.0) as u64;
    }
    let gaps: Vec<f64> = t
        .samples
        .windows(2)
        .map(|w| w[1].t_ms - w[0].t_ms)
        .filter(|g| *g > 0.0)
        .collect();
    super::stats::median(&gaps).map_or(1_000, |g| g.round().clamp(1.0, 3_600_000.0) as u64)
}

fn gc_event(g: &TraceGc) -> GcEvent {
    GcEvent {
        t_ms: g.t_ms.round() as u64,
        kind: g.kind,
        duration_ms: g.duration_ms,
        forced: g.forced,
        heap_before_bytes: g.heap_before_bytes.map(|v| v as u64),
        heap_after_bytes: g.heap_after_bytes.map(|v| v as u64),
    }
}

/// Replays a trace given as JSON with `options` (an object or null): the settings of
/// `analyzeTrace`. Replays do not depend on the machine: the "other" platform preset
/// unless options say otherwise; the interval is the trace's (or inferred from its
/// samples) unless `monitoringIntervalMs` is given; the limit is `memoryLimitMb` or
/// the trace's `limitBytes`.
pub fn analyze_json(
    trace: serde_json::Value,
    options: &serde_json::Value,
) -> Result<Analysis, Vec<String>> {
    let parsed = trace::from_json(trace)?;
    trace::validate(&parsed)?;
    let empty = serde_json::Map::new();
    let opts = match options {
        serde_json::Value::Object(m) => m,
        serde_json::Value::Null => &empty,
        other => return Err(vec![format!("options={other} is not an object")]),
    };
    let env: std::collections::BTreeMap<String, String> =
        [("NODE_ENV".to_string(), "production".to_string())].into();
    let mut config = super::config::resolve(&super::config::Input {
        options: opts,
        env: &env,
        host: &super::platform::HostFacts::default(),
    })
    .map_err(|problems| problems.into_iter().map(|p| p.message).collect::<Vec<_>>())?;
    if config
        .sources
        .get("monitoringIntervalMs")
        .map(String::as_str)
        != Some("option")
    {
        config.monitoring_interval_ms = inferred_interval_ms(&parsed);
    }
    let Some(limit) = config
        .memory_limit_bytes
        .or(parsed.limit_bytes.map(|b| b as u64))
    else {
        return Err(vec![
            "the trace has no limitBytes: pass options.memoryLimitMb".into(),
        ]);
    };
    analyze(&parsed, &config, limit)
}

/// Replays a validated trace with `config` (its interval and limit already chosen).
pub fn analyze(t: &Trace, config: &Config, limit_bytes: u64) -> Result<Analysis, Vec<String>> {
    analyze_with(t, config, limit_bytes, |_, _| {})
}

/// As `analyze`, calling `observe(now, leak_report)` whenever the detector raised an
/// event or closed a bucket with an event (for tuning tools).
pub fn analyze_with(
    t: &Trace,
    config: &Config,
    limit_bytes: u64,
    mut observe: impl FnMut(u64, &LeakReport),
) -> Result<Analysis, Vec<String>> {
    trace::validate(t)?;
    let (filled_trace, filled) = super::leak::foreign::with_after_gc_readings(t);
    let t = &filled_trace;
    let full_gcs =
        t.gc.iter()
            .filter(|g| g.forced || g.kind == super::gc::GcKind::Major)
            .count();
    let start = t.samples[0]
        .t_ms
        .min(t.gc.first().map_or(f64::INFINITY, |g| g.t_ms))
        .round() as u64;
    let limit = Limit {
        bytes: limit_bytes,
        source: LimitSource::Override,
        detail: "replayed trace".into(),
    };
    let mut engine = Engine::new(config, limit, start);
    let confirmations = t.gc.iter().any(|g| g.forced);
    engine.set_gc_available(confirmations);
    engine.set_confirmation_available(confirmations);
    let heap_limit = t.heap_size_limit.unwrap_or(0.0) as u64;
    let mut events = Vec::new();
    let mut timeline: Vec<VerdictChange> = Vec::new();
    let mut flagged = false;
    let mut gi = 0;
    for s in &t.samples {
        while gi < t.gc.len() && t.gc[gi].t_ms <= s.t_ms {
            let g = &t.gc[gi];
            let e = gc_event(g);
            if e.kind == GcKind::Major || e.forced {
                events.extend(engine.record_full_gc(
                    e,
                    g.old_generation_after_bytes.map(|v| v as u64),
                    g.external_after_bytes.map(|v| v as u64),
                ));
            } else {
                engine.record_gc(e);
            }
            gi += 1;
        }
        let now = s.t_ms.round() as u64;
        events.extend(engine.ingest_native(
            now,
            NativeSample {
                rss_bytes: s.rss_bytes as u64,
                cgroup_usage_bytes: None,
                working_set_bytes: None,
            },
        ));
        let new = engine.ingest_heap(
            now,
            HeapSample {
                heap_used: s.heap_used_bytes as u64,
                heap_total_bytes: s.heap_total_bytes as u64,
                external_bytes: s.external_bytes as u64,
                array_buffers_bytes: s.array_buffers_bytes as u64,
                heap_size_limit: heap_limit,
                detached_contexts: 0,
                old_generation_bytes: s.old_generation_bytes.map_or(0, |v| v as u64),
            },
        );
        let leak_changed = new.iter().any(|e| matches!(e, Event::Leak(_)));
        events.extend(new);
        if leak_changed {
            let r = engine.leak_report(now);
            observe(now, &r);
            if r.state.leak_suspected != flagged {
                flagged = r.state.leak_suspected;
                timeline.push(VerdictChange {
                    t: now,
                    leak_suspected: flagged,
                    confidence: r.confidence,
                    signal: r.state.signal,
                });
            }
        }
    }
    let end = t.samples.last().map_or(start, |s| s.t_ms.round() as u64);
    let report = engine.report(end);
    let leak = engine.leak_report(end);
    let notes = super::leak::foreign::notes(&leak.state, full_gcs, filled);
    Ok(Analysis {
        samples: t.samples.len(),
        gc_events: t.gc.len(),
        duration_ms: end.saturating_sub(start),
        limit_bytes,
        interval_ms: config.monitoring_interval_ms,
        first_flagged_at: timeline.iter().find(|c| c.leak_suspected).map(|c| c.t),
        last_cleared_at: timeline
            .iter()
            .rev()
            .find(|c| !c.leak_suspected)
            .map(|c| c.t),
        timeline,
        events,
        trend: report.trend,
        leak,
        approximate: filled > 0,
        notes,
    })
}
