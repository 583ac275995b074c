//! Alerts: one active alert per type, raised, escalated and resolved from engine
//! events; deduplicated with a per-type cooldown; bounded history.

use super::ring::Ring;
use super::status::Level;
use serde::Serialize;
use serde_json::Value;

/// Alerts kept in the history.
pub const HISTORY: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertType {
    HighUsage,
    MemoryLeak,
    GcFailure,
    RapidGrowth,
    EventLoopBlocked,
}

impl AlertType {
    const ALL: [AlertType; 5] = [
        AlertType::HighUsage,
        AlertType::MemoryLeak,
        AlertType::GcFailure,
        AlertType::RapidGrowth,
        AlertType::EventLoopBlocked,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// An alert or its resolved counterpart (same `id`, `resolved: true`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub id: u64,
    #[serde(rename = "type")]
    pub kind: AlertType,
    /// warning, critical or emergency.
    pub level: Level,
    pub message: String,
    /// ms since epoch.
    pub timestamp: u64,
    pub data: Value,
    pub resolved: bool,
    /// Set when an active alert rose to a higher level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalated_from: Option<Level>,
    /// For resolved alerts: how long it was active (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

#[derive(Debug, Clone)]
struct Slot {
    active: Option<Alert>,
    /// When the last alert of this type resolved, and its level.
    last_resolved: Option<(u64, Level)>,
    suppressed: u64,
}

/// `getAlerts()`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertsReport {
    pub active: Vec<Alert>,
    /// Newest last, at most 100 (raised, escalated and resolved records).
    pub history: Vec<Alert>,
    /// Alerts not raised because their type resolved within the cooldown.
    pub suppressed: u64,
    pub cooldown_ms: u64,
}

pub struct Alerts {
    cooldown_ms: u64,
    next_id: u64,
    slots: [Slot; 5],
    history: Ring<Alert>,
}

impl Alerts {
    pub fn new(cooldown_ms: u64) -> Alerts {
        let slot = Slot {
            active: None,
            last_resolved: None,
            suppressed: 0,
        };
        Alerts {
            cooldown_ms,
            next_id: 1,
            slots: [slot.clone(), slot.clone(), slot.clone(), slot.clone(), slot],
            history: Ring::new(HISTORY),
        }
    }

    /// Raises (or escalates) an alert of `kind` at `level`. Returns the record to deliver,
    /// or `None` when deduplicated: already active at this level or above, or resolved
    /// within the cooldown at the same level or above.
    pub fn raise(
        &mut self,
        kind: AlertType,
        level: Level,
        message: String,
        data: Value,
        now: u64,
    ) -> Option<Alert> {
        if level == Level::Healthy {
            return None;
        }
        let slot = &mut self.slots[kind.index()];
        if let Some(active) = &mut slot.active {
            if level <= active.level {
                return None;
            }
            let from = active.level;
            active.level = level;
            active.message = message;
            active.data = data;
            active.timestamp = now;
            active.escalated_from = Some(from);
            let record = active.clone();
            self.history.push(record.clone());
            return Some(record);
        }
        if let Some((at, last_level)) = slot.last_resolved {
            if now.saturating_sub(at) < self.cooldown_ms && level <= last_level {
                slot.suppressed += 1;
                return None;
            }
        }
        let alert = Alert {
            id: self.next_id,
            kind,
            level,
            message,
            timestamp: now,
            data,
            resolved: false,
            escalated_from: None,
            duration_ms: None,
        };
        self.next_id += 1;
        slot.active = Some(alert.clone());
        self.history.push(alert.clone());
        Some(alert)
    }

    /// Resolves the active alert of `kind`, if any.
    pub fn resolve(&mut self, kind: AlertType, message: String, now: u64) -> Option<Alert> {
        let slot = &mut self.slots[kind.index()];
        let active = slot.active.take()?;
        slot.last_resolved = Some((now, active.level));
        let since = self
            .history
            .iter()
            .find(|a| a.id == active.id)
            .map_or(active.timestamp, |first| first.timestamp);
        let record = Alert {
            message,
            timestamp: now,
            resolved: true,
            escalated_from: None,
            duration_ms: Some(now.saturating_sub(since)),
            ..active
        };
        self.history.push(record.clone());
        Some(record)
    }

    pub fn is_active(&self, kind: AlertType) -> bool {
        self.slots[kind.index()].active.is_some()
    }

