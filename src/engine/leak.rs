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

use super::envelope::{Envelope, EnvelopePoint, Reading};
use super::stats;
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
    /// Readings after V8's own full collections may confirm growth (set when no forced
    /// collection can run; see `survived`).
    pub trust_observed: bool,
}

impl LeakParams {
    pub fn for_interval(interval_ms: u64) -> LeakParams {
        // The old generation has no young-generation noise: short buckets are enough.
        let bucket_ms = (2 * interval_ms).max(1_000);
        LeakParams {
            bucket_ms,
            min_buckets: 6,
            window_buckets: 60,
            min_rate: 16.0 * 1024.0,
            flag_z: 2.5,
            confirm_cooldown_ms: (bucket_ms * 10).max(10_000),
            trust_observed: true,
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

/// Evidence over one window: the newest `pts`.
fn window_evidence(
    signal: Signal,
    pts: &[EnvelopePoint],
    p: &LeakParams,
    thirds_needed: u8,
) -> SignalEvidence {
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
    let rising = trend.map_or(0, |t| rising_thirds(&xy, t.slope));
    let spread = growth_is_spread(pts);
    let rising_count = rising.count_ones() as u8;
    let newest_rising = rising & 0b100 != 0;
    let survived_gc = trend.and_then(|t| survived(pts, t.slope, p.min_rate, p.trust_observed));
    // Short windows are noisier (a live set that random-walks can rise for a few seconds):
    // they need a faster rate, min_rate × window / points (160 KB/s over 6 of 60 buckets).
    let min_rate = p.min_rate * (p.window_buckets as f64 / pts.len().max(1) as f64).max(1.0);
    let suspicious = trend.is_some_and(|t| {
        t.z >= p.flag_z
            && t.slope_low > min_rate
            && newest_rising
            && spread
            && rising_count >= thirds_needed
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
        rising_thirds: rising_count,
        survived_gc,
        suspicious,
        current_bytes: pts.last().map_or(0.0, |q| q.value),
    }
}

/// Evidence at several time scales (the newest `min_buckets`, twice that, and the whole
/// window): a fast leak shows in the short window before the long one has seen enough
/// of it; a slow leak needs the long one. Returns the most telling window: confirmed
/// growth first, then suspected growth, else the longest window.
fn evidence(signal: Signal, env: &Envelope, p: &LeakParams) -> SignalEvidence {
    let scales = [p.min_buckets, p.min_buckets * 5 / 2, p.window_buckets];
    evidence_with(signal, env, p, &scales, 3)
}

/// `evidence` over the given window sizes (in points), needing `thirds_needed` rising
/// thirds, the newest always among them.
fn evidence_with(
    signal: Signal,
    env: &Envelope,
    p: &LeakParams,
    scales: &[usize],
    thirds_needed: u8,
) -> SignalEvidence {
    let all: Vec<EnvelopePoint> = env.points().copied().collect();
    let mut scales: Vec<usize> = scales
        .iter()
        .map(|&k| k.clamp(p.min_buckets, p.window_buckets))
        .collect();
    scales.dedup();
    let windows: Vec<SignalEvidence> = scales
        .into_iter()
        .map(|k| {
            window_evidence(
                signal,
                &all[all.len().saturating_sub(k)..],
                p,
                thirds_needed,
            )
        })
        .collect();
    let longest = *windows.last().expect("at least one scale");
    windows
        .iter()
        .find(|e| e.suspicious && e.survived_gc == Some(true))
        .or_else(|| windows.iter().find(|e| e.suspicious))
        .copied()
        .unwrap_or(longest)
}

/// Thirds of the series whose own Theil–Sen slope is at least 30 % of the overall slope:
/// a leak rises in every third; a step or a cache that filled rises in one.
/// Growth spread over the window, not one jump: no single rise between neighbouring
/// points is more than half the net rise (a one-time step is one jump).
fn growth_is_spread(pts: &[EnvelopePoint]) -> bool {
    let (Some(first), Some(last)) = (pts.first(), pts.last()) else {
        return false;
    };
    let net = last.value - first.value;
    let max_jump = pts
        .windows(2)
        .map(|w| w[1].value - w[0].value)
        .fold(0.0, f64::max);
    net > 0.0 && max_jump <= 0.5 * net
}

/// Returns a bit per rising third (bit 2: the newest).
fn rising_thirds(xy: &[(f64, f64)], overall: f64) -> u8 {
    if overall <= 0.0 {
        return 0;
    }
    let n = xy.len();
    (0..3)
        .filter(|&k| {
            let (a, b) = (k * n / 3, ((k + 1) * n / 3 + 1).min(n));
            let seg = &xy[a..b];
            let slope = stats::trend(seg, 2).map(|t| t.slope).or_else(|| {
                let (f, l) = (seg.first()?, seg.last()?);
                (l.0 > f.0).then(|| (l.1 - f.1) / (l.0 - f.0))
            });
            slope.is_some_and(|s| s >= 0.3 * overall)
        })
        .fold(0, |bits, k| bits | (1 << k))
}

/// Did the growth survive full GCs? Values read just after a full GC measure the live
/// set; garbage waiting for a collection is gone after one, leaked memory is not.
/// Only collections in the last two thirds of the window count (a one-time step
/// earlier says nothing about growth now).
/// - Two or more such readings, a quarter of the window apart or more: the live set
///   must grow between the first and the last at ≥ a quarter of the envelope's slope
///   and above the minimum rate.
/// - One, in the last third: it must keep at least half the growth the slope predicts
///   since the lowest point of the middle third, and three times the envelope's noise.
///
/// Readings after forced (atomic) collections are exact. After V8's own, which mark
/// incrementally, objects allocated meanwhile survive, so such readings can overstate
/// the live set: unless `trust_observed` (no forced collections possible), they can
/// refute growth but not confirm it. `None` when no reading tells.
fn survived(
    pts: &[EnvelopePoint],
    slope: f64,
    min_rate: f64,
    trust_observed: bool,
) -> Option<bool> {
    if slope <= 0.0 {
        return Some(false);
    }
    let exact = judge(pts, slope, min_rate, |q| {
        q.reading == Reading::AfterForcedGc
    });
    if exact.is_some() {
        return exact;
    }
    match judge(pts, slope, min_rate, EnvelopePoint::after_gc) {
        Some(true) if !trust_observed => None,
        v => v,
    }
}

/// `survived` over the readings `is_reading` selects.
fn judge(
    pts: &[EnvelopePoint],
    slope: f64,
    min_rate: f64,
    is_reading: impl Fn(&EnvelopePoint) -> bool,
) -> Option<bool> {
    let noise = residual_noise(pts, slope);
    let first = pts.first()?.t;
    let span = pts.last()?.t.saturating_sub(first);
    let (one, two) = (first + span / 3, first + 2 * span / 3);
    let gcs: Vec<&EnvelopePoint> = pts.iter().filter(|q| is_reading(q) && q.t >= one).collect();
    if let (Some(a), Some(b)) = (gcs.first(), gcs.last()) {
        let dt = b.t.saturating_sub(a.t);
        if dt >= span / 4 && dt > 0 {
            let grew = b.value - a.value;
            let secs = dt as f64 / 1000.0;
            return Some(grew >= ((0.25 * slope).max(min_rate) * secs).max(noise));
        }
    }
    let g = gcs.last().filter(|q| q.t >= two)?;
    let r = pts
        .iter()
        .filter(|q| q.t >= one && q.t < two)
        .min_by(|a, b| a.value.total_cmp(&b.value))?;
    let expected = slope * g.t.saturating_sub(r.t) as f64 / 1000.0;
    Some(g.value - r.value >= (0.5 * expected).max(3.0 * noise))
}

/// Robust spread of the points around the Theil–Sen line (1.4826 × the median absolute
/// deviation of the residuals): the envelope's noise in bytes.
fn residual_noise(pts: &[EnvelopePoint], slope: f64) -> f64 {
    let r: Vec<f64> = pts
        .iter()
        .map(|q| q.value - slope * q.t as f64 / 1000.0)
        .collect();
    let Some(mid) = stats::median(&r) else {
        return 0.0;
    };
    let dev: Vec<f64> = r.iter().map(|x| (x - mid).abs()).collect();
    stats::median(&dev).map_or(0.0, |m| 1.4826 * m)
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
    /// 0–5: detached contexts (2), resident memory rising too (1), GC pause share over
    /// 5 % (1), growth while the request rate is flat (1).
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
    /// Request rate not rising over the recent minutes (growth that traffic does not
    /// explain); `None` without request data.
    pub traffic_flat: Option<bool>,
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
        risk += 1.0;
    }
    if c.gc_pause_percent > 5.0 {
        risk += 1.0;
    }
    if c.traffic_flat == Some(true) && e.slope_low_bytes_per_sec > 0.0 {
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
    /// Lowest envelope value in the first half of the window that raised the flag: the
    /// level before the growth.
    base: f64,
    /// Highest envelope value since the flag.
    peak: f64,
    /// Points in the window that raised the flag.
    scale: usize,
}

enum Growth {
    Continuing,
    Unconfirmed,
    Stopped,
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
    last_confirm: Option<u64>,
    want_confirm: bool,
    confirm_allowed: bool,
    /// Confirmations that found garbage, not a leak, in a row: each doubles the cooldown.
    denials: u32,
    awaiting_result: bool,
    /// Pause of the latest forced collection (ms): long pauses lengthen the cooldown.
    last_forced_pause_ms: f64,
    /// Evaluations in a row that found the flagged growth stopped (two clear the flag).
    stop_votes: u32,
    /// The previous evaluation found a suspicious signal (a new suspicion resets the backoff).
    was_suspicious: bool,
}

/// Most doublings of the confirmation cooldown (2^2 = 4 times: 40 s at most by default).
const MAX_DENIALS: u32 = 2;

/// The state of the detector (the data behind `/api/memory/leak-detection`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeakState {
    pub leak_suspected: bool,
    pub signal: Option<Signal>,
    /// When the current flag was raised (ms since epoch).
    pub since: Option<u64>,
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
            last_confirm: None,
            want_confirm: false,
            confirm_allowed: false,
            denials: 0,
            awaiting_result: false,
            last_forced_pause_ms: 0.0,
            stop_votes: 0,
            was_suspicious: false,
        }
    }

    /// Time between confirmation GCs: the base cooldown, doubled per denial in a row
    /// while no leak is flagged (half the base while one is),
    /// and at least 200 times the last forced pause (so they cost under 0.5 % of the time).
    pub fn confirm_cooldown_ms(&self) -> u64 {
        let base = if self.active.is_some() {
            // Checking a flagged leak for its end is neither backed off nor slow.
            self.active_confirm_cooldown_ms()
        } else {
            self.params.confirm_cooldown_ms << self.denials.min(MAX_DENIALS)
        };
        base.max((self.last_forced_pause_ms * 200.0) as u64)
    }

    /// Cooldown between confirmation GCs while a leak is flagged: half the base.
    fn active_confirm_cooldown_ms(&self) -> u64 {
        (self.params.confirm_cooldown_ms / 2).max((self.last_forced_pause_ms * 200.0) as u64)
    }

    pub fn params(&self) -> &LeakParams {
        &self.params
    }

    /// Whether the manager may run confirmation GCs (proactive GC on, a GC available).
    pub fn set_confirm_allowed(&mut self, allowed: bool) {
        self.confirm_allowed = allowed;
        self.params.trust_observed = !allowed;
    }

    /// A regular sample. Returns events when a bucket closed and the verdict changed.
    pub fn on_sample(
        &mut self,
        t: u64,
        old_gen: f64,
        external: f64,
        resident: f64,
    ) -> Vec<LeakEvent> {
        self.resident.add(t, resident, Reading::Sample);
        let a = self.heap.add(t, old_gen, Reading::Sample);
        let b = self.external.add(t, external, Reading::Sample);
        if a || b {
            self.evaluate(t)
        } else {
            Vec::new()
        }
    }

    /// Values read just after a full (major or forced) GC; `forced_pause_ms` for forced ones.
    pub fn on_full_gc(
        &mut self,
        t: u64,
        old_gen_after: Option<f64>,
        external_after: Option<f64>,
        forced_pause_ms: Option<f64>,
    ) {
        if let Some(p) = forced_pause_ms.filter(|p| p.is_finite() && *p >= 0.0) {
            self.last_forced_pause_ms = p;
            // The next verdict tells whether this collection confirmed the suspicion.
            self.awaiting_result = self.last_confirm.is_some();
        }
        let reading = if forced_pause_ms.is_some() {
            Reading::AfterForcedGc
        } else {
            Reading::AfterGc
        };
        if let Some(v) = old_gen_after {
            self.heap.add(t, v, reading);
        }
        if let Some(v) = external_after {
            self.external.add(t, v, reading);
        }
    }

    /// A confirmation GC is wanted and allowed now. The caller runs it and calls `note_confirmation`.
    pub fn confirmation_due(&self, now: u64) -> bool {
        self.want_confirm
            && self.confirm_allowed
            && self
                .last_confirm
                .is_none_or(|t| now.saturating_sub(t) >= self.confirm_cooldown_ms())
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
            let growth = self.still_growing(a, now);
            self.stop_votes = if matches!(growth, Growth::Stopped) {
                self.stop_votes + 1
            } else {
                0
            };
            match growth {
                Growth::Stopped if self.stop_votes < 2 => {}
                Growth::Stopped => {
                    self.stop_votes = 0;
                    self.active = None;
                    self.want_confirm = false;
                    events.push(LeakEvent::LeakResolved {
                        signal: a.signal,
                        duration_ms: now.saturating_sub(a.since),
                        timestamp: now,
                    });
                }
                Growth::Unconfirmed => self.want_confirm = true,
                Growth::Continuing => self.want_confirm = false,
            }
            return events;
        }
        let candidates = [heap, external];
        if std::mem::take(&mut self.awaiting_result) {
            if candidates
                .iter()
                .any(|e| e.suspicious && e.survived_gc == Some(true))
            {
                self.denials = 0;
            } else {
                self.denials = (self.denials + 1).min(MAX_DENIALS);
            }
        }
        // The more serious growth (larger lower-bound rate) wins when both signals grow.
        let by_rate = |a: &&SignalEvidence, b: &&SignalEvidence| {
            a.slope_low_bytes_per_sec
                .total_cmp(&b.slope_low_bytes_per_sec)
        };
        let confirmed = candidates
            .iter()
            .filter(|e| e.suspicious && e.survived_gc == Some(true))
            .max_by(by_rate);
        let suspicious = candidates.iter().any(|e| e.suspicious);
        if suspicious && !self.was_suspicious {
            // A new suspicion, not the same one refuted again: check it without backoff.
            self.denials = 0;
        }
        self.was_suspicious = suspicious;
        if let Some(e) = confirmed {
            events.push(self.raise(e, now));
        } else {
            // Only a full collection tells a leak from garbage waiting for one: ask for a
            // confirmation GC when allowed, else wait for V8's own.
            self.want_confirm = suspicious && self.confirm_allowed;
        }
        events
    }

