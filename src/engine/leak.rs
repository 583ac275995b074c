//! Leak detection over signals that reflect the live set, not the saw-tooth.
//!
//! Signals: the old-generation heap (V8 heap minus the young generation) and
//! off-heap memory (`external`, which includes ArrayBuffers), each reduced to its
//! lower envelope (bucket minima) with the values read just after full collections
//! marked. Resident memory is tracked as a corroborating risk factor only: the
//! allocator rarely returns pages, so RSS alone cannot tell a leak from a plateau.
//!
//! A signal is *suspicious* when, over its recent window, the Theil–Sen slope's
//! lower bound exceeds a minimum rate, the Mann–Kendall test is significant, and
//! each third of the window rises (a one-time step or a filled cache rises in one
//! third only). It is *confirmed* when the growth survived a full GC in the later
//! half of the window: garbage waiting for a collection is gone after one, leaked
//! memory is not. A suspicious, unconfirmed signal asks for a confirmation GC
//! (rate-limited). The flag clears when the flagged signal stops growing.

use super::envelope::{Envelope, EnvelopePoint};
use super::stats::{self, Trend};
use serde::Serialize;

/// Tunables; `LeakParams::for_interval` derives them from the sampling interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeakParams {
    /// Envelope bucket length.
    pub bucket_ms: u64,
    /// Fewest buckets before any verdict.
    pub min_buckets: usize,
    /// Buckets in the analysis window.
    pub window_buckets: usize,
    /// Smallest growth (lower bound of the slope) that counts, bytes/s.
    pub min_rate: f64,
    /// Mann–Kendall z needed to suspect growth.
    pub flag_z: f64,
    /// Minimum time between confirmation GCs.
    pub confirm_cooldown_ms: u64,
    /// Without confirmation GCs, flag after suspicion has lasted this long.
    pub unconfirmed_after_ms: u64,
}

