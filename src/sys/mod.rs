pub mod cgroup;
pub mod procfs;
pub mod settings;
