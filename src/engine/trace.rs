//! Recorded traces: what the manager exports and what `analyzeTrace` replays.
//! Validation names the field and index of every bad value.

use super::gc::GcKind;
use serde::{Deserialize, Serialize};

/// Largest trace accepted for replay.
pub const MAX_SAMPLES: usize = 1_000_000;
pub const MAX_GC_EVENTS: usize = 1_000_000;
/// Byte counts above 2^53 are not exact in JS and not plausible.
const MAX_BYTES: f64 = 9_007_199_254_740_992.0;

/// One sample. Times in ms (any origin), sizes in bytes. `oldGeneration` (heap minus
/// the young generation) is optional; without it heapUsed stands in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceSample {
    #[serde(rename = "t")]
    pub t_ms: f64,
    #[serde(rename = "heapUsed")]
    pub heap_used_bytes: f64,
    #[serde(rename = "heapTotal")]
    pub heap_total_bytes: f64,
    #[serde(rename = "rss")]
    pub rss_bytes: f64,
    #[serde(rename = "external")]
    pub external_bytes: f64,
    #[serde(rename = "arrayBuffers")]
    pub array_buffers_bytes: f64,
    #[serde(
        rename = "oldGeneration",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub old_generation_bytes: Option<f64>,
}

/// One collection: kind is "minor", "major", "incremental" or "weakCallbacks"
/// ([`GcKind`]); the optional sizes are read just after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceGc {
    #[serde(rename = "t")]
    pub t_ms: f64,
    pub kind: GcKind,
    #[serde(rename = "duration")]
    pub duration_ms: f64,
    #[serde(default)]
    pub forced: bool,
    #[serde(
        rename = "heapBefore",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub heap_before_bytes: Option<f64>,
    #[serde(rename = "heapAfter", default, skip_serializing_if = "Option::is_none")]
    pub heap_after_bytes: Option<f64>,
    #[serde(
        rename = "oldGenerationAfter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub old_generation_after_bytes: Option<f64>,
    #[serde(
        rename = "externalAfter",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub external_after_bytes: Option<f64>,
}

/// A whole trace. `limitBytes`, `heapSizeLimit` and `intervalMs` are optional for
/// hand-written traces (options or defaults fill them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trace {
    #[serde(default)]
    pub version: Option<u32>,
    #[serde(default)]
    pub limit_bytes: Option<f64>,
    #[serde(default)]
    pub heap_size_limit: Option<f64>,
    #[serde(default)]
    pub interval_ms: Option<f64>,
    pub samples: Vec<TraceSample>,
    #[serde(default)]
    pub gc: Vec<TraceGc>,
}

/// The newest part of a recorded trace and the whole trace's totals: what the
/// metrics endpoint shows, at a cost that does not grow with the history.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceTail {
    /// Samples and full GCs in the whole trace.
    pub total_samples: usize,
    pub total_gc: usize,
    /// Time of the oldest sample in the whole trace.
    pub first_sample_at: Option<f64>,
    /// The newest samples and full GCs (oldest first) with the limit and interval.
    #[serde(flatten)]
    pub trace: Trace,
}

/// `list[i].t` must be a finite, non-negative time, not before the previous one (`prev`, updated).
fn check_time(errors: &mut Vec<String>, list: &str, i: usize, t: f64, prev: &mut f64) {
    if !t.is_finite() || t < 0.0 {
        errors.push(format!(
            "{list}[{i}].t={t} must be a finite, non-negative time in ms"
        ));
    } else if t < *prev {
        errors.push(format!(
            "{list}[{i}].t={t} is before {list}[{}].t={prev}: {list} must be sorted by time",
            i - 1
        ));
    }
    *prev = t;
}

fn check_bytes(errors: &mut Vec<String>, what: &str, v: f64) {
    if !v.is_finite() {
        errors.push(format!("{what}={v} is not a finite number"));
    } else if v < 0.0 {
        errors.push(format!("{what}={v} is negative"));
    } else if v > MAX_BYTES {
        errors.push(format!("{what}={v} is above 2^53"));
    }
}