impl LeakParams {
    pub fn for_interval(interval_ms: u64) -> LeakParams {
        let bucket_ms = (2 * interval_ms).max(2_000);
        LeakParams {
            bucket_ms,
            min_buckets: 6,
            window_buckets: 30,
            min_rate: 16.0 * 1024.0,
            flag_z: 2.5,
            confirm_cooldown_ms: (bucket_ms * 5).max(10_000),
            unconfirmed_after_ms: bucket_ms * 12,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Signal {
    /// V8 old generation (heap minus young generation).
    Heap,
    /// Off-heap memory: `external` (Buffers, ArrayBuffers, native strings).
    External,
    /// Resident memory: reported as evidence, never flagged on its own.
    Resident,
}

/// What the analysis of one signal found (the leak-detection endpoint's evidence).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignalEvidence {
    pub signal: Signal,
    /// Envelope points in the window.
    pub points: usize,
    pub window_ms: u64,
    /// Theil–Sen slope and its ~95 % bounds, bytes/s; 0 without enough data.
    pub slope_bytes_per_sec: f64,
    pub slope_low_bytes_per_sec: f64,
    pub slope_high_bytes_per_sec: f64,
    /// Mann–Kendall z (positive: rising).
    pub z: f64,
    /// Thirds of the window whose own slope is positive (0–3).
    pub rising_thirds: u8,
    /// Growth seen after a full GC in the later half of the window: `null` when no GC fell there.
    pub survived_gc: Option<bool>,
    pub suspicious: bool,
    /// Newest envelope value (bytes).
    pub current_bytes: f64,
}

fn evidence(signal: Signal, env: &Envelope, p: &LeakParams) -> SignalEvidence {
    let all: Vec<EnvelopePoint> = env.points().copied().collect();
    let pts = &all[all.len().saturating_sub(p.window_buckets)..];
    let xy: Vec<(f64, f64)> = pts.iter().map(|q| (q.t as f64 / 1000.0, q.value)).collect();
    let window_ms = match (pts.first(), pts.last()) {
        (Some(a), Some(b)) => b.t.saturating_sub(a.t),
        _ => 0,
    };
    let trend = if pts.len() >= p.min_buckets {
        stats::trend(&xy, p.min_buckets)
    } else {
        None
    };
    let rising_thirds = if pts.len() >= p.min_buckets {
        let n = xy.len();
        (0..3)
            .filter(|k| {
                let (a, b) = (k * n / 3, ((k + 1) * n / 3 + 1).min(n));
                let seg = &xy[a..b];
                seg.len() >= 2
                    && stats::trend(seg, 2)
                        .map_or(seg[seg.len() - 1].1 > seg[0].1, |t| t.slope > 0.0)
            })
            .count() as u8
    } else {
        0
    };
    let survived_gc = trend.and_then(|t| survived(pts, &t));
    let suspicious = trend.is_some_and(|t| {
        t.z >= p.flag_z
            && t.slope_low > p.min_rate
            && rising_thirds == 3
            && survived_gc != Some(false)
    });
    SignalEvidence {
        signal,
        points: pts.len(),
        window_ms,
        slope_bytes_per_sec: trend.map_or(0.0, |t| t.slope),
        slope_low_bytes_per_sec: trend.map_or(0.0, |t| t.slope_low),
        slope_high_bytes_per_sec: trend.map_or(0.0, |t| t.slope_high),
        z: trend.map_or(0.0, |t| t.z),
        rising_thirds,
        survived_gc,
        suspicious,
        current_bytes: pts.last().map_or(0.0, |q| q.value),
    }
}

/// Did the growth survive the latest full GC in the later half of the window?
/// Compares the post-GC value with the level at the window's start: at least half
/// the growth the slope predicts must remain.
fn survived(pts: &[EnvelopePoint], t: &Trend) -> Option<bool> {
    let first = pts.first()?;
    let last = pts.last()?;
    let mid = first.t + (last.t - first.t) / 2;
    let g = pts.iter().rev().find(|q| q.after_gc && q.t >= mid)?;
    let head: Vec<f64> = pts.iter().take(3).map(|q| q.value).collect();
    let base = stats::median(&head)?;
    let expected = t.slope * (g.t - first.t) as f64 / 1000.0;
    Some(expected > 0.0 && g.value - base >= 0.5 * expected)
}

/// The points behind the spec's confidence score (0–100).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfidenceParts {
    /// 0–40: significance × magnitude of the growth.
    pub growth_rate: f64,
    /// 0–20: rising thirds of the window and growth that survived a full GC.
    pub consistent_growth: f64,
    /// 0–20: peak pressure against the emergency threshold.
    pub peak_usage: f64,
    /// 0–15: little freed by recent full GCs.
    pub low_gc_efficiency: f64,
    /// 0–5: detached contexts, resident memory rising too, GC pause share.
    pub risk_factors: f64,
}

impl ConfidenceParts {
    pub fn total(&self) -> f64 {
        (self.growth_rate
            + self.consistent_growth
            + self.peak_usage
            + self.low_gc_efficiency
            + self.risk_factors)
            .clamp(0.0, 100.0)
    }
}

/// Inputs to the confidence score that the detector does not own.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Context {
    /// Peak pressure (%) over the history and the emergency threshold.
    pub peak_pressure: f64,
    pub emergency_threshold: f64,
    /// Percent freed by recent full GCs with known sizes.
    pub gc_efficiency: Option<f64>,
    pub detached_contexts: u64,
    pub gc_pause_percent: f64,
    /// Bytes left before the memory limit and before V8's heap limit.
    pub headroom_bytes: f64,
    pub heap_headroom_bytes: f64,
}

