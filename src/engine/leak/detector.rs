//! The detector's state machine: raising the flag on confirmed growth, asking for
//! confirmation GCs, and clearing the flag when the growth stops.

use super::super::envelope::{Envelope, EnvelopePoint, Reading};
use super::confidence::Stage;
use super::evidence::{evidence, evidence_with, LeakParams, Signal, SignalEvidence};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Active {
    pub(super) since: u64,
    pub(super) signal: Signal,
    pub(super) slope_at_flag: f64,
    /// Lowest envelope value in the first half of the window that raised the flag: the
    /// level before the growth.
    pub(super) base: f64,
    /// Highest envelope value since the flag.
    pub(super) peak: f64,
    /// Points in the window that raised the flag.
    pub(super) scale: usize,
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
    pub(super) params: LeakParams,
    pub(super) heap: Envelope,
    pub(super) external: Envelope,
    pub(super) resident: Envelope,
    pub(super) active: Option<Active>,
    pub(super) last_confirm: Option<u64>,
    pub(super) want_confirm: bool,
    pub(super) confirm_allowed: bool,
    /// Confirmations that found garbage, not a leak, in a row: each doubles the cooldown.
    pub(super) denials: u32,
    pub(super) awaiting_result: bool,
    /// Pause of the latest forced collection (ms): long pauses lengthen the cooldown.
    pub(super) last_forced_pause_ms: f64,
    /// Evaluations in a row that found the flagged growth stopped (two clear the flag).
    pub(super) stop_votes: u32,
    /// The previous evaluation found a suspicious signal (a new suspicion resets the backoff).
    pub(super) was_suspicious: bool,
    /// When a suspicion last went away without a flag, was refuted by a confirmation GC,
    /// or a flag cleared: a pattern seen to be benign (see `Stage`).
    pub(super) last_dismissed: Option<u64>,
    /// Time of the latest evaluation.
    pub(super) last_eval: u64,
}

/// Most doublings of the confirmation cooldown (2^2 = 4 times: 40 s at most by default).
pub(super) const MAX_DENIALS: u32 = 2;

/// The state of the detector (the data behind `/api/memory/leak-detection`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeakState {
    pub leak_suspected: bool,
    /// The band the confidence falls in: `quiet` (0–30), `suspicious` (30–49: growth
    /// not yet confirmed by a full GC), `flagged` (70–100).
    pub confidence_stage: Stage,
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

impl LeakState {
    /// The evidence the verdict and its confidence rest on: the flagged signal's, else
    /// the more significant of heap and off-heap.
    pub fn strongest(&self) -> SignalEvidence {
        match self.signal {
            Some(Signal::External) => self.external,
            Some(_) => self.heap,
            None if self.external.z > self.heap.z => self.external,
            None => self.heap,
        }
    }
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
            last_dismissed: None,
            last_eval: 0,
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

