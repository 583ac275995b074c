//! The N-API binding: type conversion, the sampler thread, the JS-thread side of
//! heap reading and forced collections, panic safety. Every entry point is
//! `catch_unwind`: a Rust panic becomes a JS error.

mod sampler;
mod v8;

use crate::engine::config;
use crate::engine::gc::{GcEvent, GcKind};
use crate::engine::monitor::Engine;
use crate::engine::replay;
use crate::engine::report::{Event, HealthReport, HeapSample};
use crate::engine::status::Level;
use crate::sys::settings;
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeCallContext, ThreadsafeFunction};
use napi_derive::napi;
use parking_lot::{Condvar, Mutex};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use v8::V8Reader;

/// The JS `code` of configuration errors thrown by the addon.
pub struct ErrorCode(&'static str);

impl ErrorCode {
    const CONFIG: ErrorCode = ErrorCode("ERR_MEMWARDEN_CONFIG");
}

impl AsRef<str> for ErrorCode {
    fn as_ref(&self) -> &str {
        self.0
    }
}

impl From<Status> for ErrorCode {
    fn from(s: Status) -> Self {
        ErrorCode(match s {
            Status::InvalidArg => "InvalidArg",
            Status::PendingException => "PendingException",
            _ => "GenericFailure",
        })
    }
}

fn with_code(e: Error) -> Error<ErrorCode> {
    Error::new(ErrorCode::from(e.status), e.reason.clone())
}

/// Asks the JS thread for a heap sample (`false`) or a heap-watch reading between
/// samples (`true`); weak: never keeps the process alive. JS gets `onSample(periodic)`.
pub(crate) type ReadFn = ThreadsafeFunction<bool, (), bool, Status, false, true>;
/// Delivers the analysis' results to JS:
/// `(events, status, usagePercentage, pressurePercentage, timestamp, gcActions, confirmWithInspector)`.
pub(crate) type DeliverArgs = FnArgs<(Value, &'static str, f64, f64, f64, Value, bool)>;
pub(crate) type DeliverFn = ThreadsafeFunction<Delivery, (), DeliverArgs, Status, false, true>;

/// A monotonic clock in ms (since the first call in this process): what cooldowns follow.
fn mono_ms() -> u64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value> {
    serde_json::to_value(v)
        .map_err(|e| Error::from_reason(format!("memwarden: serialization failed: {e}")))
}

/// Validates settings (options over `env` over platform presets) without starting
/// anything. Returns `{ ok: true, config, limit }` or `{ ok: false, problems }`.
#[napi(catch_unwind, ts_return_type = "ResolvedConfig")]
pub fn resolve_config(options: Value, env: HashMap<String, String>) -> Result<Value> {
    match settings::resolve(&options, env.into_iter().collect()) {
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
    match replay::analyze_json(trace, &options) {
        Ok(a) => Ok(json!({ "ok": true, "analysis": to_json(&a)? })),
        Err(problems) => Ok(json!({ "ok": false, "problems": problems })),
    }
}

/// The environment variables memwarden reads (the JS layer copies only these).
#[napi(catch_unwind)]
pub fn env_variable_names() -> Vec<String> {
    config::env_names().into_iter().map(String::from).collect()
}

/// One kind of garbage collection, as the addon numbers and names it.
#[napi(object)]
pub struct GcKindInfo {
    /// The index `recordGc` takes.
    pub index: u32,
    /// The name in traces and reports.
    pub name: String,
    /// The `perf_hooks.constants` entry Node reports this kind with.
    pub node_constant: String,
}

/// The GC kinds (one definition, in the addon): the JS layer maps Node's
/// `perf_hooks.constants` to indexes with it.
#[napi(catch_unwind)]
pub fn gc_kinds() -> Vec<GcKindInfo> {
    GcKind::ALL
        .iter()
        .map(|k| GcKindInfo {
            index: k.index(),
            name: k.name().into(),
            node_constant: k.node_constant().into(),
        })
        .collect()
}

/// What `Monitor.snapshot()` returns.
#[napi(object)]
pub struct PressureSnapshot {
    #[napi(ts_type = "MemoryStatus")]
    pub status: String,
    pub usage_percentage: f64,
    pub pressure_percentage: f64,
    pub timestamp: f64,
}

/// Signals between the JS thread and the sampler thread.
#[derive(Default)]
pub(crate) struct Signal {
    pub stop: bool,
    /// A heap sample read on the JS thread, waiting for analysis: (time, figures, gc exposed).
    pub heap: Option<(u64, HeapSample, bool)>,
    /// A heap-watch reading (between samples, while the heap is high).
    pub watch: Option<(u64, HeapSample)>,
}

/// What one delivery carries to the JS thread.
pub(crate) struct Delivery {
    pub events: Vec<Event>,
    pub status: Level,
    pub usage_percentage: f64,
    pub pressure_percentage: f64,
    pub t_ms: u64,
    /// A proactive collection is due (its reason).
    pub gc: Option<&'static str>,
    /// The leak detector wants a confirmation collection.
    pub confirm: bool,
}

pub(crate) struct Shared {
    pub engine: Mutex<Engine>,
    pub signal: Mutex<Signal>,
    pub wake: Condvar,
    /// The running sampler thread (a new one after a panic).
    pub thread: Mutex<Option<JoinHandle<()>>>,
    /// Bumped whenever the engine's state changed: the JS layer rebuilds its cached report.
    pub version: AtomicU64,
    /// The report built on the sampler thread after its newest analysis, and the version it is of.
    report: Mutex<Option<(u64, HealthReport)>>,
    /// Test hook: the sampler's next iteration panics.
    pub panic_next: AtomicBool,
    pub blocked_threshold_ms: u64,
}

impl Shared {
    /// Analyses a heap sample (on the sampler thread): events, and the collections due.
    pub fn analyse_heap(
        &self,
        t: u64,
        h: HeapSample,
        gc_available: bool,
    ) -> (Vec<Event>, Option<&'static str>, bool) {
        let now = now_ms();
        let mut e = self.engine.lock();
        e.set_gc_available(gc_available);
        let events = e.ingest_heap(t, h);
        e.note_analysis_thread(std::thread::current().name());
        let gc = e.proactive_gc_due(now).then(|| {
            e.note_proactive_gc(now);
            "proactive_pressure"
        });
        let confirm = e.confirmation_due(now);
        if confirm {
            e.note_confirmation(now);
        }
        let version = self.version.fetch_add(1, Ordering::AcqRel) + 1;
        let report = e.report(now);
        drop(e);
        *self.report.lock() = Some((version, report));
        (events, gc, confirm)
    }

    pub fn delivery(&self, events: Vec<Event>, confirm: bool) -> Delivery {
        let (status, usage, pressure) = self.engine.lock().pressure_snapshot();
        Delivery {
            events,
            status,
            usage_percentage: usage,
            pressure_percentage: pressure,
            t_ms: now_ms(),
            gc: None,
            confirm,
        }
    }

    /// Hands heap figures read on the JS thread to the sampler thread.
    fn hand_over(&self, t: u64, h: HeapSample, gc_available: bool) {
        self.signal.lock().heap = Some((t, h, gc_available));
        self.wake.notify_all();
    }

    /// Stops and joins the sampler thread; safe to call more than once.
    fn stop(&self) {
        self.signal.lock().stop = true;
        self.wake.notify_all();
        // A thread that panicked hands over to a new one: join until none is left.
        loop {
            let handle = self.thread.lock().take();
            let Some(h) = handle else { break };
            if h.thread().id() == std::thread::current().id() {
                break;
            }
            let _ = h.join();
        }
        let mut e = self.engine.lock();
        let restarts = e.sampler_restarts();
        e.set_sampler_state(crate::engine::report::SamplerState::Stopped, restarts);
    }
}

/// A full collection through `global.gc`, run on the JS thread: the action record
/// (as `forceGarbageCollection()` returns it) and the events it raised.
fn forced_gc(env: &Env, reader: &V8Reader, shared: &Shared, reason: &str) -> (Value, Vec<Event>) {
    let t = now_ms();
    let before = reader.heap_used_bytes(env);
    let start = Instant::now();
    match v8::run_gc(env) {
        Err(error) => {
            shared
                .engine
                .lock()
                .set_gc_available(v8::gc_function(env).is_some());
            let action = json!({
                "type": "gc", "reason": reason, "method": "global.gc", "success": false,
                "memoryBefore": before, "memoryAfter": before, "freedBytes": 0,
                "durationMs": start.elapsed().as_secs_f64() * 1000.0, "error": error,
                "recommendation": "Start Node with --expose-gc (node --expose-gc app.js, or NODE_OPTIONS=--expose-gc) to enable forced garbage collection",
                "timestamp": t,
            });
            (action, Vec::new())
        }
        Ok(()) => {
            let duration_ms = start.elapsed().as_secs_f64() * 1000.0;
            let after = reader.read(env);
            let events = shared.engine.lock().record_full_gc(
                GcEvent {
                    t_ms: t,
                    kind: GcKind::Major,
                    duration_ms,
                    forced: true,
                    heap_before_bytes: Some(before),
                    heap_after_bytes: Some(after.heap_used),
                },
                Some(after.old_gen()),
                Some(after.external_bytes),
            );
            shared.version.fetch_add(1, Ordering::Release);
            shared.hand_over(now_ms(), after, true);
            let action = json!({
                "type": "gc", "reason": reason, "method": "global.gc", "success": true,
                "memoryBefore": before, "memoryAfter": after.heap_used,
                "freedBytes": before.saturating_sub(after.heap_used),
                "durationMs": duration_ms, "timestamp": t,
                "after": {
                    "heapUsed": after.heap_used,
                    "oldGeneration": after.old_gen(),
                    "external": after.external_bytes,
                },
            });
            (action, events)
        }
    }
}

fn to_events(events: &[Event]) -> Value {
    serde_json::to_value(events).unwrap_or(Value::Array(Vec::new()))
}

/// One monitor per manager: owns the engine and the native sampler thread.
#[napi]
pub struct Monitor {
    shared: Arc<Shared>,
    reader: Arc<V8Reader>,
    config: Value,
    usage: Option<crate::sys::cgroup::UsageFiles>,
}

#[napi]
impl Monitor {
    /// Validates the settings (throws with `code: 'ERR_MEMWARDEN_CONFIG'` on problems)
    /// and starts the sampler thread (named `memwarden`). Every interval the thread
    /// samples resident memory, asks the JS thread for V8's figures (the addon reads
    /// them through `v8`'s functions and Node's `process.memoryUsage`, then calls
    /// `onSample(true)`; while the heap is high it also asks for readings between
    /// samples, then `onSample(false)`), analyses them on its own thread and calls `onDelivery(events,
    /// status, usagePercentage, pressurePercentage, timestamp, gcActions,
    /// confirmWithInspector)` with the results (after running any collection that was
    /// due through `global.gc`). Neither callback keeps the process alive. The first
    /// sample comes after one interval: call `sampleNow()` for one at once.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        env: Env,
        options: Value,
        env_vars: HashMap<String, String>,
        #[napi(ts_arg_type = "typeof import('node:v8')")] v8: Object,
        #[napi(ts_arg_type = "(periodic: boolean) => void")] on_sample: Function<bool, ()>,
        #[napi(
            ts_arg_type = "(events: Array<MemwardenEvent>, status: MemoryStatus, usagePercentage: number, pressurePercentage: number, timestamp: number, gcActions: Array<GcAction>, confirmWithInspector: boolean) => void"
        )]
        on_delivery: Function<DeliverArgs, ()>,
    ) -> std::result::Result<Self, Error<ErrorCode>> {
        let env_vars: BTreeMap<String, String> = env_vars.into_iter().collect();
        let r = settings::resolve(&options, env_vars).map_err(|problems| {
            let text = problems
                .iter()
                .map(|p| p.message.as_str())
                .collect::<Vec<_>>()
                .join("; ");
            Error::new(
                ErrorCode::CONFIG,
                format!("memwarden: invalid configuration: {text}"),
            )
        })?;
        let now = now_ms();
        let interval = Duration::from_millis(r.config.monitoring_interval_ms);
        let config = json!({ "config": to_json(&r.config).map_err(with_code)?, "limit": to_json(&r.limit).map_err(with_code)? });
        let usage = sampler::usage_files(&r.discovery, r.limit.source);
        let thread_usage = usage.clone();
        let engine = Engine::new(&r.config, r.limit, now);
        let blocked_threshold_ms = engine.blocked_threshold_ms();
        let shared = Arc::new(Shared {
            engine: Mutex::new(engine),
            signal: Mutex::new(Signal::default()),
            wake: Condvar::new(),
            thread: Mutex::new(None),
            version: AtomicU64::new(0),
            report: Mutex::new(None),
            panic_next: AtomicBool::new(false),
            blocked_threshold_ms,
        });
        let reader = Arc::new(V8Reader::new(&env, &v8).map_err(with_code)?);
        let read: ReadFn = {
            let weak = Arc::downgrade(&shared);
            let reader = reader.clone();
            on_sample
                .build_threadsafe_function::<bool>()
                .weak::<true>()
                .build_callback(move |ctx: ThreadsafeCallContext<bool>| {
                    let watch = ctx.value;
                    if let Some(s) = weak.upgrade() {
                        let h = reader.read(&ctx.env);
                        if watch {
                            s.signal.lock().watch = Some((now_ms(), h));
                            s.wake.notify_all();
                        } else {
                            let gc = v8::gc_function(&ctx.env).is_some();
                            s.hand_over(now_ms(), h, gc);
                        }
                    }
                    Ok(!watch)
                })
                .map_err(with_code)?
        };
        let deliver: DeliverFn = {
            let weak = Arc::downgrade(&shared);
            let reader = reader.clone();
            on_delivery
                .build_threadsafe_function::<Delivery>()
                .weak::<true>()
                .build_callback(move |ctx: ThreadsafeCallContext<Delivery>| {
                    let mut d = ctx.value;
                    let mut actions = Vec::new();
                    let mut inspect = false;
                    if let Some(s) = weak.upgrade() {
                        if let Some(reason) = d.gc {
                            let (a, ev) = forced_gc(&ctx.env, &reader, &s, reason);
                            actions.push(a);
                            d.events.extend(ev);
                        }
                        if d.confirm {
                            if v8::gc_function(&ctx.env).is_some() {
                                let (a, ev) = forced_gc(&ctx.env, &reader, &s, "leak_confirmation");
                                actions.push(a);
                                d.events.extend(ev);
                            } else {
                                inspect = true;
                            }
                        }
                    }
                    Ok(FnArgs::from((
                        to_events(&d.events),
                        d.status.as_str(),
                        d.usage_percentage,
                        d.pressure_percentage,
                        d.t_ms as f64,
                        Value::Array(actions),
                        inspect,
                    )))
                })
                .map_err(with_code)?
        };
        let handle = sampler::spawn(sampler::ThreadArgs {
            shared: Arc::downgrade(&shared),
            interval,
            usage: thread_usage,
            read: Arc::new(read),
            deliver: Arc::new(deliver),
            restarts: 0,
        })
        .map_err(|e| {
            Error::new(
                ErrorCode::from(Status::GenericFailure),
                format!("memwarden: cannot start the sampler thread: {e}"),
            )
        })?;
        *shared.thread.lock() = Some(handle);
        // A terminated worker runs cleanup hooks, not necessarily finalizers: stop the thread there too.
        let hook_target = Arc::downgrade(&shared);
        env.add_env_cleanup_hook(hook_target, |w: Weak<Shared>| {
            if let Some(s) = w.upgrade() {
                s.stop();
            }
        })
        .map_err(with_code)?;
        Ok(Monitor {
            shared,
            reader,
            config,
            usage,
        })
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

    /// Samples resident memory and the heap now and analyses both on this (the JS)
    /// thread; returns the events raised. For explicit checks (start-up,
    /// checkMemoryPressure(), cleanup runs), not the periodic path.
    #[napi(catch_unwind, ts_return_type = "Array<MemwardenEvent>")]
    pub fn sample_now(&self, env: Env) -> Result<Value> {
        let usage = sampler::Sampler::new(self.usage.clone()).sample();
        let h = self.reader.read(&env);
        let gc = v8::gc_function(&env).is_some();
        let now = now_ms();
        let mut e = self.shared.engine.lock();
        e.set_gc_available(gc);
        let mut events = e.ingest_native(now, usage);
        events.extend(e.ingest_heap(now, h));
        e.note_analysis_thread(std::thread::current().name());
        drop(e);
        self.shared.version.fetch_add(1, Ordering::Release);
        to_json(&events)
    }

    /// Records one collection that `PerformanceObserver` reported: its kind index (see
    /// `gcKinds()`), pause in ms and whether it was forced. Unknown kinds are ignored.
    /// Returns whether the heap is high enough that `readOldGeneration()` should follow.
    #[napi(catch_unwind)]
    pub fn record_gc(&self, kind: u32, duration_ms: f64, forced: bool) -> bool {
        let Some(kind) = GcKind::from_index(kind) else {
            return false;
        };
        let mut e = self.shared.engine.lock();
        e.record_gc(GcEvent {
            t_ms: now_ms(),
            kind,
            duration_ms,
            forced,
            heap_before_bytes: None,
            heap_after_bytes: None,
        });
        e.heap_watch()
    }

    /// Reads the old generation through the env (after collections, while the heap is
    /// high) and lets it move the heap side of the status; returns the events raised.
    #[napi(catch_unwind, ts_return_type = "Array<MemwardenEvent>")]
    pub fn read_old_generation(&self, env: Env) -> Result<Value> {
        let old = self.reader.old_generation(&env);
        let events = self.shared.engine.lock().note_old_generation(now_ms(), old);
        if !events.is_empty() {
            self.shared.version.fetch_add(1, Ordering::Release);
        }
        to_json(&events)
    }

    /// Records a full collection that just ended (observed, or run through the
    /// inspector): the addon reads the heap after it through the env. `heapBefore`
    /// negative means unknown. Feeds GC statistics, the trace, the leak detector and
    /// the heap side of the status; returns the events raised (a `status` change, a
    /// GC-failure alert).
    #[napi(catch_unwind, ts_return_type = "Array<MemwardenEvent>")]
    pub fn record_full_gc(
        &self,
        env: Env,
        duration_ms: f64,
        forced: bool,
        heap_before: f64,
    ) -> Result<Value> {
        let after = self.reader.read(&env);
        let known = |x: f64| (x.is_finite() && x >= 0.0).then_some(x as u64);
        let events = self.shared.engine.lock().record_full_gc(
            GcEvent {
                t_ms: now_ms(),
                kind: GcKind::Major,
                duration_ms,
                forced,
                heap_before_bytes: known(heap_before),
                heap_after_bytes: Some(after.heap_used),
            },
            Some(after.old_gen()),
            Some(after.external_bytes),
        );
        self.shared.version.fetch_add(1, Ordering::Release);
        to_json(&events)
    }

    /// Runs a full collection through `global.gc` (looked up through the env) and
    /// records it. Returns `{ action, events }`; `action.success` is false with the
    /// reason when gc is not exposed.
    #[napi(
        catch_unwind,
        ts_return_type = "{ action: GcAction, events: Array<MemwardenEvent> }"
    )]
    pub fn force_gc(&self, env: Env, reason: String) -> Result<Value> {
        let (action, events) = forced_gc(&env, &self.reader, &self.shared, &reason);
        Ok(json!({ "action": action, "events": to_events(&events) }))
    }

    /// Reads the heap figures now (through the env) and hands them to the sampler
    /// thread for analysis as a sample (after a collection JS ran through the inspector).
    #[napi(catch_unwind)]
    pub fn hand_over_heap_sample(&self, env: Env) {
        let h = self.reader.read(&env);
        let gc = v8::gc_function(&env).is_some();
        self.shared.hand_over(now_ms(), h, gc);
    }

    /// V8's used heap bytes, read through the env now.
    #[napi(catch_unwind)]
    pub fn heap_used_bytes(&self, env: Env) -> f64 {
        self.reader.heap_used_bytes(&env) as f64
    }

    /// Whether `global.gc` is exposed (looked up through the env).
    #[napi(catch_unwind)]
    pub fn gc_exposed(&self, env: Env) -> bool {
        v8::gc_function(&env).is_some()
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

    /// Whether a proactive GC should run now (enabled, available, above the GC threshold, cooled down).
    #[napi(catch_unwind)]
    pub fn proactive_gc_due(&self) -> bool {
        self.shared.engine.lock().proactive_gc_due(now_ms())
    }

    #[napi(catch_unwind)]
    pub fn note_proactive_gc(&self) {
        self.shared.engine.lock().note_proactive_gc(now_ms());
    }

    /// Whether a proactive cleanup may start now: at most one per `cooldownMs` (on a
    /// monotonic clock); starts the cooldown when it may.
    #[napi(catch_unwind)]
    pub fn cleanup_may_start(&self, cooldown_ms: f64) -> bool {
        let ms = if cooldown_ms.is_finite() && cooldown_ms > 0.0 {
            cooldown_ms as u64
        } else {
            0
        };
        self.shared.engine.lock().cleanup_may_start(mono_ms(), ms)
    }

    /// Whether an automatic leak attribution is due: a leak is flagged and none started
    /// within `everyMs` on a monotonic clock; starts the cooldown when due.
    #[napi(catch_unwind)]
    pub fn auto_attribution_due(&self, every_ms: f64) -> bool {
        let every = if every_ms.is_finite() && every_ms > 0.0 {
            every_ms as u64
        } else {
            0
        };
        self.shared
            .engine
            .lock()
            .auto_attribution_due(every, mono_ms())
    }

    /// The status and the figures the per-request middleware shows, without building
    /// the report (a few numbers, not the whole report object).
    #[napi(catch_unwind)]
    pub fn snapshot(&self) -> PressureSnapshot {
        let (status, usage, pressure) = self.shared.engine.lock().pressure_snapshot();
        PressureSnapshot {
            status: status.as_str().into(),
            usage_percentage: usage,
            pressure_percentage: pressure,
            timestamp: now_ms() as f64,
        }
    }

    /// Changes whenever the engine's state changed; cheap to read (no allocation).
    #[napi(catch_unwind)]
    pub fn version(&self) -> f64 {
        self.shared.version.load(Ordering::Acquire) as f64
    }

    /// The full health report (see `HealthReport` in index.d.ts): the one the sampler
    /// thread built after its newest analysis, brought up to now, or built here when
    /// something changed since.
    #[napi(catch_unwind, ts_return_type = "HealthReport")]
    pub fn report(&self) -> Result<Value> {
        let version = self.shared.version.load(Ordering::Acquire);
        let cached = self
            .shared
            .report
            .lock()
            .as_ref()
            .filter(|(v, _)| *v == version)
            .map(|(_, r)| r.clone());
        let now = now_ms();
        let e = self.shared.engine.lock();
        let r = match cached {
            Some(r) => e.refresh_report(r, now),
            None => e.report(now),
        };
        drop(e);
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

    /// Test hook: the sampler thread's next iteration panics (it is reported and restarted).
    #[napi(catch_unwind, js_name = "__panicSamplerForTest")]
    pub fn panic_sampler_for_test(&self) {
        self.shared.panic_next.store(true, Ordering::Release);
        self.shared.wake.notify_all();
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.shared.stop();
    }
}
