//! The alert rules: when each alert type is raised, escalated or resolved, from
//! the figures the engine hands in. Every rule returns the event to deliver, if any.

use super::alerts::{AlertType, Alerts};
use super::leak::{LeakEvent, Signal};
use super::report::{Event, LeakReport, PressureSource, StatusChange, TrendReport};
use super::status::Level;

/// Full collections looked at for GC failure.
pub const GC_FAILURE_RUN: usize = 3;
/// A full collection that frees less than this share of the heap is ineffective.
const GC_INEFFECTIVE_SHARE: f64 = 0.05;
/// Old generation (share of its room under V8's limit) at which ineffective collections
/// become a GC failure.
const GC_FAILURE_HEAP_SHARE: f64 = 0.80;
/// Node's default young generation: 3 × 16 MB semi-spaces, part of heap_size_limit.
pub const YOUNG_GENERATION_RESERVE_BYTES: u64 = 48 << 20;

fn mb(bytes: f64) -> String {
    format!("{:.0} MB", bytes / 1048576.0)
}

/// high_usage follows the status.
pub fn high_usage(alerts: &mut Alerts, limit_bytes: u64, s: &StatusChange) -> Option<Event> {
    if s.current == Level::Healthy {
        let msg = format!(
            "Memory usage back to healthy ({:.1}% of the limit)",
            s.pressure_percentage
        );
        return Event::resolved(alerts.resolve(AlertType::HighUsage, msg, s.timestamp));
    }
    let what = match s.pressure_source {
        PressureSource::Resident => format!(
            "resident memory at {:.1}% of the {} limit",
            s.usage_percentage,
            mb(limit_bytes as f64)
        ),
        PressureSource::Heap => {
            format!("V8 heap at {:.1}% of its limit", s.heap_usage_percentage)
        }
    };
    let data = serde_json::json!({
        "status": s.current,
        "pressurePercentage": s.pressure_percentage,
        "usagePercentage": s.usage_percentage,
        "heapUsagePercentage": s.heap_usage_percentage,
        "pressureSource": s.pressure_source,
        "limitBytes": limit_bytes,
    });
    Event::raised(alerts.raise(
        AlertType::HighUsage,
        s.current,
        format!("Memory {}: {what}", s.current.as_str()),
        data,
        s.timestamp,
    ))
}

fn signal_name(signal: Signal) -> &'static str {
    if signal == Signal::External {
        "off-heap memory"
    } else {
        "the live heap"
    }
}

/// memory_leak follows the leak detector; its level grows with confidence and urgency.
/// `report` is the leak report at the event's time.
pub fn memory_leak(alerts: &mut Alerts, e: &LeakEvent, report: &LeakReport) -> Option<Event> {
    match e {
        LeakEvent::Leak {
            signal,
            growth_rate_bytes_per_sec,
            timestamp,
            ..
        } => {
            let minutes = [report.minutes_to_limit, report.minutes_to_heap_limit]
                .into_iter()
                .flatten()
                .fold(f64::INFINITY, f64::min);
            let level = if minutes < 10.0 {
                Level::Emergency
            } else if report.confidence >= 80.0 || minutes < 60.0 {
                Level::Critical
            } else {
                Level::Warning
            };
            let msg = format!(
                "Memory leak suspected: {} growing by {:.0} KB/s (confidence {:.0}%)",
                signal_name(*signal),
                growth_rate_bytes_per_sec / 1024.0,
                report.confidence
            );
            let data = serde_json::json!({
                "signal": signal,
                "growthRateBytesPerSec": growth_rate_bytes_per_sec,
                "confidence": report.confidence,
                "minutesToLimit": report.minutes_to_limit,
                "minutesToHeapLimit": report.minutes_to_heap_limit,
                "recommendations": report.recommendations,
            });
            Event::raised(alerts.raise(AlertType::MemoryLeak, level, msg, data, *timestamp))
        }
        LeakEvent::LeakResolved {
            signal, timestamp, ..
        } => Event::resolved(alerts.resolve(
            AlertType::MemoryLeak,
            format!(
                "Memory leak resolved: {} stopped growing",
                signal_name(*signal)
            ),
            *timestamp,
        )),
    }
}

/// One observed full collection: time, heap before and after, old generation after (bytes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FullGc {
    pub t_ms: u64,
    pub heap_before_bytes: u64,
    pub heap_after_bytes: u64,
    pub old_generation_after_bytes: u64,
}

/// The old generation's room under V8's limit: heap_size_limit includes the young
/// generation (3 × 16 MB semi-spaces by default), which a full heap does not fill.
pub fn old_generation_room_bytes(heap_size_limit: u64) -> u64 {
    heap_size_limit
        .saturating_sub(YOUNG_GENERATION_RESERVE_BYTES.min(heap_size_limit / 2))
        .max(1)
}

