//! What the engine takes in (samples) and gives out (events, the health report, the
//! leak report). Types only: the engine (`monitor`), the alert rules, the
//! recommendations and the replay all build on these, and this file imports none of them.
//!
//! Every `f64` that JS sees as `number` is written through [`finite`]: serde_json would
//! write a NaN or an infinity as `null`, which the types in index.d.ts do not allow.

use super::alerts::Alert;
use super::leak::{self, ConfidenceParts, LeakEvent, LeakState};
use super::limit::LimitSource;
use super::platform::Platform;
use super::status::Level;
use serde::Serialize;

pub use super::finite;

/// What the native sampler reads (procfs / cgroup files).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct NativeSample {
    pub rss_bytes: u64,
    /// cgroup `memory.current` / `memory.usage_in_bytes`, when the limit is a cgroup's.
    pub cgroup_usage_bytes: Option<u64>,
    /// cgroup usage minus inactive file cache.
    pub working_set_bytes: Option<u64>,
}

/// What the addon reads from V8 on the JS thread. Bytes, except `detached_contexts`.
/// (`heap_used` and `heap_size_limit` are bytes too; they keep their short names while
/// the leak detector's report code that reads them is reworked in its own branch.)
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct HeapSample {
    pub heap_used: u64,
    pub heap_total_bytes: u64,
    pub external_bytes: u64,
    pub array_buffers_bytes: u64,
    pub heap_size_limit: u64,
    pub detached_contexts: u64,
    /// Heap minus the young generation (0 when unknown: heapUsed stands in).
    pub old_generation_bytes: u64,
}

impl HeapSample {
    pub fn old_gen(&self) -> u64 {
        if self.old_generation_bytes > 0 {
            self.old_generation_bytes
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

/// What moved the status: a sample, the heap read just after a full collection, the
/// old generation read after other collections, or a heap reading the sampler asks
/// for between samples while the heap is high (all but the first come between samples).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum StatusTrigger {
    Sample,
    FullGc,
    Gc,
    HeapWatch,
}

/// A status change (`type: "status"`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusChange {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub previous: Level,
    pub current: Level,
    #[serde(serialize_with = "finite::num")]
    pub pressure_percentage: f64,
    #[serde(serialize_with = "finite::num")]
    pub usage_percentage: f64,
    #[serde(serialize_with = "finite::num")]
    pub heap_usage_percentage: f64,
    pub pressure_source: PressureSource,
    pub trigger: StatusTrigger,
    pub timestamp: u64,
}

/// An alert raised or escalated (`type: "alert"`) or resolved (`type: "alertResolved"`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertEvent {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub alert: Alert,
}

/// Something went wrong inside the addon that the application should hear about
/// (`type: "error"`): the sampler thread panicked, and whether it was restarted.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorEvent {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub message: String,
    pub sampler: SamplerState,
    pub restarts: u32,
    pub timestamp: u64,
}

/// Events the engine raises; each serializes with a `type` field.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Event {
    Status(StatusChange),
    Leak(LeakEvent),
    Alert(AlertEvent),
    Error(ErrorEvent),
}

impl Event {
    pub fn raised(a: Option<Alert>) -> Option<Event> {
        a.map(|alert| {
            Event::Alert(AlertEvent {
                kind: "alert",
                alert,
            })
        })
    }

