//! Traces recorded by other tools: `process.memoryUsage()` samples and GC entries from a
//! `PerformanceObserver`, with no reading taken just after each full collection. Without
//! such readings nothing can tell a leak from garbage waiting for a collection, so the
//! first sample after each full collection stands in for the reading (the young
//! generation has refilled a little by then: an approximation), and the analysis says
//! so; when growth still cannot be confirmed, it says why.

use super::super::gc::GcKind;
use super::super::trace::{Trace, TraceGc};
use super::detector::LeakState;
use super::evidence::SignalEvidence;

fn is_full(g: &TraceGc) -> bool {
    g.forced || g.kind == GcKind::Major
}

fn has_reading(g: &TraceGc) -> bool {
    g.heap_after_bytes.is_some()
        || g.old_generation_after_bytes.is_some()
        || g.external_after_bytes.is_some()
}

/// A trace whose full collections carry readings: the trace itself when any full
/// collection has one (or none has a sample after it), else a copy in which each full
/// collection takes the first sample after it as its reading. Returns the trace and the
/// number of collections given a stand-in reading (0: unchanged, the verdict is exact).
pub fn with_after_gc_readings(t: &Trace) -> (Trace, usize) {
    let mut out = t.clone();
    if t.gc.iter().filter(|g| is_full(g)).any(has_reading) {
        return (out, 0);
    }
    let mut filled = 0;
    let mut si = 0;
    for g in out.gc.iter_mut().filter(|g| is_full(g)) {
        while si < t.samples.len() && t.samples[si].t_ms < g.t_ms {
            si += 1;
        }
        let Some(s) = t.samples.get(si) else { break };
        g.heap_after_bytes = Some(s.heap_used_bytes);
        g.old_generation_after_bytes = Some(s.old_generation_bytes.unwrap_or(s.heap_used_bytes));
        g.external_after_bytes = Some(s.external_bytes);
        filled += 1;
    }
    (out, filled)
}

/// Notes for the analysis: that the verdict is approximate, and why suspected growth
/// could not be confirmed (empty when there is nothing to say).
pub fn notes(state: &LeakState, full_gcs: usize, filled: usize) -> Vec<String> {
    let mut notes = Vec::new();
    if filled > 0 {
        notes.push(format!(
            "approximate: the trace has no readings taken just after full collections; the first sample after each of {filled} full collections stood in for them"
        ));
    }
    if state.leak_suspected {
        return notes;
    }
    let growing: Vec<&SignalEvidence> = [&state.heap, &state.external]
        .into_iter()
        .filter(|e| e.z >= 2.5 && e.slope_low_bytes_per_sec > 0.0)
        .collect();
    for e in growing {
        let what = match e.signal {
            super::Signal::External => "off-heap memory",
            _ => "the heap",
        };
        let why = if full_gcs == 0 {
            "the trace has no full collection (major or forced GC), so nothing shows whether the growth survives one".to_string()
        } else if e.survived_gc.is_none() {
            "no full collection fell in the later part of the analysis window".to_string()
        } else if e.survived_gc == Some(false) {
            "full collections freed it: garbage waiting for a collection, not a leak".to_string()
        } else {
            format!(
                "it rose in {} of 3 thirds of the window (a leak rises in all)",
                e.rising_thirds
            )
        };
        notes.push(format!(
            "growth not confirmed: {what} rose ({:.0} KB/s, z {:.1}) but {why}",
            e.slope_bytes_per_sec / 1024.0,
            e.z
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::super::super::trace::TraceSample;
    use super::*;

    fn trace(gc_readings: bool) -> Trace {
        let samples = (0..8)
            .map(|i| TraceSample {
                t_ms: i as f64 * 250.0,
                heap_used_bytes: 10.0 + i as f64,
                heap_total_bytes: 40.0,
                rss_bytes: 50.0,
                external_bytes: 1.0,
                array_buffers_bytes: 0.0,
                old_generation_bytes: None,
            })
            .collect();
        let gc = vec![
            TraceGc {
                t_ms: 300.0,
                kind: GcKind::Minor,
                duration_ms: 1.0,
                forced: false,
                heap_before_bytes: None,
                heap_after_bytes: None,
                old_generation_after_bytes: None,
                external_after_bytes: None,
            },
            TraceGc {
                t_ms: 600.0,
                kind: GcKind::Major,
                duration_ms: 5.0,
                forced: false,
                heap_before_bytes: None,
                heap_after_bytes: gc_readings.then_some(11.0),
                old_generation_after_bytes: None,
                external_after_bytes: None,
            },
            TraceGc {
                t_ms: 5000.0,
                kind: GcKind::Major,
                duration_ms: 5.0,
                forced: false,
                heap_before_bytes: None,
                heap_after_bytes: None,
                old_generation_after_bytes: None,
                external_after_bytes: None,
            },
        ];
        Trace {
            version: Some(1),
            limit_bytes: None,
            heap_size_limit: None,
            interval_ms: None,
            samples,
            gc,
        }
    }

    #[test]
    fn the_first_sample_after_a_full_collection_stands_in() {
        let (t, filled) = with_after_gc_readings(&trace(false));
        // The GC at 600 ms takes the sample at 750 ms (heap 13); the minor one and the one
        // after the last sample get nothing.
        assert_eq!(filled, 1);
        assert_eq!(t.gc[1].heap_after_bytes, Some(13.0));
        assert_eq!(t.gc[1].old_generation_after_bytes, Some(13.0));
        assert_eq!(t.gc[0].heap_after_bytes, None);
        assert_eq!(t.gc[2].heap_after_bytes, None);
    }

    #[test]
    fn a_trace_with_readings_is_left_alone() {
        let original = trace(true);
        let (t, filled) = with_after_gc_readings(&original);
        assert_eq!(filled, 0);
        assert_eq!(t, original);
    }
}