/// gc_failure: the last full collections each freed almost nothing while the heap is
/// near V8's limit (the road to "ineffective mark-compacts near heap limit").
/// `run` is the newest collections, oldest first.
pub fn gc_failure(
    alerts: &mut Alerts,
    run: &[FullGc],
    heap_size_limit: u64,
    now: u64,
) -> Option<Event> {
    let last = *run.last()?;
    if heap_size_limit == 0 {
        return None;
    }
    let share =
        last.old_generation_after_bytes as f64 / old_generation_room_bytes(heap_size_limit) as f64;
    let ineffective = |g: &FullGc| {
        g.heap_before_bytes == 0
            || (g.heap_before_bytes.saturating_sub(g.heap_after_bytes) as f64)
                < GC_INEFFECTIVE_SHARE * g.heap_before_bytes as f64
    };
    let failing = run.len() == GC_FAILURE_RUN
        && run.iter().all(ineffective)
        && share >= GC_FAILURE_HEAP_SHARE;
    if failing {
        let level = if share >= 0.9 {
            Level::Emergency
        } else {
            Level::Critical
        };
        let msg = format!(
            "GC failure: the last {GC_FAILURE_RUN} full collections freed under {:.0}% each with the old generation at {:.0}% of its room; V8 will abort with an out-of-memory error",
            GC_INEFFECTIVE_SHARE * 100.0,
            share * 100.0
        );
        let data = serde_json::json!({
            "heapAfterBytes": last.heap_after_bytes,
            "oldGenerationAfterBytes": last.old_generation_after_bytes,
            "heapSizeLimit": heap_size_limit,
            "heapShare": share,
            "collections": run.iter().map(|g| serde_json::json!({"timestamp": g.t_ms, "heapBefore": g.heap_before_bytes, "heapAfter": g.heap_after_bytes})).collect::<Vec<_>>(),
        });
        return Event::raised(alerts.raise(AlertType::GcFailure, level, msg, data, now));
    }
    let recovered = !ineffective(&last) || share < 0.7;
    if recovered && alerts.is_active(AlertType::GcFailure) {
        return Event::resolved(alerts.resolve(
            AlertType::GcFailure,
            "Full collections free memory again".into(),
            now,
        ));
    }
    None
}

/// rapid_growth: resident memory rising fast enough to reach the limit soon.
pub fn rapid_growth(alerts: &mut Alerts, t: &TrendReport, now: u64) -> Option<Event> {
    let minutes = t
        .minutes_to_limit
        .filter(|_| t.is_increasing)
        .unwrap_or(f64::INFINITY);
    let level = if minutes < 3.0 {
        Level::Emergency
    } else if minutes < 10.0 {
        Level::Critical
    } else if minutes < 30.0 {
        Level::Warning
    } else {
        Level::Healthy
    };
    if level == Level::Healthy {
        if minutes > 60.0 && alerts.is_active(AlertType::RapidGrowth) {
            return Event::resolved(alerts.resolve(
                AlertType::RapidGrowth,
                "Memory growth slowed down".into(),
                now,
            ));
        }
        return None;
    }
    let msg = format!(
        "Rapid memory growth: {:.1} MB/min; the limit is reached in about {minutes:.0} min at this rate",
        t.growth_rate_bytes_per_sec * 60.0 / 1048576.0
    );
    let data = serde_json::json!({
        "growthRateBytesPerSec": t.growth_rate_bytes_per_sec,
        "growthRatePercentPerMin": t.growth_rate,
        "minutesToLimit": minutes,
    });
    Event::raised(alerts.raise(AlertType::RapidGrowth, level, msg, data, now))
}

/// event_loop_blocked: the JS thread has not answered the sampler's heap read for
/// `blocked_for_ms` (0 when it answered). Raised at warning past the threshold,
/// critical past ten times it; resolved when the thread answers again.
pub fn event_loop_blocked(
    alerts: &mut Alerts,
    blocked_for_ms: u64,
    threshold_ms: u64,
    now: u64,
) -> Option<Event> {
    if blocked_for_ms < threshold_ms {
        if alerts.is_active(AlertType::EventLoopBlocked) {
            return Event::resolved(alerts.resolve(
                AlertType::EventLoopBlocked,
                "The event loop answers again".into(),
                now,
            ));
        }
        return None;
    }
    let level = if blocked_for_ms >= threshold_ms.saturating_mul(10) {
        Level::Critical
    } else {
        Level::Warning
    };
    let msg = format!(
        "Event loop blocked: the JS thread has not run for {:.1} s (heap figures are stale; resident memory is still sampled)",
        blocked_for_ms as f64 / 1000.0
    );
    let data = serde_json::json!({
        "blockedForMs": blocked_for_ms,
        "thresholdMs": threshold_ms,
    });
    Event::raised(alerts.raise(AlertType::EventLoopBlocked, level, msg, data, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_loop_blocked_raises_escalates_and_resolves() {
        let mut a = Alerts::new(60_000);
        assert!(event_loop_blocked(&mut a, 500, 1_000, 0).is_none());
        match event_loop_blocked(&mut a, 1_500, 1_000, 10) {
            Some(Event::Alert(e)) => {
                assert_eq!(
                    (e.kind, e.alert.kind, e.alert.level),
                    ("alert", AlertType::EventLoopBlocked, Level::Warning)
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(
            event_loop_blocked(&mut a, 2_000, 1_000, 20).is_none(),
            "already active"
        );
        assert!(
            matches!(event_loop_blocked(&mut a, 10_000, 1_000, 30), Some(Event::Alert(e)) if e.alert.level == Level::Critical)
        );
        assert!(
            matches!(event_loop_blocked(&mut a, 0, 1_000, 40), Some(Event::Alert(e)) if e.kind == "alertResolved")
        );
    }

    #[test]
    fn old_generation_room_leaves_the_young_generation_out() {
        assert_eq!(old_generation_room_bytes(256 << 20), 208 << 20);
        assert_eq!(old_generation_room_bytes(64 << 20), 32 << 20);
        assert_eq!(old_generation_room_bytes(0), 1);
    }
}
