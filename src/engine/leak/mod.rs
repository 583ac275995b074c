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
//!
//! Files: `evidence.rs` (the per-signal statistics and the suspicious/confirmed tests),
//! `confidence.rs` (the confidence score and its parts), `detector.rs` (the state
//! machine: flag, confirmation GCs, clearing) and, in tests only, `sim.rs` (a simulated
//! V8 heap driven by a mock clock).

mod confidence;
mod detector;
mod evidence;
pub mod foreign;
#[cfg(test)]
mod sim;
pub mod time_to_limit;

pub use confidence::{calibrated, confidence, ConfidenceParts, Context, Stage};
pub use detector::{Detector, LeakEvent, LeakState};
pub use evidence::{LeakParams, Signal, SignalEvidence};
pub use time_to_limit::{LimitEstimate, TimeToLimit};

/// History the reports and the detector need: the detector's longest window (its
/// bucket length times its window in buckets), at least 5 minutes. Cleanup trims the
/// resident history and the recorded trace to it instead of dropping them.
pub fn keep_window_ms(p: &LeakParams) -> u64 {
    (p.bucket_ms * p.window_buckets as u64).max(300_000)
}