    pub fn resolved(a: Option<Alert>) -> Option<Event> {
        a.map(|alert| {
            Event::Alert(AlertEvent {
                kind: "alertResolved",
                alert,
            })
        })
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
    pub limit_source: LimitSource,
    pub limit_detail: String,
    pub heap_size_limit: u64,
    pub detached_contexts: u64,
    /// residentBytes / limitBytes × 100.
    #[serde(serialize_with = "finite::num")]
    pub usage_percentage: f64,
    /// heapUsed / heapSizeLimit × 100.
    #[serde(serialize_with = "finite::num")]
    pub heap_usage_percentage: f64,
    /// The worse of the two: what the status follows.
    #[serde(serialize_with = "finite::num")]
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
    #[serde(serialize_with = "finite::num")]
    pub time_window: f64,
    pub time_window_ms: u64,
    pub samples: usize,
    /// Mean and peak of usagePercentage over the window (percent of the limit).
    #[serde(serialize_with = "finite::num")]
    pub average_usage: f64,
    #[serde(serialize_with = "finite::num")]
    pub peak_usage: f64,
    /// Theil–Sen slope of resident memory, percent of the limit per minute.
    #[serde(serialize_with = "finite::num")]
    pub growth_rate: f64,
    #[serde(serialize_with = "finite::num")]
    pub growth_rate_bytes_per_sec: f64,
    /// Lower bound of the slope's ~95 % confidence interval (bytes/s).
    #[serde(serialize_with = "finite::num")]
    pub growth_rate_low_bytes_per_sec: f64,
    /// A significant rising trend (Mann–Kendall z > 1.96 and slope lower bound > 0).
    pub is_increasing: bool,
    /// Minutes until the limit at the lower-bound growth rate; `null` when not growing.
    #[serde(serialize_with = "finite::opt")]
    pub minutes_to_limit: Option<f64>,
    /// Minutes until V8's heap limit at the lower-bound growth of the old generation
    /// (live heap); `null` when it is not growing significantly.
    #[serde(serialize_with = "finite::opt")]
    pub minutes_to_heap_limit: Option<f64>,
    /// The leak detector's verdict (see `getLeakDetection()`).
    pub leak_suspected: bool,
    /// Leak confidence, 0–100.
    #[serde(serialize_with = "finite::num")]
    pub confidence: f64,
    /// false until MIN_TREND_SAMPLES samples exist.
    pub enough_data: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThresholdReport {
    #[serde(serialize_with = "finite::num")]
    pub warning: f64,
    #[serde(serialize_with = "finite::num")]
    pub critical: f64,
    #[serde(serialize_with = "finite::num")]
    pub emergency: f64,
    #[serde(serialize_with = "finite::num")]
    pub hysteresis: f64,
}

/// The sampler thread's state: running, restarted after a panic, or stopped (after
/// too many panics, or by shutdown()).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SamplerState {
    #[default]
    Running,
    Restarted,
    Stopped,
}

/// `eventLoop` in the health report: whether the JS thread answered the sampler's
/// last heap read in time.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventLoopReport {
    /// The heap reading is overdue by more than the blocked threshold.
    pub blocked: bool,
    /// How long the JS thread has not answered (0 when not blocked).
    pub blocked_for_ms: u64,
    /// Longest block seen since monitoring started (ms).
    pub longest_blocked_ms: u64,
    /// Age of the heap reading at which the loop counts as blocked (ms).
    pub threshold_ms: u64,
}

/// Where and how the analysis ran (evidence for tests and for operators).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EngineDebug {
    /// Name of the thread that ran the latest analysis of a heap sample
    /// (`memwarden`, the sampler thread, unless the application called checkMemoryPressure()).
    pub analysis_thread: Option<String>,
    /// Heap samples handed over by the JS thread, and analysed.
    pub heap_samples: u64,
    /// Sampler thread restarts after a panic.
    pub sampler_restarts: u32,
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
    pub gc_stats: super::gc::GcReport,
    pub thresholds: ThresholdReport,
    /// Age of the newest resident / heap sample (ms); a stale heap sample means the JS thread is busy.
    pub resident_sample_age_ms: Option<u64>,
    pub heap_sample_age_ms: Option<u64>,
    pub event_loop: EventLoopReport,
    pub sampler: SamplerState,
    pub gc_available: bool,
    pub recommendations: Vec<String>,
    pub debug: EngineDebug,
}

/// The leak report: detector state, confidence and its parts, recommendations.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeakReport {
    pub enabled: bool,
    #[serde(flatten)]
    pub state: LeakState,
    #[serde(serialize_with = "finite::num")]
    pub confidence: f64,
    pub confidence_parts: ConfidenceParts,
    #[serde(serialize_with = "finite::opt")]
    pub minutes_to_limit: Option<f64>,
    #[serde(serialize_with = "finite::opt")]
    pub minutes_to_heap_limit: Option<f64>,
    /// Both estimates with their bounds and the levels they count to.
    pub time_to_limit: leak::TimeToLimit,
    /// Requests per second seen by the Express middleware over the readings; `null` without it.
    #[serde(serialize_with = "finite::opt")]
    pub request_rate_per_sec: Option<f64>,
    /// Growth of the flagged (or strongest) signal per request; `null` without traffic.
    #[serde(serialize_with = "finite::opt")]
    pub bytes_per_request: Option<f64>,
    pub recommendations: Vec<String>,
    pub timestamp: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_numbers_stay_numbers() {
        let t = ThresholdReport {
            warning: f64::NAN,
            critical: f64::INFINITY,
            emergency: f64::NEG_INFINITY,
            hysteresis: 5.0,
        };
        let v = serde_json::to_value(&t).unwrap();
        for key in ["warning", "critical", "emergency", "hysteresis"] {
            assert!(v[key].is_number(), "{key}: {v}");
        }
        assert_eq!(v["warning"], 0.0);
        assert_eq!(v["critical"].as_f64(), Some(f64::MAX));
    }

    #[test]
    fn non_finite_optional_numbers_are_unknown() {
        #[derive(Serialize)]
        struct W {
            #[serde(serialize_with = "finite::opt")]
            a: Option<f64>,
            #[serde(serialize_with = "finite::opt")]
            b: Option<f64>,
        }
        let v = serde_json::to_value(W {
            a: Some(f64::NAN),
            b: Some(2.5),
        })
        .unwrap();
        assert!(v["a"].is_null());
        assert_eq!(v["b"], 2.5);
    }
}
