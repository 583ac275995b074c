//! The native sampler: resident memory from procfs, working set from the cgroup
//! whose limit applies.

use crate::engine::limit::LimitSource;
use crate::engine::monitor::NativeSample;
use crate::sys::cgroup::{self, Discovery, RealFiles, UsageFiles};
use crate::sys::procfs::RssReader;

pub struct Sampler {
    rss: RssReader,
    usage: Option<UsageFiles>,
}

impl Sampler {
    /// Reads the cgroup's usage only when the limit is a cgroup's: elsewhere the
    /// cgroup (if any) may hold the whole machine.
    pub fn new(discovery: &Discovery, source: LimitSource) -> Sampler {
        let usage = match source {
            LimitSource::CgroupV2 => discovery.usage_v2.clone(),
            LimitSource::CgroupV1 => discovery.usage_v1.clone(),
            _ => None,
        };
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
            rss,
            cgroup_usage: usage.map(|u| u.0),
            working_set: usage.map(|u| u.1),
        }
    }
}
