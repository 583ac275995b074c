#![deny(clippy::all)]
//! memwarden: a memory manager for Node.js backends.
//!
//! - `engine`: pure logic (thresholds, hysteresis, trends, GC statistics), unit-tested with a mock clock.
//! - `sys`: reads the world (procfs, cgroup files, physical memory).
//! - `binding`: N-API types, the sampler thread, panic safety.

#[doc(hidden)]
pub mod binding;
pub mod engine;
pub mod sys;
