//! The confidence score (0–100) and its parts.
//!
//! The total means "how sure we are that this is a leak" and follows the detector's
//! verdict: one model behind both. The spec's five components (`ConfidenceParts`) are
//! the explanation and place the total inside the band of the verdict's stage:
//! - flagged (a confirmed leak): 70–100, so a flag is never below 70;
//! - suspicious (growth that meets the trend tests, not yet confirmed by a full GC):
//!   30–49, never 50 or more while nothing is flagged;
//! - quiet (no signal suspicious): 0–30, so settled benign patterns stay at 30 or less.

use super::super::finite;
use super::detector::LeakState;
use super::evidence::{Signal, SignalEvidence};
use serde::Serialize;

/// The points behind the spec's confidence score (0–100).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfidenceParts {
    /// 0–40: significance × magnitude of the growth.
    #[serde(serialize_with = "finite::num")]
    pub growth_rate: f64,
    /// 0–20: rising thirds of the window and growth that survived a full GC.
    #[serde(serialize_with = "finite::num")]
    pub consistent_growth: f64,
    /// 0–20: peak pressure against the emergency threshold.
    #[serde(serialize_with = "finite::num")]
    pub peak_usage: f64,
    /// 0–15: little freed by recent full GCs.
    #[serde(serialize_with = "finite::num")]
    pub low_gc_efficiency: f64,
    /// 0–5: detached contexts (2), resident memory rising too (1), GC pause share over
    /// 5 % (1), growth while the request rate is flat (1).
    #[serde(serialize_with = "finite::num")]
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

/// Where the verdict stands: the band the total falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Stage {
    Quiet,
    Suspicious,
    Flagged,
}

impl Stage {
    pub fn of(state: &LeakState) -> Stage {
        state.confidence_stage
    }

    /// The band `[low, high]` of the total at this stage.
    pub fn band(self) -> (f64, f64) {
        match self {
            Stage::Quiet => (0.0, QUIET_MAX),
            Stage::Suspicious => (SUSPICIOUS_MIN, SUSPICIOUS_MAX),
            Stage::Flagged => (FLAGGED_MIN, 100.0),
        }
    }
}

/// Highest total while no signal is suspicious.
pub const QUIET_MAX: f64 = 30.0;
/// Band of an unconfirmed suspicion (under 50: nothing is flagged).
pub const SUSPICIOUS_MIN: f64 = 30.0;
pub const SUSPICIOUS_MAX: f64 = 49.0;
/// Lowest total of a flagged leak.
pub const FLAGGED_MIN: f64 = 70.0;

/// The confidence total: the parts' sum (0–100) mapped linearly into the stage's band.
pub fn calibrated(parts: &ConfidenceParts, stage: Stage) -> f64 {
    let (low, high) = stage.band();
    let share = parts.total() / 100.0;
    let v = low + (high - low) * if share.is_finite() { share } else { 0.0 };
    (v * 10.0).round() / 10.0
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn the_total_stays_in_its_stage_band_and_grows_with_the_parts() {
        // Randomized parts (xorshift), including non-finite ones.
        let mut x = 0x9e3779b97f4a7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        for i in 0..100_000 {
            let mut p = ConfidenceParts {
                growth_rate: 40.0 * next(),
                consistent_growth: 20.0 * next(),
                peak_usage: 20.0 * next(),
                low_gc_efficiency: 15.0 * next(),
                risk_factors: 5.0 * next(),
            };
            if i % 997 == 0 {
                p.growth_rate = f64::NAN;
            }
            for stage in [Stage::Quiet, Stage::Suspicious, Stage::Flagged] {
                let (low, high) = stage.band();
                let c = calibrated(&p, stage);
                assert!(
                    c.is_finite() && c >= low && c <= high,
                    "{stage:?} {p:?} -> {c}"
                );
                let more = ConfidenceParts {
                    risk_factors: p.risk_factors + 1.0,
                    ..p
                };
                assert!(calibrated(&more, stage) >= c);
            }
            assert!(calibrated(&p, Stage::Quiet) <= 30.0);
            assert!(calibrated(&p, Stage::Suspicious) < 50.0);
            assert!(calibrated(&p, Stage::Flagged) >= 70.0);
        }
    }
}
