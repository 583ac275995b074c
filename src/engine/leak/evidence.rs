//! Evidence per signal: trend statistics over the lower envelope at several time
//! scales, and whether the growth survived full collections.

use super::super::envelope::{Envelope, EnvelopePoint, Reading};
use super::super::finite;
use super::super::stats;
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
    /// Smallest growth (lower bound of the slope) that counts, bytes/s: the rate that
    /// would use up the headroom to the limit within `RELEVANT_HORIZON_SECS` (see
    /// `min_rate_for_headroom`, set through `Detector::set_headroom`), at most
    /// `DEFAULT_MIN_RATE`.
    pub min_rate: f64,
    /// Mann–Kendall z needed to suspect growth.
    pub flag_z: f64,
    /// Minimum time between confirmation GCs.
    pub confirm_cooldown_ms: u64,
    /// Readings after V8's own full collections may confirm growth (set when no forced
    /// collection can run; see `survived`).
    pub trust_observed: bool,
}

/// The floor when the headroom is unknown, and its highest value: 16 KB/s.
pub const DEFAULT_MIN_RATE: f64 = 16.0 * 1024.0;
/// The lowest floor: 1 KB/s (86 MB a day).
pub const LOWEST_MIN_RATE: f64 = 1024.0;
/// A leak matters when it would use up the headroom within this time. Twice the 24 hours
/// issue 13 names, so that a leak exhausting the headroom in a day has its slope's lower
/// bound (about half the slope over a short window) above the floor.
pub const RELEVANT_HORIZON_SECS: f64 = 48.0 * 3600.0;
/// Growth any window must show to count (1 MiB): a live set random-walks by a few hundred
/// KB, so a short window needs a fast rate (170 KB/s over 6 s, 17 KB/s over a minute),
/// a long window only the floor (`min_rate`).
pub const NOISE_GROWTH_BYTES: f64 = 1024.0 * 1024.0;

impl LeakParams {
    /// The floor for a process with `headroom_bytes` left before its limit (the sooner
    /// of the heap's and resident memory's): growth that would use it up within
    /// `RELEVANT_HORIZON_SECS`, between 1 and 16 KB/s. Unknown or no headroom: 16 KB/s.
    pub fn min_rate_for_headroom(headroom_bytes: f64) -> f64 {
        if headroom_bytes.is_finite() && headroom_bytes > 0.0 {
            (headroom_bytes / RELEVANT_HORIZON_SECS).clamp(LOWEST_MIN_RATE, DEFAULT_MIN_RATE)
        } else {
            DEFAULT_MIN_RATE
        }
    }

    /// Smallest slope lower bound that counts over a window of `window_ms`: the floor,
    /// and `NOISE_GROWTH_BYTES` over the window.
    pub fn window_min_rate(&self, window_ms: u64) -> f64 {
        let secs = (window_ms as f64 / 1000.0).max(1.0);
        self.min_rate.max(NOISE_GROWTH_BYTES / secs)
    }

