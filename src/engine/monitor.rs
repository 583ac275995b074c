//! The monitoring engine's core: takes samples and `now`, keeps bounded history,
//! evaluates the status with hysteresis, runs the leak detector and builds the
//! reports. Types live in `report`, alert rules in `alert_rules`, trace entries
//! in `recorder`; this file calls them and none of them calls back.

use super::alert_rules::{self, FullGc, GC_FAILURE_RUN};
use super::alerts::{AlertType, Alerts, AlertsReport};
use super::config::Config;
use super::cooldown::{Cooldown, Cooldowns};
use super::gc::{GcEvent, GcStats};
use super::leak::{self, ConfidenceParts, Detector, LeakParams, LeakState, Signal};
use super::limit::Limit;
use super::platform::Platform;
use super::recommend::{self, Facts};
use super::recorder;
pub use super::recorder::{TRACE_GC_EVENTS, TRACE_SAMPLES};
pub use super::report::*;
use super::ring::Ring;
use super::stats;
use super::status::{Level, Thresholds};
use super::trace::{Trace, TraceGc, TraceSample, TraceTail};

/// Fewest resident samples before a trend is reported.
pub const MIN_TREND_SAMPLES: usize = 8;
/// Request-counter readings kept (one per heap sample).
const REQUEST_READINGS: usize = 240;
/// A heap reading the JS thread has not answered for this long means a blocked event
/// loop (at least; a longer interval raises it to half the interval).
pub const EVENT_LOOP_BLOCKED_MS: u64 = 1_000;
/// While the heap is high (`heap_watch()`), the sampler asks for a heap reading this
/// often between samples: a heap filling at tens of MB/s reaches V8's limit within
/// seconds, long before the next sample at the default intervals.
pub const HEAP_WATCH_INTERVAL_MS: u64 = 200;

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
    /// The newest full collections.
    full_gcs: Ring<FullGc>,
    /// The newest reading of the old generation (bytes): from a heap sample, the
    /// figures read after a full collection (the live set), or after other collections.
    old_generation_bytes: Option<u64>,
    last_growth_check: u64,
    /// When the sampler asked the JS thread for heap figures it has not yet received.
    heap_requested_at: Option<u64>,
    longest_blocked_ms: u64,
    blocked_threshold_ms: u64,
    sampler: SamplerState,
    sampler_restarts: u32,
    analysis_thread: Option<String>,
    heap_samples: u64,
    cooldowns: Cooldowns,
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
            old_generation_bytes: None,
            requests: Ring::new(REQUEST_READINGS),
            last_growth_check: now,
            heap_requested_at: None,
            longest_blocked_ms: 0,
            blocked_threshold_ms: EVENT_LOOP_BLOCKED_MS.max(config.monitoring_interval_ms / 2),
            sampler: SamplerState::Running,
            sampler_restarts: 0,
            analysis_thread: None,
            heap_samples: 0,
            cooldowns: Cooldowns::default(),
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

    pub fn limit(&self) -> &Limit {
        &self.limit
    }

    pub fn level(&self) -> Level {
        self.level
    }

    pub fn interval_ms(&self) -> u64 {
        self.interval_ms
    }

    pub fn set_gc_available(&mut self, available: bool) {
        self.gc_available = available;
    }

    pub fn gc_available(&self) -> bool {
        self.gc_available
    }

    /// Whether confirmation GCs can run (proactive GC on, and some way to collect).
    pub fn set_confirmation_available(&mut self, available: bool) {
        self.detector
            .set_confirm_allowed(self.proactive_gc && self.leak_detection && available);
    }

    fn resident_bytes(&self, s: &NativeSample) -> u64 {
        if self.limit.source.is_cgroup() {
            s.working_set_bytes.unwrap_or(s.rss_bytes)
        } else {
            s.rss_bytes
        }
    }

    /// The heap side: heapUsed over V8's limit, or the old generation (newest reading:
    /// a sample, or the heap read after a collection) over the old generation's room,
    /// whichever is higher. The second is what V8's out-of-memory abort follows: with a
    /// small --max-old-space-size the young generation's reserve keeps the first under 80 %.
    fn pressure(&self) -> Pressure {
        let usage = self.native.map_or(0.0, |(_, s)| {
            self.resident_bytes(&s) as f64 / self.limit.bytes.max(1) as f64 * 100.0
        });
        let heap = self.heap.map_or(0.0, |(_, h)| {
            if h.heap_size_limit == 0 {
                0.0
            } else {
                let used = h.heap_used as f64 / h.heap_size_limit as f64 * 100.0;
                let old = self.old_generation_bytes.map_or(0.0, |b| {
                    b as f64 / alert_rules::old_generation_room_bytes(h.heap_size_limit) as f64
                        * 100.0
                });
                used.max(old)
            }
        });
        Pressure { usage, heap }
    }

    pub fn ingest_native(&mut self, now: u64, s: NativeSample) -> Vec<Event> {
        self.native = Some((now, s));
        self.resident.push((now, self.resident_bytes(&s)));
        let mut events = self.evaluate(now, StatusTrigger::Sample);
        events.extend(self.growth_check(now));
        events.extend(self.check_event_loop(now));
        events
    }

    /// The sampler asked the JS thread for heap figures (keeps the first ask while
    /// one is outstanding).
    pub fn note_heap_requested(&mut self, now: u64) {
        self.heap_requested_at.get_or_insert(now);
    }

    pub fn heap_read_pending(&self) -> bool {
        self.heap_requested_at.is_some()
    }

    /// How long the outstanding heap read has waited (0 when none is outstanding).
    fn blocked_for_ms(&self, now: u64) -> u64 {
        self.heap_requested_at.map_or(0, |t| now.saturating_sub(t))
    }

    pub fn blocked_threshold_ms(&self) -> u64 {
        self.blocked_threshold_ms
    }

    /// event_loop_blocked, raised while the JS thread does not answer and resolved
    /// when it does.
    pub fn check_event_loop(&mut self, now: u64) -> Option<Event> {
        let blocked = self.blocked_for_ms(now);
        let threshold = self.blocked_threshold_ms;
        if blocked >= threshold {
            self.longest_blocked_ms = self.longest_blocked_ms.max(blocked);
        }
        alert_rules::event_loop_blocked(&mut self.alerts, blocked, threshold, now)
    }

    pub fn event_loop(&self, now: u64) -> EventLoopReport {
        let blocked_for = self.blocked_for_ms(now);
        let blocked = blocked_for >= self.blocked_threshold_ms;
        EventLoopReport {
            blocked,
            blocked_for_ms: if blocked { blocked_for } else { 0 },
            longest_blocked_ms: if blocked {
                self.longest_blocked_ms.max(blocked_for)
            } else {
                self.longest_blocked_ms
            },
            threshold_ms: self.blocked_threshold_ms,
        }
    }

    /// Heap figures read at `read_at` (on the JS thread), analysed now.
    pub fn ingest_heap(&mut self, now: u64, h: HeapSample) -> Vec<Event> {
        let mut events = Vec::new();
        if self.heap_requested_at.is_some_and(|t| t <= now) {
            let waited = self.blocked_for_ms(now);
            if waited >= self.blocked_threshold_ms {
                self.longest_blocked_ms = self.longest_blocked_ms.max(waited);
            }
            self.heap_requested_at = None;
            events.extend(self.check_event_loop(now));
        }
        self.heap_samples += 1;
        self.heap = Some((now, h));
        if h.old_generation_bytes > 0 {
            self.old_generation_bytes = Some(h.old_generation_bytes);
        }
        let rss = self.native.map_or(0, |(_, s)| s.rss_bytes);
        self.trace_samples.push(recorder::sample(now, &h, rss));
        events.extend(self.evaluate(now, StatusTrigger::Sample));
        if self.leak_detection {
            let resident = self.native.map_or(0, |(_, s)| self.resident_bytes(&s));
            let (resident_room, heap_room) = self.headroom_bytes(&h, resident);
            self.detector.set_headroom(resident_room.min(heap_room));
            for e in self.detector.on_sample(
                now,
                h.old_gen() as f64,
                h.external_bytes as f64,
                resident as f64,
            ) {
                let report = self.leak_report(now);
                let alert = alert_rules::memory_leak(&mut self.alerts, &e, &report);
                events.push(Event::Leak(e));
                events.extend(alert);
            }
        }
        events
    }

    /// Which thread analysed the newest heap sample, and the sampler thread's state.
    pub fn note_analysis_thread(&mut self, name: Option<&str>) {
        if self.analysis_thread.as_deref() != name {
            self.analysis_thread = name.map(String::from);
        }
    }

    pub fn set_sampler_state(&mut self, state: SamplerState, restarts: u32) {
        self.sampler = state;
        self.sampler_restarts = restarts;
    }

    pub fn sampler_restarts(&self) -> u32 {
        self.sampler_restarts
    }

    /// Forgets an outstanding heap read (the sampler loop restarted: its answer may be
    /// lost, and the new loop asks again).
    pub fn forget_heap_request(&mut self) {
        self.heap_requested_at = None;
    }

    /// A collection without sizes (minor, incremental, weak callbacks, or a major one
    /// whose sizes are unknown).
    pub fn record_gc(&mut self, e: GcEvent) {
        if recorder::records(&e) {
            self.trace_gcs.push(recorder::gc(&e, None, None));
        }
        self.gc.record(e);
    }

    /// A full collection with the figures read just after it. `heap_before` defaults to
    /// the newest heap sample. The live heap it measured moves the heap side of the
    /// status at once (a `status` event between samples). Returns the events raised.
    pub fn record_full_gc(
        &mut self,
        mut e: GcEvent,
        old_gen_after: Option<u64>,
        external_after: Option<u64>,
    ) -> Vec<Event> {
        if e.heap_before_bytes.is_none() {
            e.heap_before_bytes = self.heap.map(|(_, h)| h.heap_used);
        }
        if let (Some(before), Some(after)) = (e.heap_before_bytes, e.heap_after_bytes) {
            self.full_gcs.push(FullGc {
                t_ms: e.t_ms,
                heap_before_bytes: before,
                heap_after_bytes: after,
                old_generation_after_bytes: old_gen_after.unwrap_or(after),
            });
        }
        if let Some(live) = old_gen_after.or(e.heap_after_bytes) {
            self.old_generation_bytes = Some(live);
        }
        self.trace_gcs
            .push(recorder::gc(&e, old_gen_after, external_after));
        self.gc.record(e);
        if self.leak_detection {
            self.detector.on_full_gc(
                e.t_ms,
                old_gen_after.or(e.heap_after_bytes).map(|v| v as f64),
                external_after.map(|v| v as f64),
                e.forced.then_some(e.duration_ms),
            );
        }
        let run: Vec<FullGc> = self.full_gcs.iter().copied().collect();
        let heap_limit = self.heap.map_or(0, |(_, h)| h.heap_size_limit);
        let failure = alert_rules::gc_failure(&mut self.alerts, &run, heap_limit, e.t_ms);
        // The status first (a gc_failure alert holds it at the alert's level), then the alert.
        let mut events = self.evaluate(e.t_ms, StatusTrigger::FullGc);
        events.extend(failure);
        events
    }

    /// Whether the heap is high enough that each collection's outcome should be read
    /// and the sampler should ask for heap readings between samples (heap side within
    /// 10 points of the warning threshold): then a growing old generation moves the
    /// status between samples, before V8's abort. Below it, nothing extra runs.
    pub fn heap_watch(&self) -> bool {
        self.pressure().heap >= (self.thresholds.warning - 10.0).max(self.thresholds.warning / 2.0)
    }

    /// The old generation read just after collections (not full ones): moves the heap
    /// side of the status at once. Returns the events raised.
    pub fn note_old_generation(&mut self, now: u64, old_generation_bytes: u64) -> Vec<Event> {
        if old_generation_bytes == 0 {
            return Vec::new();
        }
        self.old_generation_bytes = Some(old_generation_bytes);
        self.evaluate(now, StatusTrigger::Gc)
    }

    /// A heap reading between samples (the sampler asks for one every
    /// HEAP_WATCH_INTERVAL_MS while `heap_watch()` holds): newest figures and the heap
    /// side of the status, without the leak detector or the trace (they take samples
    /// at the configured interval). Returns the events raised.
    pub fn note_heap_reading(&mut self, now: u64, h: HeapSample) -> Vec<Event> {
        self.heap = Some((now, h));
        if h.old_generation_bytes > 0 {
            self.old_generation_bytes = Some(h.old_generation_bytes);
        }
        self.evaluate(now, StatusTrigger::HeapWatch)
    }

    /// rapid_growth, checked at most every 10 s: the trend costs a few thousand
    /// pairwise slopes.
    fn growth_check(&mut self, now: u64) -> Option<Event> {
        if now.saturating_sub(self.last_growth_check) < 10_000.max(self.interval_ms) {
            return None;
        }
        self.last_growth_check = now;
        let t = self.trend();
        alert_rules::rapid_growth(&mut self.alerts, &t, now)
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
        keep_newer(&mut self.trace_samples, |s| s.t_ms >= cutoff as f64);
        keep_newer(&mut self.trace_gcs, |g| g.t_ms >= cutoff as f64);
        before.saturating_sub(
            self.resident.heap_bytes()
                + self.trace_samples.heap_bytes()
                + self.trace_gcs.heap_bytes(),
        )
    }

    /// The recorded trace (bounded: the newest samples and full GCs).
    pub fn export_trace(&self) -> Trace {
        recorder::export(
            self.limit.bytes,
            self.heap.map(|(_, h)| h.heap_size_limit),
            self.interval_ms,
            self.trace_samples.iter(),
            self.trace_gcs.iter(),
        )
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
            first_sample_at: self.trace_samples.iter().next().map(|s| s.t_ms),
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

    /// Room left before resident memory's limit (the container) and before the heap's
    /// (`heap_size_limit`; infinite while unknown).
    fn headroom_bytes(&self, h: &HeapSample, resident: u64) -> (f64, f64) {
        let heap_room = if h.heap_size_limit > 0 {
            h.heap_size_limit.saturating_sub(h.heap_used) as f64
        } else {
            f64::INFINITY
        };
        (self.limit.bytes.saturating_sub(resident) as f64, heap_room)
    }

    fn leak_context(&self) -> leak::Context {
        let h = self.heap.map(|(_, h)| h).unwrap_or_default();
        let resident = self.native.map_or(0, |(_, s)| self.resident_bytes(&s));
        let gc = self.gc.report(self.heap.map_or(self.start, |(t, _)| t));
        let (headroom_bytes, heap_headroom_bytes) = self.headroom_bytes(&h, resident);
        leak::Context {
            peak_pressure: self.peak_pressure(),
            emergency_threshold: self.emergency_threshold,
            gc_efficiency: gc.efficiency,
            detached_contexts: h.detached_contexts,
            gc_pause_percent: gc.pause_time_percent,
            headroom_bytes,
            heap_headroom_bytes,
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
            let room = h.heap_size_limit.saturating_sub(
                alert_rules::YOUNG_GENERATION_RESERVE_BYTES.min(h.heap_size_limit / 2),
            );
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

    /// The status follows the pressure with hysteresis; while a gc_failure alert is
    /// active (full collections no longer free the heap near V8's limit: V8 aborts
    /// soon, and under CPU contention well before the old generation is full) the
    /// status is at least that alert's level.
    fn evaluate(&mut self, now: u64, trigger: StatusTrigger) -> Vec<Event> {
        let p = self.pressure();
        let (worst, source) = p.worst();
        let floor = self
            .alerts
            .active_level(AlertType::GcFailure)
            .unwrap_or(Level::Healthy);
        let next = self.thresholds.next(self.level, worst).max(floor);
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
            trigger,
            timestamp: now,
        };
        let alert = alert_rules::high_usage(&mut self.alerts, self.limit.bytes, &change);
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

    /// Whether a proactive cleanup may start now (`mono_ms`: a monotonic clock), at most
    /// once per `cooldown_ms`; starts the cooldown when it may.
    pub fn cleanup_may_start(&mut self, mono_ms: u64, cooldown_ms: u64) -> bool {
        self.cooldowns
            .try_start(Cooldown::Cleanup, cooldown_ms, mono_ms)
    }

    /// Whether an automatic leak-site attribution is due: a leak is flagged (confirmed;
    /// no separate score gates it) and none started within `every_ms` on the monotonic
    /// clock `mono_ms`. Starts the cooldown when due.
    pub fn auto_attribution_due(&mut self, every_ms: u64, mono_ms: u64) -> bool {
        self.leak_detection
            && self.detector.state().leak_suspected
            && self
                .cooldowns
                .try_start(Cooldown::Attribution, every_ms, mono_ms)
    }

    /// The status and pressure figures the per-request middleware needs, without
    /// building the report: (status, usage %, pressure %).
    pub fn pressure_snapshot(&self) -> (Level, f64, f64) {
        let p = self.pressure();
        (
            self.level,
            finite::clamp(p.usage),
            finite::clamp(p.worst().0),
        )
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
            heap_total: h.heap_total_bytes,
            external: h.external_bytes,
            array_buffers: h.array_buffers_bytes,
            rss: n.rss_bytes,
            working_set: n.working_set_bytes,
            cgroup_usage: n.cgroup_usage_bytes,
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
            event_loop: self.event_loop(now),
            sampler: self.sampler,
            gc_available: self.gc_available,
            recommendations,
            debug: EngineDebug {
                analysis_thread: self.analysis_thread.clone(),
                heap_samples: self.heap_samples,
                sampler_restarts: self.sampler_restarts,
            },
        }
    }

    /// `report` built earlier (on the sampler thread), brought up to `now`: the
    /// figures that age (timestamps, sample ages, the event loop) are recomputed.
    pub fn refresh_report(&self, mut r: HealthReport, now: u64) -> HealthReport {
        r.timestamp = now;
        r.resident_sample_age_ms = self.native.map(|(t, _)| now.saturating_sub(t));
        r.heap_sample_age_ms = self.heap.map(|(t, _)| now.saturating_sub(t));
        r.event_loop = self.event_loop(now);
        r.sampler = self.sampler;
        r.debug.sampler_restarts = self.sampler_restarts;
        r.gc_stats = self.gc.report(now);
        r
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
    use crate::engine::alerts::AlertType;
    use crate::engine::config::{resolve, Input};
    use crate::engine::gc::GcKind;
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
            rss_bytes: mb * MB,
            ..Default::default()
        }
    }

    fn heap(used_mb: u64, limit_mb: u64) -> HeapSample {
        HeapSample {
            heap_used: used_mb * MB,
            heap_total_bytes: used_mb * MB * 2,
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
        assert_eq!(tail.first_sample_at, Some(whole.samples[0].t_ms));
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
            t_ms: t,
            kind: GcKind::Major,
            duration_ms: 50.0,
            forced: false,
            heap_before_bytes: Some(before_mb * MB),
            heap_after_bytes: Some(after_mb * MB),
        }
    }

    fn gc_alerts(ev: Vec<Event>) -> Vec<AlertEvent> {
        ev.into_iter()
            .filter_map(|e| match e {
                Event::Alert(a) if a.alert.kind == AlertType::GcFailure => Some(a),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn ineffective_collections_near_the_heap_limit_raise_gc_failure() {
        let mut e = engine(serde_json::json!({}), 1000, LimitSource::Override);
        e.ingest_heap(0, heap(230, 256));
        assert!(gc_alerts(e.record_full_gc(full_gc(1_000, 232, 230), None, None)).is_empty());
        assert!(gc_alerts(e.record_full_gc(full_gc(2_000, 233, 231), None, None)).is_empty());
        let ev = gc_alerts(e.record_full_gc(full_gc(3_000, 234, 232), None, None));
        match &ev[..] {
            [a] => {
                assert_eq!(a.alert.level, Level::Emergency);
                assert!(a.alert.message.contains("GC failure"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(e.level(), Level::Emergency);
        // A collection that frees a lot resolves it.
        let ev = gc_alerts(e.record_full_gc(full_gc(4_000, 234, 120), None, None));
        assert!(matches!(&ev[..], [a] if a.kind == "alertResolved"));
    }

    #[test]
    fn a_gc_failure_holds_the_status_at_its_level() {
        // V8 can abort with the old generation at 82 % of its room when its mutator
        // utilization is low: the status must not wait for the thresholds then.
        let mut e = engine(serde_json::json!({}), 4000, LimitSource::Override);
        e.ingest_heap(0, heap(60, 144));
        let mb = |x: u64| Some(x * MB);
        e.record_full_gc(full_gc(100, 80, 79), mb(78), None);
        e.record_full_gc(full_gc(200, 80, 79), mb(78), None);
        assert_eq!(
            e.level(),
            Level::Warning,
            "78/96 = 81 %: warning by the thresholds"
        );
        let ev = e.record_full_gc(full_gc(300, 80, 79), mb(79), None);
        match &ev[..] {
            [Event::Status(s), Event::Alert(_), Event::Alert(g)] => {
                assert_eq!(
                    (s.previous, s.current, s.trigger),
                    (Level::Warning, Level::Critical, StatusTrigger::FullGc)
                );
                assert_eq!(
                    (g.alert.kind, g.alert.level),
                    (AlertType::GcFailure, Level::Critical)
                );
            }
            other => panic!("{other:?}"),
        }
        // Collections free memory again: the alert resolves and the status follows the thresholds.
        let ev = e.record_full_gc(full_gc(400, 80, 30), mb(29), None);
        assert!(
            matches!(&ev[0], Event::Status(s) if s.current == Level::Healthy),
            "{ev:?}"
        );
    }

    #[test]
    fn a_full_collection_moves_the_heap_side_of_the_status_at_once() {
        // --max-old-space-size=96: V8's limit is 144 MB (96 + 48 of young generation).
        let mut e = engine(serde_json::json!({}), 4000, LimitSource::Override);
        e.ingest_native(0, rss(200));
        assert!(
            e.ingest_heap(0, heap(60, 144)).is_empty(),
            "60/144 = 42 %: healthy"
        );
        // Between samples, a full collection leaves 88 MB live of the old generation's
        // 96 MB room: critical at once, without waiting for the next sample.
        let ev = e.record_full_gc(full_gc(500, 95, 90), Some(88 * MB), None);
        match &ev[0] {
            Event::Status(s) => {
                assert_eq!((s.previous, s.current), (Level::Healthy, Level::Critical));
                assert_eq!(s.trigger, StatusTrigger::FullGc);
                assert_eq!(s.pressure_source, PressureSource::Heap);
                assert!((s.heap_usage_percentage - 88.0 / 96.0 * 100.0).abs() < 1e-9);
            }
            other => panic!("{other:?}"),
        }
        let ev = e.record_full_gc(full_gc(800, 96, 95), Some(93 * MB), None);
        assert!(
            matches!(&ev[0], Event::Status(s) if s.current == Level::Emergency),
            "{ev:?}"
        );
        // A collection that frees most of it lets the status fall again.
        let ev = e.record_full_gc(full_gc(900, 96, 30), Some(28 * MB), None);
        assert!(
            matches!(&ev[0], Event::Status(s) if s.current == Level::Healthy),
            "{ev:?}"
        );
    }

    #[test]
    fn the_old_generation_read_after_collections_moves_the_status_while_the_heap_is_high() {
        let mut e = engine(serde_json::json!({}), 4000, LimitSource::Override);
        e.ingest_heap(0, heap(20, 144));
        // The local preset here: warning at 80 %, so readings start at 70 %.
        assert!(!e.heap_watch(), "20/144 = 14 %");
        e.ingest_heap(1, heap(99, 144));
        assert!(!e.heap_watch(), "99/144 = 68.75 %");
        e.ingest_heap(2, heap(101, 144));
        assert!(e.heap_watch(), "101/144 = 70.1 %");
        let ev = e.note_old_generation(10, 93 * MB);
        assert!(
            matches!(&ev[0], Event::Status(s) if s.current == Level::Emergency && s.trigger == StatusTrigger::Gc),
            "{ev:?}"
        );
        assert!(
            e.note_old_generation(11, 0).is_empty(),
            "0 is unknown, not empty"
        );
    }

    #[test]
    fn a_heap_read_the_js_thread_does_not_answer_is_a_blocked_event_loop() {
        let mut e = engine(
            serde_json::json!({"monitoringIntervalMs": 500}),
            1000,
            LimitSource::Override,
        );
        assert_eq!(e.blocked_threshold_ms(), EVENT_LOOP_BLOCKED_MS);
        e.ingest_native(0, rss(100));
        e.note_heap_requested(0);
        assert!(
            e.ingest_heap(20, heap(10, 256)).is_empty(),
            "answered in 20 ms"
        );
        assert!(!e.event_loop(20).blocked);
        e.note_heap_requested(500);
        e.note_heap_requested(1_000); // still the first ask
        assert!(
            e.check_event_loop(1_400).is_none(),
            "900 ms: under the threshold"
        );
        match e.ingest_native(1_600, rss(100)).as_slice() {
            [Event::Alert(a)] => assert_eq!(a.alert.kind, AlertType::EventLoopBlocked),
            other => panic!("{other:?}"),
        }
        let r = e.report(3_500);
        assert!(r.event_loop.blocked);
        assert_eq!(r.event_loop.blocked_for_ms, 3_000);
        assert_eq!(r.heap_sample_age_ms, Some(3_480));
        // The thread answers: resolved, and the longest block is kept.
        let ev = e.ingest_heap(3_600, heap(10, 256));
        assert!(
            matches!(&ev[0], Event::Alert(a) if a.kind == "alertResolved" && a.alert.kind == AlertType::EventLoopBlocked),
            "{ev:?}"
        );
        let r = e.report(3_700);
        assert!(!r.event_loop.blocked);
        assert_eq!(r.event_loop.blocked_for_ms, 0);
        assert_eq!(r.event_loop.longest_blocked_ms, 3_100);
        assert!(e
            .alerts()
            .history
            .iter()
            .any(|a| a.kind == AlertType::EventLoopBlocked && !a.resolved));
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
            rss_bytes: 100 * MB,
            cgroup_usage_bytes: Some(400 * MB),
            working_set_bytes: Some(300 * MB),
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
    fn cleanup_and_attribution_cooldowns_run_on_the_clock_passed_in() {
        let mut e = engine(serde_json::json!({}), 1000, LimitSource::Override);
        assert!(e.cleanup_may_start(0, 60_000));
        assert!(!e.cleanup_may_start(59_999, 60_000));
        assert!(e.cleanup_may_start(60_000, 60_000));
        // No leak flagged: no attribution, and no cooldown started.
        assert!(!e.auto_attribution_due(600_000, 0));
    }

    #[test]
    fn attribution_is_due_once_per_cooldown_while_a_leak_is_flagged() {
        let mut e = engine(
            serde_json::json!({"monitoringIntervalMs": 1000}),
            4000,
            LimitSource::Override,
        );
        // A live set growing 200 KB/s, confirmed by a forced full collection every 5 s.
        let mut flagged_at = None;
        for i in 0..600u64 {
            let now = 1_000_000 + i * 1000;
            let live = 50 * MB + i * 200 * 1024;
            e.ingest_native(
                now,
                NativeSample {
                    rss_bytes: live + 40 * MB,
                    ..rss(0)
                },
            );
            e.ingest_heap(
                now,
                HeapSample {
                    heap_used: live + (i % 5) * MB,
                    ..heap(0, 4000)
                },
            );
            if i % 5 == 4 {
                let gc = GcEvent {
                    forced: true,
                    ..full_gc(now, (live + 5 * MB) / MB, live / MB)
                };
                e.record_full_gc(gc, Some(live), Some(MB));
            }
            if flagged_at.is_none() && e.detector.state().leak_suspected {
                flagged_at = Some(i);
                break;
            }
        }
        assert!(
            flagged_at.is_some(),
            "the growing live set was never flagged"
        );
        // Due at once on a confirmed leak, then held back for every_ms on the clock passed in.
        assert!(e.auto_attribution_due(600_000, 5_000));
        assert!(!e.auto_attribution_due(600_000, 5_001));
        assert!(!e.auto_attribution_due(600_000, 604_999));
        assert!(e.auto_attribution_due(600_000, 605_000));
        // Off when leak detection is off.
        e.leak_detection = false;
        assert!(!e.auto_attribution_due(0, 2_000_000));
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
        assert_eq!(trace.samples[0].t_ms as u64, 1_000_000 + 1199 * 1000 - keep);
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
        // serde_json writes a NaN as null (never "NaN"): look at the values instead.
        let v = serde_json::to_value(&r).unwrap();
        for p in [
            "/currentUsage/usagePercentage",
            "/currentUsage/heapUsagePercentage",
            "/trend/averageUsage",
            "/gcStats/averageDuration",
        ] {
            assert!(
                v.pointer(p).is_some_and(|x| x.is_number()),
                "{p}: {:?}",
                v.pointer(p)
            );
        }
        assert!(v["trend"]["minutesToLimit"].is_null(), "unknown: null");
    }

    #[test]
    fn degenerate_inputs_give_numbers_where_the_types_say_number() {
        // A zero limit and zero heap limit make every ratio 0/0 or x/0 unless guarded;
        // serde_json would write a NaN or an infinity as null.
        let mut e = engine(serde_json::json!({}), 0, LimitSource::Override);
        e.ingest_native(0, rss(0));
        e.ingest_heap(0, heap(0, 0));
        e.record_gc(GcEvent {
            t_ms: 0,
            kind: GcKind::Minor,
            duration_ms: f64::NAN,
            forced: false,
            heap_before_bytes: None,
            heap_after_bytes: None,
        });
        let v = serde_json::to_value(e.report(0)).unwrap();
        let numbers = [
            "/currentUsage/usagePercentage",
            "/currentUsage/heapUsagePercentage",
            "/currentUsage/pressurePercentage",
            "/trend/timeWindow",
            "/trend/averageUsage",
            "/trend/peakUsage",
            "/trend/growthRate",
            "/trend/growthRateBytesPerSec",
            "/trend/growthRateLowBytesPerSec",
            "/trend/confidence",
            "/gcStats/averageDuration",
            "/gcStats/pauseTimePercent",
            "/thresholds/warning",
        ];
        for p in numbers {
            assert!(
                v.pointer(p).is_some_and(|x| x.is_number()),
                "{p}: {:?}",
                v.pointer(p)
            );
        }
    }
}
