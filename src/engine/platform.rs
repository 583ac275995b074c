//! Platform detection: Render, local development, or another host.

use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Render,
    Local,
    Other,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Render => "render",
            Platform::Local => "local",
            Platform::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Platform> {
        match s {
            "render" => Some(Platform::Render),
            "local" => Some(Platform::Local),
            "other" => Some(Platform::Other),
            _ => None,
        }
    }
}

/// Threshold and interval presets per platform (SPEC.md "Memory Thresholds").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Preset {
    pub warning: f64,
    pub critical: f64,
    pub emergency: f64,
    pub interval_ms: u64,
}

pub fn preset(platform: Platform) -> Preset {
    match platform {
        Platform::Render => Preset {
            warning: 60.0,
            critical: 75.0,
            emergency: 90.0,
            interval_ms: 15_000,
        },
        Platform::Local => Preset {
            warning: 80.0,
            critical: 90.0,
            emergency: 95.0,
            interval_ms: 30_000,
        },
        Platform::Other => Preset {
            warning: 70.0,
            critical: 85.0,
            emergency: 95.0,
            interval_ms: 20_000,
        },
    }
}

/// Facts about the host that `sys` reads (files) and passes in.
#[derive(Debug, Clone, Default)]
pub struct HostFacts {
    /// A container was detected (/.dockerenv, a container cgroup, Kubernetes, a cgroup limit).
    pub container: Option<String>,
}

impl HostFacts {
    /// The container evidence from files (`from_files`), else Kubernetes' service
    /// variable (every pod has it).
    pub fn new(env: &BTreeMap<String, String>, from_files: Option<String>) -> HostFacts {
        let container = from_files.or_else(|| {
            non_empty(env, "KUBERNETES_SERVICE_HOST")
                .map(|_| "KUBERNETES_SERVICE_HOST is set".to_string())
        });
        HostFacts { container }
    }
}

/// The detected platform and a sentence saying why.
#[derive(Debug, Clone, PartialEq)]
pub struct Detected {
    pub platform: Platform,
    pub reason: String,
}

fn non_empty<'a>(env: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    env.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// Detects the platform from environment variables and host facts.
pub fn detect(env: &BTreeMap<String, String>, host: &HostFacts) -> Detected {
    if let Some(v) = non_empty(env, "RENDER") {
        return Detected {
            platform: Platform::Render,
            reason: format!("the RENDER environment variable is set ({v})"),
        };
    }
    let node_env = non_empty(env, "NODE_ENV");
    if node_env == Some("development") {
        return Detected {
            platform: Platform::Local,
            reason: "NODE_ENV is development".into(),
        };
    }
    if node_env.is_none() && host.container.is_none() {
        return Detected {
            platform: Platform::Local,
            reason: "NODE_ENV is not set and no container was detected".into(),
        };
    }
    let reason = if let Some(dyno) = non_empty(env, "DYNO") {
        format!("Heroku dyno {dyno} (DYNO is set)")
    } else if let Some(app) = non_empty(env, "FLY_APP_NAME") {
        format!("Fly.io app {app} (FLY_APP_NAME is set)")
    } else if let Some(c) = &host.container {
        match node_env {
            Some(e) => format!("NODE_ENV is {e}, in a container ({c})"),
            None => format!("in a container ({c})"),
        }
    } else {
        format!("NODE_ENV is {}", node_env.unwrap_or("unset"))
    };
    Detected {
        platform: Platform::Other,
        reason,
    }
}

/// Hosting platforms and orchestrators that may run a proxy or sidecar on the same host.
const HOSTED: [(&str, &str); 3] = [
    ("DYNO", "Heroku"),
    ("FLY_APP_NAME", "Fly.io"),
    ("KUBERNETES_SERVICE_HOST", "Kubernetes"),
];

