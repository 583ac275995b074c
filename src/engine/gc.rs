//! Garbage-collection statistics from the collections the JS layer observes.

use super::ring::Ring;
use super::stats;
use serde::{Deserialize, Serialize};

/// Durations kept for the p95.
const DURATION_WINDOW: usize = 256;

/// The kind of a collection: the one definition used by the trace format (its JSON
/// names), the GC statistics (its index) and the JS layer (`gcKinds()` gives each
/// kind's index, name and the `perf_hooks.constants` entry Node reports it with).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum GcKind {
    Minor,
    Major,
    Incremental,
    WeakCallbacks,
}

impl GcKind {
    pub const ALL: [GcKind; 4] = [
        GcKind::Minor,
        GcKind::Major,
        GcKind::Incremental,
        GcKind::WeakCallbacks,
    ];

    /// The index the binding passes (position in [`GcKind::ALL`]).
    pub fn from_index(kind: u32) -> Option<GcKind> {
        GcKind::ALL.get(kind as usize).copied()
    }

    pub fn index(self) -> u32 {
        self as u32
    }

    /// The JSON name (as in traces and reports).
    pub fn name(self) -> &'static str {
        match self {
            GcKind::Minor => "minor",
            GcKind::Major => "major",
            GcKind::Incremental => "incremental",
            GcKind::WeakCallbacks => "weakCallbacks",
        }
    }

    /// The name of Node's `perf_hooks.constants` entry for this kind (its value is
    /// read in JS, never written down here).
    pub fn node_constant(self) -> &'static str {
        match self {
            GcKind::Minor => "NODE_PERFORMANCE_GC_MINOR",
            GcKind::Major => "NODE_PERFORMANCE_GC_MAJOR",
            GcKind::Incremental => "NODE_PERFORMANCE_GC_INCREMENTAL",
            GcKind::WeakCallbacks => "NODE_PERFORMANCE_GC_WEAKCB",
        }
    }
}

/// One collection. Byte counts are known for forced collections (and any source that
/// reports them); otherwise `None`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GcEvent {
    /// Milliseconds since the epoch.
    #[serde(rename = "timestamp")]
    pub t_ms: u64,
    pub kind: GcKind,
    #[serde(serialize_with = "super::report::finite::num")]
    pub duration_ms: f64,
    pub forced: bool,
    #[serde(rename = "heapBefore")]
    pub heap_before_bytes: Option<u64>,
    #[serde(rename = "heapAfter")]
    pub heap_after_bytes: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct GcStats {
    started: u64,
    total: u64,
    counts: [u64; 4],
    forced: u64,
    total_duration_ms: f64,
    durations: Ring<f64>,
    sized_before: f64,
    sized_freed: f64,
    last_major: Option<GcEvent>,
    live_after_major: Option<u64>,
}

/// The `gcStats` part of the health report. Durations in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GcReport {
    pub total_collections: u64,
    pub minor: u64,
    pub major: u64,
    pub incremental: u64,
    pub weak_callbacks: u64,
    pub forced: u64,
    /// Mean pause per collection (ms); 0 before the first collection.
    #[serde(serialize_with = "super::report::finite::num")]
    pub average_duration: f64,
    /// 95th percentile pause over the last 256 collections (ms); `null` before any.
    #[serde(serialize_with = "super::report::finite::opt")]
    pub p95_duration: Option<f64>,
    /// Share of wall time spent in GC pauses since monitoring started (percent).
    #[serde(serialize_with = "super::report::finite::num")]
    pub pause_time_percent: f64,
    /// Percent of the heap freed by collections whose before/after sizes are known;
    /// `null` until one is known.
    #[serde(serialize_with = "super::report::finite::opt")]
    pub efficiency: Option<f64>,
    pub last_major: Option<GcEvent>,
    /// Heap bytes still used after the last major collection with a known size: the live set.
    pub live_heap_after_major: Option<u64>,
}

impl GcStats {
    pub fn new(started: u64) -> GcStats {
        GcStats {
            started,
            total: 0,
            counts: [0; 4],
            forced: 0,
            total_duration_ms: 0.0,
            durations: Ring::new(DURATION_WINDOW),
            sized_before: 0.0,
            sized_freed: 0.0,
            last_major: None,
            live_after_major: None,
        }
    }

