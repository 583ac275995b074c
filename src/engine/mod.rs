//! The pure engine: no N-API, no clock reads, no I/O. Everything here takes
//! samples and `now` (milliseconds) as arguments.

pub mod alert_rules;
pub mod alerts;
pub mod config;
pub mod cooldown;
pub mod envelope;
pub mod finite;
pub mod gc;
pub mod leak;
pub mod limit;
pub mod monitor;
pub mod platform;
pub mod recommend;
pub mod recorder;
pub mod replay;
pub mod report;
pub mod ring;
pub mod stats;
pub mod status;
pub mod trace;
