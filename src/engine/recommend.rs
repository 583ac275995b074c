//! Actionable recommendations from the current figures.

use super::leak::{LeakState, Signal};
use super::limit::LimitSource;
use super::platform::Platform;
use super::report::{CurrentUsage, PressureSource, TrendReport};
use super::status::Level;

pub struct Facts<'a> {
    pub level: Level,
    pub usage: &'a CurrentUsage,
    pub trend: &'a TrendReport,
    pub gc_available: bool,
    pub proactive_gc: bool,
}

fn mb(bytes: u64) -> String {
    format!("{:.0} MB", bytes as f64 / 1048576.0)
}

pub fn recommendations(f: &Facts) -> Vec<String> {
    let u = f.usage;
    let mut out = Vec::new();
    let what = match u.pressure_source {
        PressureSource::Resident => format!(
            "resident memory is {:.1}% of the {} limit",
            u.usage_percentage,
            mb(u.limit_bytes)
        ),
        PressureSource::Heap => format!(
            "the V8 heap is {:.1}% of its {} limit",
            u.heap_usage_percentage,
            mb(u.heap_size_limit)
        ),
    };
    match f.level {
        Level::Emergency => out.push(format!(
            "Emergency: {what}. Run emergency cleanup, shed load, and restart the instance if memory does not fall"
        )),
        Level::Critical => out.push(format!(
            "Critical: {what}. Trim caches and buffers now; proactive cleanup runs at this level"
        )),
        Level::Warning => out.push(format!("Warning: {what}. Watch the trend and look for growing caches")),
        Level::Healthy => {}
    }
    if f.trend.is_increasing {
        let rate = f.trend.growth_rate_bytes_per_sec * 60.0 / 1048576.0;
        match f.trend.minutes_to_limit {
            Some(m) => out.push(format!(
                "Memory is growing by {rate:.1} MB/min; at the lower-bound rate the limit is reached in about {m:.0} min"
            )),
            None => out.push(format!("Memory is growing by {rate:.1} MB/min")),
        }
    }
    if !f.gc_available {
        out.push(
            "Garbage collection cannot be forced: start Node with --expose-gc (node --expose-gc app.js, or NODE_OPTIONS=--expose-gc) to enable forced and proactive GC"
                .into(),
        );
    } else if !f.proactive_gc && f.level >= Level::Critical {
        out.push("Proactive GC is disabled (PROACTIVE_GC_ENABLED=false); enabling it lets memwarden collect before the limit".into());
    }
    if u.heap_size_limit > u.limit_bytes && u.limit_source != LimitSource::Physical {
        let suggested = u.limit_bytes as f64 * 0.75 / 1048576.0;
        out.push(format!(
            "V8's heap limit ({}) is above the memory limit ({}): the process can be killed before V8 collects hard. Start Node with --max-old-space-size={:.0}",
            mb(u.heap_size_limit),
            mb(u.limit_bytes),
            suggested
        ));
    }
    if u.limit_source == LimitSource::Physical && u.platform != Platform::Local {
        out.push("No container memory limit was found; usage is measured against physical memory. Set MEMORY_LIMIT_MB to your plan's limit".into());
    }
    if out.is_empty() {
        out.push("Memory usage is stable".into());
        out.push("No immediate action required".into());
    }
    out
}

