//! When the process will actually fail, with an interval: for the V8 heap, where V8
//! aborts (not where `heapUsed` would reach `heap_size_limit`); for resident memory, the
//! memory limit (the container's, or the configured one).
//!
//! V8 gives up with "Ineffective mark-compacts near heap limit" once the old generation
//! is at 80 % of its maximum or more and full collections leave the program under 40 %
//! of the time, four times in a row; an allocation that cannot be satisfied ends it at
//! 100 %. Where in between depends on how fast collections come (the churn) and how
//! long they take (the live set). Measured here with a live-set leak until the abort:
//! `--max-old-space-size=160` at ~1 MB/s, the last live-set reading before the abort was
//! 82 % of the room (stale by a few seconds: the JS thread was thrashing in GC);
//! `--max-old-space-size=192` at ~2 MB/s, 92 %. So the central estimate counts to 85 % of
//! the room, the low bound (soonest) to 80 % at the slope's upper bound, the high bound
//! to 100 % at its lower bound.

use super::super::finite;
use super::super::stats;
use super::evidence::SignalEvidence;
use serde::Serialize;

/// Share of the old generation's room where the central estimate expects V8's abort.
pub const HEAP_ABORT_SHARE: f64 = 0.85;
/// Share of the room from which V8 may abort (the soonest).
pub const HEAP_EARLIEST_ABORT_SHARE: f64 = 0.8;

/// One limit's estimate. Minutes are from the newest reading.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitEstimate {
    /// At the central (Theil–Sen) slope, to `failAtBytes`.
    #[serde(serialize_with = "finite::num")]
    pub minutes: f64,
    /// At the slope's upper bound, to the earliest failure point: the soonest it plausibly fails.
    #[serde(serialize_with = "finite::num")]
    pub minutes_low: f64,
    /// At the slope's lower bound, to `limitBytes`: the latest; `null` when the lower
    /// bound is not positive.
    #[serde(serialize_with = "finite::opt")]
    pub minutes_high: Option<f64>,
    /// The signal's newest value (heap: the old generation's lower envelope).
    #[serde(serialize_with = "finite::num")]
    pub current_bytes: f64,
    /// Where failure is expected: heap, 85 % of the old generation's room; resident, the limit.
    #[serde(serialize_with = "finite::num")]
    pub fail_at_bytes: f64,
    /// The nominal maximum: the old generation's room, or the memory limit.
    #[serde(serialize_with = "finite::num")]
    pub limit_bytes: f64,
    #[serde(serialize_with = "finite::num")]
    pub growth_rate_bytes_per_sec: f64,
}

/// Time to the heap and resident limits while they grow significantly; `null` otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct TimeToLimit {
    pub heap: Option<LimitEstimate>,
    pub resident: Option<LimitEstimate>,
}

impl TimeToLimit {
    /// The sooner of the two central estimates.
    pub fn minutes(&self) -> Option<f64> {
        [self.heap, self.resident]
            .into_iter()
            .flatten()
            .map(|e| e.minutes)
            .reduce(f64::min)
    }
}

/// Minutes from `current` to `fail_at` (and `limit`) at `slope` with its bounds, bytes/s.
fn estimate(
    current: f64,
    fail_at: f64,
    earliest: f64,
    limit: f64,
    slope: f64,
    low: f64,
    high: f64,
) -> Option<LimitEstimate> {
    let ok = |x: f64| x.is_finite() && x > 0.0;
    if !ok(slope) || !ok(limit) || !current.is_finite() {
        return None;
    }
    let to = |target: f64, rate: f64| (target - current).max(0.0) / rate / 60.0;
    Some(LimitEstimate {
        minutes: to(fail_at, slope),
        minutes_low: to(
            earliest.min(fail_at),
            if ok(high) { high.max(slope) } else { slope },
        ),
        minutes_high: ok(low).then(|| to(limit, low.min(slope))),
        current_bytes: current,
        fail_at_bytes: fail_at,
        limit_bytes: limit,
        growth_rate_bytes_per_sec: slope,
    })
}

/// The heap: the old generation's evidence against its room (`heap_size_limit` minus the
/// young generation's reserve). Only while the growth is significant (z > 1.96, lower
/// bound above 0).
pub fn heap(e: &SignalEvidence, old_generation_room: f64) -> Option<LimitEstimate> {
    if !(e.z > 1.96 && e.slope_low_bytes_per_sec > 0.0) {
        return None;
    }
    estimate(
        e.current_bytes,
        HEAP_ABORT_SHARE * old_generation_room,
        HEAP_EARLIEST_ABORT_SHARE * old_generation_room,
        old_generation_room,
        e.slope_bytes_per_sec,
        e.slope_low_bytes_per_sec,
        e.slope_high_bytes_per_sec,
    )
}