    /// The headroom to the limit (the sooner of heap and resident memory), which sets the
    /// slowest growth that counts (`LeakParams::min_rate_for_headroom`).
    pub fn set_headroom(&mut self, headroom_bytes: f64) {
        self.params.min_rate = LeakParams::min_rate_for_headroom(headroom_bytes);
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
        self.last_eval = now;
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
                    self.last_dismissed = Some(now);
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
                self.last_dismissed = Some(now);
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
        if self.was_suspicious && !suspicious {
            self.last_dismissed = Some(now);
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

    /// The verdict's stage, as of the latest evaluation (a closed bucket), so it moves
    /// with the verdict and not with a bucket still filling. A suspicion counts
    /// (`Suspicious`) only when no suspicion was dismissed within two analysis windows: a
    /// pattern whose suspicions keep being refuted (a saw-tooth's ramps, a cache
    /// refilling) is a settled benign pattern.
    fn stage(&self) -> Stage {
        let horizon = 2 * self.params.bucket_ms * self.params.window_buckets as u64;
        if self.active.is_some() {
            Stage::Flagged
        } else if self.was_suspicious
            && self
                .last_dismissed
                .is_none_or(|d| self.last_eval.saturating_sub(d) > horizon)
        {
            Stage::Suspicious
        } else {
            Stage::Quiet
        }
    }

    pub fn state(&self) -> LeakState {
        let (heap, external, resident) = self.evidence();
        LeakState {
            confidence_stage: self.stage(),
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
    use super::super::sim::{Sim, CHURN, MB};
    use super::*;

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
}

/// Confidence follows the verdict (`confidence::calibrated`): the simulated heap under
/// each pattern, the total read once a second with the mock clock.
#[cfg(test)]
mod calibration {
    use super::super::sim::{Sim, CHURN, MB};

    fn report(name: &str, s: &Sim) {
        if std::env::var("LEAK_DEBUG").is_err() {
            return;
        }
        let flagged: Vec<f64> = s.confidence.iter().filter(|c| c.2).map(|c| c.1).collect();
        let quiet = s
            .confidence
            .iter()
            .filter(|c| !c.2)
            .map(|c| c.1)
            .fold(0.0, f64::max);
        eprintln!(
            "{name}: max unflagged {quiet:.1}, flagged min {:.1} over {} readings",
            flagged.iter().copied().fold(f64::INFINITY, f64::min),
            flagged.len()
        );
    }

    /// Every reading: below 50 while not flagged, 70 or more while flagged.
    fn verdict_bands_hold(s: &Sim) {
        for &(t, c, flagged) in &s.confidence {
            if flagged {
                assert!(c >= 70.0, "flagged at {t} s with confidence {c}");
            } else {
                assert!(c < 50.0, "not flagged at {t} s with confidence {c}");
            }
        }
    }

    #[test]
    fn benign_patterns_settle_at_30_or_less() {
        for seed in 1..3 {
            let mut s = Sim::new(seed);
            s.run(0.0, 300.0, |_| (0.0, 0.0, CHURN));
            report("sawtooth", &s);
            verdict_bands_hold(&s);
            assert!(s.max_confidence_after(60.0) <= 30.0, "sawtooth seed {seed}");

            let mut s = Sim::new(seed);
            s.run(0.0, 400.0, |_| (0.0, 0.0, 200.0 * 1024.0));
            report("slow promotion", &s);
            verdict_bands_hold(&s);
            assert!(
                s.max_confidence_after(120.0) <= 30.0,
                "slow promotion seed {seed}"
            );

            let mut s = Sim::new(seed);
            s.run(0.0, 60.0, |_| (0.0, 0.0, CHURN));
            s.live += 80.0 * MB;
            s.run(60.0, 240.0, |_| (0.0, 0.0, CHURN));
            report("step", &s);
            verdict_bands_hold(&s);
            assert!(s.max_confidence_after(120.0) <= 30.0, "step seed {seed}");

            let mut s = Sim::new(seed);
            s.run(0.0, 60.0, |_| (0.0, 0.0, CHURN));
            s.run(60.0, 60.0, |_| (512.0 * 1024.0, 0.0, CHURN));
            s.run(120.0, 180.0, |_| (0.0, 0.0, CHURN + 512.0 * 1024.0));
            report("cache", &s);
            verdict_bands_hold(&s);
            assert!(!s.flagged(), "cache seed {seed}");
            assert!(s.max_confidence_after(200.0) <= 30.0, "cache seed {seed}");
        }
    }

    #[test]
    fn a_leak_is_70_or_more_from_its_flag_on() {
        for seed in 1..4 {
            for rate in [150.0 * 1024.0, 4.0 * MB] {
                let mut s = Sim::new(seed);
                s.run(0.0, 60.0, |_| (0.0, 0.0, CHURN));
                s.run(60.0, 90.0, |_| (rate, 0.0, CHURN));
                report("leak", &s);
                verdict_bands_hold(&s);
                let at_flag = s.flags.iter().find(|f| f.1).map(|f| f.0);
                let first = s.confidence.iter().find(|c| c.2);
                assert!(
                    at_flag.is_some() && first.is_some_and(|c| Some(c.0) == at_flag),
                    "seed {seed} rate {rate}: flag {at_flag:?}, first flagged reading {first:?}"
                );
                assert!(s.confidence.last().is_some_and(|c| c.2 && c.1 >= 70.0));
            }
        }
    }
}

/// Slow leaks at production intervals (15 s, the Render preset): the simulated heap with
/// the mock clock over hours.
#[cfg(test)]
mod production_interval {
    use super::super::sim::{Sim, MB};

    const INTERVAL: u64 = 15_000;
    const KB: f64 = 1024.0;
    // Promotion of medium-lived garbage at a modest production load.
    const CHURN: f64 = 200.0 * KB;

    fn leak_flag_after(seed: u64, rate: f64, secs: f64) -> Option<f64> {
        let mut s = Sim::with_interval(seed, INTERVAL);
        s.run(0.0, 1800.0, |_| (0.0, 0.0, CHURN));
        s.run(1800.0, secs, |_| (rate, 0.0, CHURN));
        s.first_flag_after(1800.0)
    }

    #[test]
    fn a_20_kb_per_sec_leak_is_flagged_within_15_minutes() {
        for seed in 1..4 {
            let after = leak_flag_after(seed, 20.0 * KB, 1800.0);
            if std::env::var("LEAK_DEBUG").is_ok() {
                eprintln!("20 KB/s seed {seed}: {after:?}");
            }
            assert!(after.is_some_and(|a| a <= 900.0), "seed {seed}: {after:?}");
        }
    }

    #[test]
    fn a_leak_exhausting_400_mb_in_24_hours_is_flagged_within_an_hour() {
        let rate = 400.0 * MB / 86_400.0; // ~4.7 KB/s
        for seed in 1..4 {
            let after = leak_flag_after(seed, rate, 3600.0);
            if std::env::var("LEAK_DEBUG").is_ok() {
                eprintln!("24 h seed {seed}: {after:?}");
            }
            assert!(after.is_some_and(|a| a <= 3600.0), "seed {seed}: {after:?}");
        }
    }

    #[test]
    fn benign_patterns_stay_quiet_for_hours() {
        for seed in 1..4 {
            let mut s = Sim::with_interval(seed, INTERVAL);
            s.run(0.0, 4.0 * 3600.0, |_| (0.0, 0.0, CHURN));
            assert_eq!(s.raised(), 0, "churn seed {seed}: {:?}", s.flags);
            assert!(s.max_confidence_after(1800.0) <= 30.0);

            // A cache filling for 20 min at 50 KB/s, then at capacity for 2 h.
            let mut s = Sim::with_interval(seed, INTERVAL);
            s.run(0.0, 1800.0, |_| (0.0, 0.0, CHURN));
            s.run(1800.0, 1200.0, |_| (50.0 * KB, 0.0, CHURN));
            s.run(3000.0, 7200.0, |_| (0.0, 0.0, CHURN + 50.0 * KB));
            assert!(!s.flagged(), "cache seed {seed}: {:?}", s.flags);
            assert!(s.max_confidence_after(3000.0 + 3600.0) <= 30.0);

            // Slow promotion: major GCs ten minutes apart, the old generation ramping
            // between them like a slow leak.
            let mut s = Sim::with_interval(seed, INTERVAL);
            s.run(0.0, 4.0 * 3600.0, |_| (0.0, 0.0, 16.0 * KB));
            assert_eq!(s.raised(), 0, "slow promotion seed {seed}: {:?}", s.flags);
            assert!(s.max_confidence_after(3600.0) <= 30.0);

            // A cache filling slowly (5 KB/s for an hour), then at capacity.
            let mut s = Sim::with_interval(seed, INTERVAL);
            s.run(0.0, 1800.0, |_| (0.0, 0.0, CHURN));
            s.run(1800.0, 3600.0, |_| (5.0 * KB, 0.0, CHURN));
            s.run(5400.0, 7200.0, |_| (0.0, 0.0, CHURN + 5.0 * KB));
            assert!(!s.flagged(), "slow cache seed {seed}: {:?}", s.flags);
            assert!(s.max_confidence_after(5400.0 + 3600.0) <= 30.0);

            // A one-time step of 60 MB.
            let mut s = Sim::with_interval(seed, INTERVAL);
            s.run(0.0, 1800.0, |_| (0.0, 0.0, CHURN));
            s.live += 60.0 * MB;
            s.run(1800.0, 7200.0, |_| (0.0, 0.0, CHURN));
            assert_eq!(s.raised(), 0, "step seed {seed}: {:?}", s.flags);
        }
    }
}
