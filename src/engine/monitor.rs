//! The monitoring engine: takes samples and `now`, keeps bounded history,
//! evaluates the status with hysteresis and builds the health report.

use super::config::Config;
use super::gc::{GcEvent, GcReport, GcStats};
use super::limit::Limit;
use super::platform::Platform;
use super::recommend::{self, Facts};
use super::ring::Ring;
use super::stats;
use super::status::{Level, Thresholds};
use serde::Serialize;

/// Fewest resident samples before a trend is reported.
pub const MIN_TREND_SAMPLES: usize = 8;

/// What the native sampler reads (procfs / cgroup files).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct NativeSample {
    pub rss: u64,
    /// cgroup `memory.current` / `memory.usage_in_bytes`, when the limit is a cgroup's.
    pub cgroup_usage: Option<u64>,
    /// cgroup usage minus inactive file cache.
    pub working_set: Option<u64>,
}

/// What the JS thread reads from V8 and `process.memoryUsage()`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct HeapSample {
    pub heap_used: u64,
    pub heap_total: u64,
    pub external: u64,
    pub array_buffers: u64,
    pub heap_size_limit: u64,
    pub detached_contexts: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PressureSource {
    Resident,
    Heap,
}

/// Events the engine raises; serialized with a `type` tag.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Event {
    #[serde(rename_all = "camelCase")]
    Status {
        previous: Level,
        current: Level,
        pressure_percentage: f64,
        usage_percentage: f64,
        heap_usage_percentage: f64,
        pressure_source: PressureSource,
        timestamp: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Pressure {
    usage: f64,
    heap: f64,
}

impl Pressure {
    fn worst(self) -> (f64, PressureSource) {
        if self.heap > self.usage {
            (self.heap, PressureSource::Heap)
        } else {
            (self.usage, PressureSource::Resident)
        }
    }
}

/// `currentUsage` in the health report. Bytes unless named otherwise.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrentUsage {
    pub heap_used: u64,
    pub heap_total: u64,
    pub external: u64,
    pub array_buffers: u64,
    pub rss: u64,
    pub working_set: Option<u64>,
    pub cgroup_usage: Option<u64>,
    /// The resident figure compared with the limit: the working set under a cgroup limit, else rss.
    pub resident_bytes: u64,
    pub limit_bytes: u64,
    pub limit_source: super::limit::LimitSource,
    pub limit_detail: String,
    pub heap_size_limit: u64,
    pub detached_contexts: u64,
    /// residentBytes / limitBytes × 100.
    pub usage_percentage: f64,
    /// heapUsed / heapSizeLimit × 100.
    pub heap_usage_percentage: f64,
    /// The worse of the two: what the status follows.
    pub pressure_percentage: f64,
    pub pressure_source: PressureSource,
    pub platform: Platform,
    pub platform_reason: String,
}

/// `trend` in the health report, over the resident history.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrendReport {
    /// Minutes covered by the history.
    pub time_window: f64,
    pub time_window_ms: u64,
    pub samples: usize,
    /// Mean and peak of usagePercentage over the window (percent of the limit).
    pub average_usage: f64,
    pub peak_usage: f64,
    /// Theil–Sen slope of resident memory, percent of the limit per minute.
    pub growth_rate: f64,
    pub growth_rate_bytes_per_sec: f64,
    /// Lower bound of the slope's ~95 % confidence interval (bytes/s).
    pub growth_rate_low_bytes_per_sec: f64,
    /// A significant rising trend (Mann–Kendall z > 1.96 and slope lower bound > 0).
    pub is_increasing: bool,
    /// Minutes until the limit at the lower-bound growth rate; `null` when not growing.
    pub minutes_to_limit: Option<f64>,
    pub leak_suspected: bool,
    /// 0–100.
    pub confidence: f64,
    /// false until MIN_TREND_SAMPLES samples exist.
    pub enough_data: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThresholdReport {
    pub warning: f64,
    pub critical: f64,
    pub emergency: f64,
    pub hysteresis: f64,
}

/// The health report: SPEC.md's example response plus the figures it lacks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthReport {
    pub status: Level,
    /// Since when (ms since epoch) the status has held.
    pub status_since: u64,
    pub timestamp: u64,
    pub current_usage: CurrentUsage,
    pub trend: TrendReport,
    pub gc_stats: GcReport,
    pub thresholds: ThresholdReport,
    /// Age of the newest resident / heap sample (ms); a stale heap sample means the JS thread is busy.
    pub resident_sample_age_ms: Option<u64>,
    pub heap_sample_age_ms: Option<u64>,
    pub gc_available: bool,
    pub recommendations: Vec<String>,
}

