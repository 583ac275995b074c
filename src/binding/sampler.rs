//! The sampler thread (`memwarden`): resident memory from procfs and the cgroup on
//! its own schedule, heap figures asked of the JS thread through a weak thread-safe
//! function, and the analysis of both (status, trend, leak detector, alert rules)
//! here, off the JS thread. Results go back through a second weak thread-safe
//! function. A panic is caught, reported and the loop restarted a bounded number of times.

use super::{now_ms, DeliverFn, ReadFn, Shared};
use crate::engine::limit::LimitSource;
use crate::engine::monitor::HEAP_WATCH_INTERVAL_MS;
use crate::engine::report::{ErrorEvent, Event, NativeSample, SamplerState};
use crate::engine::status::Level;
use crate::sys::cgroup::{self, Discovery, RealFiles, UsageFiles};
use crate::sys::procfs::RssReader;
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi::Status;
use std::sync::atomic::Ordering;
use std::sync::Weak;
use std::time::{Duration, Instant};

/// A change of usage or pressure (percentage points) that JS's request snapshot must see
/// (its usage header shows one decimal).
const SNAPSHOT_STEP: f64 = 0.05;

/// Restarts after a panic before the sampler stays stopped.
pub const MAX_RESTARTS: u32 = 3;

pub struct Sampler {
    rss: RssReader,
    usage: Option<UsageFiles>,
}

/// Which cgroup usage files to read: only when the limit is a cgroup's (elsewhere the
/// cgroup, if any, may hold the whole machine).
pub fn usage_files(discovery: &Discovery, source: LimitSource) -> Option<UsageFiles> {
    match source {
        LimitSource::CgroupV2 => discovery.usage_v2.clone(),
        LimitSource::CgroupV1 => discovery.usage_v1.clone(),
        _ => None,
    }
}

impl Sampler {
    pub fn new(usage: Option<UsageFiles>) -> Sampler {
        Sampler {
            rss: RssReader::new(),
            usage,
        }
    }

    pub fn sample(&mut self) -> NativeSample {
        let rss = self.rss.rss_bytes();
        let usage = self
            .usage
            .as_ref()
            .and_then(|f| cgroup::read_usage(&RealFiles, f));
        NativeSample {
            rss_bytes: rss,
            cgroup_usage_bytes: usage.map(|u| u.0),
            working_set_bytes: usage.map(|u| u.1),
        }
    }
}

/// What woke the loop.
enum Wake {
    Stop,
    Heap,
    Watch,
    WatchDue,
    Sample,
    Check,
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// What a sampler thread needs; handed on to a fresh thread after a panic.
pub struct ThreadArgs {
    pub shared: Weak<Shared>,
    pub interval: Duration,
    pub usage: Option<UsageFiles>,
    pub read: std::sync::Arc<ReadFn>,
    pub deliver: std::sync::Arc<DeliverFn>,
    /// Restarts so far.
    pub restarts: u32,
}

/// Starts a sampler thread, named `memwarden`.
pub fn spawn(args: ThreadArgs) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("memwarden".into())
        .spawn(move || run(args))
}

/// The thread's body: the sampling loop. A panic is caught and reported, and a fresh
/// thread takes over, at most MAX_RESTARTS times; after that sampling stays stopped.
fn run(args: ThreadArgs) {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        sample_loop(
            &args.shared,
            args.interval,
            args.usage.clone(),
            &args.read,
            &args.deliver,
        )
    }));
    let Err(payload) = outcome else { return };
    let Some(s) = args.shared.upgrade() else {
        return;
    };
    let restarts = args.restarts + 1;
    let mut state = if restarts > MAX_RESTARTS {
        SamplerState::Stopped
    } else {
        SamplerState::Restarted
    };
    let mut next = None;
    if state == SamplerState::Restarted && !s.signal.lock().stop {
        // stop() joins whatever handle it finds until none is left, so this one is joined too.
        match spawn(ThreadArgs {
            shared: args.shared.clone(),
            interval: args.interval,
            usage: args.usage.clone(),
            read: args.read.clone(),
            deliver: args.deliver.clone(),
            restarts,
        }) {
            Ok(h) => next = Some(h),
            Err(_) => state = SamplerState::Stopped,
        }
    }
    let message = format!(
        "memwarden: the sampler thread panicked ({}); {}",
        panic_message(payload.as_ref()),
        if state == SamplerState::Stopped {
            format!(
                "stopped after {} restarts: resident memory is no longer sampled",
                restarts - 1
            )
        } else {
            format!("restarted on a new thread ({restarts} of {MAX_RESTARTS})")
        }
    );
    {
        let mut e = s.engine.lock();
        e.set_sampler_state(state, restarts);
        e.forget_heap_request();
    }
    s.version.fetch_add(1, Ordering::Release);
    let event = Event::Error(ErrorEvent {
        kind: "error",
        message,
        sampler: state,
        restarts,
        timestamp: now_ms(),
    });
    let d = s.delivery(vec![event], false);
    let _ = args
        .deliver
        .call(d, ThreadsafeFunctionCallMode::NonBlocking);
    if let Some(h) = next {
        *s.thread.lock() = Some(h);
    }
}

