pub mod cgroup;
pub mod procfs;
