//! A simulated V8 heap driven by a mock clock, for the detector's tests (compiled in
//! tests only).

use super::confidence::{calibrated, confidence, Context, Stage};
use super::detector::{Active, Detector, LeakEvent};
use super::evidence::{evidence_with, LeakParams, Signal};

pub const MB: f64 = 1048576.0;
pub const TICK: u64 = 250;

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
pub struct Sim {
    pub det: Detector,
    rng: Rng,
    pub now: u64,
    pub live: f64,
    pub garbage: f64,
    pub ext_live: f64,
    pub ext_garbage: f64,
    pub gc_limit: f64,
    pub flags: Vec<(f64, bool)>,
    pub confirmations: u32,
    /// `(t, confidence, flagged)` every 2 s and after every verdict change.
    pub confidence: Vec<(f64, f64, bool)>,
    tick: u64,
    dbg_last: Option<Active>,
}

impl Sim {
    pub fn new(seed: u64) -> Sim {
        Sim::with_interval(seed, TICK)
    }

    /// A simulation sampled every `tick` ms (the monitoring interval).
    pub fn with_interval(seed: u64, tick: u64) -> Sim {
        let mut det = Detector::new(LeakParams::for_interval(tick));
        det.set_confirm_allowed(true);
        // As `confidence_now`'s context: 300 MB of heap and 400 MB of resident headroom.
        det.set_headroom(300.0 * MB);
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
            confidence: Vec::new(),
            tick,
            dbg_last: None,
        }
    }

    pub fn full_gc(&mut self, forced: bool) {
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
    pub fn run(&mut self, from: f64, secs: f64, f: impl Fn(f64) -> (f64, f64, f64)) {
        let tick = self.tick;
        let ticks = (secs * 1000.0 / tick as f64) as u64;
        for i in 0..ticks {
            let t = from + (i * tick) as f64 / 1000.0;
            let (leak, ext_leak, promo) = f(t);
            let dt = tick as f64 / 1000.0;
            self.live += leak * dt;
            self.ext_live += ext_leak * dt;
            self.garbage += promo * dt;
            self.ext_garbage += promo * 0.05 * dt;
            self.now += tick;
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
            let changed = !events.is_empty();
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
                            let e = evidence_with(Signal::Heap, &self.det.heap, &loose, &[k], 2);
                            eprintln!("   scale {k}: n={} slope={:.0} low={:.0} z={:.2} thirds={} surv={:?} susp={}", e.points, e.slope_bytes_per_sec/1024.0, e.slope_low_bytes_per_sec/1024.0, e.z, e.rising_thirds, e.survived_gc, e.suspicious);
                        }
                    }
                }
                self.flags.push((t, matches!(e, LeakEvent::Leak { .. })));
                self.dbg_last = self.det.active.or(self.dbg_last);
            }
            if changed || i % (2_000 / tick).max(1) == (2_000 / tick).max(1) - 1 {
                self.note_confidence(t);
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

    /// The confidence total the monitor would report now, in a process far from its
    /// limits (peak pressure 40 % of a 90 % emergency threshold, full GCs freeing 40 %).
    pub fn confidence_now(&self) -> f64 {
        let state = self.det.state();
        let c = Context {
            peak_pressure: 40.0,
            emergency_threshold: 90.0,
            gc_efficiency: Some(40.0),
            headroom_bytes: 400.0 * MB,
            heap_headroom_bytes: 300.0 * MB,
            ..Context::default()
        };
        let parts = confidence(&state.strongest(), Some(&state.resident), &c);
        calibrated(&parts, Stage::of(&state))
    }

    fn note_confidence(&mut self, t: f64) {
        let c = self.confidence_now();
        self.confidence.push((t, c, self.flagged()));
    }

    /// Highest confidence recorded at or after `t` seconds, and whether any was flagged.
    pub fn max_confidence_after(&self, t: f64) -> f64 {
        self.confidence
            .iter()
            .filter(|(at, _, _)| *at >= t)
            .map(|(_, c, _)| *c)
            .fold(0.0, f64::max)
    }

    pub fn first_flag_after(&self, t: f64) -> Option<f64> {
        self.flags
            .iter()
            .find(|(at, up)| *up && *at >= t)
            .map(|(at, _)| *at - t)
    }

    pub fn raised(&self) -> usize {
        self.flags.iter().filter(|(_, up)| *up).count()
    }

    pub fn flagged(&self) -> bool {
        self.det.state().leak_suspected
    }
}

// Promotion of medium-lived garbage into the old generation (the traces of
// bench/leak show 50 KB/s to 1 MB/s under 25 MB/s of churn).
pub const CHURN: f64 = 400.0 * 1024.0;