pub struct Engine {
    thresholds: Thresholds,
    limit: Limit,
    platform: Platform,
    platform_reason: String,
    proactive_gc: bool,
    gc_threshold: f64,
    gc_cooldown_ms: u64,
    resident: Ring<(u64, u64)>,
    native: Option<(u64, NativeSample)>,
    heap: Option<(u64, HeapSample)>,
    level: Level,
    level_since: u64,
    gc: GcStats,
    gc_available: bool,
    last_proactive_gc: Option<u64>,
}

impl Engine {
    pub fn new(config: &Config, limit: Limit, now: u64) -> Engine {
        Engine {
            thresholds: Thresholds {
                warning: config.warning_threshold,
                critical: config.critical_threshold,
                emergency: config.emergency_threshold,
                hysteresis: config.hysteresis_percent,
            },
            limit,
            platform: config.platform,
            platform_reason: config.platform_reason.clone(),
            proactive_gc: config.proactive_gc,
            gc_threshold: config.gc_threshold,
            gc_cooldown_ms: config.gc_cooldown_ms,
            resident: Ring::new(config.history_size),
            native: None,
            heap: None,
            level: Level::Healthy,
            level_since: now,
            gc: GcStats::new(now),
            gc_available: false,
            last_proactive_gc: None,
        }
    }

    pub fn limit(&self) -> &Limit {
        &self.limit
    }

    pub fn level(&self) -> Level {
        self.level
    }

    pub fn set_gc_available(&mut self, available: bool) {
        self.gc_available = available;
    }

    fn resident_bytes(&self, s: &NativeSample) -> u64 {
        if self.limit.source.is_cgroup() {
            s.working_set.unwrap_or(s.rss)
        } else {
            s.rss
        }
    }

    fn pressure(&self) -> Pressure {
        let usage = self.native.map_or(0.0, |(_, s)| {
            self.resident_bytes(&s) as f64 / self.limit.bytes.max(1) as f64 * 100.0
        });
        let heap = self.heap.map_or(0.0, |(_, h)| {
            if h.heap_size_limit == 0 {
                0.0
            } else {
                h.heap_used as f64 / h.heap_size_limit as f64 * 100.0
            }
        });
        Pressure { usage, heap }
    }

    pub fn ingest_native(&mut self, now: u64, s: NativeSample) -> Vec<Event> {
        self.native = Some((now, s));
        self.resident.push((now, self.resident_bytes(&s)));
        self.evaluate(now)
    }

    pub fn ingest_heap(&mut self, now: u64, h: HeapSample) -> Vec<Event> {
        self.heap = Some((now, h));
        self.evaluate(now)
    }

    pub fn record_gc(&mut self, e: GcEvent) {
        self.gc.record(e);
    }

    fn evaluate(&mut self, now: u64) -> Vec<Event> {
        let p = self.pressure();
        let (worst, source) = p.worst();
        let next = self.thresholds.next(self.level, worst);
        if next == self.level {
            return Vec::new();
        }
        let previous = self.level;
        self.level = next;
        self.level_since = now;
        vec![Event::Status {
            previous,
            current: next,
            pressure_percentage: worst,
            usage_percentage: p.usage,
            heap_usage_percentage: p.heap,
            pressure_source: source,
            timestamp: now,
        }]
    }

    /// Whether a proactive GC should run now: enabled, available, pressure at or above
    /// the GC threshold, and the cooldown since the last one has passed.
    pub fn proactive_gc_due(&self, now: u64) -> bool {
        self.proactive_gc
            && self.gc_available
            && self.pressure().worst().0 >= self.gc_threshold
            && self
                .last_proactive_gc
                .is_none_or(|t| now.saturating_sub(t) >= self.gc_cooldown_ms)
    }

    pub fn note_proactive_gc(&mut self, now: u64) {
        self.last_proactive_gc = Some(now);
    }

    fn trend(&self) -> TrendReport {
        let limit = self.limit.bytes.max(1) as f64;
        let pts: Vec<(f64, f64)> = self
            .resident
            .iter()
            .map(|&(t, b)| (t as f64 / 1000.0, b as f64))
            .collect();
        let usage: Vec<f64> = pts.iter().map(|p| p.1 / limit * 100.0).collect();
        let window = match (self.resident.first(), self.resident.last()) {
            (Some(a), Some(b)) => b.0.saturating_sub(a.0),
            _ => 0,
        };
        let t = stats::trend(&pts, MIN_TREND_SAMPLES);
        let slope = t.map_or(0.0, |t| t.slope);
        let low = t.map_or(0.0, |t| t.slope_low);
        let is_increasing = t.is_some_and(|t| t.z > 1.96 && t.slope_low > 0.0);
        let current = pts.last().map_or(0.0, |p| p.1);
        TrendReport {
            time_window: window as f64 / 60_000.0,
            time_window_ms: window,
            samples: pts.len(),
            average_usage: stats::mean(&usage).unwrap_or(0.0),
            peak_usage: usage.iter().copied().fold(0.0, f64::max),
            growth_rate: slope * 60.0 / limit * 100.0,
            growth_rate_bytes_per_sec: slope,
            growth_rate_low_bytes_per_sec: low,
            is_increasing,
            minutes_to_limit: (is_increasing && current < limit)
                .then(|| (limit - current) / low / 60.0),
            leak_suspected: false,
            confidence: 0.0,
            enough_data: t.is_some(),
        }
    }

