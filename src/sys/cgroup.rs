//! cgroup discovery: the memory limit that applies to this process, where to read
//! its usage, and whether we run in a container. File access goes through
//! [`Files`] so tests can use an in-memory tree.

use crate::engine::limit::{self, CgroupLimit};
#[cfg(test)]
use std::collections::BTreeMap;

pub trait Files {
    fn read(&self, path: &str) -> Option<String>;
    fn exists(&self, path: &str) -> bool;
}

/// The real filesystem.
pub struct RealFiles;

impl Files for RealFiles {
    fn read(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }
    fn exists(&self, path: &str) -> bool {
        std::path::Path::new(path).exists()
    }
}

/// An in-memory tree for tests.
#[cfg(test)]
#[derive(Default)]
pub struct FakeFiles(pub BTreeMap<String, String>);

#[cfg(test)]
impl Files for FakeFiles {
    fn read(&self, path: &str) -> Option<String> {
        self.0.get(path).cloned()
    }
    fn exists(&self, path: &str) -> bool {
        self.0.contains_key(path)
    }
}

/// Where the usage of the limiting cgroup is read.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageFiles {
    pub usage: String,
    pub stat: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Discovery {
    pub v2: Option<CgroupLimit>,
    pub v1: Option<CgroupLimit>,
    /// The usage files of the cgroup whose limit applies (v2 preferred).
    pub usage_v2: Option<UsageFiles>,
    pub usage_v1: Option<UsageFiles>,
    /// Why we think we run in a container, if we do.
    pub container: Option<String>,
}

const V2_ROOT: &str = "/sys/fs/cgroup";
const V1_ROOT: &str = "/sys/fs/cgroup/memory";

/// Directories from the process's own cgroup up to the mount root, then the root.
fn candidate_dirs(root: &str, cgroup_path: Option<&str>) -> Vec<String> {
    let mut dirs = Vec::new();
    if let Some(p) = cgroup_path {
        let mut p = p.trim_end_matches('/').to_string();
        while !p.is_empty() {
            dirs.push(format!("{root}{p}"));
            match p.rfind('/') {
                Some(i) => p.truncate(i),
                None => break,
            }
        }
    }
    dirs.push(root.to_string());
    dirs
}

/// The smallest limit along the hierarchy, with the file it came from.
fn min_limit(
    fs: &dyn Files,
    dirs: &[String],
    file: &str,
    parse: fn(&str) -> Option<u64>,
) -> Option<CgroupLimit> {
    dirs.iter()
        .filter_map(|d| {
            let path = format!("{d}/{file}");
            let bytes = parse(&fs.read(&path)?)?;
            Some(CgroupLimit { bytes, path })
        })
        .min_by_key(|c| c.bytes)
}

fn usage_files(fs: &dyn Files, dirs: &[String], usage: &str) -> Option<UsageFiles> {
    dirs.iter().find_map(|d| {
        let u = format!("{d}/{usage}");
        fs.exists(&u).then(|| UsageFiles {
            usage: u,
            stat: format!("{d}/memory.stat"),
        })
    })
}

pub fn discover(fs: &dyn Files) -> Discovery {
    let proc_cgroup = fs.read("/proc/self/cgroup").unwrap_or_default();
    let mut v2_path = None;
    let mut v1_path = None;
    for line in proc_cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if id == "0" && controllers.is_empty() {
            v2_path = Some(path.to_string());
        } else if controllers.split(',').any(|c| c == "memory") {
            v1_path = Some(path.to_string());
        }
    }
    let v2_dirs = candidate_dirs(V2_ROOT, v2_path.as_deref());
    let v1_dirs = candidate_dirs(V1_ROOT, v1_path.as_deref());
    let v2 = min_limit(fs, &v2_dirs, "memory.max", limit::parse_v2_max);
    let v1 = min_limit(fs, &v1_dirs, "memory.limit_in_bytes", limit::parse_v1_limit);
    let container = if fs.exists("/.dockerenv") {
        Some("/.dockerenv exists".to_string())
    } else if fs.exists("/run/.containerenv") {
        Some("/run/.containerenv exists".to_string())
    } else if let Some(word) = ["kubepods", "docker", "containerd", "lxc"]
        .into_iter()
        .find(|w| fs.read("/proc/1/cgroup").unwrap_or_default().contains(w))
    {
        Some(format!("/proc/1/cgroup mentions {word}"))
    } else {
        v2.as_ref()
            .or(v1.as_ref())
            .map(|c| format!("a cgroup memory limit is set ({})", c.path))
    };
    Discovery {
        usage_v2: usage_files(fs, &v2_dirs, "memory.current"),
        usage_v1: usage_files(fs, &v1_dirs, "memory.usage_in_bytes"),
        v2,
        v1,
        container,
    }
}