fn sample_loop(
    shared: &Weak<Shared>,
    interval: Duration,
    usage: Option<UsageFiles>,
    read: &ReadFn,
    deliver: &DeliverFn,
) {
    let mut sampler = Sampler::new(usage);
    let mut next = Instant::now() + interval;
    // While a heap read is outstanding: when to look at the event loop again.
    let mut check_at: Option<Instant> = None;
    // Events of resident samples, delivered with the heap analysis that follows.
    let mut held: Vec<Event> = Vec::new();
    // While the heap is high: when to ask for the next heap-watch reading, and whether one is on its way.
    let mut watch_at: Option<Instant> = None;
    let mut watch_pending = false;
    let watch_every = Duration::from_millis(HEAP_WATCH_INTERVAL_MS);
    // The status and figures JS last received (its request snapshot).
    let mut last_shown: Option<(Level, f64, f64)> = None;
    loop {
        let Some(s) = shared.upgrade() else { return };
        let (wake, heap, watched) = {
            let mut sig = s.signal.lock();
            loop {
                if sig.stop {
                    break (Wake::Stop, None, None);
                }
                if let Some(h) = sig.heap.take() {
                    break (Wake::Heap, Some(h), None);
                }
                if let Some(w) = sig.watch.take() {
                    break (Wake::Watch, None, Some(w));
                }
                let now = Instant::now();
                if now >= next {
                    break (Wake::Sample, None, None);
                }
                if check_at.is_some_and(|c| now >= c) {
                    break (Wake::Check, None, None);
                }
                if !watch_pending && watch_at.is_some_and(|w| now >= w) {
                    break (Wake::WatchDue, None, None);
                }
                let mut until = check_at.map_or(next, |c| c.min(next));
                if !watch_pending {
                    if let Some(w) = watch_at {
                        until = until.min(w);
                    }
                }
                s.wake.wait_until(&mut sig, until);
            }
        };
        if s.panic_next.swap(false, Ordering::AcqRel) {
            panic!("sampler panic requested by the test hook");
        }
        match wake {
            Wake::Stop => return,
            Wake::Watch => {
                watch_pending = false;
                let (t, h) = watched.expect("a heap-watch reading");
                let (events, watching) = {
                    let mut e = s.engine.lock();
                    let events = e.note_heap_reading(t, h);
                    (events, e.heap_watch())
                };
                s.version.fetch_add(1, Ordering::Release);
                watch_at = watching.then(|| Instant::now() + watch_every);
                if !events.is_empty() {
                    held.extend(events);
                    let d = s.delivery(std::mem::take(&mut held), false);
                    if deliver.call(d, ThreadsafeFunctionCallMode::NonBlocking) == Status::Closing {
                        return;
                    }
                }
            }
            Wake::WatchDue => {
                watch_at = None;
                // Not while a periodic read is outstanding (the JS thread is busy or about to answer it).
                if !s.engine.lock().heap_read_pending() {
                    watch_pending = true;
                    if read.call(true, ThreadsafeFunctionCallMode::NonBlocking) == Status::Closing {
                        return;
                    }
                }
            }
            Wake::Heap => {
                let (t, h, gc_available) = heap.expect("a heap sample");
                check_at = None;
                let (mut events, due_gc, confirm) = s.analyse_heap(t, h, gc_available);
                if !watch_pending && s.engine.lock().heap_watch() {
                    watch_at.get_or_insert(Instant::now() + watch_every);
                }
                held.append(&mut events);
                let mut d = s.delivery(std::mem::take(&mut held), confirm);
                d.gc = due_gc;
                // Each delivery wakes the JS thread (~150 µs of its CPU on a small VM,
                // more than the work itself): only when JS has something to do.
                let shown = (d.status, d.usage_percentage, d.pressure_percentage);
                let moved = |l: &(Level, f64, f64)| {
                    l.0 != shown.0
                        || (l.1 - shown.1).abs() >= SNAPSHOT_STEP
                        || (l.2 - shown.2).abs() >= SNAPSHOT_STEP
                };
                let needed = !d.events.is_empty()
                    || d.gc.is_some()
                    || d.confirm
                    || shown.0 >= Level::Critical
                    || last_shown.as_ref().is_none_or(moved);
                if needed {
                    last_shown = Some(shown);
                    if deliver.call(d, ThreadsafeFunctionCallMode::NonBlocking) == Status::Closing {
                        return;
                    }
                }
            }
            Wake::Sample => {
                next = Instant::now() + interval;
                let sample = sampler.sample();
                let now = now_ms();
                let ask = {
                    let mut e = s.engine.lock();
                    held.extend(e.ingest_native(now, sample));
                    let outstanding = e.heap_read_pending();
                    e.note_heap_requested(now);
                    !outstanding
                };
                s.version.fetch_add(1, Ordering::Release);
                let step = Duration::from_millis(s.blocked_threshold_ms / 2)
                    .max(Duration::from_millis(50));
                if ask {
                    check_at = Some(Instant::now() + step);
                    if read.call(false, ThreadsafeFunctionCallMode::NonBlocking) == Status::Closing
                    {
                        return;
                    }
                } else if !held.is_empty() {
                    // The JS thread has not answered the last read: deliver what the
                    // resident sample raised now (it queues until the thread is free).
                    let d = s.delivery(std::mem::take(&mut held), false);
                    if deliver.call(d, ThreadsafeFunctionCallMode::NonBlocking) == Status::Closing {
                        return;
                    }
                }
            }
            Wake::Check => {
                let step = Duration::from_millis(s.blocked_threshold_ms / 2)
                    .max(Duration::from_millis(50));
                check_at = Some(Instant::now() + step);
                let event = s.engine.lock().check_event_loop(now_ms());
                if let Some(e) = event {
                    s.version.fetch_add(1, Ordering::Release);
                    held.push(e);
                    let d = s.delivery(std::mem::take(&mut held), false);
                    if deliver.call(d, ThreadsafeFunctionCallMode::NonBlocking) == Status::Closing {
                        return;
                    }
                }
            }
        }
    }
}
