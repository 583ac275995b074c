//! The settings of a running monitor: options and environment resolved against
//! this host (its cgroup files, physical memory and container evidence).

use crate::engine::config::{self, Config, Input, Problem};
use crate::engine::limit::{self, Limit, LimitFacts};
use crate::engine::platform::HostFacts;
use crate::sys::cgroup::{self, Discovery, RealFiles};
use crate::sys::procfs;
use serde_json::Value;
use std::collections::BTreeMap;

pub struct Resolved {
    pub config: Config,
    pub limit: Limit,
    pub discovery: Discovery,
}

fn not_an_object(other: &Value) -> Problem {
    Problem {
        setting: "options".into(),
        value: other.to_string(),
        accepted: "an object".into(),
        message: format!("options={other} is not an object; accepted: an object of settings"),
    }
}

/// Options over `env` over platform presets, and the memory limit that applies here.
pub fn resolve(options: &Value, env: BTreeMap<String, String>) -> Result<Resolved, Vec<Problem>> {
    let empty = serde_json::Map::new();
    let options = match options {
        Value::Object(m) => m,
        Value::Null => &empty,
        other => return Err(vec![not_an_object(other)]),
    };
    let discovery = cgroup::discover(&RealFiles);
    let host = HostFacts::new(&env, discovery.container.clone());
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
