//! Memory status levels and the hysteresis that keeps them from flapping.

use serde::Serialize;

/// Status levels, ordered from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Healthy,
    Warning,
    Critical,
    Emergency,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Healthy => "healthy",
            Level::Warning => "warning",
            Level::Critical => "critical",
            Level::Emergency => "emergency",
        }
    }
}

/// Percent thresholds (0–100) at which each level starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub warning: f64,
    pub critical: f64,
    pub emergency: f64,
    /// A level is left only once the pressure falls this many percentage
    /// points below the level's threshold.
    pub hysteresis: f64,
}

impl Thresholds {
    fn start_of(&self, level: Level) -> f64 {
        match level {
            Level::Healthy => 0.0,
            Level::Warning => self.warning,
            Level::Critical => self.critical,
            Level::Emergency => self.emergency,
        }
    }

    /// The level a pressure value maps to with no history.
    pub fn level_of(&self, pressure_percent: f64) -> Level {
        if pressure_percent >= self.emergency {
            Level::Emergency
        } else if pressure_percent >= self.critical {
            Level::Critical
        } else if pressure_percent >= self.warning {
            Level::Warning
        } else {
            Level::Healthy
        }
    }

    /// The next level given the current one: rising is immediate, falling
    /// needs the pressure to drop `hysteresis` points below a level's start.
    pub fn next(&self, current: Level, pressure_percent: f64) -> Level {
        if !pressure_percent.is_finite() {
            return current;
        }
        let raw = self.level_of(pressure_percent);
        if raw >= current {
            return raw;
        }
        let mut level = current;
        while level > raw && pressure_percent < self.start_of(level) - self.hysteresis {
            level = match level {
                Level::Emergency => Level::Critical,
                Level::Critical => Level::Warning,
                _ => Level::Healthy,
            };
        }
        level
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Thresholds = Thresholds {
        warning: 60.0,
        critical: 75.0,
        emergency: 90.0,
        hysteresis: 2.0,
    };

    #[test]
    fn maps_pressure_to_levels() {
        assert_eq!(T.level_of(0.0), Level::Healthy);
        assert_eq!(T.level_of(59.99), Level::Healthy);
        assert_eq!(T.level_of(60.0), Level::Warning);
        assert_eq!(T.level_of(75.0), Level::Critical);
        assert_eq!(T.level_of(90.0), Level::Emergency);
        assert_eq!(T.level_of(250.0), Level::Emergency);
    }

    #[test]
    fn rises_immediately_and_can_skip_levels() {
        assert_eq!(T.next(Level::Healthy, 91.0), Level::Emergency);
        assert_eq!(T.next(Level::Warning, 76.0), Level::Critical);
    }

    #[test]
    fn falls_only_below_the_hysteresis_band() {
        assert_eq!(T.next(Level::Warning, 59.0), Level::Warning);
        assert_eq!(T.next(Level::Warning, 58.01), Level::Warning);
        assert_eq!(T.next(Level::Warning, 57.9), Level::Healthy);
        // From emergency at 74 %: below 88 leaves emergency, 74 >= 73 keeps critical.
        assert_eq!(T.next(Level::Emergency, 74.0), Level::Critical);
        assert_eq!(T.next(Level::Emergency, 10.0), Level::Healthy);
    }

    #[test]
    fn hovering_at_a_threshold_does_not_flap() {
        let mut level = Level::Healthy;
        let mut changes = 0;
        for i in 0..1000 {
            let p = 60.0 + if i % 2 == 0 { 0.5 } else { -0.5 };
            let next = T.next(level, p);
            if next != level {
                changes += 1;
            }
            level = next;
        }
        assert_eq!(changes, 1);
        assert_eq!(level, Level::Warning);
    }

    #[test]
    fn nan_keeps_the_current_level() {
        assert_eq!(T.next(Level::Critical, f64::NAN), Level::Critical);
    }
}
