//! The monitoring engine: takes samples and `now`, keeps bounded history,
//! evaluates the status with hysteresis and builds the health report.

use super::alerts::{Alert, AlertType, Alerts, AlertsReport};
use super::config::Config;
use super::gc::{GcEvent, GcKind, GcReport, GcStats};
use super::leak::{self, ConfidenceParts, Detector, LeakEvent, LeakParams, LeakState, Signal};
use super::limit::Limit;
use super::platform::Platform;
use super::recommend::{self, Facts};
use super::ring::Ring;
use super::stats;
use super::status::{Level, Thresholds};
use super::trace::{Trace, TraceGc, TraceSample, TraceTail};
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
    /// Heap minus the young generation (0 when unknown: heapUsed stands in).
    pub old_generation: u64,
}

impl HeapSample {
    fn old_gen(&self) -> u64 {
        if self.old_generation > 0 {
            self.old_generation
        } else {
            self.heap_used
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PressureSource {
    Resident,
    Heap,
}

/// A status change (`type: "status"`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusChange {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub previous: Level,
    pub current: Level,
    pub pressure_percentage: f64,
    pub usage_percentage: f64,
    pub heap_usage_percentage: f64,
    pub pressure_source: PressureSource,
    pub timestamp: u64,
}

/// An alert raised or escalated (`type: "alert"`) or resolved (`type: "alertResolved"`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertEvent {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub alert: Alert,
}

/// Events the engine raises; each serializes with a `type` field.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Event {
    Status(StatusChange),
    Leak(LeakEvent),
    Alert(AlertEvent),
}

fn raised(a: Option<Alert>) -> Option<Event> {
    a.map(|alert| {
        Event::Alert(AlertEvent {
            kind: "alert",
            alert,
        })
    })
}

fn resolved(a: Option<Alert>) -> Option<Event> {
    a.map(|alert| {
        Event::Alert(AlertEvent {
            kind: "alertResolved",
            alert,
        })
    })
}

/// Full collections looked at for GC failure.
const GC_FAILURE_RUN: usize = 3;
/// A full collection that frees less than this share of the heap is ineffective.
const GC_INEFFECTIVE_SHARE: f64 = 0.05;
/// Old generation (share of its room under V8's limit) at which ineffective collections
/// become a GC failure.
const GC_FAILURE_HEAP_SHARE: f64 = 0.80;
/// Request-counter readings kept (one per heap sample).
const REQUEST_READINGS: usize = 240;
/// Node's default young generation: 3 × 16 MB semi-spaces, part of heap_size_limit.
const YOUNG_GENERATION_RESERVE: u64 = 48 << 20;

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
    /// Minutes until V8's heap limit at the lower-bound growth of the old generation
    /// (live heap); `null` when it is not growing significantly.
    pub minutes_to_heap_limit: Option<f64>,
    /// The leak detector's verdict (see `getLeakDetection()`).
    pub leak_suspected: bool,
    /// Leak confidence, 0–100.
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
    leak_detection: bool,
    emergency_threshold: f64,
    interval_ms: u64,
    detector: Detector,
    trace_samples: Ring<TraceSample>,
    trace_gcs: Ring<TraceGc>,
    start: u64,
    alerts: Alerts,
    /// Request counter readings (time, total requests) from the Express middleware.
    requests: Ring<(u64, f64)>,
    /// The newest full collections: (time, heap before, heap after, old generation after).
    full_gcs: Ring<(u64, u64, u64, u64)>,
    last_growth_check: u64,
}

/// Samples and full-GC events kept for `exportTrace()`.
pub const TRACE_SAMPLES: usize = 2_400;
pub const TRACE_GC_EVENTS: usize = 512;

