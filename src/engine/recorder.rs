//! Trace recording: what the engine keeps of each heap sample and full collection
//! for `exportTrace()` (and `analyzeTrace`/`memory analyze` to replay).

use super::gc::{GcEvent, GcKind};
use super::report::HeapSample;
use super::trace::{Trace, TraceGc, TraceSample};

/// Samples and full-GC events kept for `exportTrace()`.
pub const TRACE_SAMPLES: usize = 2_400;
pub const TRACE_GC_EVENTS: usize = 512;

/// The trace entry of one heap sample (`rss_bytes`: the newest resident sample).
pub fn sample(t_ms: u64, h: &HeapSample, rss_bytes: u64) -> TraceSample {
    TraceSample {
        t_ms: t_ms as f64,
        heap_used_bytes: h.heap_used as f64,
        heap_total_bytes: h.heap_total_bytes as f64,
        rss_bytes: rss_bytes as f64,
        external_bytes: h.external_bytes as f64,
        array_buffers_bytes: h.array_buffers_bytes as f64,
        old_generation_bytes: (h.old_generation_bytes > 0).then_some(h.old_generation_bytes as f64),
    }
}

/// Whether a collection goes into the trace: full (major) or forced ones only.
pub fn records(e: &GcEvent) -> bool {
    e.kind == GcKind::Major || e.forced
}

/// The trace entry of one collection, with the figures read just after it.
pub fn gc(e: &GcEvent, old_gen_after: Option<u64>, external_after: Option<u64>) -> TraceGc {
    TraceGc {
        t_ms: e.t_ms as f64,
        kind: e.kind,
        duration_ms: e.duration_ms,
        forced: e.forced,
        heap_before_bytes: e.heap_before_bytes.map(|v| v as f64),
        heap_after_bytes: e.heap_after_bytes.map(|v| v as f64),
        old_generation_after_bytes: old_gen_after.map(|v| v as f64),
        external_after_bytes: external_after.map(|v| v as f64),
    }
}

/// The exported trace.
pub fn export<'a>(
    limit_bytes: u64,
    heap_size_limit: Option<u64>,
    interval_ms: u64,
    samples: impl Iterator<Item = &'a TraceSample>,
    gcs: impl Iterator<Item = &'a TraceGc>,
) -> Trace {
    Trace {
        version: Some(1),
        limit_bytes: Some(limit_bytes as f64),
        heap_size_limit: heap_size_limit.map(|v| v as f64),
        interval_ms: Some(interval_ms as f64),
        samples: samples.copied().collect(),
        gc: gcs.cloned().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_full_and_forced_collections_only() {
        let mut e = GcEvent {
            t_ms: 5,
            kind: GcKind::Minor,
            duration_ms: 1.0,
            forced: false,
            heap_before_bytes: None,
            heap_after_bytes: Some(10),
        };
        assert!(!records(&e));
        e.forced = true;
        assert!(records(&e));
        let g = gc(&e, Some(7), None);
        let v = serde_json::to_value(&g).unwrap();
        assert_eq!(v["kind"], "minor");
        assert_eq!(v["t"], 5.0);
        assert_eq!(v["heapAfter"], 10.0);
        assert_eq!(v["oldGenerationAfter"], 7.0);
        assert!(v.get("externalAfter").is_none());
    }
}