/// What to do about a suspected leak.
pub fn leak_recommendations(
    state: &LeakState,
    minutes_to_heap_limit: Option<f64>,
    minutes_to_limit: Option<f64>,
    gc_available: bool,
) -> Vec<String> {
    let mut out = Vec::new();
    if !state.leak_suspected {
        out.push("No leak suspected".to_string());
        return out;
    }
    let (e, what) = match state.signal {
        Some(Signal::External) => (
            &state.external,
            "off-heap memory (Buffers, ArrayBuffers, native strings) is growing while the V8 heap is not",
        ),
        _ => (&state.heap, "the live V8 heap (old generation after full collections) is growing"),
    };
    out.push(format!(
        "Suspected leak: {what} by {:.0} KB/s (at least {:.0} KB/s), and the growth survived full garbage collections",
        e.slope_bytes_per_sec / 1024.0,
        e.slope_low_bytes_per_sec / 1024.0,
    ));
    if let Some(m) = minutes_to_heap_limit.filter(|_| state.signal == Some(Signal::Heap)) {
        out.push(format!(
            "At this rate V8's heap limit is reached in about {m:.0} min"
        ));
    }
    if let Some(m) = minutes_to_limit {
        out.push(format!(
            "At this rate the memory limit is reached in about {m:.0} min"
        ));
    }
    match state.signal {
        Some(Signal::External) => out.push(
            "Look for Buffers kept in arrays, maps or closures (request bodies, stream chunks), and for streams that are never consumed or destroyed".into(),
        ),
        _ => {
            out.push("Look for caches without a bound or eviction, listeners added per request and never removed, timers never cleared, and closures held by long-lived objects".into());
            out.push("Call attributeLeak() (or see getLeakDetection().attribution) for the allocation sites still retaining memory".into());
        }
    }
    if !gc_available {
        out.push(
            "Start Node with --expose-gc so memwarden can confirm the leak with forced collections"
                .into(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage() -> CurrentUsage {
        CurrentUsage {
            heap_used: 0,
            heap_total: 0,
            external: 0,
            array_buffers: 0,
            rss: 0,
            working_set: None,
            cgroup_usage: None,
            resident_bytes: 0,
            limit_bytes: 512 << 20,
            limit_source: LimitSource::Override,
            limit_detail: String::new(),
            heap_size_limit: 256 << 20,
            detached_contexts: 0,
            usage_percentage: 10.0,
            heap_usage_percentage: 5.0,
            pressure_percentage: 10.0,
            pressure_source: PressureSource::Resident,
            platform: Platform::Render,
            platform_reason: String::new(),
        }
    }

    fn trend() -> TrendReport {
        TrendReport {
            time_window: 0.0,
            time_window_ms: 0,
            samples: 0,
            average_usage: 0.0,
            peak_usage: 0.0,
            growth_rate: 0.0,
            growth_rate_bytes_per_sec: 0.0,
            growth_rate_low_bytes_per_sec: 0.0,
            is_increasing: false,
            minutes_to_limit: None,
            minutes_to_heap_limit: None,
            leak_suspected: false,
            confidence: 0.0,
            enough_data: false,
        }
    }

    fn recs(
        level: Level,
        usage: &CurrentUsage,
        trend: &TrendReport,
        gc_available: bool,
    ) -> Vec<String> {
        recommendations(&Facts {
            level,
            usage,
            trend,
            gc_available,
            proactive_gc: true,
        })
    }

    #[test]
    fn healthy_and_gc_available_is_stable() {
        let u = usage();
        let t = trend();
        let r = recs(Level::Healthy, &u, &t, true);
        assert_eq!(
            r,
            vec!["Memory usage is stable", "No immediate action required"]
        );
    }

    #[test]
    fn missing_expose_gc_says_how_to_enable_it() {
        let u = usage();
        let t = trend();
        let r = recs(Level::Healthy, &u, &t, false);
        assert!(r.iter().any(|s| s.contains("--expose-gc")));
    }

    #[test]
    fn heap_limit_above_container_limit() {
        let mut u = usage();
        u.heap_size_limit = 2048 << 20;
        let t = trend();
        let r = recs(Level::Critical, &u, &t, true);
        assert!(r[0].starts_with("Critical"));
        assert!(
            r.iter().any(|s| s.contains("--max-old-space-size=384")),
            "{r:?}"
        );
    }

    #[test]
    fn growth_gives_time_to_limit() {
        let u = usage();
        let mut t = trend();
        t.is_increasing = true;
        t.growth_rate_bytes_per_sec = 1048576.0 / 60.0;
        t.minutes_to_limit = Some(42.0);
        let r = recs(Level::Healthy, &u, &t, true);
        assert!(
            r[0].contains("1.0 MB/min") && r[0].contains("42 min"),
            "{r:?}"
        );
    }
}
