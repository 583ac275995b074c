//! Which memory limit applies, and where it came from.

use super::platform::Platform;
use serde::Serialize;

/// Render's smallest paid instance, applied on Render when no cgroup limit is visible.
pub const RENDER_DEFAULT_BYTES: u64 = 512 * 1024 * 1024;

/// cgroup v1 reports "no limit" as a huge page-aligned number (9223372036854771712 here);
/// anything at or above 2^62 is treated as unlimited.
const V1_UNLIMITED_AT: u64 = 1 << 62;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LimitSource {
    Override,
    CgroupV2,
    CgroupV1,
    RenderDefault,
    Heroku,
    Physical,
}

impl LimitSource {
    pub fn is_cgroup(self) -> bool {
        matches!(self, LimitSource::CgroupV2 | LimitSource::CgroupV1)
    }
}

/// A cgroup limit found by the binding, with the file it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct CgroupLimit {
    pub bytes: u64,
    pub path: String,
}

#[derive(Debug, Clone, Default)]
pub struct LimitFacts {
    /// From `memoryLimitMb` / `MEMORY_LIMIT_MB`, with the setting's name.
    pub override_bytes: Option<(u64, String)>,
    pub cgroup_v2: Option<CgroupLimit>,
    pub cgroup_v1: Option<CgroupLimit>,
    pub render: bool,
    /// Heroku's `MEMORY_AVAILABLE` (MB), as text.
    pub heroku_memory_available: Option<String>,
    pub physical_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Limit {
    pub bytes: u64,
    pub source: LimitSource,
    /// A human-readable account of the source (file path, variable name).
    pub detail: String,
}

/// Parses cgroup v2 `memory.max`: a byte count, or "max" for no limit.
pub fn parse_v2_max(text: &str) -> Option<u64> {
    let t = text.trim();
    if t == "max" {
        return None;
    }
    t.parse::<u64>().ok().filter(|&b| b > 0)
}

/// Parses cgroup v1 `memory.limit_in_bytes`, ignoring the "unlimited" sentinel.
pub fn parse_v1_limit(text: &str) -> Option<u64> {
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|&b| b > 0 && b < V1_UNLIMITED_AT)
}

/// Reads a `key value` line from a cgroup `memory.stat` file.
pub fn stat_value(stat: &str, key: &str) -> Option<u64> {
    stat.lines().find_map(|line| {
        let mut parts = line.split_whitespace();
        if parts.next()? == key {
            parts.next()?.parse().ok()
        } else {
            None
        }
    })
}

/// Working set: usage minus inactive file cache, which the kernel reclaims before an
/// OOM kill. v2 names the key `inactive_file`; v1 uses `total_inactive_file`.
pub fn working_set(usage: u64, stat: &str) -> u64 {
    let inactive = stat_value(stat, "inactive_file")
        .or_else(|| stat_value(stat, "total_inactive_file"))
        .unwrap_or(0);
    usage.saturating_sub(inactive)
}