/// The leak report: detector state, confidence and its parts, recommendations.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeakReport {
    pub enabled: bool,
    #[serde(flatten)]
    pub state: LeakState,
    pub confidence: f64,
    pub confidence_parts: ConfidenceParts,
    pub minutes_to_limit: Option<f64>,
    pub minutes_to_heap_limit: Option<f64>,
    /// Both estimates with their bounds and the levels they count to.
    pub time_to_limit: leak::TimeToLimit,
    /// Requests per second seen by the Express middleware over the readings; `null` without it.
    pub request_rate_per_sec: Option<f64>,
    /// Growth of the flagged (or strongest) signal per request; `null` without traffic.
    pub bytes_per_request: Option<f64>,
    pub recommendations: Vec<String>,
    pub timestamp: u64,
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
            leak_detection: config.leak_detection,
            emergency_threshold: config.emergency_threshold,
            interval_ms: config.monitoring_interval_ms,
            detector: Detector::new(LeakParams::for_interval(config.monitoring_interval_ms)),
            trace_samples: Ring::new(TRACE_SAMPLES),
            trace_gcs: Ring::new(TRACE_GC_EVENTS),
            start: now,
            alerts: Alerts::new(config.alert_cooldown_ms),
            full_gcs: Ring::new(GC_FAILURE_RUN),
            requests: Ring::new(REQUEST_READINGS),
            last_growth_check: now,
        }
    }

    pub fn alerts(&self) -> AlertsReport {
        self.alerts.report()
    }

    /// The request counter of the Express middleware (monotonic total).
    pub fn note_requests(&mut self, now: u64, total: f64) {
        if total.is_finite() && total >= 0.0 {
            self.requests.push((now, total));
        }
    }

    /// Requests per second over the readings, first half and second half.
    fn request_rates(&self) -> Option<(f64, f64, f64)> {
        let r: Vec<(u64, f64)> = self.requests.iter().copied().collect();
        if r.len() < 4 {
            return None;
        }
        let rate = |a: (u64, f64), b: (u64, f64)| {
            let dt = b.0.saturating_sub(a.0) as f64 / 1000.0;
            (dt > 0.0).then(|| ((b.1 - a.1) / dt).max(0.0))
        };
        let mid = r.len() / 2;
        Some((
            rate(r[0], r[r.len() - 1])?,
            rate(r[0], r[mid])?,
            rate(r[mid], r[r.len() - 1])?,
        ))
    }

    fn mb(bytes: f64) -> String {
        format!("{:.0} MB", bytes / 1048576.0)
    }

    /// high_usage follows the status.
    fn status_alert(&mut self, s: &StatusChange) -> Option<Event> {
        if s.current == Level::Healthy {
            let msg = format!(
                "Memory usage back to healthy ({:.1}% of the limit)",
                s.pressure_percentage
            );
            return resolved(self.alerts.resolve(AlertType::HighUsage, msg, s.timestamp));
        }
        let what = match s.pressure_source {
            PressureSource::Resident => format!(
                "resident memory at {:.1}% of the {} limit",
                s.usage_percentage,
                Self::mb(self.limit.bytes as f64)
            ),
            PressureSource::Heap => {
                format!("V8 heap at {:.1}% of its limit", s.heap_usage_percentage)
            }
        };
        let data = serde_json::json!({
            "status": s.current,
            "pressurePercentage": s.pressure_percentage,
            "usagePercentage": s.usage_percentage,
            "heapUsagePercentage": s.heap_usage_percentage,
            "pressureSource": s.pressure_source,
            "limitBytes": self.limit.bytes,
        });
        raised(self.alerts.raise(
            AlertType::HighUsage,
            s.current,
            format!("Memory {}: {what}", s.current.as_str()),
            data,
            s.timestamp,
        ))
    }

    /// memory_leak follows the leak detector; its level grows with confidence and urgency.
    fn leak_alert(&mut self, e: &LeakEvent) -> Option<Event> {
        match e {
            LeakEvent::Leak {
                signal,
                growth_rate_bytes_per_sec,
                timestamp,
                ..
            } => {
                let report = self.leak_report(*timestamp);
                let minutes = [report.minutes_to_limit, report.minutes_to_heap_limit]
                    .into_iter()
                    .flatten()
                    .fold(f64::INFINITY, f64::min);
                let level = if minutes < 10.0 {
                    Level::Emergency
                } else if report.confidence >= 80.0 || minutes < 60.0 {
                    Level::Critical
                } else {
                    Level::Warning
                };
                let msg = format!(
                    "Memory leak suspected: {} growing by {:.0} KB/s (confidence {:.0}%)",
                    if *signal == Signal::External {
                        "off-heap memory"
                    } else {
                        "the live heap"
                    },
                    growth_rate_bytes_per_sec / 1024.0,
                    report.confidence
                );
                let data = serde_json::json!({
                    "signal": signal,
                    "growthRateBytesPerSec": growth_rate_bytes_per_sec,
                    "confidence": report.confidence,
                    "minutesToLimit": report.minutes_to_limit,
                    "minutesToHeapLimit": report.minutes_to_heap_limit,
                    "recommendations": report.recommendations,
                });
                raised(
                    self.alerts
                        .raise(AlertType::MemoryLeak, level, msg, data, *timestamp),
                )
            }
            LeakEvent::LeakResolved {
                signal, timestamp, ..
            } => resolved(self.alerts.resolve(
                AlertType::MemoryLeak,
                format!(
                    "Memory leak resolved: {} stopped growing",
                    if *signal == Signal::External {
                        "off-heap memory"
                    } else {
                        "the live heap"
                    }
                ),
                *timestamp,
            )),
        }
    }

    /// gc_failure: the last full collections each freed almost nothing while the heap is
    /// near V8's limit (the road to "ineffective mark-compacts near heap limit").
    fn gc_failure_check(&mut self, now: u64) -> Option<Event> {
        let heap_limit = self.heap.map_or(0, |(_, h)| h.heap_size_limit);
        let last = *self.full_gcs.last()?;
        if heap_limit == 0 {
            return None;
        }
        // V8's heap_size_limit includes the young generation (3 × 16 MB semi-spaces by
        // default), which a full heap does not fill: the old generation's room is the rest.
        let old_room = heap_limit
            .saturating_sub(YOUNG_GENERATION_RESERVE.min(heap_limit / 2))
            .max(1);
        let share = last.3 as f64 / old_room as f64;
        let ineffective = |&(_, before, after, _): &(u64, u64, u64, u64)| {
            before == 0
                || (before.saturating_sub(after) as f64) < GC_INEFFECTIVE_SHARE * before as f64
        };
        let run: Vec<(u64, u64, u64, u64)> = self.full_gcs.iter().copied().collect();
        let failing = run.len() == GC_FAILURE_RUN
            && run.iter().all(ineffective)
            && share >= GC_FAILURE_HEAP_SHARE;
        if failing {
            let level = if share >= 0.9 {
                Level::Emergency
            } else {
                Level::Critical
            };
            let msg = format!(
                "GC failure: the last {GC_FAILURE_RUN} full collections freed under {:.0}% each with the old generation at {:.0}% of its room; V8 will abort with an out-of-memory error",
                GC_INEFFECTIVE_SHARE * 100.0,
                share * 100.0
            );
            let data = serde_json::json!({
                "heapAfterBytes": last.2,
                "oldGenerationAfterBytes": last.3,
                "heapSizeLimit": heap_limit,
                "heapShare": share,
                "collections": run.iter().map(|(t, b, a, _)| serde_json::json!({"timestamp": t, "heapBefore": b, "heapAfter": a})).collect::<Vec<_>>(),
            });
            return raised(
                self.alerts
                    .raise(AlertType::GcFailure, level, msg, data, now),
            );
        }
        let recovered = !ineffective(&last) || share < 0.7;
        if recovered && self.alerts.is_active(AlertType::GcFailure) {
            return resolved(self.alerts.resolve(
                AlertType::GcFailure,
                "Full collections free memory again".into(),
                now,
            ));
        }
        None
    }

    /// rapid_growth: resident memory rising fast enough to reach the limit soon (checked
    /// at most every 10 s: the trend costs a few thousand pairwise slopes).
    fn growth_check(&mut self, now: u64) -> Option<Event> {
        if now.saturating_sub(self.last_growth_check) < 10_000.max(self.interval_ms) {
            return None;
        }
        self.last_growth_check = now;
        let t = self.trend();
        let minutes = t
            .minutes_to_limit
            .filter(|_| t.is_increasing)
            .unwrap_or(f64::INFINITY);
        let level = if minutes < 3.0 {
            Level::Emergency
        } else if minutes < 10.0 {
            Level::Critical
        } else if minutes < 30.0 {
            Level::Warning
        } else {
            Level::Healthy
        };
        if level == Level::Healthy {
            if minutes > 60.0 && self.alerts.is_active(AlertType::RapidGrowth) {
                return resolved(self.alerts.resolve(
                    AlertType::RapidGrowth,
                    "Memory growth slowed down".into(),
                    now,
                ));
            }
            return None;
        }
        let msg = format!(
            "Rapid memory growth: {:.1} MB/min; the limit is reached in about {minutes:.0} min at this rate",
            t.growth_rate_bytes_per_sec * 60.0 / 1048576.0
        );
        let data = serde_json::json!({
            "growthRateBytesPerSec": t.growth_rate_bytes_per_sec,
            "growthRatePercentPerMin": t.growth_rate,
            "minutesToLimit": minutes,
        });
        raised(
            self.alerts
                .raise(AlertType::RapidGrowth, level, msg, data, now),
        )
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

    /// Whether confirmation GCs can run (proactive GC on, and some way to collect).
    pub fn set_confirmation_available(&mut self, available: bool) {
        self.detector
            .set_confirm_allowed(self.proactive_gc && self.leak_detection && available);
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
        let mut events = self.evaluate(now);
        events.extend(self.growth_check(now));
        events
    }

    pub fn ingest_heap(&mut self, now: u64, h: HeapSample) -> Vec<Event> {
        self.heap = Some((now, h));
        let rss = self.native.map_or(0, |(_, s)| s.rss);
        self.trace_samples.push(TraceSample {
            t: now as f64,
            heap_used: h.heap_used as f64,
            heap_total: h.heap_total as f64,
            rss: rss as f64,
            external: h.external as f64,
            array_buffers: h.array_buffers as f64,
            old_generation: (h.old_generation > 0).then_some(h.old_generation as f64),
        });
        let mut events = self.evaluate(now);
        if self.leak_detection {
            let resident = self.native.map_or(0, |(_, s)| self.resident_bytes(&s));
            for e in
                self.detector
                    .on_sample(now, h.old_gen() as f64, h.external as f64, resident as f64)
            {
                let alert = self.leak_alert(&e);
                events.push(Event::Leak(e));
                events.extend(alert);
            }
        }
        events
    }

    /// A collection without sizes (minor, incremental, weak callbacks, or a major one
    /// whose sizes are unknown).
    pub fn record_gc(&mut self, e: GcEvent) {
        if matches!(e.kind, GcKind::Major) || e.forced {
            self.push_trace_gc(&e, None, None);
        }
        self.gc.record(e);
    }

    /// A full collection with the figures read just after it. `heap_before` defaults to
    /// the newest heap sample. Returns the alert events it raised (GC failure).
    pub fn record_full_gc(
        &mut self,
        mut e: GcEvent,
        old_gen_after: Option<u64>,
        external_after: Option<u64>,
    ) -> Vec<Event> {
        if e.heap_before.is_none() {
            e.heap_before = self.heap.map(|(_, h)| h.heap_used);
        }
        if let (Some(before), Some(after)) = (e.heap_before, e.heap_after) {
            self.full_gcs
                .push((e.timestamp, before, after, old_gen_after.unwrap_or(after)));
        }
        self.push_trace_gc(&e, old_gen_after, external_after);
        self.gc.record(e);
        if self.leak_detection {
            self.detector.on_full_gc(
                e.timestamp,
                old_gen_after.or(e.heap_after).map(|v| v as f64),
                external_after.map(|v| v as f64),
                e.forced.then_some(e.duration_ms),
            );
        }
        self.gc_failure_check(e.timestamp).into_iter().collect()
    }

    fn push_trace_gc(
        &mut self,
        e: &GcEvent,
        old_gen_after: Option<u64>,
        external_after: Option<u64>,
    ) {
        let kind = match e.kind {
            GcKind::Minor => "minor",
            GcKind::Major => "major",
            GcKind::Incremental => "incremental",
            GcKind::WeakCallbacks => "weakCallbacks",
        };
        self.trace_gcs.push(TraceGc {
            t: e.timestamp as f64,
            kind: kind.into(),
            duration: e.duration_ms,
            forced: e.forced,
            heap_before: e.heap_before.map(|v| v as f64),
            heap_after: e.heap_after.map(|v| v as f64),
            old_generation_after: old_gen_after.map(|v| v as f64),
            external_after: external_after.map(|v| v as f64),
        });
    }

    /// A confirmation GC is wanted (leak suspected, not yet confirmed) and allowed now.
    pub fn confirmation_due(&self, now: u64) -> bool {
        self.leak_detection && self.detector.confirmation_due(now)
    }

    pub fn note_confirmation(&mut self, now: u64) {
        self.detector.note_confirmation(now);
    }

    /// Trims the resident history and the recorded trace to what the reports and the
    /// leak detector's longest window need (the "clear memory snapshots" cleanup
    /// strategy): entries older than `leak::keep_window_ms` before the newest sample go.
    /// The leak detector's own evidence is untouched. Returns the bytes released.
    pub fn clear_history(&mut self) -> usize {
        let before = self.resident.heap_bytes()
            + self.trace_samples.heap_bytes()
            + self.trace_gcs.heap_bytes();
        let newest = self.resident.last().map_or(0, |l| l.0);
        let cutoff = newest.saturating_sub(leak::keep_window_ms(self.detector.params()));
        keep_newer(&mut self.resident, |r| r.0 >= cutoff);
        keep_newer(&mut self.trace_samples, |s| s.t >= cutoff as f64);
        keep_newer(&mut self.trace_gcs, |g| g.t >= cutoff as f64);
        before.saturating_sub(
            self.resident.heap_bytes()
                + self.trace_samples.heap_bytes()
                + self.trace_gcs.heap_bytes(),
        )
    }

    /// The recorded trace (bounded: the newest samples and full GCs).
    pub fn export_trace(&self) -> Trace {
        Trace {
            version: Some(1),
            limit_bytes: Some(self.limit.bytes as f64),
            heap_size_limit: self.heap.map(|(_, h)| h.heap_size_limit as f64),
            interval_ms: Some(self.interval_ms as f64),
            samples: self.trace_samples.iter().copied().collect(),
            gc: self.trace_gcs.iter().cloned().collect(),
        }
    }

    /// The newest `samples` samples and `gcs` full GCs of the trace with its totals;
    /// copies only what it returns.
    pub fn trace_tail(&self, samples: usize, gcs: usize) -> TraceTail {
        fn newest<T: Clone>(ring: &Ring<T>, n: usize) -> Vec<T> {
            let mut v: Vec<T> = ring.iter().rev().take(n).cloned().collect();
            v.reverse();
            v
        }
        TraceTail {
            total_samples: self.trace_samples.len(),
            total_gc: self.trace_gcs.len(),
            first_sample_at: self.trace_samples.iter().next().map(|s| s.t),
            trace: Trace {
                version: Some(1),
                limit_bytes: Some(self.limit.bytes as f64),
                heap_size_limit: self.heap.map(|(_, h)| h.heap_size_limit as f64),
                interval_ms: Some(self.interval_ms as f64),
                samples: newest(&self.trace_samples, samples),
                gc: newest(&self.trace_gcs, gcs),
            },
        }
    }

    fn leak_context(&self) -> leak::Context {
        let h = self.heap.map(|(_, h)| h).unwrap_or_default();
        let resident = self.native.map_or(0, |(_, s)| self.resident_bytes(&s));
        let gc = self.gc.report(self.heap.map_or(self.start, |(t, _)| t));
        leak::Context {
            peak_pressure: self.peak_pressure(),
            emergency_threshold: self.emergency_threshold,
            gc_efficiency: gc.efficiency,
            detached_contexts: h.detached_contexts,
            gc_pause_percent: gc.pause_time_percent,
            headroom_bytes: self.limit.bytes.saturating_sub(resident) as f64,
            heap_headroom_bytes: if h.heap_size_limit > 0 {
                h.heap_size_limit.saturating_sub(h.heap_used) as f64
            } else {
                f64::INFINITY
            },
            traffic_flat: self.request_rates().map(|(_, old, new)| new <= old * 1.1),
        }
    }

    fn peak_pressure(&self) -> f64 {
        let limit = self.limit.bytes.max(1) as f64;
        let resident_peak = self
            .resident
            .iter()
            .map(|&(_, b)| b as f64 / limit * 100.0)
            .fold(0.0, f64::max);
        resident_peak.max(self.pressure().heap)
    }

    /// Leak verdict and its confidence: `(suspected, confidence, parts, state)`.
    fn leak_verdict(&self) -> (LeakState, ConfidenceParts) {
        let state = self.detector.state();
        let parts = leak::confidence(
            &state.strongest(),
            Some(&state.resident),
            &self.leak_context(),
        );
        (state, parts)
    }

    /// When the heap (where V8 aborts) and resident memory (the limit) run out.
    fn time_to_limit(&self, state: &LeakState) -> leak::TimeToLimit {
        let heap = self.heap.and_then(|(_, h)| {
            let room = h
                .heap_size_limit
                .saturating_sub(YOUNG_GENERATION_RESERVE.min(h.heap_size_limit / 2));
            leak::time_to_limit::heap(&state.heap, room as f64)
        });
        let resident = leak::time_to_limit::resident(
            self.resident.iter().copied(),
            self.limit.bytes as f64,
            MIN_TREND_SAMPLES,
        );
        leak::TimeToLimit { heap, resident }
    }

    fn minutes_to_heap_limit(&self, state: &LeakState) -> Option<f64> {
        self.time_to_limit(state).heap.map(|e| e.minutes)
    }

    pub fn leak_report(&self, now: u64) -> LeakReport {
        let (state, parts) = self.leak_verdict();
        let trend = self.trend();
        let time_to_limit = self.time_to_limit(&state);
        let minutes_to_heap_limit = time_to_limit.heap.map(|e| e.minutes);
        let recommendations = recommend::leak_recommendations(
            &state,
            minutes_to_heap_limit,
            trend.minutes_to_limit,
            self.gc_available,
        );
        let rate = self.request_rates().map(|r| r.0);
        let slope = match state.signal {
            Some(Signal::External) => state.external.slope_bytes_per_sec,
            _ => state
                .heap
                .slope_bytes_per_sec
                .max(state.external.slope_bytes_per_sec),
        };
        LeakReport {
            request_rate_per_sec: rate,
            bytes_per_request: rate.filter(|r| *r > 0.0).map(|r| slope / r),
            enabled: self.leak_detection,
            confidence: if self.leak_detection {
                leak::calibrated(&parts, leak::Stage::of(&state))
            } else {
                0.0
            },
            confidence_parts: parts,
            minutes_to_limit: trend.minutes_to_limit,
            minutes_to_heap_limit,
            time_to_limit,
            state,
            recommendations,
            timestamp: now,
        }
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
        let change = StatusChange {
            kind: "status",
            previous,
            current: next,
            pressure_percentage: worst,
            usage_percentage: p.usage,
            heap_usage_percentage: p.heap,
            pressure_source: source,
            timestamp: now,
        };
        let alert = self.status_alert(&change);
        std::iter::once(Event::Status(change))
            .chain(alert)
            .collect()
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
                .then(|| (limit - current) / slope / 60.0),
            minutes_to_heap_limit: None,
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
        let mut trend = self.trend();
        if self.leak_detection {
            let (state, parts) = self.leak_verdict();
            trend.leak_suspected = state.leak_suspected;
            trend.confidence = leak::calibrated(&parts, leak::Stage::of(&state));
            trend.minutes_to_heap_limit = self.minutes_to_heap_limit(&state);
        }
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

/// Keeps the items `keep` accepts in a ring sized to them (the rest of its storage is freed).
fn keep_newer<T: Clone>(ring: &mut Ring<T>, keep: impl Fn(&T) -> bool) {
    let kept: Vec<T> = ring.iter().filter(|x| keep(x)).cloned().collect();
    ring.clear();
    for x in kept {
        ring.push(x);
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
    fn trace_tail_is_the_end_of_the_exported_trace() {
        let mut e = engine(serde_json::json!({}), 1000, LimitSource::Override);
        let empty = e.trace_tail(60, 20);
        assert_eq!((empty.total_samples, empty.first_sample_at), (0, None));
        assert!(empty.trace.samples.is_empty());
        for i in 0..3000u64 {
            e.ingest_heap(1_000 + i * 10, heap(10 + i % 7, 500));
        }
        let whole = e.export_trace();
        let tail = e.trace_tail(60, 20);
        assert_eq!(tail.total_samples, whole.samples.len());
        assert_eq!(tail.total_gc, whole.gc.len());
        assert_eq!(tail.first_sample_at, Some(whole.samples[0].t));
        assert_eq!(
            tail.trace.samples,
            whole.samples[whole.samples.len() - 60..].to_vec()
        );
        assert_eq!(tail.trace.limit_bytes, whole.limit_bytes);
        assert_eq!(e.trace_tail(100_000, 0).trace.samples, whole.samples);
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
        assert_eq!(ev.len(), 2, "a status change and its high_usage alert");
        match &ev[1] {
            Event::Alert(a) => {
                assert_eq!(
                    (a.kind, a.alert.kind, a.alert.level),
                    ("alert", AlertType::HighUsage, Level::Warning)
                );
            }
            other => panic!("{other:?}"),
        }
        match &ev[0] {
            Event::Status(s) => {
                assert_eq!((s.previous, s.current), (Level::Healthy, Level::Warning));
                assert_eq!(s.pressure_source, PressureSource::Resident);
            }
            other => panic!("{other:?}"),
        }
        assert!(
            e.ingest_native(3_000, rss(59)).is_empty(),
            "within the hysteresis band"
        );
        let ev = e.ingest_native(4_000, rss(57));
        assert!(matches!(&ev[0], Event::Status(s) if s.current == Level::Healthy));
        assert!(
            matches!(&ev[1], Event::Alert(a) if a.kind == "alertResolved" && a.alert.resolved && a.alert.id == 1)
        );
        let r = e.report(4_000);
        assert_eq!(r.status_since, 4_000);
        // Back to warning within the cooldown: deduplicated, no second alert.
        let ev = e.ingest_native(5_000, rss(62));
        assert_eq!(ev.len(), 1);
        assert_eq!(e.alerts().suppressed, 1);
    }

    fn full_gc(t: u64, before_mb: u64, after_mb: u64) -> GcEvent {
        GcEvent {
            timestamp: t,
            kind: GcKind::Major,
            duration_ms: 50.0,
            forced: false,
            heap_before: Some(before_mb * MB),
            heap_after: Some(after_mb * MB),
        }
    }

    #[test]
    fn ineffective_collections_near_the_heap_limit_raise_gc_failure() {
        let mut e = engine(serde_json::json!({}), 1000, LimitSource::Override);
        e.ingest_heap(0, heap(230, 256));
        assert!(e
            .record_full_gc(full_gc(1_000, 232, 230), None, None)
            .is_empty());
        assert!(e
            .record_full_gc(full_gc(2_000, 233, 231), None, None)
            .is_empty());
        let ev = e.record_full_gc(full_gc(3_000, 234, 232), None, None);
        match &ev[..] {
            [Event::Alert(a)] => {
                assert_eq!(
                    (a.alert.kind, a.alert.level),
                    (AlertType::GcFailure, Level::Emergency)
                );
                assert!(a.alert.message.contains("GC failure"));
            }
            other => panic!("{other:?}"),
        }
        // A collection that frees a lot resolves it.
        let ev = e.record_full_gc(full_gc(4_000, 234, 120), None, None);
        assert!(matches!(&ev[..], [Event::Alert(a)] if a.kind == "alertResolved"));
    }

    #[test]
    fn ineffective_collections_far_from_the_limit_are_not_a_failure() {
        let mut e = engine(serde_json::json!({}), 1000, LimitSource::Override);
        e.ingest_heap(0, heap(50, 256));
        for i in 0..5 {
            assert!(e
                .record_full_gc(full_gc(i * 1000, 51, 50), None, None)
                .is_empty());
        }
    }

    #[test]
    fn fast_resident_growth_raises_rapid_growth() {
        let mut e = engine(serde_json::json!({}), 1000, LimitSource::Override);
        let mut alerts = Vec::new();
        for i in 0..60u64 {
            // 5 MB/s towards a 1000 MB limit: ~3 min left at the start.
            for ev in e.ingest_native(i * 1000, rss(100 + 5 * i)) {
                if let Event::Alert(a) = ev {
                    alerts.push(a.alert);
                }
            }
        }
        let first = alerts.first().expect("a rapid_growth alert");
        assert_eq!(first.kind, AlertType::RapidGrowth);
        assert!(first.level >= Level::Critical, "{first:?}");
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
        assert!(
            matches!(&ev[0], Event::Status(s) if s.current == Level::Emergency && s.pressure_source == PressureSource::Heap)
        );
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
    fn clearing_history_keeps_the_detectors_window() {
        let mut e = engine(
            serde_json::json!({"monitoringIntervalMs": 1000, "historySize": 2000}),
            1000,
            LimitSource::Override,
        );
        // 20 minutes at 1 s, growing 100 KB/s: a leak in progress.
        for i in 0..1200u64 {
            let now = 1_000_000 + i * 1000;
            e.ingest_native(now, rss(100 + i / 10));
            e.ingest_heap(now, heap(50 + i / 10, 4000));
        }
        let before = e.report(2_200_000).trend;
        let freed = e.clear_history();
        let after = e.report(2_200_000).trend;
        let keep = leak::keep_window_ms(e.detector.params());
        assert!(freed > 0);
        // The newest `keep` ms remain, the rest is gone.
        assert_eq!(after.samples as u64, keep / 1000 + 1);
        assert_eq!(after.time_window_ms, keep);
        assert!(before.samples > after.samples);
        assert!(after.is_increasing && after.enough_data);
        let trace = e.export_trace();
        assert_eq!(trace.samples.len() as u64, keep / 1000 + 1);
        assert_eq!(trace.samples[0].t as u64, 1_000_000 + 1199 * 1000 - keep);
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
