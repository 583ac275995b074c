//! V8's figures and `global.gc`, read through the N-API env on the JS thread.
//!
//! The addon holds references to Node's own `process.memoryUsage`,
//! `v8.getHeapStatistics` and `v8.getHeapSpaceStatistics` (taken at start-up, so a
//! later change to those properties, e.g. a test's stub, does not reach it) and calls
//! them with raw N-API calls: property names are static C strings, so a read
//! allocates nothing on the Rust side. `global.gc` is looked up on each use (Node
//! has it only with --expose-gc).

use crate::engine::report::HeapSample;
use napi::bindgen_prelude::*;
use napi::{sys, JsValue};
use std::ffi::CStr;
use std::ptr;

type Fn0 = FunctionRef<(), ()>;

/// References to the three functions; lives on the JS thread's side (the monitor
/// object and the thread-safe function that reads a sample).
pub struct V8Reader {
    memory_usage: Fn0,
    heap_statistics: Fn0,
    heap_space_statistics: Fn0,
}

fn ok(status: sys::napi_status) -> Option<()> {
    (status == sys::Status::napi_ok).then_some(())
}

unsafe fn named(env: sys::napi_env, obj: sys::napi_value, key: &CStr) -> Option<sys::napi_value> {
    let mut v = ptr::null_mut();
    ok(sys::napi_get_named_property(env, obj, key.as_ptr(), &mut v))?;
    Some(v)
}

unsafe fn number(env: sys::napi_env, obj: sys::napi_value, key: &CStr) -> f64 {
    let Some(v) = named(env, obj, key) else {
        return f64::NAN;
    };
    let mut d = 0.0;
    match ok(sys::napi_get_value_double(env, v, &mut d)) {
        Some(()) => d,
        None => f64::NAN,
    }
}

unsafe fn is_function(env: sys::napi_env, v: sys::napi_value) -> bool {
    let mut t = 0;
    sys::napi_typeof(env, v, &mut t) == sys::Status::napi_ok && t == sys::ValueType::napi_function
}

/// Calls `f()` with `this` undefined; None when it threw (the exception is cleared).
unsafe fn call0(env: sys::napi_env, f: sys::napi_value) -> Option<sys::napi_value> {
    let mut undefined = ptr::null_mut();
    ok(sys::napi_get_undefined(env, &mut undefined))?;
    let mut out = ptr::null_mut();
    if sys::napi_call_function(env, undefined, f, 0, ptr::null(), &mut out) != sys::Status::napi_ok
    {
        let mut pending = false;
        sys::napi_is_exception_pending(env, &mut pending);
        if pending {
            let mut e = ptr::null_mut();
            sys::napi_get_and_clear_last_exception(env, &mut e);
        }
        return None;
    }
    Some(out)
}

/// A byte count: finite and non-negative, else 0 (unknown).
fn bytes(x: f64) -> u64 {
    if x.is_finite() && x > 0.0 {
        x as u64
    } else {
        0
    }
}

fn function_ref(env: &Env, value: sys::napi_value, what: &str) -> Result<Fn0> {
    if !unsafe { is_function(env.raw(), value) } {
        return Err(Error::new(
            Status::InvalidArg,
            format!("memwarden: {what} is not a function"),
        ));
    }
    let f = unsafe { Function::<(), ()>::from_napi_value(env.raw(), value)? };
    f.create_ref()
}

impl V8Reader {
    /// `v8` is Node's `node:v8` module; `process.memoryUsage` is taken from the global `process`.
    pub fn new(env: &Env, v8: &Object) -> Result<V8Reader> {
        let raw = env.raw();
        let global = env.get_global()?;
        let process = unsafe { named(raw, global.raw(), c"process") }
            .ok_or_else(|| Error::from_reason("memwarden: no global process object"))?;
        let mu = unsafe { named(raw, process, c"memoryUsage") }
            .ok_or_else(|| Error::from_reason("memwarden: no process.memoryUsage"))?;
        let hs = unsafe { named(raw, v8.raw(), c"getHeapStatistics") }
            .ok_or_else(|| Error::from_reason("memwarden: no v8.getHeapStatistics"))?;
        let hss = unsafe { named(raw, v8.raw(), c"getHeapSpaceStatistics") }
            .ok_or_else(|| Error::from_reason("memwarden: no v8.getHeapSpaceStatistics"))?;
        Ok(V8Reader {
            memory_usage: function_ref(env, mu, "process.memoryUsage")?,
            heap_statistics: function_ref(env, hs, "v8.getHeapStatistics")?,
            heap_space_statistics: function_ref(env, hss, "v8.getHeapSpaceStatistics")?,
        })
    }

