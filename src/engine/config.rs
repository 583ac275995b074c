//! Configuration: options over environment variables over platform presets,
//! validated in one place. Every problem names the option or variable, the
//! value given and what is accepted.

use super::platform::{self, Detected, HostFacts, Platform};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One invalid setting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// The option name or environment variable that was wrong.
    pub setting: String,
    /// The value given, as text.
    pub value: String,
    /// What is accepted.
    pub accepted: String,
    pub message: String,
}

impl Problem {
    fn new(setting: &str, value: &str, accepted: &str, what: &str) -> Problem {
        Problem {
            setting: setting.to_string(),
            value: value.to_string(),
            accepted: accepted.to_string(),
            message: format!("{setting}={value} {what}; accepted: {accepted}"),
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Number { min: f64, max: f64 },
    Integer { min: f64, max: f64 },
    Bool,
    Platform,
}

struct Spec {
    option: &'static str,
    env: Option<&'static str>,
    kind: Kind,
    accepted: &'static str,
}

const PERCENT: Kind = Kind::Number {
    min: 1.0,
    max: 100.0,
};

const SPECS: &[Spec] = &[
    Spec {
        option: "warningThreshold",
        env: Some("MEMORY_WARNING_THRESHOLD"),
        kind: PERCENT,
        accepted: "a percentage from 1 to 100",
    },
    Spec {
        option: "criticalThreshold",
        env: Some("MEMORY_CRITICAL_THRESHOLD"),
        kind: PERCENT,
        accepted: "a percentage from 1 to 100",
    },
    Spec {
        option: "emergencyThreshold",
        env: Some("MEMORY_EMERGENCY_THRESHOLD"),
        kind: PERCENT,
        accepted: "a percentage from 1 to 100",
    },
    Spec {
        option: "monitoringIntervalMs",
        env: Some("MEMORY_MONITORING_INTERVAL"),
        kind: Kind::Integer {
            min: 100.0,
            max: 3_600_000.0,
        },
        accepted: "a whole number of milliseconds from 100 to 3600000",
    },
    Spec {
        option: "leakDetection",
        env: Some("MEMORY_LEAK_DETECTION"),
        kind: Kind::Bool,
        accepted: "true or false (also 1/0, yes/no, on/off)",
    },
    Spec {
        option: "proactiveGc",
        env: Some("PROACTIVE_GC_ENABLED"),
        kind: Kind::Bool,
        accepted: "true or false (also 1/0, yes/no, on/off)",
    },
    Spec {
        option: "memoryLimitMb",
        env: Some("MEMORY_LIMIT_MB"),
        kind: Kind::Number {
            min: 16.0,
            max: 16_777_216.0,
        },
        accepted: "a number of megabytes from 16 to 16777216",
    },
    Spec {
        option: "hysteresisPercent",
        env: None,
        kind: Kind::Number {
            min: 0.0,
            max: 20.0,
        },
        accepted: "a number of percentage points from 0 to 20",
    },
    Spec {
        option: "gcThreshold",
        env: None,
        kind: PERCENT,
        accepted: "a percentage from 1 to 100",
    },
    Spec {
        option: "gcCooldownMs",
        env: None,
        kind: Kind::Integer {
            min: 1_000.0,
            max: 86_400_000.0,
        },
        accepted: "a whole number of milliseconds from 1000 to 86400000",
    },
    Spec {
        option: "historySize",
        env: None,
        kind: Kind::Integer {
            min: 16.0,
            max: 100_000.0,
        },
        accepted: "a whole number of samples from 16 to 100000",
    },
    Spec {
        option: "alertCooldownMs",
        env: None,
        kind: Kind::Integer {
            min: 0.0,
            max: 86_400_000.0,
        },
        accepted: "a whole number of milliseconds from 0 to 86400000",
    },
    Spec {
        option: "platform",
        env: None,
        kind: Kind::Platform,
        accepted: "\"render\", \"local\" or \"other\"",
    },
];

/// Default hysteresis band, in percentage points.
pub const DEFAULT_HYSTERESIS: f64 = 2.0;
/// Default pressure above which a proactive GC may run (SPEC.md: force GC above 70 %).
pub const DEFAULT_GC_THRESHOLD: f64 = 70.0;
pub const DEFAULT_GC_COOLDOWN_MS: u64 = 30_000;
/// Default history: 240 samples (an hour at Render's 15 s interval).
pub const DEFAULT_HISTORY_SIZE: usize = 240;
/// Default time an alert type stays quiet after it resolved (same level or lower).
pub const DEFAULT_ALERT_COOLDOWN_MS: u64 = 300_000;

#[derive(Debug, Clone, PartialEq)]
enum Parsed {
    Num(f64),
    Bool(bool),
    Platform(Platform),
}

/// The validated configuration. Serialized (camelCase) for the JS layer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    pub warning_threshold: f64,
    pub critical_threshold: f64,
    pub emergency_threshold: f64,
    pub hysteresis_percent: f64,
    pub monitoring_interval_ms: u64,
    pub leak_detection: bool,
    pub proactive_gc: bool,
    pub gc_threshold: f64,
    pub gc_cooldown_ms: u64,
    pub history_size: usize,
    pub alert_cooldown_ms: u64,
    /// Limit override in bytes, when `memoryLimitMb` / `MEMORY_LIMIT_MB` is set.
    pub memory_limit_bytes: Option<u64>,
    pub platform: Platform,
    pub platform_reason: String,
    /// Local development as detected (never set by the `platform` option): see
    /// `platform::local_development`. The router opens admin routes to loopback only then.
    pub local_development: bool,
    /// Where each setting came from: "option", "env MEMORY_…", "preset render", "default".
    pub sources: BTreeMap<String, String>,
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn check_range(n: f64, kind: Kind) -> bool {
    match kind {
        Kind::Number { min, max } => n.is_finite() && n >= min && n <= max,
        Kind::Integer { min, max } => n.is_finite() && n.fract() == 0.0 && n >= min && n <= max,
        _ => true,
    }
}

fn parse_text(spec: &Spec, name: &str, text: &str) -> Result<Parsed, Problem> {
    let t = text.trim();
    let bad = |what: &str| Err(Problem::new(name, text, spec.accepted, what));
    match spec.kind {
        Kind::Bool => match parse_bool(t) {
            Some(b) => Ok(Parsed::Bool(b)),
            None => bad("is not a boolean word"),
        },
        Kind::Platform => match Platform::parse(t) {
            Some(p) => Ok(Parsed::Platform(p)),
            None => bad("is not a known platform"),
        },
        kind => match t.parse::<f64>() {
            Ok(n) if n.is_finite() => number_in(n, kind).map(Parsed::Num).or_else(bad),
            _ => bad("is not a number"),
        },
    }
}

/// `n` when `kind` accepts it, else what is wrong with it.
fn number_in(n: f64, kind: Kind) -> Result<f64, &'static str> {
    if check_range(n, kind) {
        Ok(n)
    } else if matches!(kind, Kind::Integer { .. }) && n.fract() != 0.0 {
        Err("is not a whole number")
    } else {
        Err("is out of range")
    }
}

fn parse_option(spec: &Spec, value: &Value) -> Result<Parsed, Problem> {
    let name = spec.option;
    let text = match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    let bad = |what: &str| Err(Problem::new(name, &text, spec.accepted, what));
    match (spec.kind, value) {
        (Kind::Bool, Value::Bool(b)) => Ok(Parsed::Bool(*b)),
        (Kind::Bool, _) => bad("is not a boolean"),
        (Kind::Platform, Value::String(s)) => parse_text(spec, name, s).map_err(|mut p| {
            p.value = text.clone();
            p.message = format!(
                "{name}={text} is not a known platform; accepted: {}",
                spec.accepted
            );
            p
        }),
        (Kind::Platform, _) => bad("is not a string"),
        (kind, Value::Number(n)) => number_in(n.as_f64().unwrap_or(f64::NAN), kind)
            .map(Parsed::Num)
            .or_else(bad),
        (_, _) => bad("is not a number"),
    }
}

/// Everything `resolve` reads.
pub struct Input<'a> {
    /// The `initialize(options)` object (JSON; `undefined` fields dropped, `null` means unset).
    pub options: &'a Map<String, Value>,
    /// Environment variables (only the ones memwarden reads are needed).
    pub env: &'a BTreeMap<String, String>,
    pub host: &'a HostFacts,
}