/// Resident memory `(t_ms, bytes)` against the memory limit, while it grows
/// significantly (at least `min_points` readings).
pub fn resident(
    readings: impl Iterator<Item = (u64, u64)>,
    limit_bytes: f64,
    min_points: usize,
) -> Option<LimitEstimate> {
    let pts: Vec<(f64, f64)> = readings
        .map(|(t, b)| (t as f64 / 1000.0, b as f64))
        .collect();
    let t = stats::trend(&pts, min_points)?;
    if !(t.z > 1.96 && t.slope_low > 0.0) {
        return None;
    }
    let current = pts.last()?.1;
    estimate(
        current,
        limit_bytes,
        limit_bytes,
        limit_bytes,
        t.slope,
        t.slope_low,
        t.slope_high,
    )
}

#[cfg(test)]
mod tests {
    use super::super::evidence::Signal;
    use super::*;

    const MB: f64 = 1048576.0;

    fn evidence(current: f64, slope: f64, low: f64, high: f64, z: f64) -> SignalEvidence {
        SignalEvidence {
            signal: Signal::Heap,
            points: 30,
            window_ms: 60_000,
            slope_bytes_per_sec: slope,
            slope_low_bytes_per_sec: low,
            slope_high_bytes_per_sec: high,
            z,
            rising_thirds: 3,
            survived_gc: Some(true),
            suspicious: true,
            current_bytes: current,
        }
    }

    #[test]
    fn heap_counts_to_the_abort_point_with_bounds() {
        // 160 MB of room, 68 MB live, 1 MB/s (0.9 to 1.1): V8 aborts at 136 MB, from 128 MB.
        let e = heap(
            &evidence(68.0 * MB, MB, 0.9 * MB, 1.1 * MB, 5.0),
            160.0 * MB,
        )
        .unwrap();
        assert!(
            (e.minutes * 60.0 - 68.0).abs() < 1e-9,
            "{}",
            e.minutes * 60.0
        );
        assert!((e.minutes_low * 60.0 - 60.0 / 1.1).abs() < 1e-9);
        assert!((e.minutes_high.unwrap() * 60.0 - 92.0 / 0.9).abs() < 1e-9);
        assert!(e.minutes_low <= e.minutes && e.minutes <= e.minutes_high.unwrap());
        assert_eq!(e.fail_at_bytes, 136.0 * MB);
        // Past the abort point: 0, never negative.
        assert_eq!(
            heap(
                &evidence(150.0 * MB, MB, 0.9 * MB, 1.1 * MB, 5.0),
                160.0 * MB
            )
            .unwrap()
            .minutes,
            0.0
        );
    }

    #[test]
    fn no_estimate_without_significant_growth_and_never_nan() {
        assert!(heap(&evidence(68.0 * MB, MB, -0.1, 2.0 * MB, 5.0), 160.0 * MB).is_none());
        assert!(heap(
            &evidence(68.0 * MB, MB, 0.5 * MB, 2.0 * MB, 1.0),
            160.0 * MB
        )
        .is_none());
        assert!(heap(&evidence(f64::NAN, MB, 0.5 * MB, 2.0 * MB, 5.0), 160.0 * MB).is_none());
        assert!(heap(&evidence(68.0 * MB, MB, 0.5 * MB, 2.0 * MB, 5.0), 0.0).is_none());
        // Randomized: bounds ordered and finite whenever there is an estimate.
        let mut x = 88172645463325252u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..100_000 {
            let slope = next() * 4.0 * MB;
            let (low, high) = (slope * next(), slope * (1.0 + next()));
            let e = evidence(next() * 300.0 * MB, slope, low, high, next() * 6.0);
            if let Some(r) = heap(&e, 200.0 * MB) {
                let hi = r.minutes_high.unwrap();
                assert!(r.minutes_low.is_finite() && r.minutes.is_finite() && hi.is_finite());
                assert!(
                    r.minutes_low <= r.minutes + 1e-9 && r.minutes <= hi + 1e-9,
                    "{r:?}"
                );
            }
        }
    }

    #[test]
    fn resident_counts_to_the_limit() {
        // 100 MB rising 1 MB/s for 60 s against 400 MB.
        let r = resident(
            (0..60u64).map(|i| (i * 1000, (100.0 * MB + i as f64 * MB) as u64)),
            400.0 * MB,
            8,
        )
        .unwrap();
        assert!(
            (r.minutes * 60.0 - (400.0 - 159.0)).abs() < 1.0,
            "{}",
            r.minutes * 60.0
        );
        assert_eq!(r.fail_at_bytes, 400.0 * MB);
        assert!(resident(
            (0..60u64).map(|i| (i * 1000, 100 * MB as u64)),
            400.0 * MB,
            8
        )
        .is_none());
        assert!(resident((0..3u64).map(|i| (i * 1000, i * MB as u64)), 400.0 * MB, 8).is_none());
    }
}