    pub fn report(&self, now: u64) -> HealthReport {
        let p = self.pressure();
        let (worst, source) = p.worst();
        let n = self.native.map(|(_, s)| s).unwrap_or_default();
        let h = self.heap.map(|(_, h)| h).unwrap_or_default();
        let trend = self.trend();
        let current_usage = CurrentUsage {
            heap_used: h.heap_used,
            heap_total: h.heap_total,
            external: h.external,
            array_buffers: h.array_buffers,
            rss: n.rss,
            working_set: n.working_set,
            cgroup_usage: n.cgroup_usage,
            resident_bytes: self.resident_bytes(&n),
            limit_bytes: self.limit.bytes,
            limit_source: self.limit.source,
            limit_detail: self.limit.detail.clone(),
            heap_size_limit: h.heap_size_limit,
            detached_contexts: h.detached_contexts,
            usage_percentage: p.usage,
            heap_usage_percentage: p.heap,
            pressure_percentage: worst,
            pressure_source: source,
            platform: self.platform,
            platform_reason: self.platform_reason.clone(),
        };
        let recommendations = recommend::recommendations(&Facts {
            level: self.level,
            usage: &current_usage,
            trend: &trend,
            gc_available: self.gc_available,
            proactive_gc: self.proactive_gc,
        });
        HealthReport {
            status: self.level,
            status_since: self.level_since,
            timestamp: now,
            current_usage,
            trend,
            gc_stats: self.gc.report(now),
            thresholds: ThresholdReport {
                warning: self.thresholds.warning,
                critical: self.thresholds.critical,
                emergency: self.thresholds.emergency,
                hysteresis: self.thresholds.hysteresis,
            },
            resident_sample_age_ms: self.native.map(|(t, _)| now.saturating_sub(t)),
            heap_sample_age_ms: self.heap.map(|(t, _)| now.saturating_sub(t)),
            gc_available: self.gc_available,
            recommendations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::config::{resolve, Input};
    use crate::engine::limit::LimitSource;
    use crate::engine::platform::HostFacts;
    use std::collections::BTreeMap;

    const MB: u64 = 1 << 20;

    fn engine(options: serde_json::Value, limit_mb: u64, source: LimitSource) -> Engine {
        let env = BTreeMap::new();
        let opts = options.as_object().cloned().unwrap_or_default();
        let cfg = resolve(&Input {
            options: &opts,
            env: &env,
            host: &HostFacts::default(),
        })
        .unwrap();
        let limit = Limit {
            bytes: limit_mb * MB,
            source,
            detail: "test".into(),
        };
        Engine::new(&cfg, limit, 0)
    }

    fn rss(mb: u64) -> NativeSample {
        NativeSample {
            rss: mb * MB,
            ..Default::default()
        }
    }

    fn heap(used_mb: u64, limit_mb: u64) -> HeapSample {
        HeapSample {
            heap_used: used_mb * MB,
            heap_total: used_mb * MB * 2,
            heap_size_limit: limit_mb * MB,
            ..Default::default()
        }
    }

    #[test]
    fn status_follows_the_resident_ratio_with_hysteresis() {
        let mut e = engine(
            serde_json::json!({"platform": "render"}),
            100,
            LimitSource::Override,
        );
        assert!(e.ingest_native(1_000, rss(50)).is_empty());
        let ev = e.ingest_native(2_000, rss(61));
        assert_eq!(ev.len(), 1);
        match &ev[0] {
            Event::Status {
                previous,
                current,
                pressure_source,
                ..
            } => {
                assert_eq!((*previous, *current), (Level::Healthy, Level::Warning));
                assert_eq!(*pressure_source, PressureSource::Resident);
            }
        }
        assert!(
            e.ingest_native(3_000, rss(59)).is_empty(),
            "within the hysteresis band"
        );
        let ev = e.ingest_native(4_000, rss(57));
        assert!(matches!(
            ev[0],
            Event::Status {
                current: Level::Healthy,
                ..
            }
        ));
        let r = e.report(4_000);
        assert_eq!(r.status_since, 4_000);
    }

    #[test]
    fn status_follows_the_worse_of_heap_and_resident() {
        let mut e = engine(
            serde_json::json!({"platform": "render"}),
            1000,
            LimitSource::Physical,
        );
        e.ingest_native(0, rss(100));
        let ev = e.ingest_heap(10, heap(240, 256));
        assert!(matches!(
            ev[0],
            Event::Status {
                current: Level::Emergency,
                pressure_source: PressureSource::Heap,
                ..
            }
        ));
        let r = e.report(10);
        assert_eq!(r.current_usage.pressure_source, PressureSource::Heap);
        assert!((r.current_usage.usage_percentage - 10.0).abs() < 1e-9);
        assert!((r.current_usage.heap_usage_percentage - 93.75).abs() < 1e-9);
    }

    #[test]
    fn working_set_is_used_under_a_cgroup_limit_only() {
        let s = NativeSample {
            rss: 100 * MB,
            cgroup_usage: Some(400 * MB),
            working_set: Some(300 * MB),
        };
        let mut e = engine(serde_json::json!({}), 1000, LimitSource::CgroupV2);
        e.ingest_native(0, s);
        assert_eq!(e.report(0).current_usage.resident_bytes, 300 * MB);
        let mut e = engine(serde_json::json!({}), 1000, LimitSource::Override);
        e.ingest_native(0, s);
        assert_eq!(e.report(0).current_usage.resident_bytes, 100 * MB);
    }

    #[test]
    fn proactive_gc_needs_availability_threshold_and_cooldown() {
        let mut e = engine(
            serde_json::json!({"gcThreshold": 50, "gcCooldownMs": 10000}),
            100,
            LimitSource::Override,
        );
        e.ingest_native(0, rss(60));
        assert!(!e.proactive_gc_due(0), "gc not available");
        e.set_gc_available(true);
        assert!(e.proactive_gc_due(0));
        e.note_proactive_gc(0);
        assert!(!e.proactive_gc_due(9_999));
        assert!(e.proactive_gc_due(10_000));
        e.ingest_native(10_000, rss(40));
        assert!(!e.proactive_gc_due(20_000), "below the threshold");
        let mut off = engine(
            serde_json::json!({"proactiveGc": false}),
            100,
            LimitSource::Override,
        );
        off.set_gc_available(true);
        off.ingest_native(0, rss(99));
        assert!(!off.proactive_gc_due(0));
    }

    #[test]
    fn trend_reports_growth_and_time_to_limit() {
        let mut e = engine(serde_json::json!({}), 1000, LimitSource::Override);
        for i in 0..60u64 {
            e.ingest_native(i * 1000, rss(100 + i)); // 1 MB/s
        }
        let t = e.report(60_000).trend;
        assert!(t.enough_data && t.is_increasing);
        assert!((t.growth_rate_bytes_per_sec - MB as f64).abs() < 1.0);
        assert!((t.growth_rate - 6.0).abs() < 1e-6, "{}", t.growth_rate);
        assert_eq!(t.time_window_ms, 59_000);
        assert!((t.peak_usage - 15.9).abs() < 1e-9);
        let mins = t.minutes_to_limit.unwrap();
        assert!((mins - (1000.0 - 159.0) / 60.0).abs() < 0.1, "{mins}");
    }

    #[test]
    fn flat_history_is_not_increasing_and_short_history_is_not_enough() {
        let mut e = engine(serde_json::json!({}), 1000, LimitSource::Override);
        for i in 0..3u64 {
            e.ingest_native(i * 1000, rss(100));
        }
        let t = e.report(3_000).trend;
        assert!(!t.enough_data && !t.is_increasing);
        assert_eq!(t.growth_rate, 0.0);
        for i in 3..40u64 {
            e.ingest_native(i * 1000, rss(100 + (i % 3)));
        }
        let t = e.report(40_000).trend;
        assert!(t.enough_data && !t.is_increasing);
        assert_eq!(t.minutes_to_limit, None);
    }

    #[test]
    fn history_is_bounded() {
        let mut e = engine(
            serde_json::json!({"historySize": 16}),
            1000,
            LimitSource::Override,
        );
        for i in 0..10_000u64 {
            e.ingest_native(i, rss(1));
        }
        assert_eq!(e.report(10_000).trend.samples, 16);
    }

    #[test]
    fn report_before_any_sample_is_finite() {
        let e = engine(serde_json::json!({}), 1000, LimitSource::Override);
        let r = e.report(0);
        assert_eq!(r.status, Level::Healthy);
        assert_eq!(r.current_usage.usage_percentage, 0.0);
        assert_eq!(r.resident_sample_age_ms, None);
        let json = serde_json::to_string(&r).unwrap();
        assert!(!json.contains("NaN"));
    }
}
