//! Resident set size of this process, cheaply.
//!
//! On Linux `/proc/self/statm` is kept open and re-read with `pread` (no open per
//! sample); elsewhere sysinfo's process refresh is used (slower, but portable).

#[cfg(target_os = "linux")]
mod imp {
    use std::fs::File;
    use std::os::unix::fs::FileExt;

    pub struct RssReader {
        statm: Option<File>,
        page_size: u64,
    }

    impl RssReader {
        pub fn new() -> RssReader {
            // SAFETY: sysconf has no preconditions.
            let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
            RssReader {
                statm: File::open("/proc/self/statm").ok(),
                page_size: if page > 0 { page as u64 } else { 4096 },
            }
        }

        pub fn rss_bytes(&mut self) -> u64 {
            let mut buf = [0u8; 128];
            let n = match &self.statm {
                Some(f) => f.read_at(&mut buf, 0).unwrap_or(0),
                None => 0,
            };
            parse_statm_rss_pages(&buf[..n]).map_or(0, |pages| pages * self.page_size)
        }
    }

    /// The second field of statm: resident pages.
    pub fn parse_statm_rss_pages(bytes: &[u8]) -> Option<u64> {
        std::str::from_utf8(bytes)
            .ok()?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

    pub struct RssReader {
        sys: Option<System>,
        pid: Option<Pid>,
    }

    impl RssReader {
        pub fn new() -> RssReader {
            RssReader {
                sys: System::new().ok(),
                pid: sysinfo::get_current_pid().ok(),
            }
        }

        pub fn rss_bytes(&mut self) -> u64 {
            let (Some(pid), Some(sys)) = (self.pid, self.sys.as_mut()) else {
                return 0;
            };
            sys.refresh_processes_specifics(
                ProcessesToUpdate::Some(&[pid]),
                false,
                ProcessRefreshKind::nothing().with_memory(),
            );
            sys.process(pid).map_or(0, |p| p.memory())
        }
    }
}

pub use imp::RssReader;

impl Default for RssReader {
    fn default() -> Self {
        RssReader::new()
    }
}

/// Total physical memory in bytes (sysinfo).
pub fn physical_memory_bytes() -> u64 {
    match sysinfo::System::new() {
        Ok(mut sys) => {
            sys.refresh_memory();
            sys.total_memory()
        }
        Err(_) => 0,
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn parses_statm() {
        assert_eq!(
            imp::parse_statm_rss_pages(b"1000 250 30 1 0 400 0\n"),
            Some(250)
        );
        assert_eq!(imp::parse_statm_rss_pages(b""), None);
        assert_eq!(imp::parse_statm_rss_pages(b"12"), None);
    }

    #[test]
    fn reads_a_plausible_rss_repeatedly() {
        let mut r = RssReader::new();
        let a = r.rss_bytes();
        let b = r.rss_bytes();
        assert!(a > 1 << 20 && b > 1 << 20, "{a} {b}");
        assert!(physical_memory_bytes() > a);
    }
}