/// Checks a trace; returns every problem (at most 20 listed).
pub fn validate(trace: &Trace) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    if trace.samples.is_empty() {
        errors.push("samples is empty; a trace needs at least one sample".into());
    }
    if trace.samples.len() > MAX_SAMPLES {
        errors.push(format!(
            "samples has {} entries; at most {MAX_SAMPLES} are accepted",
            trace.samples.len()
        ));
    }
    if trace.gc.len() > MAX_GC_EVENTS {
        errors.push(format!(
            "gc has {} entries; at most {MAX_GC_EVENTS} are accepted",
            trace.gc.len()
        ));
    }
    for (name, v) in [
        ("limitBytes", trace.limit_bytes),
        ("heapSizeLimit", trace.heap_size_limit),
    ] {
        if let Some(v) = v {
            check_bytes(&mut errors, name, v);
            if v == 0.0 {
                errors.push(format!("{name}=0 must be positive"));
            }
        }
    }
    if let Some(i) = trace.interval_ms {
        if !(i.is_finite() && (1.0..=3_600_000.0).contains(&i)) {
            errors.push(format!("intervalMs={i} must be from 1 to 3600000"));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut prev = f64::NEG_INFINITY;
    for (i, s) in trace.samples.iter().enumerate() {
        if errors.len() >= 20 {
            break;
        }
        check_time(&mut errors, "samples", i, s.t_ms, &mut prev);
        for (f, v) in [
            ("heapUsed", s.heap_used_bytes),
            ("heapTotal", s.heap_total_bytes),
            ("rss", s.rss_bytes),
            ("external", s.external_bytes),
            ("arrayBuffers", s.array_buffers_bytes),
        ] {
            check_bytes(&mut errors, &format!("samples[{i}].{f}"), v);
        }
        if let Some(v) = s.old_generation_bytes {
            check_bytes(&mut errors, &format!("samples[{i}].oldGeneration"), v);
        }
    }
    let mut prev = f64::NEG_INFINITY;
    for (i, g) in trace.gc.iter().enumerate() {
        if errors.len() >= 20 {
            break;
        }
        check_time(&mut errors, "gc", i, g.t_ms, &mut prev);
        if !g.duration_ms.is_finite() || g.duration_ms < 0.0 {
            errors.push(format!(
                "gc[{i}].duration={} must be a finite, non-negative number of ms",
                g.duration_ms
            ));
        }
        for (f, v) in [
            ("heapBefore", g.heap_before_bytes),
            ("heapAfter", g.heap_after_bytes),
            ("oldGenerationAfter", g.old_generation_after_bytes),
            ("externalAfter", g.external_after_bytes),
        ] {
            if let Some(v) = v {
                check_bytes(&mut errors, &format!("gc[{i}].{f}"), v);
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Parses a trace from JSON. A GC kind that is not one of [`GcKind`]'s names is
/// reported with its index (serde alone would name neither the field nor the entry).
pub fn from_json(v: serde_json::Value) -> Result<Trace, Vec<String>> {
    let mut errors = Vec::new();
    if let Some(gcs) = v.get("gc").and_then(|g| g.as_array()) {
        for (i, g) in gcs.iter().enumerate() {
            let kind = g.get("kind").cloned().unwrap_or(serde_json::Value::Null);
            if serde_json::from_value::<GcKind>(kind.clone()).is_err() && errors.len() < 20 {
                errors.push(format!(
                    "gc[{i}].kind={kind} is not a GC kind; accepted: {}",
                    GcKind::ALL
                        .iter()
                        .map(|k| format!("\"{}\"", k.name()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    serde_json::from_value(v).map_err(|e| vec![format!("trace is not a valid trace: {e}")])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t_ms: f64) -> TraceSample {
        TraceSample {
            t_ms,
            heap_used_bytes: 1.0,
            heap_total_bytes: 2.0,
            rss_bytes: 3.0,
            external_bytes: 0.0,
            array_buffers_bytes: 0.0,
            old_generation_bytes: None,
        }
    }

    fn trace(samples: Vec<TraceSample>) -> Trace {
        Trace {
            version: Some(1),
            limit_bytes: None,
            heap_size_limit: None,
            interval_ms: None,
            samples,
            gc: vec![],
        }
    }

    #[test]
    fn accepts_a_good_trace() {
        assert_eq!(
            validate(&trace(vec![sample(0.0), sample(250.0), sample(250.0)])),
            Ok(())
        );
    }

    #[test]
    fn rejects_empty_unsorted_nan_and_negative() {
        assert!(validate(&trace(vec![])).unwrap_err()[0].contains("empty"));
        let e = validate(&trace(vec![sample(10.0), sample(5.0)])).unwrap_err();
        assert!(
            e[0].contains("samples[1].t=5") && e[0].contains("sorted"),
            "{e:?}"
        );
        let mut s = sample(0.0);
        s.heap_used_bytes = f64::NAN;
        s.rss_bytes = -1.0;
        let e = validate(&trace(vec![s])).unwrap_err();
        assert!(
            e.iter().any(|m| m.contains("samples[0].heapUsed=NaN")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|m| m.contains("samples[0].rss=-1 is negative")),
            "{e:?}"
        );
    }

    #[test]
    fn rejects_bad_gc_events() {
        let mut t = trace(vec![sample(0.0)]);
        t.gc.push(TraceGc {
            t_ms: 1.0,
            kind: GcKind::Major,
            duration_ms: -2.0,
            forced: false,
            heap_before_bytes: None,
            heap_after_bytes: Some(f64::INFINITY),
            old_generation_after_bytes: None,
            external_after_bytes: None,
        });
        let e = validate(&t).unwrap_err();
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].contains("gc[0].duration=-2"), "{e:?}");
        assert!(e[1].contains("gc[0].heapAfter=inf"), "{e:?}");
    }

    #[test]
    fn names_an_unknown_gc_kind_with_its_index() {
        let v = serde_json::json!({
            "samples": [{"t": 0, "heapUsed": 1, "heapTotal": 2, "rss": 3, "external": 0, "arrayBuffers": 0}],
            "gc": [{"t": 1, "kind": "major", "duration": 1}, {"t": 2, "kind": "full", "duration": 1}],
        });
        let e = from_json(v).unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("gc[1].kind=\"full\" is not a GC kind"),
            "{e:?}"
        );
        assert!(e[0].contains("\"weakCallbacks\""), "{e:?}");
        let ok = serde_json::json!({
            "samples": [{"t": 0, "heapUsed": 1, "heapTotal": 2, "rss": 3, "external": 0, "arrayBuffers": 0}],
            "gc": [{"t": 1, "kind": "weakCallbacks", "duration": 1}],
        });
        assert_eq!(from_json(ok).unwrap().gc[0].kind, GcKind::WeakCallbacks);
    }

    #[test]
    fn caps_the_error_list() {
        let mut s = sample(0.0);
        s.heap_used_bytes = -1.0;
        let e = validate(&trace(vec![s; 100])).unwrap_err();
        assert!(e.len() <= 25);
    }
}