    /// The level of the active alert of `kind`, if one is active.
    pub fn active_level(&self, kind: AlertType) -> Option<Level> {
        self.slots[kind.index()].active.as_ref().map(|a| a.level)
    }

    pub fn report(&self) -> AlertsReport {
        AlertsReport {
            active: AlertType::ALL
                .iter()
                .filter_map(|k| self.slots[k.index()].active.clone())
                .collect(),
            history: self.history.iter().cloned().collect(),
            suppressed: self.slots.iter().map(|s| s.suppressed).sum(),
            cooldown_ms: self.cooldown_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raise(a: &mut Alerts, kind: AlertType, level: Level, now: u64) -> Option<Alert> {
        a.raise(kind, level, format!("{kind:?} {level:?}"), json!({}), now)
    }

    #[test]
    fn one_active_alert_per_type() {
        let mut a = Alerts::new(60_000);
        let first = raise(&mut a, AlertType::HighUsage, Level::Warning, 0).unwrap();
        assert_eq!(first.id, 1);
        assert!(
            raise(&mut a, AlertType::HighUsage, Level::Warning, 10).is_none(),
            "duplicate"
        );
        let leak = raise(&mut a, AlertType::MemoryLeak, Level::Critical, 20).unwrap();
        assert_eq!(leak.id, 2);
        assert_eq!(a.report().active.len(), 2);
    }

    #[test]
    fn escalation_keeps_the_id_and_says_from_what() {
        let mut a = Alerts::new(60_000);
        raise(&mut a, AlertType::HighUsage, Level::Warning, 0).unwrap();
        let up = raise(&mut a, AlertType::HighUsage, Level::Emergency, 5).unwrap();
        assert_eq!(
            (up.id, up.level, up.escalated_from),
            (1, Level::Emergency, Some(Level::Warning))
        );
        assert!(
            raise(&mut a, AlertType::HighUsage, Level::Critical, 6).is_none(),
            "lower level while active"
        );
    }

    #[test]
    fn resolve_and_cooldown() {
        let mut a = Alerts::new(60_000);
        raise(&mut a, AlertType::RapidGrowth, Level::Critical, 1_000).unwrap();
        let r = a
            .resolve(AlertType::RapidGrowth, "ok".into(), 31_000)
            .unwrap();
        assert!(r.resolved);
        assert_eq!((r.id, r.duration_ms), (1, Some(30_000)));
        assert!(a
            .resolve(AlertType::RapidGrowth, "again".into(), 31_001)
            .is_none());
        // Within the cooldown: same level suppressed, a higher level goes through.
        assert!(raise(&mut a, AlertType::RapidGrowth, Level::Warning, 40_000).is_none());
        assert!(raise(&mut a, AlertType::RapidGrowth, Level::Critical, 41_000).is_none());
        assert_eq!(a.report().suppressed, 2);
        assert!(raise(&mut a, AlertType::RapidGrowth, Level::Emergency, 42_000).is_some());
        a.resolve(AlertType::RapidGrowth, "ok".into(), 43_000);
        // After the cooldown: raised again.
        assert!(raise(
            &mut a,
            AlertType::RapidGrowth,
            Level::Warning,
            43_000 + 60_000
        )
        .is_some());
    }

    #[test]
    fn healthy_is_never_an_alert() {
        let mut a = Alerts::new(0);
        assert!(raise(&mut a, AlertType::HighUsage, Level::Healthy, 0).is_none());
    }

    #[test]
    fn history_is_bounded() {
        let mut a = Alerts::new(0);
        for i in 0..500u64 {
            raise(&mut a, AlertType::GcFailure, Level::Critical, i * 10);
            a.resolve(AlertType::GcFailure, "ok".into(), i * 10 + 5);
        }
        let r = a.report();
        assert_eq!(r.history.len(), HISTORY);
        assert!(r.history.last().unwrap().resolved);
    }

    #[test]
    fn serializes_with_the_spec_field_names() {
        let mut a = Alerts::new(0);
        let x = raise(&mut a, AlertType::MemoryLeak, Level::Warning, 7).unwrap();
        let v = serde_json::to_value(&x).unwrap();
        assert_eq!(v["type"], "memory_leak");
        assert_eq!(v["level"], "warning");
        assert_eq!(v["resolved"], false);
        assert!(v.get("escalatedFrom").is_none());
    }
}
