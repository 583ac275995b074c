//! Cooldowns the JS layer asks about ("may a proactive cleanup start now?", "is an
//! automatic leak attribution due?"), decided here over a monotonic clock in ms that
//! the caller passes in (the binding's `Instant`; a mock clock in tests).

/// What a cooldown holds back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cooldown {
    /// Proactive cleanup runs (the periodic check and the pressure middleware share it).
    Cleanup,
    /// Automatic leak-site attribution.
    Attribution,
}

#[derive(Debug, Clone, Default)]
pub struct Cooldowns {
    last: [Option<u64>; 2],
}

impl Cooldowns {
    /// Starts `c` if `cooldown_ms` has passed since it last started (or it never did);
    /// returns whether it started.
    pub fn try_start(&mut self, c: Cooldown, cooldown_ms: u64, now_ms: u64) -> bool {
        let last = &mut self.last[c as usize];
        if last.is_some_and(|t| now_ms.saturating_sub(t) < cooldown_ms) {
            return false;
        }
        *last = Some(now_ms);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_once_per_cooldown_on_the_given_clock() {
        let mut c = Cooldowns::default();
        assert!(c.try_start(Cooldown::Cleanup, 1_000, 5));
        assert!(!c.try_start(Cooldown::Cleanup, 1_000, 5));
        assert!(!c.try_start(Cooldown::Cleanup, 1_000, 1_004));
        assert!(c.try_start(Cooldown::Cleanup, 1_000, 1_005));
        // A shorter cooldown asked for by another caller (the pressure middleware's own).
        assert!(c.try_start(Cooldown::Cleanup, 10, 1_015));
        // Each kind has its own.
        assert!(c.try_start(Cooldown::Attribution, 1_000, 1_015));
        assert!(!c.try_start(Cooldown::Attribution, 1_000, 2_000));
        // A clock that did not move (or a zero cooldown) never divides or overflows.
        assert!(c.try_start(Cooldown::Attribution, 0, 2_000));
    }
}
