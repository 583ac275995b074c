//! The N-API binding: type conversion, the sampler thread, panic safety.
//! Every entry point is `catch_unwind`: a Rust panic becomes a JS error.

mod sampler;

use crate::engine::config::{self, Config, Input};
use crate::engine::gc::{GcEvent, GcKind};
use crate::engine::limit::{self, Limit, LimitFacts};
use crate::engine::monitor::{Engine, Event, HeapSample};
use crate::engine::platform::HostFacts;
use crate::engine::{replay, trace};
use crate::sys::cgroup::{self, Discovery, RealFiles};
use crate::sys::procfs;
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use parking_lot::{Condvar, Mutex};
use sampler::Sampler;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Weak (does not keep the event loop alive), not callee-handled.
type EventCallback = ThreadsafeFunction<Value, (), Value, Status, false, true>;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value> {
    serde_json::to_value(v)
        .map_err(|e| Error::from_reason(format!("memwarden: serialization failed: {e}")))
}

fn host_facts(env: &BTreeMap<String, String>, discovery: &Discovery) -> HostFacts {
    let container = discovery.container.clone().or_else(|| {
        env.get("KUBERNETES_SERVICE_HOST")
            .filter(|v| !v.is_empty())
            .map(|_| "KUBERNETES_SERVICE_HOST is set".to_string())
    });
    HostFacts { container }
}

struct Resolved {
    config: Config,
    limit: Limit,
    discovery: Discovery,
}

fn resolve(
    options: &Value,
    env: HashMap<String, String>,
) -> std::result::Result<Resolved, Vec<config::Problem>> {
    let env: BTreeMap<String, String> = env.into_iter().collect();
    let empty = serde_json::Map::new();
    let options = match options {
        Value::Object(m) => m,
        Value::Null => &empty,
        other => {
            return Err(vec![config::Problem {
                setting: "options".into(),
                value: other.to_string(),
                accepted: "an object".into(),
                message: format!(
                    "options={other} is not an object; accepted: an object of settings"
                ),
            }])
        }
    };
    let discovery = cgroup::discover(&RealFiles);
    let host = host_facts(&env, &discovery);
    let config = config::resolve(&Input {
        options,
        env: &env,
        host: &host,
    })?;
    let override_name = config.sources.get("memoryLimitMb").map(|s| {
        s.strip_prefix("env ")
            .unwrap_or("the memoryLimitMb option")
            .to_string()
    });
    let facts = LimitFacts {
        override_bytes: config.memory_limit_bytes.zip(override_name),
        cgroup_v2: discovery.v2.clone(),
        cgroup_v1: discovery.v1.clone(),
        render: false,
        heroku_memory_available: env.get("MEMORY_AVAILABLE").cloned(),
        physical_bytes: procfs::physical_memory_bytes(),
    };
    let limit = limit::resolve(&facts, config.platform);
    Ok(Resolved {
        config,
        limit,
        discovery,
    })
}

/// Validates settings (options over `env` over platform presets) without starting
/// anything. Returns `{ ok: true, config, limit }` or `{ ok: false, problems }`.
#[napi(catch_unwind, ts_return_type = "ResolvedConfig")]
pub fn resolve_config(options: Value, env: HashMap<String, String>) -> Result<Value> {
    match resolve(&options, env) {
        Ok(r) => {
            Ok(json!({ "ok": true, "config": to_json(&r.config)?, "limit": to_json(&r.limit)? }))
        }
        Err(problems) => Ok(json!({ "ok": false, "problems": to_json(&problems)? })),
    }
}