    fn raise(&mut self, e: &SignalEvidence, now: u64) -> LeakEvent {
        let env = if e.signal == Signal::External {
            &self.external
        } else {
            &self.heap
        };
        let pts: Vec<f64> = env.points().map(|q| q.value).collect();
        let window = &pts[pts.len().saturating_sub(e.points)..];
        let base = window[..window.len().div_ceil(2)]
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        let peak = window.iter().copied().fold(0.0, f64::max);
        self.active = Some(Active {
            since: now,
            signal: e.signal,
            slope_at_flag: e.slope_bytes_per_sec,
            base: if base.is_finite() {
                base
            } else {
                e.current_bytes
            },
            peak,
            scale: e.points,
        });
        self.want_confirm = false;
        LeakEvent::Leak {
            signal: e.signal,
            growth_rate_bytes_per_sec: e.slope_bytes_per_sec,
            growth_rate_low_bytes_per_sec: e.slope_low_bytes_per_sec,
            timestamp: now,
        }
    }

    /// Is the flagged signal still growing?
    /// - Stopped when three quarters of the growth since the flag are gone (memory
    ///   released), or when a full GC in the newest third of the window shows the live
    ///   set no longer growing, or when, without such a GC, the envelope went flat.
    /// - Continuing when a recent full GC shows the live set still growing.
    /// - Unconfirmed otherwise: a confirmation GC is asked for.
    ///
    /// The envelope is judged at the flag's own scale and twice it, with looser
    /// thresholds (z ≥ 1.64, two rising thirds of three) so a flag does not flap on noise.
    fn still_growing(&mut self, mut a: Active, now: u64) -> Growth {
        let p = self.params;
        let env = if a.signal == Signal::External {
            &self.external
        } else {
            &self.heap
        };
        let pts: Vec<EnvelopePoint> = env.points().copied().collect();
        let last = pts.last().map_or(0.0, |l| l.value);
        a.peak = a.peak.max(last);
        self.active = Some(a);
        if last < a.base + 0.25 * (a.peak - a.base) {
            return Growth::Stopped;
        }
        let window_ms = p.bucket_ms * p.window_buckets as u64;
        let spacing = self.active_confirm_cooldown_ms();
        let gcs: Vec<&EnvelopePoint> = pts
            .iter()
            .filter(|q| q.t + window_ms >= now)
            .filter(|q| q.reading == Reading::AfterForcedGc || (p.trust_observed && q.after_gc()))
            .collect();
        if let Some((latest, earlier)) = gcs.split_last() {
            if latest.t + spacing >= now {
                // The newest live-set reading against the previous one at least one
                // confirmation cooldown earlier (or the oldest in the window).
                let reference = earlier
                    .iter()
                    .rev()
                    .find(|q| q.t + spacing <= latest.t)
                    .or(earlier.first());
                if let Some(r) = reference {
                    let secs = latest.t.saturating_sub(r.t) as f64 / 1000.0;
                    let rate = if secs > 0.0 {
                        (latest.value - r.value) / secs
                    } else {
                        0.0
                    };
                    return if rate >= p.min_rate.max(0.25 * a.slope_at_flag) {
                        Growth::Continuing
                    } else {
                        Growth::Stopped
                    };
                }
            }
        }
        let loose = LeakParams { flag_z: 1.64, ..p };
        let e = evidence_with(a.signal, env, &loose, &[a.scale, a.scale * 2], 2);
        if !e.suspicious && e.slope_high_bytes_per_sec < 0.25 * a.slope_at_flag {
            Growth::Stopped
        } else {
            Growth::Unconfirmed
        }
    }