/// Picks the limit: override, cgroup v2, cgroup v1, Render's default, Heroku's
/// `MEMORY_AVAILABLE`, else physical memory. A cgroup limit above physical memory
/// does not apply (physical memory is reached first).
pub fn resolve(f: &LimitFacts, platform: Platform) -> Limit {
    if let Some((bytes, name)) = &f.override_bytes {
        return Limit {
            bytes: *bytes,
            source: LimitSource::Override,
            detail: format!("set by {name}"),
        };
    }
    let physical = f.physical_bytes.max(1);
    for (cg, source) in [
        (&f.cgroup_v2, LimitSource::CgroupV2),
        (&f.cgroup_v1, LimitSource::CgroupV1),
    ] {
        if let Some(c) = cg {
            if c.bytes < physical {
                return Limit {
                    bytes: c.bytes,
                    source,
                    detail: c.path.clone(),
                };
            }
        }
    }
    if f.render || platform == Platform::Render {
        return Limit {
            bytes: RENDER_DEFAULT_BYTES,
            source: LimitSource::RenderDefault,
            detail: "Render instance default of 512 MB (no cgroup limit visible; set MEMORY_LIMIT_MB for larger instances)".into(),
        };
    }
    if let Some(mb) = f
        .heroku_memory_available
        .as_deref()
        .and_then(|t| t.trim().parse::<f64>().ok())
        .filter(|mb| mb.is_finite() && *mb >= 16.0)
    {
        return Limit {
            bytes: (mb * 1024.0 * 1024.0) as u64,
            source: LimitSource::Heroku,
            detail: "MEMORY_AVAILABLE set by the Heroku Node.js buildpack".into(),
        };
    }
    Limit {
        bytes: physical,
        source: LimitSource::Physical,
        detail: "total physical memory (no container limit found)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GB: u64 = 1 << 30;

    fn facts() -> LimitFacts {
        LimitFacts {
            physical_bytes: 24 * GB,
            ..Default::default()
        }
    }

    #[test]
    fn parses_cgroup_files() {
        assert_eq!(parse_v2_max("max\n"), None);
        assert_eq!(parse_v2_max("536870912\n"), Some(536870912));
        assert_eq!(parse_v2_max("garbage"), None);
        assert_eq!(parse_v1_limit("9223372036854771712\n"), None);
        assert_eq!(parse_v1_limit("536870912"), Some(536870912));
        assert_eq!(parse_v1_limit("0"), None);
    }

    #[test]
    fn working_set_subtracts_inactive_file() {
        let v2 = "anon 100\nfile 50\ninactive_file 30\nactive_file 20\n";
        assert_eq!(working_set(1000, v2), 970);
        let v1 = "cache 10\ninactive_file 5\ntotal_inactive_file 40\n";
        assert_eq!(working_set(1000, v1), 995);
        let v1_only_total = "total_inactive_file 40\n";
        assert_eq!(working_set(1000, v1_only_total), 960);
        assert_eq!(working_set(10, "inactive_file 30"), 0);
    }

    #[test]
    fn override_wins() {
        let mut f = facts();
        f.override_bytes = Some((512 << 20, "MEMORY_LIMIT_MB".into()));
        f.cgroup_v2 = Some(CgroupLimit {
            bytes: GB,
            path: "/sys/fs/cgroup/memory.max".into(),
        });
        let l = resolve(&f, Platform::Render);
        assert_eq!((l.bytes, l.source), (512 << 20, LimitSource::Override));
        assert!(l.detail.contains("MEMORY_LIMIT_MB"));
    }

    #[test]
    fn cgroup_then_render_then_physical() {
        let mut f = facts();
        f.cgroup_v1 = Some(CgroupLimit {
            bytes: GB,
            path: "v1".into(),
        });
        assert_eq!(resolve(&f, Platform::Render).source, LimitSource::CgroupV1);
        f.cgroup_v2 = Some(CgroupLimit {
            bytes: 2 * GB,
            path: "v2".into(),
        });
        assert_eq!(resolve(&f, Platform::Other).source, LimitSource::CgroupV2);
        let mut f = facts();
        assert_eq!(resolve(&f, Platform::Render).bytes, RENDER_DEFAULT_BYTES);
        assert_eq!(resolve(&f, Platform::Local).source, LimitSource::Physical);
        f.heroku_memory_available = Some("512".into());
        let l = resolve(&f, Platform::Other);
        assert_eq!((l.bytes, l.source), (512 << 20, LimitSource::Heroku));
    }

    #[test]
    fn cgroup_limit_above_physical_does_not_apply() {
        let mut f = facts();
        f.cgroup_v2 = Some(CgroupLimit {
            bytes: 64 * GB,
            path: "v2".into(),
        });
        assert_eq!(resolve(&f, Platform::Other).source, LimitSource::Physical);
    }
}