/// Replays a trace through the engine. Returns `{ ok: true, analysis }` or
/// `{ ok: false, problems }` (each problem names the field and index).
#[napi(
    catch_unwind,
    ts_return_type = "{ ok: true, analysis: TraceAnalysis } | { ok: false, problems: string[] }"
)]
pub fn analyze_trace(trace: Value, options: Value) -> Result<Value> {
    let fail = |problems: Vec<String>| Ok(json!({ "ok": false, "problems": problems }));
    let parsed: trace::Trace = match serde_json::from_value(trace) {
        Ok(t) => t,
        Err(e) => return fail(vec![format!("trace is not a valid trace: {e}")]),
    };
    if let Err(problems) = trace::validate(&parsed) {
        return fail(problems);
    }
    let empty = serde_json::Map::new();
    let opts = match &options {
        Value::Object(m) => m,
        Value::Null => &empty,
        other => return fail(vec![format!("options={other} is not an object")]),
    };
    // Replays do not depend on the machine: the "other" preset unless options say otherwise.
    let env: BTreeMap<String, String> = [("NODE_ENV".to_string(), "production".to_string())].into();
    let mut config = match config::resolve(&Input {
        options: opts,
        env: &env,
        host: &HostFacts::default(),
    }) {
        Ok(c) => c,
        Err(problems) => return fail(problems.into_iter().map(|p| p.message).collect()),
    };
    if config
        .sources
        .get("monitoringIntervalMs")
        .map(String::as_str)
        != Some("option")
    {
        config.monitoring_interval_ms = replay::inferred_interval_ms(&parsed);
    }
    let Some(limit) = config
        .memory_limit_bytes
        .or(parsed.limit_bytes.map(|b| b as u64))
    else {
        return fail(vec![
            "the trace has no limitBytes: pass options.memoryLimitMb".into(),
        ]);
    };
    match replay::analyze(&parsed, &config, limit) {
        Ok(a) => Ok(json!({ "ok": true, "analysis": to_json(&a)? })),
        Err(problems) => fail(problems),
    }
}

/// The environment variables memwarden reads (the JS layer copies only these).
#[napi(catch_unwind)]
pub fn env_variable_names() -> Vec<String> {
    config::env_names().into_iter().map(String::from).collect()
}

struct Shared {
    engine: Mutex<Engine>,
    sampler: Mutex<Sampler>,
    stop: Mutex<bool>,
    wake: Condvar,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Bumped on every sample: the JS layer rebuilds its cached report when it changes.
    version: AtomicU64,
}

impl Shared {
    fn sample_native(&self) -> Vec<Event> {
        let sample = self.sampler.lock().sample();
        let events = self.engine.lock().ingest_native(now_ms(), sample);
        self.version.fetch_add(1, Ordering::Release);
        events
    }

    /// Stops and joins the sampler thread; safe to call more than once.
    fn stop(&self) {
        *self.stop.lock() = true;
        self.wake.notify_all();
        let handle = self.thread.lock().take();
        if let Some(h) = handle {
            if h.thread().id() != std::thread::current().id() {
                let _ = h.join();
            }
        }
    }
}

fn run_sampler(shared: Weak<Shared>, interval: Duration, on_event: EventCallback) {
    loop {
        let Some(s) = shared.upgrade() else { return };
        {
            let deadline = Instant::now() + interval;
            let mut stop = s.stop.lock();
            while !*stop && Instant::now() < deadline {
                s.wake.wait_until(&mut stop, deadline);
            }
            if *stop {
                return;
            }
        }
        let events =
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| s.sample_native())) {
                Ok(events) => events,
                Err(_) => return,
            };
        drop(s);
        if !events.is_empty() {
            let Ok(payload) = serde_json::to_value(&events) else {
                continue;
            };
            if on_event.call(payload, ThreadsafeFunctionCallMode::NonBlocking) == Status::Closing {
                return;
            }
        }
    }
}

/// One monitor per manager: owns the engine and the native sampler thread.
#[napi]
pub struct Monitor {
    shared: Arc<Shared>,
    config: Value,
}