    pub fn state(&self) -> LeakState {
        let (heap, external, resident) = self.evidence();
        LeakState {
            leak_suspected: self.active.is_some(),
            signal: self.active.map(|a| a.signal),
            since: self.active.map(|a| a.since),
            heap,
            external,
            resident,
            bucket_ms: self.params.bucket_ms,
            min_buckets: self.params.min_buckets,
            last_confirmation_gc: self.last_confirm,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: f64 = 1048576.0;
    const TICK: u64 = 250;

    /// Small deterministic generator (xorshift).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// A toy V8 heap driven by a mock clock: the live set grows by `leak(t)` and jumps by
    /// `step(t)`; promoted garbage accumulates at `promotion(t)` and is freed by major GCs,
    /// which V8 runs when the old generation reaches 1.5 times the live set after the last one
    /// (at least 8 MB above it). `external` models Buffers the same way. The simulation
    /// answers the detector's confirmation requests like the JS layer does.
    struct Sim {
        det: Detector,
        rng: Rng,
        now: u64,
        live: f64,
        garbage: f64,
        ext_live: f64,
        ext_garbage: f64,
        gc_limit: f64,
        flags: Vec<(f64, bool)>,
        confirmations: u32,
        dbg_last: Option<Active>,
    }

    impl Sim {
        fn new(seed: u64) -> Sim {
            let mut det = Detector::new(LeakParams::for_interval(TICK));
            det.set_confirm_allowed(true);
            Sim {
                det,
                rng: Rng(seed | 1),
                now: 1_000_000,
                live: 20.0 * MB,
                garbage: 0.0,
                ext_live: 2.0 * MB,
                ext_garbage: 0.0,
                gc_limit: 40.0 * MB,
                flags: Vec::new(),
                confirmations: 0,
                dbg_last: None,
            }
        }

        fn full_gc(&mut self, forced: bool) {
            self.garbage = 0.0;
            self.ext_garbage = 0.0;
            self.gc_limit = (self.live * 1.5).max(self.live + 8.0 * MB);
            let noise = self.rng.next() * 0.2 * MB;
            self.det.on_full_gc(
                self.now,
                Some(self.live + noise),
                Some(self.ext_live),
                forced.then_some(5.0),
            );
        }

        /// Runs `secs` seconds; `f(t)` gives (leak bytes/s, external leak bytes/s,
        /// promotion bytes/s) at `t` seconds since the start.
        fn run(&mut self, from: f64, secs: f64, f: impl Fn(f64) -> (f64, f64, f64)) {
            let ticks = (secs * 1000.0 / TICK as f64) as u64;
            for i in 0..ticks {
                let t = from + (i * TICK) as f64 / 1000.0;
                let (leak, ext_leak, promo) = f(t);
                let dt = TICK as f64 / 1000.0;
                self.live += leak * dt;
                self.ext_live += ext_leak * dt;
                self.garbage += promo * dt;
                self.ext_garbage += promo * 0.05 * dt;
                self.now += TICK;
                if self.live + self.garbage > self.gc_limit {
                    if std::env::var("LEAK_DEBUG").is_ok() {
                        eprintln!("{t:.1} major GC (live {:.1} MB)", self.live / MB);
                    }
                    self.full_gc(false);
                }
                let young = self.rng.next() * 0.3 * MB;
                let events = self.det.on_sample(
                    self.now,
                    self.live + self.garbage + young,
                    self.ext_live + self.ext_garbage,
                    self.live * 1.5,
                );
                for e in events {
                    if std::env::var("LEAK_DEBUG").is_ok() {
                        let a = self.det.active;
                        let h = self.det.state().heap;
                        eprintln!("{t:.1} {e:?} active={a:?} heap n={} slope={:.0} low={:.0} z={:.2} thirds={} surv={:?} live={:.1}MB", h.points, h.slope_bytes_per_sec/1024.0, h.slope_low_bytes_per_sec/1024.0, h.z, h.rising_thirds, h.survived_gc, self.live/MB);
                        if let Some(a) = a.or(self.dbg_last) {
                            let loose = LeakParams {
                                flag_z: 1.64,
                                ..self.det.params
                            };
                            for k in [a.scale, a.scale * 2] {
                                let e =
                                    evidence_with(Signal::Heap, &self.det.heap, &loose, &[k], 2);
                                eprintln!("   scale {k}: n={} slope={:.0} low={:.0} z={:.2} thirds={} surv={:?} susp={}", e.points, e.slope_bytes_per_sec/1024.0, e.slope_low_bytes_per_sec/1024.0, e.z, e.rising_thirds, e.survived_gc, e.suspicious);
                            }
                        }
                    }
                    self.flags.push((t, matches!(e, LeakEvent::Leak { .. })));
                    self.dbg_last = self.det.active.or(self.dbg_last);
                }
                if self.det.confirmation_due(self.now) {
                    if std::env::var("LEAK_DEBUG").is_ok() {
                        eprintln!(
                            "{t:.1} confirmation GC (live {:.1} MB, old gen {:.1} MB)",
                            self.live / MB,
                            (self.live + self.garbage) / MB
                        );
                    }
                    self.det.note_confirmation(self.now);
                    self.confirmations += 1;
                    self.full_gc(true);
                }
            }
        }

        fn first_flag_after(&self, t: f64) -> Option<f64> {
            self.flags
                .iter()
                .find(|(at, up)| *up && *at >= t)
                .map(|(at, _)| *at - t)
        }

        fn raised(&self) -> usize {
            self.flags.iter().filter(|(_, up)| *up).count()
        }

        fn flagged(&self) -> bool {
            self.det.state().leak_suspected
        }
    }

    // Promotion of medium-lived garbage into the old generation (the traces of
    // bench/leak show 50 KB/s to 1 MB/s under 25 MB/s of churn).
    const CHURN: f64 = 400.0 * 1024.0;

    #[test]
    fn steady_sawtooth_is_not_flagged() {
        for seed in 1..6 {
            let mut s = Sim::new(seed);
            s.run(0.0, 300.0, |_| (0.0, 0.0, CHURN));
            assert_eq!(s.raised(), 0, "seed {seed}: {:?}", s.flags);
        }
    }

    #[test]
    fn slow_promotion_sawtooth_is_not_flagged() {
        // Garbage promoted slowly: ramps of a minute between major GCs look like a slow
        // leak until a collection shows the live set flat.
        let mut s = Sim::new(3);
        s.run(0.0, 400.0, |_| (0.0, 0.0, 200.0 * 1024.0));
        assert_eq!(s.raised(), 0, "{:?}", s.flags);
        assert!(
            s.confirmations > 0,
            "suspicious ramps are checked with a GC"
        );
    }

    #[test]
    fn bursty_garbage_is_not_flagged() {
        let mut s = Sim::new(5);
        s.run(0.0, 300.0, |t| {
            (
                0.0,
                0.0,
                if ((t / 7.0) as u64).is_multiple_of(2) {
                    CHURN
                } else {
                    CHURN / 10.0
                },
            )
        });
        assert_eq!(s.raised(), 0, "{:?}", s.flags);
    }

    #[test]
    fn one_time_step_is_not_flagged() {
        let mut s = Sim::new(7);
        s.run(0.0, 60.0, |_| (0.0, 0.0, CHURN));
        s.live += 80.0 * MB;
        s.run(60.0, 240.0, |_| (0.0, 0.0, CHURN));
        assert_eq!(s.raised(), 0, "{:?}", s.flags);
    }

    #[test]
    fn a_cache_that_plateaus_clears() {
        let mut s = Sim::new(9);
        s.run(0.0, 60.0, |_| (0.0, 0.0, CHURN));
        s.run(60.0, 60.0, |_| (512.0 * 1024.0, 0.0, CHURN));
        s.run(120.0, 120.0, |_| (0.0, 0.0, CHURN + 512.0 * 1024.0));
        assert!(
            !s.flagged(),
            "flag must clear once the cache plateaus: {:?}",
            s.flags
        );
        if let Some((t, _)) = s.flags.iter().rev().find(|(_, up)| !*up) {
            // Confirmations come every ~20 s while flagged: two readings of a flat live set.
            assert!(*t < 120.0 + 60.0, "cleared at {t}");
        }
    }

    #[test]
    fn heap_leak_under_churn_is_flagged_fast() {
        for seed in 1..6 {
            let mut s = Sim::new(seed);
            s.run(0.0, 60.0, |_| (0.0, 0.0, CHURN));
            s.run(60.0, 60.0, |_| (MB, 0.0, CHURN));
            let after = s.first_flag_after(60.0).unwrap_or(f64::INFINITY);
            assert!(
                after <= 15.0,
                "seed {seed}: flagged {after} s after the start"
            );
            assert!(s.flagged());
            assert_eq!(s.det.state().signal, Some(Signal::Heap));
        }
    }

    #[test]
    fn slow_leak_is_flagged_within_a_minute() {
        let mut s = Sim::new(11);
        s.run(0.0, 60.0, |_| (0.0, 0.0, CHURN));
        s.run(60.0, 120.0, |_| (150.0 * 1024.0, 0.0, CHURN));
        let after = s.first_flag_after(60.0).unwrap_or(f64::INFINITY);
        assert!(after <= 60.0, "flagged {after} s after the start");
        assert!(s.flagged(), "{:?}", s.flags);
    }

    #[test]
    fn off_heap_leak_is_flagged_as_external() {
        let mut s = Sim::new(13);
        s.run(0.0, 60.0, |_| (0.0, 0.0, CHURN));
        s.run(60.0, 60.0, |_| (0.0, MB, CHURN));
        let after = s.first_flag_after(60.0).unwrap_or(f64::INFINITY);
        assert!(after <= 15.0, "flagged {after} s after the start");
        assert_eq!(s.det.state().signal, Some(Signal::External));
    }

    #[test]
    fn a_fixed_leak_clears_and_says_so() {
        let mut s = Sim::new(17);
        s.run(0.0, 60.0, |_| (0.0, 0.0, CHURN));
        s.run(60.0, 45.0, |_| (MB, 0.0, CHURN));
        assert!(s.flagged());
        // The fix: the leaked memory becomes garbage.
        let leaked = 45.0 * MB;
        s.live -= leaked;
        s.garbage += leaked;
        s.run(105.0, 60.0, |_| (0.0, 0.0, CHURN));
        assert!(!s.flagged());
        let cleared = s
            .flags
            .iter()
            .find(|(t, up)| !*up && *t >= 105.0)
            .map(|(t, _)| t - 105.0);
        assert!(
            cleared.is_some_and(|c| c <= 20.0),
            "cleared {cleared:?} s after the fix"
        );
    }

    #[test]
    fn no_verdict_without_minimum_evidence() {
        let mut s = Sim::new(19);
        // A fast leak, but only 5 s of data: fewer than min_buckets envelope points.
        s.run(0.0, 5.0, |_| (4.0 * MB, 0.0, CHURN));
        assert_eq!(s.raised(), 0);
        let e = s.det.state().heap;
        assert!(e.points < s.det.params().min_buckets && !e.suspicious);
    }

    #[test]
    fn confirmation_cooldown_backs_off_after_denials() {
        let mut d = Detector::new(LeakParams::for_interval(250));
        let base = d.confirm_cooldown_ms();
        d.denials = 2;
        assert_eq!(d.confirm_cooldown_ms(), base * 4);
        d.denials = 50;
        assert_eq!(d.confirm_cooldown_ms(), base << MAX_DENIALS);
        d.denials = 0;
        d.last_forced_pause_ms = 1_000.0;
        assert_eq!(d.confirm_cooldown_ms(), 200_000);
    }

    #[test]
    fn confidence_parts_are_bounded() {
        let e = SignalEvidence {
            signal: Signal::Heap,
            points: 30,
            window_ms: 60_000,
            slope_bytes_per_sec: 1e9,
            slope_low_bytes_per_sec: 1e9,
            slope_high_bytes_per_sec: 1e9,
            z: 50.0,
            rising_thirds: 3,
            survived_gc: Some(true),
            suspicious: true,
            current_bytes: 1e9,
        };
        let c = Context {
            peak_pressure: 500.0,
            emergency_threshold: 90.0,
            gc_efficiency: Some(0.0),
            detached_contexts: 3,
            gc_pause_percent: 50.0,
            headroom_bytes: 0.0,
            heap_headroom_bytes: f64::INFINITY,
            traffic_flat: Some(true),
        };
        let p = confidence(&e, Some(&e), &c);
        assert_eq!(p.total(), 100.0);
        assert_eq!(
            (
                p.growth_rate,
                p.consistent_growth,
                p.peak_usage,
                p.low_gc_efficiency,
                p.risk_factors
            ),
            (40.0, 20.0, 20.0, 15.0, 5.0)
        );
        let flat = SignalEvidence {
            z: f64::NAN,
            slope_low_bytes_per_sec: f64::NAN,
            rising_thirds: 0,
            survived_gc: None,
            ..e
        };
        let q = confidence(&flat, None, &Context::default());
        assert!(q.total().is_finite() && q.total() >= 0.0);
    }
}