/// Reads usage and working set from the given files.
pub fn read_usage(fs: &dyn Files, files: &UsageFiles) -> Option<(u64, u64)> {
    let usage: u64 = fs.read(&files.usage)?.trim().parse().ok()?;
    let stat = fs.read(&files.stat).unwrap_or_default();
    Some((usage, limit::working_set(usage, &stat)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake(pairs: &[(&str, &str)]) -> FakeFiles {
        FakeFiles(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn cgroup_v2_in_a_container_namespace() {
        let fs = fake(&[
            ("/proc/self/cgroup", "0::/\n"),
            ("/sys/fs/cgroup/memory.max", "536870912\n"),
            ("/sys/fs/cgroup/memory.current", "104857600\n"),
            (
                "/sys/fs/cgroup/memory.stat",
                "anon 1\ninactive_file 4857600\n",
            ),
        ]);
        let d = discover(&fs);
        assert_eq!(d.v2.as_ref().unwrap().bytes, 536870912);
        assert_eq!(d.v1, None);
        assert!(d.container.as_deref().unwrap().contains("memory.max"));
        let u = read_usage(&fs, d.usage_v2.as_ref().unwrap()).unwrap();
        assert_eq!(u, (104857600, 100000000));
    }

    #[test]
    fn cgroup_v2_takes_the_smallest_limit_up_the_hierarchy() {
        let fs = fake(&[
            ("/proc/self/cgroup", "0::/app.slice/web.service\n"),
            ("/sys/fs/cgroup/app.slice/web.service/memory.max", "max\n"),
            ("/sys/fs/cgroup/app.slice/memory.max", "1073741824\n"),
            ("/sys/fs/cgroup/app.slice/web.service/memory.current", "1\n"),
            ("/.dockerenv", ""),
        ]);
        let d = discover(&fs);
        let v2 = d.v2.unwrap();
        assert_eq!(v2.bytes, 1 << 30);
        assert_eq!(v2.path, "/sys/fs/cgroup/app.slice/memory.max");
        assert_eq!(
            d.usage_v2.unwrap().usage,
            "/sys/fs/cgroup/app.slice/web.service/memory.current"
        );
        assert_eq!(d.container.as_deref(), Some("/.dockerenv exists"));
    }

    #[test]
    fn cgroup_v1_ignores_the_unlimited_sentinel() {
        let fs = fake(&[
            (
                "/proc/self/cgroup",
                "12:pids:/\n5:memory:/\n1:name=systemd:/\n",
            ),
            (
                "/sys/fs/cgroup/memory/memory.limit_in_bytes",
                "9223372036854771712\n",
            ),
            ("/sys/fs/cgroup/memory/memory.usage_in_bytes", "5000\n"),
            (
                "/sys/fs/cgroup/memory/memory.stat",
                "total_inactive_file 1000\n",
            ),
        ]);
        let d = discover(&fs);
        assert_eq!(d.v1, None);
        assert_eq!(d.container, None);
        assert_eq!(
            read_usage(&fs, d.usage_v1.as_ref().unwrap()),
            Some((5000, 4000))
        );
    }

    #[test]
    fn cgroup_v1_limit_and_kubernetes() {
        let fs = fake(&[
            ("/proc/self/cgroup", "4:cpu,memory:/kubepods/pod1/c1\n"),
            (
                "/sys/fs/cgroup/memory/kubepods/pod1/c1/memory.limit_in_bytes",
                "268435456\n",
            ),
            ("/proc/1/cgroup", "4:memory:/kubepods/pod1/c1\n"),
        ]);
        let d = discover(&fs);
        assert_eq!(d.v1.unwrap().bytes, 256 << 20);
        assert_eq!(
            d.container.as_deref(),
            Some("/proc/1/cgroup mentions kubepods")
        );
    }

    #[test]
    fn nothing_visible() {
        let d = discover(&FakeFiles::default());
        assert_eq!(d, Discovery::default());
    }

    #[test]
    fn candidate_dirs_walk_up() {
        assert_eq!(
            candidate_dirs("/r", Some("/a/b")),
            vec!["/r/a/b".to_string(), "/r/a".to_string(), "/r".to_string()]
        );
        assert_eq!(candidate_dirs("/r", Some("/")), vec!["/r".to_string()]);
    }
}