    pub fn record(&mut self, e: GcEvent) {
        let duration = if e.duration_ms.is_finite() && e.duration_ms >= 0.0 {
            e.duration_ms
        } else {
            0.0
        };
        self.total += 1;
        self.counts[e.kind as usize] += 1;
        if e.forced {
            self.forced += 1;
        }
        self.total_duration_ms += duration;
        self.durations.push(duration);
        if let (Some(before), Some(after)) = (e.heap_before_bytes, e.heap_after_bytes) {
            if before > 0 {
                self.sized_before += before as f64;
                self.sized_freed += before.saturating_sub(after) as f64;
            }
        }
        if e.kind == GcKind::Major {
            self.last_major = Some(e);
            if let Some(after) = e.heap_after_bytes {
                self.live_after_major = Some(after);
            }
        }
    }

    pub fn report(&self, now: u64) -> GcReport {
        let wall = now.saturating_sub(self.started) as f64;
        let durations: Vec<f64> = self.durations.iter().copied().collect();
        GcReport {
            total_collections: self.total,
            minor: self.counts[GcKind::Minor as usize],
            major: self.counts[GcKind::Major as usize],
            incremental: self.counts[GcKind::Incremental as usize],
            weak_callbacks: self.counts[GcKind::WeakCallbacks as usize],
            forced: self.forced,
            average_duration: if self.total == 0 {
                0.0
            } else {
                self.total_duration_ms / self.total as f64
            },
            p95_duration: stats::quantile(&durations, 0.95),
            pause_time_percent: if wall > 0.0 {
                (self.total_duration_ms / wall * 100.0).min(100.0)
            } else {
                0.0
            },
            efficiency: (self.sized_before > 0.0)
                .then(|| self.sized_freed / self.sized_before * 100.0),
            last_major: self.last_major,
            live_heap_after_major: self.live_after_major,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t: u64, kind: GcKind, d: f64) -> GcEvent {
        GcEvent {
            t_ms: t,
            kind,
            duration_ms: d,
            forced: false,
            heap_before_bytes: None,
            heap_after_bytes: None,
        }
    }

    #[test]
    fn empty_stats_are_zero_not_nan() {
        let r = GcStats::new(0).report(0);
        assert_eq!(r.total_collections, 0);
        assert_eq!(r.average_duration, 0.0);
        assert_eq!(r.p95_duration, None);
        assert_eq!(r.pause_time_percent, 0.0);
        assert_eq!(r.efficiency, None);
    }

    #[test]
    fn counts_durations_and_pause_share() {
        let mut g = GcStats::new(1_000);
        g.record(ev(1_100, GcKind::Minor, 2.0));
        g.record(ev(1_200, GcKind::Minor, 4.0));
        g.record(ev(1_300, GcKind::Major, 14.0));
        g.record(ev(1_400, GcKind::WeakCallbacks, f64::NAN));
        let r = g.report(3_000);
        assert_eq!(
            (r.total_collections, r.minor, r.major, r.weak_callbacks),
            (4, 2, 1, 1)
        );
        assert_eq!(r.average_duration, 5.0);
        assert_eq!(r.pause_time_percent, 1.0);
        assert!(r.p95_duration.unwrap() > 10.0);
        assert_eq!(r.last_major.unwrap().t_ms, 1_300);
    }

    #[test]
    fn efficiency_from_sized_collections() {
        let mut g = GcStats::new(0);
        let mut e = ev(10, GcKind::Major, 5.0);
        e.forced = true;
        e.heap_before_bytes = Some(100);
        e.heap_after_bytes = Some(25);
        g.record(e);
        let r = g.report(20);
        assert_eq!(r.efficiency, Some(75.0));
        assert_eq!(r.forced, 1);
        assert_eq!(r.live_heap_after_major, Some(25));
    }

    #[test]
    fn kind_indexes() {
        assert_eq!(GcKind::from_index(0), Some(GcKind::Minor));
        assert_eq!(GcKind::from_index(1), Some(GcKind::Major));
        assert_eq!(GcKind::from_index(3), Some(GcKind::WeakCallbacks));
        assert_eq!(GcKind::from_index(4), None);
        for k in GcKind::ALL {
            assert_eq!(GcKind::from_index(k.index()), Some(k));
            // The JSON name is serde's, so traces and reports agree with name().
            assert_eq!(serde_json::to_value(k).unwrap(), k.name());
            assert_eq!(
                serde_json::from_value::<GcKind>(k.name().into()).unwrap(),
                k
            );
        }
    }
}