/// Whether this is local development: the detected platform is local and no hosting
/// platform or orchestrator is named in the environment. Only then may the router
/// trust loopback peers without a token (a same-host proxy or sidecar elsewhere makes
/// every remote client look like loopback).
pub fn local_development(env: &BTreeMap<String, String>, host: &HostFacts) -> bool {
    detect(env, host).platform == Platform::Local
        && HOSTED.iter().all(|(key, _)| non_empty(env, key).is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn render_wins() {
        let d = detect(
            &env(&[("RENDER", "true"), ("NODE_ENV", "development")]),
            &HostFacts::default(),
        );
        assert_eq!(d.platform, Platform::Render);
        assert!(d.reason.contains("RENDER"));
    }

    #[test]
    fn development_is_local_even_in_a_container() {
        let host = HostFacts {
            container: Some("/.dockerenv exists".into()),
        };
        let d = detect(&env(&[("NODE_ENV", "development")]), &host);
        assert_eq!(d.platform, Platform::Local);
    }

    #[test]
    fn unset_node_env_outside_a_container_is_local() {
        let d = detect(&env(&[]), &HostFacts::default());
        assert_eq!(d.platform, Platform::Local);
        assert!(d.reason.contains("no container"));
    }

    #[test]
    fn unset_node_env_in_a_container_is_other() {
        let host = HostFacts {
            container: Some("kubernetes".into()),
        };
        let d = detect(&env(&[]), &host);
        assert_eq!(d.platform, Platform::Other);
        assert!(d.reason.contains("kubernetes"));
    }

    #[test]
    fn production_hosts_are_named() {
        let d = detect(
            &env(&[("NODE_ENV", "production"), ("DYNO", "web.1")]),
            &HostFacts::default(),
        );
        assert_eq!(d.platform, Platform::Other);
        assert!(d.reason.contains("Heroku"));
        let d = detect(&env(&[("NODE_ENV", "production")]), &HostFacts::default());
        assert_eq!(d.reason, "NODE_ENV is production");
    }

    #[test]
    fn empty_render_variable_is_ignored() {
        let d = detect(
            &env(&[("RENDER", " "), ("NODE_ENV", "production")]),
            &HostFacts::default(),
        );
        assert_eq!(d.platform, Platform::Other);
    }

    #[test]
    fn kubernetes_counts_as_a_container_when_files_say_nothing() {
        let h = HostFacts::new(&env(&[("KUBERNETES_SERVICE_HOST", "10.0.0.1")]), None);
        assert_eq!(
            h.container.as_deref(),
            Some("KUBERNETES_SERVICE_HOST is set")
        );
        let h = HostFacts::new(&env(&[("KUBERNETES_SERVICE_HOST", " ")]), None);
        assert_eq!(h.container, None);
        let h = HostFacts::new(
            &env(&[("KUBERNETES_SERVICE_HOST", "x")]),
            Some("/.dockerenv exists".into()),
        );
        assert_eq!(h.container.as_deref(), Some("/.dockerenv exists"));
    }

    #[test]
    fn presets_are_ordered() {
        for p in [Platform::Render, Platform::Local, Platform::Other] {
            let s = preset(p);
            assert!(s.warning < s.critical && s.critical < s.emergency);
            assert_eq!(Platform::parse(p.as_str()), Some(p));
        }
    }

    #[test]
    fn local_development_only_off_hosting_platforms() {
        assert!(local_development(&env(&[]), &HostFacts::default()));
        assert!(local_development(
            &env(&[("NODE_ENV", "development")]),
            &HostFacts {
                container: Some("/.dockerenv exists".into()),
            }
        ));
        for (key, _) in HOSTED {
            let e = env(&[("NODE_ENV", "development"), (key, "x")]);
            assert!(!local_development(&e, &HostFacts::default()), "{key}");
        }
        assert!(!local_development(
            &env(&[("NODE_ENV", "production")]),
            &HostFacts::default()
        ));
        assert!(!local_development(
            &env(&[("RENDER", "true")]),
            &HostFacts::default()
        ));
        let host = HostFacts {
            container: Some("kubernetes".into()),
        };
        assert!(!local_development(&env(&[]), &host));
    }
}