fn clamp01(x: f64) -> f64 {
    if x.is_finite() {
        x.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// Confidence from the strongest signal's evidence and the context.
pub fn confidence(
    e: &SignalEvidence,
    resident: Option<&SignalEvidence>,
    c: &Context,
) -> ConfidenceParts {
    // Growth: significance (z from 1 to 4) × magnitude (lower-bound rate against the
    // rate that would use the headroom within an hour, capped at 256 KB/s).
    let headroom = match e.signal {
        Signal::Heap => c.heap_headroom_bytes.min(c.headroom_bytes),
        Signal::External | Signal::Resident => c.headroom_bytes,
    };
    let reference = (headroom / 3600.0).clamp(16.0 * 1024.0, 256.0 * 1024.0);
    let growth_rate =
        40.0 * clamp01((e.z - 1.0) / 3.0) * clamp01(e.slope_low_bytes_per_sec / reference);
    let consistent_growth = 5.0 * e.rising_thirds as f64
        + match e.survived_gc {
            Some(true) => 5.0,
            _ => 0.0,
        };
    let floor = c.emergency_threshold * 0.5;
    let peak_usage =
        20.0 * clamp01((c.peak_pressure - floor) / (c.emergency_threshold - floor).max(1.0));
    let low_gc_efficiency = if e.slope_low_bytes_per_sec > 0.0 {
        c.gc_efficiency
            .map_or(0.0, |eff| 15.0 * clamp01((50.0 - eff) / 40.0))
    } else {
        0.0
    };
    let mut risk = 0.0;
    if c.detached_contexts > 0 {
        risk += 2.0;
    }
    if resident.is_some_and(|r| r.z >= 2.0 && r.slope_low_bytes_per_sec > 0.0) {
        risk += 2.0;
    }
    if c.gc_pause_percent > 5.0 {
        risk += 1.0;
    }
    ConfidenceParts {
        growth_rate,
        consistent_growth,
        peak_usage,
        low_gc_efficiency,
        risk_factors: risk,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Active {
    since: u64,
    signal: Signal,
    slope_at_flag: f64,
    confirmed: bool,
}

/// Leak events; serialized with a `type` tag.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum LeakEvent {
    #[serde(rename_all = "camelCase")]
    Leak {
        signal: Signal,
        growth_rate_bytes_per_sec: f64,
        growth_rate_low_bytes_per_sec: f64,
        confirmed_by_gc: bool,
        timestamp: u64,
    },
    #[serde(rename_all = "camelCase")]
    LeakResolved {
        signal: Signal,
        /// How long the leak was flagged (ms).
        duration_ms: u64,
        timestamp: u64,
    },
}

pub struct Detector {
    params: LeakParams,
    heap: Envelope,
    external: Envelope,
    resident: Envelope,
    active: Option<Active>,
    suspicious_since: Option<u64>,
    last_confirm: Option<u64>,
    want_confirm: bool,
    confirm_allowed: bool,
}

/// The state of the detector (the data behind `/api/memory/leak-detection`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeakState {
    pub leak_suspected: bool,
    pub signal: Option<Signal>,
    /// When the current flag was raised (ms since epoch).
    pub since: Option<u64>,
    pub confirmed_by_gc: bool,
    pub heap: SignalEvidence,
    pub external: SignalEvidence,
    pub resident: SignalEvidence,
    pub bucket_ms: u64,
    pub min_buckets: usize,
    pub last_confirmation_gc: Option<u64>,
}

impl Detector {
    pub fn new(params: LeakParams) -> Detector {
        let cap = params.window_buckets * 2;
        Detector {
            params,
            heap: Envelope::new(params.bucket_ms, cap),
            external: Envelope::new(params.bucket_ms, cap),
            resident: Envelope::new(params.bucket_ms, cap),
            active: None,
            suspicious_since: None,
            last_confirm: None,
            want_confirm: false,
            confirm_allowed: false,
        }
    }

    pub fn params(&self) -> &LeakParams {
        &self.params
    }

    /// Whether the manager may run confirmation GCs (proactive GC on, a GC available).
    pub fn set_confirm_allowed(&mut self, allowed: bool) {
        self.confirm_allowed = allowed;
    }

    /// A regular sample. Returns events when a bucket closed and the verdict changed.
    pub fn on_sample(
        &mut self,
        t: u64,
        old_gen: f64,
        external: f64,
        resident: f64,
    ) -> Vec<LeakEvent> {
        self.resident.add(t, resident, false);
        let a = self.heap.add(t, old_gen, false);
        let b = self.external.add(t, external, false);
        if a || b {
            self.evaluate(t)
        } else {
            Vec::new()
        }
    }

    /// Values read just after a full (major or forced) GC.
    pub fn on_full_gc(&mut self, t: u64, old_gen_after: Option<f64>, external_after: Option<f64>) {
        if let Some(v) = old_gen_after {
            self.heap.add(t, v, true);
        }
        if let Some(v) = external_after {
            self.external.add(t, v, true);
        }
    }

    /// A confirmation GC is wanted and allowed now. The caller runs it and calls `note_confirmation`.
    pub fn confirmation_due(&self, now: u64) -> bool {
        self.want_confirm
            && self.confirm_allowed
            && self
                .last_confirm
                .is_none_or(|t| now.saturating_sub(t) >= self.params.confirm_cooldown_ms)
    }

    pub fn note_confirmation(&mut self, now: u64) {
        self.last_confirm = Some(now);
        self.want_confirm = false;
    }

    pub fn evidence(&self) -> (SignalEvidence, SignalEvidence, SignalEvidence) {
        let p = &self.params;
        (
            evidence(Signal::Heap, &self.heap, p),
            evidence(Signal::External, &self.external, p),
            evidence(Signal::Resident, &self.resident, p),
        )
    }

    fn evaluate(&mut self, now: u64) -> Vec<LeakEvent> {
        let (heap, external, _) = self.evidence();
        let mut events = Vec::new();
        if let Some(a) = self.active {
            let e = if a.signal == Signal::External {
                external
            } else {
                heap
            };
            if self.stopped_growing(a, &e, now) {
                self.active = None;
                self.suspicious_since = None;
                events.push(LeakEvent::LeakResolved {
                    signal: a.signal,
                    duration_ms: now.saturating_sub(a.since),
                    timestamp: now,
                });
            }
            return events;
        }
        let candidates = [heap, external];
        let confirmed = candidates
            .iter()
            .filter(|e| e.suspicious && e.survived_gc == Some(true))
            .max_by(|a, b| a.z.total_cmp(&b.z));
        let suspicious = candidates
            .iter()
            .filter(|e| e.suspicious)
            .max_by(|a, b| a.z.total_cmp(&b.z));
        match (confirmed, suspicious) {
            (Some(e), _) => events.push(self.raise(e, true, now)),
            (None, Some(e)) => {
                let since = *self.suspicious_since.get_or_insert(now);
                if self.confirm_allowed {
                    self.want_confirm = true;
                } else if now.saturating_sub(since) >= self.params.unconfirmed_after_ms {
                    events.push(self.raise(e, false, now));
                }
            }
            (None, None) => {
                self.suspicious_since = None;
                self.want_confirm = false;
            }
        }
        events
    }

    fn raise(&mut self, e: &SignalEvidence, confirmed: bool, now: u64) -> LeakEvent {
        self.active = Some(Active {
            since: now,
            signal: e.signal,
            slope_at_flag: e.slope_bytes_per_sec,
            confirmed,
        });
        self.want_confirm = false;
        LeakEvent::Leak {
            signal: e.signal,
            growth_rate_bytes_per_sec: e.slope_bytes_per_sec,
            growth_rate_low_bytes_per_sec: e.slope_low_bytes_per_sec,
            confirmed_by_gc: confirmed,
            timestamp: now,
        }
    }

    /// The flagged signal stopped growing: over the most recent buckets (at least
    /// `min_buckets`, at most the window) the slope's upper bound is below a quarter
    /// of the slope at flag time, or the signal fell below where it was when flagged.
    fn stopped_growing(&self, a: Active, e: &SignalEvidence, now: u64) -> bool {
        let env = if a.signal == Signal::External {
            &self.external
        } else {
            &self.heap
        };
        let pts: Vec<(f64, f64)> = env
            .points()
            .filter(|q| q.t + self.params.bucket_ms * self.params.min_buckets as u64 >= now)
            .map(|q| (q.t as f64 / 1000.0, q.value))
            .collect();
        if pts.len() < self.params.min_buckets.min(4) {
            return false;
        }
        let flat = stats::trend(&pts, 3)
            .is_some_and(|t| t.slope_high < 0.25 * a.slope_at_flag || t.z <= 0.0);
        flat || e.slope_bytes_per_sec <= 0.0
    }

    pub fn state(&self) -> LeakState {
        let (heap, external, resident) = self.evidence();
        LeakState {
            leak_suspected: self.active.is_some(),
            signal: self.active.map(|a| a.signal),
            since: self.active.map(|a| a.since),
            confirmed_by_gc: self.active.is_some_and(|a| a.confirmed),
            heap,
            external,
            resident,
            bucket_ms: self.params.bucket_ms,
            min_buckets: self.params.min_buckets,
            last_confirmation_gc: self.last_confirm,
        }
    }
}