    pub fn for_interval(interval_ms: u64) -> LeakParams {
        // The old generation has no young-generation noise: short buckets are enough.
        let bucket_ms = (2 * interval_ms).max(1_000);
        LeakParams {
            bucket_ms,
            min_buckets: 6,
            window_buckets: 60,
            min_rate: DEFAULT_MIN_RATE,
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
    #[serde(serialize_with = "finite::num")]
    pub slope_bytes_per_sec: f64,
    #[serde(serialize_with = "finite::num")]
    pub slope_low_bytes_per_sec: f64,
    #[serde(serialize_with = "finite::num")]
    pub slope_high_bytes_per_sec: f64,
    /// Mann–Kendall z (positive: rising).
    #[serde(serialize_with = "finite::num")]
    pub z: f64,
    /// Thirds of the window whose own slope is positive (0–3).
    pub rising_thirds: u8,
    /// Growth seen after a full GC in the later half of the window: `null` when no GC fell there.
    pub survived_gc: Option<bool>,
    pub suspicious: bool,
    /// Newest envelope value (bytes).
    #[serde(serialize_with = "finite::num")]
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
    // Short windows are noisier (a live set that random-walks can rise for a few
    // seconds): they need a faster rate.
    let min_rate = p.window_min_rate(window_ms);
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

/// Evidence at several time scales (the newest `min_buckets`, 2.5 times that, a third,
/// half, two thirds of the window and the whole window): a fast leak shows in the short
/// window before the long one has seen enough of it; a slow leak needs a long one, and
/// one that began inside the window rises in every third of a window that starts near
/// its beginning (at the 15 s preset, a 20 KB/s leak rises in every third of the
/// 15-minute window some ten minutes after it began, of the 30-minute one only after
/// twenty). Returns the most telling window: confirmed
/// growth first, then suspected growth, else the longest window.
pub(super) fn evidence(signal: Signal, env: &Envelope, p: &LeakParams) -> SignalEvidence {
    let w = p.window_buckets;
    let scales = [
        p.min_buckets,
        p.min_buckets * 5 / 2,
        w / 3,
        w / 2,
        w * 2 / 3,
        w,
    ];
    evidence_with(signal, env, p, &scales, 3)
}

/// `evidence` over the given window sizes (in points), needing `thirds_needed` rising
/// thirds, the newest always among them.
pub(super) fn evidence_with(
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
    let noise = judged_noise(pts, slope);
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

/// The noise a surviving growth must beat: the envelope's, or the spread of the readings
/// after full collections when there are enough of them and they are steadier. Between
/// collections the envelope carries promoted garbage (a saw-tooth many MB high at long
/// intervals, where a bucket holds two samples); the readings after collections measure
/// the live set, so their spread is the noise a live-set comparison faces.
fn judged_noise(pts: &[EnvelopePoint], slope: f64) -> f64 {
    let all = residual_noise(pts, slope);
    let readings: Vec<EnvelopePoint> = pts
        .iter()
        .copied()
        .filter(EnvelopePoint::after_gc)
        .collect();
    if readings.len() >= 4 {
        all.min(residual_noise(&readings, slope))
    } else {
        all
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_figures_reach_js_as_numbers() {
        let e = SignalEvidence {
            signal: Signal::Heap,
            points: 0,
            window_ms: 0,
            slope_bytes_per_sec: f64::NAN,
            slope_low_bytes_per_sec: f64::NEG_INFINITY,
            slope_high_bytes_per_sec: f64::INFINITY,
            z: f64::NAN,
            rising_thirds: 0,
            survived_gc: None,
            suspicious: false,
            current_bytes: f64::NAN,
        };
        let v = serde_json::to_value(e).unwrap();
        for k in [
            "slopeBytesPerSec",
            "slopeLowBytesPerSec",
            "slopeHighBytesPerSec",
            "z",
            "currentBytes",
        ] {
            assert!(v[k].is_number(), "{k}: {}", v[k]);
        }
    }

    #[test]
    fn the_floor_follows_the_headroom() {
        const MB: f64 = 1048576.0;
        // 400 MB in 48 h: ~2.4 KB/s; bounded by 1 and 16 KB/s; unknown: 16 KB/s.
        let r = LeakParams::min_rate_for_headroom(400.0 * MB);
        assert!((r - 400.0 * MB / RELEVANT_HORIZON_SECS).abs() < 1e-9 && r > 2000.0 && r < 2600.0);
        assert_eq!(
            LeakParams::min_rate_for_headroom(50.0 * MB),
            LOWEST_MIN_RATE
        );
        assert_eq!(
            LeakParams::min_rate_for_headroom(8192.0 * MB),
            DEFAULT_MIN_RATE
        );
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(LeakParams::min_rate_for_headroom(bad), DEFAULT_MIN_RATE);
        }
        // Short windows need 1 MiB over the window; long ones the floor.
        let mut p = LeakParams::for_interval(15_000);
        p.min_rate = r;
        assert!((p.window_min_rate(6_000) - NOISE_GROWTH_BYTES / 6.0).abs() < 1e-6);
        assert_eq!(p.window_min_rate(1_800_000), r);
    }
}