/// The names of every option, for error messages.
pub fn option_names() -> Vec<&'static str> {
    SPECS.iter().map(|s| s.option).collect()
}

/// The environment variables memwarden reads.
pub fn env_names() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = SPECS.iter().filter_map(|s| s.env).collect();
    v.extend([
        "RENDER",
        "NODE_ENV",
        "DYNO",
        "FLY_APP_NAME",
        "MEMORY_AVAILABLE",
        "KUBERNETES_SERVICE_HOST",
    ]);
    v
}

/// Options over environment over presets; all problems at once, or a full config.
pub fn resolve(input: &Input) -> Result<Config, Vec<Problem>> {
    let mut problems = Vec::new();
    for key in input.options.keys() {
        if !SPECS.iter().any(|s| s.option == key) {
            problems.push(Problem {
                setting: key.clone(),
                value: input.options[key].to_string(),
                accepted: format!("one of {}", option_names().join(", ")),
                message: format!(
                    "unknown option {key}; accepted options: {}",
                    option_names().join(", ")
                ),
            });
        }
    }
    let mut values: BTreeMap<&'static str, (Parsed, String)> = BTreeMap::new();
    for spec in SPECS {
        let from_option = input.options.get(spec.option).filter(|v| !v.is_null());
        let parsed = if let Some(v) = from_option {
            Some(parse_option(spec, v).map(|p| (p, "option".to_string())))
        } else if let Some(var) = spec.env {
            input
                .env
                .get(var)
                .filter(|v| !v.trim().is_empty())
                .map(|text| parse_text(spec, var, text).map(|p| (p, format!("env {var}"))))
        } else {
            None
        };
        match parsed {
            Some(Ok(v)) => {
                values.insert(spec.option, v);
            }
            Some(Err(p)) => problems.push(p),
            None => {}
        }
    }

    let detected = match values.get("platform") {
        Some((Parsed::Platform(p), _)) => Detected {
            platform: *p,
            reason: "set by the platform option".into(),
        },
        _ => platform::detect(input.env, input.host),
    };
    let preset = platform::preset(detected.platform);
    let preset_source = format!("preset {}", detected.platform.as_str());
    let mut sources = BTreeMap::new();

    let mut num = |name: &'static str, default: f64, default_source: &str| -> f64 {
        match values.get(name) {
            Some((Parsed::Num(n), src)) => {
                sources.insert(name.to_string(), src.clone());
                *n
            }
            _ => {
                sources.insert(name.to_string(), default_source.to_string());
                default
            }
        }
    };
    let warning = num("warningThreshold", preset.warning, &preset_source);
    let critical = num("criticalThreshold", preset.critical, &preset_source);
    let emergency = num("emergencyThreshold", preset.emergency, &preset_source);
    let interval = num(
        "monitoringIntervalMs",
        preset.interval_ms as f64,
        &preset_source,
    );
    let hysteresis = num("hysteresisPercent", DEFAULT_HYSTERESIS, "default");
    let gc_threshold = num("gcThreshold", DEFAULT_GC_THRESHOLD, "default");
    let gc_cooldown = num("gcCooldownMs", DEFAULT_GC_COOLDOWN_MS as f64, "default");
    let history = num("historySize", DEFAULT_HISTORY_SIZE as f64, "default");
    let alert_cooldown = num(
        "alertCooldownMs",
        DEFAULT_ALERT_COOLDOWN_MS as f64,
        "default",
    );
    let limit_mb = match values.get("memoryLimitMb") {
        Some((Parsed::Num(n), src)) => {
            sources.insert("memoryLimitMb".into(), src.clone());
            Some(*n)
        }
        _ => None,
    };
    let mut flag = |name: &'static str| -> bool {
        match values.get(name) {
            Some((Parsed::Bool(b), src)) => {
                sources.insert(name.to_string(), src.clone());
                *b
            }
            _ => {
                sources.insert(name.to_string(), "default".into());
                true
            }
        }
    };
    let leak_detection = flag("leakDetection");
    let proactive_gc = flag("proactiveGc");

    let order = [
        ("warningThreshold", "MEMORY_WARNING_THRESHOLD", warning),
        ("criticalThreshold", "MEMORY_CRITICAL_THRESHOLD", critical),
        (
            "emergencyThreshold",
            "MEMORY_EMERGENCY_THRESHOLD",
            emergency,
        ),
    ];
    for pair in order.windows(2) {
        let (lo_opt, lo_env, lo) = pair[0];
        let (hi_opt, hi_env, hi) = pair[1];
        if lo >= hi
            && !problems
                .iter()
                .any(|p| [lo_opt, lo_env, hi_opt, hi_env].contains(&p.setting.as_str()))
        {
            let name = |opt: &str, env: &str| match sources.get(opt).map(String::as_str) {
                Some("option") => opt.to_string(),
                Some(s) if s.starts_with("env ") => env.to_string(),
                Some(s) => format!("{opt} ({s})"),
                None => opt.to_string(),
            };
            let lo_name = name(lo_opt, lo_env);
            let hi_name = name(hi_opt, hi_env);
            problems.push(Problem {
                setting: lo_name.clone(),
                value: format!("{lo}"),
                accepted: "thresholds in the order warning < critical < emergency".into(),
                message: format!(
                    "{lo_name}={lo} must be below {hi_name}={hi}; accepted: thresholds in the order warning < critical < emergency"
                ),
            });
        }
    }

    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Config {
        warning_threshold: warning,
        critical_threshold: critical,
        emergency_threshold: emergency,
        hysteresis_percent: hysteresis,
        monitoring_interval_ms: interval as u64,
        leak_detection,
        proactive_gc,
        gc_threshold,
        gc_cooldown_ms: gc_cooldown as u64,
        history_size: history as usize,
        alert_cooldown_ms: alert_cooldown as u64,
        memory_limit_bytes: limit_mb.map(|mb| (mb * 1024.0 * 1024.0).round() as u64),
        platform: detected.platform,
        platform_reason: detected.reason,
        local_development: platform::local_development(input.env, input.host),
        sources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(options: Value, env: &[(&str, &str)]) -> Result<Config, Vec<Problem>> {
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let options = options.as_object().cloned().unwrap_or_default();
        resolve(&Input {
            options: &options,
            env: &env,
            host: &HostFacts::default(),
        })
    }

    fn one_problem(options: Value, env: &[(&str, &str)]) -> Problem {
        let mut p = run(options, env).expect_err("should be rejected");
        assert_eq!(p.len(), 1, "{p:?}");
        p.remove(0)
    }

    #[test]
    fn presets_apply_when_nothing_is_set() {
        let c = run(json!({}), &[("RENDER", "true")]).unwrap();
        assert_eq!(
            (
                c.warning_threshold,
                c.critical_threshold,
                c.emergency_threshold
            ),
            (60.0, 75.0, 90.0)
        );
        assert_eq!(c.monitoring_interval_ms, 15_000);
        assert_eq!(c.platform, Platform::Render);
        assert_eq!(c.sources["warningThreshold"], "preset render");
        let c = run(json!({}), &[]).unwrap();
        assert_eq!(
            (c.warning_threshold, c.monitoring_interval_ms),
            (80.0, 30_000)
        );
        assert!(c.leak_detection && c.proactive_gc);
        assert_eq!(c.memory_limit_bytes, None);
    }

    #[test]
    fn options_win_over_env_and_env_over_presets() {
        let env = [
            ("MEMORY_WARNING_THRESHOLD", "65"),
            ("MEMORY_MONITORING_INTERVAL", "250"),
            ("RENDER", "1"),
        ];
        let c = run(json!({"warningThreshold": 50}), &env).unwrap();
        assert_eq!(c.warning_threshold, 50.0);
        assert_eq!(c.sources["warningThreshold"], "option");
        assert_eq!(c.monitoring_interval_ms, 250);
        assert_eq!(
            c.sources["monitoringIntervalMs"],
            "env MEMORY_MONITORING_INTERVAL"
        );
        assert_eq!(c.critical_threshold, 75.0);
    }

    #[test]
    fn limit_override_in_megabytes() {
        let c = run(json!({}), &[("MEMORY_LIMIT_MB", "512")]).unwrap();
        assert_eq!(c.memory_limit_bytes, Some(512 * 1024 * 1024));
        let c = run(
            json!({"memoryLimitMb": 256.5}),
            &[("MEMORY_LIMIT_MB", "512")],
        )
        .unwrap();
        assert_eq!(c.memory_limit_bytes, Some((256.5 * 1048576.0) as u64));
    }

    #[test]
    fn each_bad_env_value_names_its_variable() {
        let cases = [
            ("MEMORY_WARNING_THRESHOLD", "abc", "not a number"),
            ("MEMORY_WARNING_THRESHOLD", "150", "out of range"),
            ("MEMORY_CRITICAL_THRESHOLD", "NaN", "not a number"),
            ("MEMORY_EMERGENCY_THRESHOLD", "-5", "out of range"),
            ("MEMORY_MONITORING_INTERVAL", "50", "out of range"),
            ("MEMORY_MONITORING_INTERVAL", "1000.5", "whole number"),
            ("MEMORY_LEAK_DETECTION", "maybe", "boolean"),
            ("PROACTIVE_GC_ENABLED", "enabled", "boolean"),
            ("MEMORY_LIMIT_MB", "0", "out of range"),
            ("MEMORY_LIMIT_MB", "512MB", "not a number"),
        ];
        for (var, value, what) in cases {
            let p = one_problem(json!({}), &[(var, value)]);
            assert_eq!(p.setting, var);
            assert_eq!(p.value, value);
            assert!(
                p.message.contains(var) && p.message.contains(value),
                "{}",
                p.message
            );
            assert!(p.message.contains(what), "{}", p.message);
            assert!(p.message.contains("accepted"), "{}", p.message);
        }
    }

    #[test]
    fn bad_option_types_name_the_option() {
        let p = one_problem(json!({"warningThreshold": "70"}), &[]);
        assert_eq!(p.setting, "warningThreshold");
        assert!(p.message.contains("not a number"));
        let p = one_problem(json!({"proactiveGc": "yes"}), &[]);
        assert!(p.message.contains("proactiveGc") && p.message.contains("boolean"));
        let p = one_problem(json!({"platform": "heroku"}), &[]);
        assert!(p.message.contains("\"heroku\""), "{}", p.message);
        let p = one_problem(json!({"historySize": 10.5}), &[]);
        assert!(p.message.contains("whole number"));
    }

    #[test]
    fn unknown_options_are_rejected() {
        let p = one_problem(json!({"warningTreshold": 70}), &[]);
        assert_eq!(p.setting, "warningTreshold");
        assert!(p.message.contains("unknown option") && p.message.contains("warningThreshold"));
    }

    #[test]
    fn null_and_empty_mean_unset() {
        let c = run(
            json!({"warningThreshold": null}),
            &[("MEMORY_CRITICAL_THRESHOLD", "  ")],
        )
        .unwrap();
        assert_eq!(c.warning_threshold, 80.0);
        assert_eq!(c.critical_threshold, 90.0);
    }

    #[test]
    fn boolean_words() {
        for (word, b) in [("TRUE", true), ("0", false), ("off", false), ("Yes", true)] {
            let c = run(json!({}), &[("PROACTIVE_GC_ENABLED", word)]).unwrap();
            assert_eq!(c.proactive_gc, b, "{word}");
        }
    }

    #[test]
    fn thresholds_out_of_order_are_rejected_with_their_sources() {
        let p = one_problem(
            json!({}),
            &[("MEMORY_WARNING_THRESHOLD", "80"), ("RENDER", "true")],
        );
        assert_eq!(p.setting, "MEMORY_WARNING_THRESHOLD");
        assert!(
            p.message.contains("criticalThreshold (preset render)=75"),
            "{}",
            p.message
        );
        let p = one_problem(json!({"criticalThreshold": 96}), &[]);
        assert_eq!(p.setting, "criticalThreshold");
        assert!(
            p.message.contains("emergencyThreshold (preset local)=95"),
            "{}",
            p.message
        );
        let p = one_problem(
            json!({"warningThreshold": 90, "criticalThreshold": 90}),
            &[],
        );
        assert!(p
            .message
            .contains("warningThreshold=90 must be below criticalThreshold=90"));
    }

    #[test]
    fn all_problems_are_reported_together() {
        let p = run(
            json!({"bogus": 1}),
            &[
                ("MEMORY_WARNING_THRESHOLD", "x"),
                ("MEMORY_LEAK_DETECTION", "y"),
            ],
        )
        .unwrap_err();
        assert_eq!(p.len(), 3);
    }

    #[test]
    fn forced_platform() {
        let c = run(json!({"platform": "render"}), &[]).unwrap();
        assert_eq!(c.platform, Platform::Render);
        assert_eq!(c.platform_reason, "set by the platform option");
        assert_eq!(c.warning_threshold, 60.0);
    }
}