    /// One heap sample. Must run on the JS thread. Unknown figures are 0.
    pub fn read(&self, env: &Env) -> HeapSample {
        let raw = env.raw();
        let mut h = HeapSample::default();
        unsafe {
            if let Some(m) = self.call(env, &self.memory_usage) {
                h.heap_used = bytes(number(raw, m, c"heapUsed"));
                h.heap_total_bytes = bytes(number(raw, m, c"heapTotal"));
                h.external_bytes = bytes(number(raw, m, c"external"));
                h.array_buffers_bytes = bytes(number(raw, m, c"arrayBuffers"));
            }
            if let Some(s) = self.call(env, &self.heap_statistics) {
                h.heap_size_limit = bytes(number(raw, s, c"heap_size_limit"));
                h.detached_contexts = bytes(number(raw, s, c"number_of_detached_contexts"));
            }
            h.old_generation_bytes = self.old_generation_bytes(env);
        }
        h
    }

    /// V8's used heap bytes (`v8.getHeapStatistics().used_heap_size`); 0 when unknown.
    pub fn heap_used_bytes(&self, env: &Env) -> u64 {
        unsafe {
            self.call(env, &self.heap_statistics)
                .map_or(0, |s| bytes(number(env.raw(), s, c"used_heap_size")))
        }
    }

    /// Heap bytes outside the young generation, read now.
    pub fn old_generation(&self, env: &Env) -> u64 {
        unsafe { self.old_generation_bytes(env) }
    }

    unsafe fn call(&self, env: &Env, f: &Fn0) -> Option<sys::napi_value> {
        let f = f.borrow_back(env).ok()?;
        call0(env.raw(), f.raw())
    }

    /// Heap bytes outside the young generation (new_space, new_large_object_space):
    /// the part a leak accumulates in.
    unsafe fn old_generation_bytes(&self, env: &Env) -> u64 {
        let raw = env.raw();
        let Some(spaces) = self.call(env, &self.heap_space_statistics) else {
            return 0;
        };
        let mut len = 0u32;
        if ok(sys::napi_get_array_length(raw, spaces, &mut len)).is_none() {
            return 0;
        }
        let mut total = 0u64;
        let mut name = [0u8; 64];
        for i in 0..len {
            let mut space = ptr::null_mut();
            if ok(sys::napi_get_element(raw, spaces, i, &mut space)).is_none() {
                continue;
            }
            let Some(n) = named(raw, space, c"space_name") else {
                continue;
            };
            let mut written = 0usize;
            if ok(sys::napi_get_value_string_utf8(
                raw,
                n,
                name.as_mut_ptr().cast(),
                name.len(),
                &mut written,
            ))
            .is_none()
            {
                continue;
            }
            let young = matches!(&name[..written], b"new_space" | b"new_large_object_space");
            if !young {
                total += bytes(number(raw, space, c"space_used_size"));
            }
        }
        total
    }
}

/// `global.gc` when Node exposes it (--expose-gc), else None.
pub fn gc_function(env: &Env) -> Option<sys::napi_value> {
    let raw = env.raw();
    let global = env.get_global().ok()?;
    let gc = unsafe { named(raw, global.raw(), c"gc") }?;
    unsafe { is_function(raw, gc) }.then_some(gc)
}

/// Calls `global.gc()`: Ok(()) when it ran, Err(reason) when it is missing or threw.
pub fn run_gc(env: &Env) -> std::result::Result<(), String> {
    let Some(gc) = gc_function(env) else {
        return Err("global.gc is not available (Node was started without --expose-gc)".into());
    };
    match unsafe { call0(env.raw(), gc) } {
        Some(_) => Ok(()),
        None => Err("global.gc threw".into()),
    }
}