#[napi]
impl Monitor {
    /// Validates the settings (throws `ERR_MEMWARDEN_CONFIG` on problems) and starts the
    /// sampler thread (named `memwarden`), whose first sample comes after one interval:
    /// call `sampleNow()` for the first one. `onEvent` receives arrays of events from
    /// the thread; it does not keep the process alive.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        env: Env,
        options: Value,
        env_vars: HashMap<String, String>,
        #[napi(ts_arg_type = "(events: Array<MemwardenEvent>) => void")] on_event: EventCallback,
    ) -> Result<Self> {
        let r = resolve(&options, env_vars).map_err(|problems| {
            let text = problems
                .iter()
                .map(|p| p.message.as_str())
                .collect::<Vec<_>>()
                .join("; ");
            Error::new(Status::InvalidArg, format!("ERR_MEMWARDEN_CONFIG: {text}"))
        })?;
        let now = now_ms();
        let interval = Duration::from_millis(r.config.monitoring_interval_ms);
        let config = json!({ "config": to_json(&r.config)?, "limit": to_json(&r.limit)? });
        let sampler = Sampler::new(&r.discovery, r.limit.source);
        let shared = Arc::new(Shared {
            engine: Mutex::new(Engine::new(&r.config, r.limit, now)),
            sampler: Mutex::new(sampler),
            stop: Mutex::new(false),
            wake: Condvar::new(),
            thread: Mutex::new(None),
            version: AtomicU64::new(0),
        });
        let weak = Arc::downgrade(&shared);
        let handle = std::thread::Builder::new()
            .name("memwarden".into())
            .spawn(move || run_sampler(weak, interval, on_event))
            .map_err(|e| {
                Error::from_reason(format!("memwarden: cannot start the sampler thread: {e}"))
            })?;
        *shared.thread.lock() = Some(handle);
        // A terminated worker runs cleanup hooks, not necessarily finalizers: stop the thread there too.
        let hook_target = Arc::downgrade(&shared);
        env.add_env_cleanup_hook(hook_target, |w: Weak<Shared>| {
            if let Some(s) = w.upgrade() {
                s.stop();
            }
        })?;
        Ok(Monitor { shared, config })
    }

    /// The resolved `{ config, limit }`.
    #[napi(
        getter,
        catch_unwind,
        ts_return_type = "{ config: MemwardenConfig, limit: MemoryLimit }"
    )]
    pub fn settings(&self) -> Value {
        self.config.clone()
    }

    /// Takes a native sample now; returns the events it raised.
    #[napi(catch_unwind, ts_return_type = "Array<MemwardenEvent>")]
    pub fn sample_now(&self) -> Result<Value> {
        to_json(&self.shared.sample_native())
    }

    /// Feeds V8 figures read on the JS thread; returns the events they raised.
    #[napi(catch_unwind, ts_return_type = "Array<MemwardenEvent>")]
    // Plain numbers cross the boundary far cheaper than an object's properties.
    #[allow(clippy::too_many_arguments)]
    pub fn ingest_heap(
        &self,
        heap_used: f64,
        heap_total: f64,
        external: f64,
        array_buffers: f64,
        heap_size_limit: f64,
        detached_contexts: f64,
        old_generation: f64,
    ) -> Result<Value> {
        let b = |x: f64| {
            if x.is_finite() && x > 0.0 {
                x as u64
            } else {
                0
            }
        };
        let sample = HeapSample {
            heap_used: b(heap_used),
            heap_total: b(heap_total),
            external: b(external),
            array_buffers: b(array_buffers),
            heap_size_limit: b(heap_size_limit),
            detached_contexts: b(detached_contexts),
            old_generation: b(old_generation),
        };
        let events = self.shared.engine.lock().ingest_heap(now_ms(), sample);
        self.shared.version.fetch_add(1, Ordering::Release);
        to_json(&events)
    }

    /// Records one collection: kind index (0 minor, 1 major, 2 incremental, 3 weak callbacks), pause in ms, forced or not,
    /// heap bytes before and after (negative when unknown). Unknown kinds are ignored.
    #[napi(catch_unwind)]
    pub fn record_gc(
        &self,
        kind: u32,
        duration_ms: f64,
        forced: bool,
        heap_before: f64,
        heap_after: f64,
    ) {
        let Some(kind) = GcKind::from_index(kind) else {
            return;
        };
        let known = |x: f64| (x.is_finite() && x >= 0.0).then_some(x as u64);
        self.shared.engine.lock().record_gc(GcEvent {
            timestamp: now_ms(),
            kind,
            duration_ms,
            forced,
            heap_before: known(heap_before),
            heap_after: known(heap_after),
        });
    }

    /// Records a full (major or forced) collection with the figures read just after it;
    /// negative numbers mean unknown. Feeds GC statistics, the trace and the leak detector;
    /// returns the events it raised (a GC-failure alert).
    #[napi(catch_unwind, ts_return_type = "Array<MemwardenEvent>")]
    pub fn record_full_gc(
        &self,
        duration_ms: f64,
        forced: bool,
        heap_before: f64,
        heap_after: f64,
        old_generation_after: f64,
        external_after: f64,
    ) -> Result<Value> {
        let known = |x: f64| (x.is_finite() && x >= 0.0).then_some(x as u64);
        let events = self.shared.engine.lock().record_full_gc(
            GcEvent {
                timestamp: now_ms(),
                kind: GcKind::Major,
                duration_ms,
                forced,
                heap_before: known(heap_before),
                heap_after: known(heap_after),
            },
            known(old_generation_after),
            known(external_after),
        );
        self.shared.version.fetch_add(1, Ordering::Release);
        to_json(&events)
    }

    /// Active alerts, the bounded history and the count suppressed by cooldowns.
    #[napi(catch_unwind, ts_return_type = "AlertsReport")]
    pub fn alerts(&self) -> Result<Value> {
        let r = self.shared.engine.lock().alerts();
        to_json(&r)
    }

    /// The Express middleware's monotonic request total (a leak risk factor: growth
    /// while traffic is flat), read once per heap sample.
    #[napi(catch_unwind)]
    pub fn note_requests(&self, total: f64) {
        self.shared.engine.lock().note_requests(now_ms(), total);
    }

    /// Whether the JS layer can run confirmation GCs (global.gc or the inspector).
    #[napi(catch_unwind)]
    pub fn set_confirmation_available(&self, available: bool) {
        self.shared
            .engine
            .lock()
            .set_confirmation_available(available);
    }

    /// The leak detector wants a confirmation GC now (suspected growth, cooldown passed).
    #[napi(catch_unwind)]
    pub fn confirmation_due(&self) -> bool {
        self.shared.engine.lock().confirmation_due(now_ms())
    }

    #[napi(catch_unwind)]
    pub fn note_confirmation(&self) {
        self.shared.engine.lock().note_confirmation(now_ms());
    }

    /// The leak detector's state, evidence, confidence and recommendations.
    #[napi(catch_unwind, ts_return_type = "LeakReport")]
    pub fn leak_report(&self) -> Result<Value> {
        let r = self.shared.engine.lock().leak_report(now_ms());
        to_json(&r)
    }

    /// Drops the resident history and recorded trace; returns the bytes released.
    #[napi(catch_unwind)]
    pub fn clear_history(&self) -> f64 {
        let freed = self.shared.engine.lock().clear_history();
        self.shared.version.fetch_add(1, Ordering::Release);
        freed as f64
    }

    /// The recorded trace: newest samples and full GCs, with the limit and interval.
    #[napi(catch_unwind, ts_return_type = "MemoryTrace")]
    pub fn export_trace(&self) -> Result<Value> {
        let t = self.shared.engine.lock().export_trace();
        to_json(&t)
    }

    /// The newest `samples` samples and `gc` full GCs of the recorded trace with its
    /// totals: cost independent of the history length (GET /metrics).
    #[napi(catch_unwind, ts_return_type = "MemoryTraceTail")]
    pub fn trace_tail(&self, samples: u32, gc: u32) -> Result<Value> {
        let t = self
            .shared
            .engine
            .lock()
            .trace_tail(samples as usize, gc as usize);
        to_json(&t)
    }

    #[napi(catch_unwind)]
    pub fn set_gc_available(&self, available: bool) {
        self.shared.engine.lock().set_gc_available(available);
    }

    /// Whether a proactive GC should run now (enabled, available, above the GC threshold, cooled down).
    #[napi(catch_unwind)]
    pub fn proactive_gc_due(&self) -> bool {
        self.shared.engine.lock().proactive_gc_due(now_ms())
    }

    #[napi(catch_unwind)]
    pub fn note_proactive_gc(&self) {
        self.shared.engine.lock().note_proactive_gc(now_ms());
    }

    /// Changes on every sample; cheap to read (no allocation).
    #[napi(catch_unwind)]
    pub fn version(&self) -> f64 {
        self.shared.version.load(Ordering::Acquire) as f64
    }

    /// The full health report (see `HealthReport` in index.d.ts).
    #[napi(catch_unwind, ts_return_type = "HealthReport")]
    pub fn report(&self) -> Result<Value> {
        let r = self.shared.engine.lock().report(now_ms());
        to_json(&r)
    }

    /// Stops and joins the sampler thread. Idempotent.
    #[napi(catch_unwind)]
    pub fn shutdown(&self) {
        self.shared.stop();
    }

    /// Test hook: proves a panic becomes a JS error instead of aborting the process.
    #[napi(catch_unwind, js_name = "__panicForTest")]
    pub fn panic_for_test(&self) {
        panic!("memwarden test panic");
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.shared.stop();
    }
}
