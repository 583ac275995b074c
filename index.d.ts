// Public types of memwarden. The native binding's generated types are in binding.d.ts.
import { EventEmitter } from 'node:events';

export type MemoryStatus = 'healthy' | 'warning' | 'critical' | 'emergency';
export type Platform = 'render' | 'local' | 'other';
export type LimitSource = 'override' | 'cgroup-v2' | 'cgroup-v1' | 'render-default' | 'heroku' | 'physical';

/**
 * Settings for `initialize()`. Each wins over its environment variable, which wins over
 * the platform preset (Render 60/75/90 % every 15 s, local 80/90/95 % every 30 s,
 * other 70/85/95 % every 20 s).
 */
export interface MemwardenOptions {
  /** Percent of the limit where status becomes `warning` (1–100). Env `MEMORY_WARNING_THRESHOLD`. Default: preset. */
  warningThreshold?: number;
  /** Percent where status becomes `critical` (1–100, above warning). Env `MEMORY_CRITICAL_THRESHOLD`. Default: preset. */
  criticalThreshold?: number;
  /** Percent where status becomes `emergency` (1–100, above critical). Env `MEMORY_EMERGENCY_THRESHOLD`. Default: preset. */
  emergencyThreshold?: number;
  /** Sampling interval in ms (100–3600000, whole). Env `MEMORY_MONITORING_INTERVAL`. Default: preset. */
  monitoringIntervalMs?: number;
  /** Leak detection on/off. Env `MEMORY_LEAK_DETECTION`. Default: true. */
  leakDetection?: boolean;
  /** Proactive GC above `gcThreshold` when `global.gc` exists. Env `PROACTIVE_GC_ENABLED`. Default: true. */
  proactiveGc?: boolean;
  /** Memory limit in MB (16–16777216), overriding detection. Env `MEMORY_LIMIT_MB`. Default: detected. */
  memoryLimitMb?: number;
  /** Percentage points below a level's threshold before the level is left (0–20). Default: 2. */
  hysteresisPercent?: number;
  /** Pressure percent at or above which a proactive GC may run (1–100). Default: 70. */
  gcThreshold?: number;
  /** Minimum ms between proactive GCs (1000–86400000). Default: 30000. */
  gcCooldownMs?: number;
  /** Resident samples kept for the trend (16–100000). Default: 240. */
  historySize?: number;
  /** Time an alert type stays quiet after it resolved, unless it returns at a higher level (0–86400000 ms). Default: 300000. */
  alertCooldownMs?: number;
  /** Force the platform instead of detecting it. Default: detected. */
  platform?: Platform;
  /** Where leak and alert messages go (console, pino, winston: info/warn/error). Default: console. */
  logger?: { info(msg: string): unknown; warn(msg: string): unknown; error(msg: string): unknown };
}

/** The resolved configuration; `sources` says where each setting came from. */
export interface MemwardenConfig {
  warningThreshold: number;
  criticalThreshold: number;
  emergencyThreshold: number;
  hysteresisPercent: number;
  monitoringIntervalMs: number;
  leakDetection: boolean;
  proactiveGc: boolean;
  gcThreshold: number;
  gcCooldownMs: number;
  historySize: number;
  alertCooldownMs: number;
  memoryLimitBytes: number | null;
  platform: Platform;
  platformReason: string;
  /** e.g. `{ warningThreshold: 'env MEMORY_WARNING_THRESHOLD', criticalThreshold: 'preset render' }` */
  sources: Record<string, string>;
}

export interface MemoryLimit {
  bytes: number;
  source: LimitSource;
  detail: string;
}

export interface ConfigProblem {
  /** The option or environment variable. */
  setting: string;
  value: string;
  accepted: string;
  message: string;
}

export type ResolvedConfig =
  | { ok: true; config: MemwardenConfig; limit: MemoryLimit }
  | { ok: false; problems: ConfigProblem[] };

/** `currentUsage`: bytes unless the name says otherwise. */
export interface CurrentUsage {
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  rss: number;
  /** cgroup usage minus inactive file cache; `null` unless the limit is a cgroup's. */
  workingSet: number | null;
  cgroupUsage: number | null;
  /** The figure compared with the limit: workingSet under a cgroup limit, else rss. */
  residentBytes: number;
  limitBytes: number;
  limitSource: LimitSource;
  limitDetail: string;
  /** V8's heap_size_limit. */
  heapSizeLimit: number;
  detachedContexts: number;
  /** residentBytes / limitBytes × 100. */
  usagePercentage: number;
  /** heapUsed / heapSizeLimit × 100. */
  heapUsagePercentage: number;
  /** max(usagePercentage, heapUsagePercentage): what the status follows. */
  pressurePercentage: number;
  pressureSource: 'resident' | 'heap';
  platform: Platform;
  platformReason: string;
}

export interface TrendReport {
  /** Minutes covered by the resident history. */
  timeWindow: number;
  timeWindowMs: number;
  samples: number;
  /** Mean / peak of usagePercentage over the window. */
  averageUsage: number;
  peakUsage: number;
  /** Theil–Sen slope of resident memory, % of the limit per minute. */
  growthRate: number;
  growthRateBytesPerSec: number;
  /** Lower bound of the slope's ~95 % confidence interval. */
  growthRateLowBytesPerSec: number;
  /** Mann–Kendall z > 1.96 and slope lower bound > 0. */
  isIncreasing: boolean;
  /** Minutes to the limit at the lower-bound rate; null when not growing. */
  minutesToLimit: number | null;
  /** Minutes to V8's heap limit at the lower-bound growth of the old generation; null when not growing. */
  minutesToHeapLimit: number | null;
  leakSuspected: boolean;
  /** 0–100. */
  confidence: number;
  enoughData: boolean;
}

export interface GcEventRecord {
  timestamp: number;
  kind: 'minor' | 'major' | 'incremental' | 'weakCallbacks';
  durationMs: number;
  forced: boolean;
  heapBefore: number | null;
  heapAfter: number | null;
}

export interface GcStats {
  totalCollections: number;
  minor: number;
  major: number;
  incremental: number;
  weakCallbacks: number;
  forced: number;
  /** Mean pause (ms). */
  averageDuration: number;
  /** p95 pause over the last 256 collections (ms). */
  p95Duration: number | null;
  /** Share of wall time in GC pauses since initialize() (%). */
  pauseTimePercent: number;
  /** % of the heap freed by collections with known sizes; null until one is known. */
  efficiency: number | null;
  lastMajor: GcEventRecord | null;
  liveHeapAfterMajor: number | null;
}

export interface HealthReport {
  status: MemoryStatus;
  statusSince: number;
  timestamp: number;
  currentUsage: CurrentUsage;
  trend: TrendReport;
  gcStats: GcStats;
  thresholds: { warning: number; critical: number; emergency: number; hysteresis: number };
  residentSampleAgeMs: number | null;
  heapSampleAgeMs: number | null;
  gcAvailable: boolean;
  recommendations: string[];
}

export interface StatusEvent {
  type: 'status';
  previous: MemoryStatus;
  current: MemoryStatus;
  pressurePercentage: number;
  usagePercentage: number;
  heapUsagePercentage: number;
  pressureSource: 'resident' | 'heap';
  timestamp: number;
}

export type LeakSignal = 'heap' | 'external' | 'resident';

export interface LeakEvent {
  type: 'leak';
  /** Which signal grew: the old-generation heap or off-heap memory. */
  signal: LeakSignal;
  growthRateBytesPerSec: number;
  growthRateLowBytesPerSec: number;
  /** The growth survived a full GC (not garbage waiting for a collection). */
  confirmedByGc: boolean;
  timestamp: number;
}

export interface LeakResolvedEvent {
  type: 'leakResolved';
  signal: LeakSignal;
  /** How long the leak was flagged (ms). */
  durationMs: number;
  timestamp: number;
}

export type AlertType = 'high_usage' | 'memory_leak' | 'gc_failure' | 'rapid_growth';

/** An alert, or its resolved counterpart (same id, resolved: true). */
export interface MemwardenAlert {
  id: number;
  type: AlertType;
  level: 'warning' | 'critical' | 'emergency';
  message: string;
  /** ms since epoch */
  timestamp: number;
  data: Record<string, unknown>;
  resolved: boolean;
  /** Set when an active alert rose to a higher level (same id). */
  escalatedFrom?: 'warning' | 'critical' | 'emergency';
  /** Resolved records: how long the alert was active (ms). */
  durationMs?: number;
}

/** `getAlerts()`. */
export interface AlertsReport {
  /** At most one per type. */
  active: MemwardenAlert[];
  /** Raised, escalated and resolved records, newest last, at most 100. */
  history: MemwardenAlert[];
  /** Alerts not raised because their type resolved within the cooldown. */
  suppressed: number;
  cooldownMs: number;
}

/** The addon's raw alert event (the manager emits `alert` itself as 'alert' / 'alertResolved'). */
export interface RawAlertEvent {
  type: 'alert' | 'alertResolved';
  alert: MemwardenAlert;
}

export type MemwardenEvent = StatusEvent | LeakEvent | LeakResolvedEvent | RawAlertEvent;

/** What the analysis of one signal found over its window. */
export interface SignalEvidence {
  signal: LeakSignal;
  /** Envelope points (bucket minima) in the window. */
  points: number;
  windowMs: number;
  /** Theil–Sen slope and its ~95 % bounds (bytes/s); 0 without enough data. */
  slopeBytesPerSec: number;
  slopeLowBytesPerSec: number;
  slopeHighBytesPerSec: number;
  /** Mann–Kendall z (positive: rising). */
  z: number;
  /** Thirds of the window rising at ≥ 30 % of the overall slope (0–3). */
  risingThirds: number;
  /** Growth still there after a full GC in the later half of the window; null when none fell there. */
  survivedGc: boolean | null;
  suspicious: boolean;
  currentBytes: number;
}

/** The points behind the confidence score (SPEC.md's components). */
export interface ConfidenceParts {
  /** 0–40 */ growthRate: number;
  /** 0–20 */ consistentGrowth: number;
  /** 0–20 */ peakUsage: number;
  /** 0–15 */ lowGcEfficiency: number;
  /** 0–5 */ riskFactors: number;
}

/** `getLeakDetection()`: the data behind `GET /api/memory/leak-detection`. */
export interface LeakReport {
  enabled: boolean;
  leakSuspected: boolean;
  signal: LeakSignal | null;
  since: number | null;
  confirmedByGc: boolean;
  heap: SignalEvidence;
  external: SignalEvidence;
  resident: SignalEvidence;
  bucketMs: number;
  minBuckets: number;
  lastConfirmationGc: number | null;
  /** 0–100. */
  confidence: number;
  confidenceParts: ConfidenceParts;
  minutesToLimit: number | null;
  minutesToHeapLimit: number | null;
  recommendations: string[];
  timestamp: number;
}

export interface TraceSample {
  /** ms (any origin) */
  t: number;
  heapUsed: number;
  heapTotal: number;
  rss: number;
  external: number;
  arrayBuffers: number;
  /** Heap minus the young generation; heapUsed stands in when absent. */
  oldGeneration?: number;
}

export interface TraceGcEvent {
  t: number;
  kind: 'minor' | 'major' | 'incremental' | 'weakCallbacks';
  /** ms */
  duration: number;
  forced?: boolean;
  heapBefore?: number;
  heapAfter?: number;
  oldGenerationAfter?: number;
  externalAfter?: number;
}

export interface MemoryTrace {
  version?: number;
  limitBytes?: number;
  heapSizeLimit?: number;
  intervalMs?: number;
  samples: TraceSample[];
  gc?: TraceGcEvent[];
}

export interface TraceAnalysis {
  samples: number;
  gcEvents: number;
  durationMs: number;
  limitBytes: number;
  intervalMs: number;
  firstFlaggedAt: number | null;
  lastClearedAt: number | null;
  /** Every change of the leak flag. */
  timeline: Array<{ t: number; leakSuspected: boolean; confidence: number; signal: LeakSignal | null }>;
  events: MemwardenEvent[];
  trend: TrendReport;
  leak: LeakReport;
}

/** The record of a forced or proactive collection. Heap bytes before and after. */
export interface GcAction {
  type: 'gc';
  reason: string;
  success: boolean;
  memoryBefore: number;
  memoryAfter: number;
  freedBytes: number;
  durationMs: number;
  timestamp: number;
  /** Why it failed (success false). */
  error?: string;
  /** How to make it work (success false). */
  recommendation?: string;
  /** 'global.gc', or 'inspector' for leak-confirmation collections without --expose-gc. */
  method: 'global.gc' | 'inspector';
  /** Figures read just after the collection (success true). */
  after?: { heapUsed: number; oldGeneration: number; external: number };
}

export interface PressureCheck {
  status: MemoryStatus;
  previousStatus: MemoryStatus;
  usagePercentage: number;
  heapUsagePercentage: number;
  pressurePercentage: number;
  pressureSource: 'resident' | 'heap';
  proactiveGcEnabled: boolean;
  gcAvailable: boolean;
  actions: GcAction[];
  timestamp: number;
}

export declare class MemoryManagerService extends EventEmitter {
  static getInstance(): MemoryManagerService;
  readonly initialized: boolean;
  readonly config: MemwardenConfig | null;
  readonly limit: MemoryLimit | null;
  /** Rejects with `MemwardenConfigError` (code `ERR_MEMWARDEN_CONFIG`) on bad settings. */
  initialize(options?: MemwardenOptions): Promise<MemoryManagerService>;
  getHealthMetrics(): Readonly<HealthReport>;
  checkMemoryPressure(): Promise<PressureCheck>;
  forceGarbageCollection(reason?: string): Promise<GcAction>;
  shutdown(): Promise<void>;
  getLeakDetection(): LeakReport;
  getAlerts(): AlertsReport;
  exportTrace(): MemoryTrace;
  analyzeTrace(trace: MemoryTrace, options?: MemwardenOptions): TraceAnalysis;
  on(event: 'status', listener: (e: StatusEvent) => void): this;
  on(event: 'gc', listener: (a: GcAction) => void): this;
  on(event: 'leak', listener: (e: LeakEvent) => void): this;
  on(event: 'leakResolved', listener: (e: LeakResolvedEvent) => void): this;
  on(event: 'alert' | 'alertResolved', listener: (a: MemwardenAlert) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once(event: 'status', listener: (e: StatusEvent) => void): this;
  once(event: 'gc', listener: (a: GcAction) => void): this;
  once(event: 'leak', listener: (e: LeakEvent) => void): this;
  once(event: 'leakResolved', listener: (e: LeakResolvedEvent) => void): this;
  once(event: 'alert' | 'alertResolved', listener: (a: MemwardenAlert) => void): this;
  once(event: string | symbol, listener: (...args: any[]) => void): this;
  off(event: string | symbol, listener: (...args: any[]) => void): this;
}

export declare class MemwardenConfigError extends Error {
  code: 'ERR_MEMWARDEN_CONFIG';
  problems: ConfigProblem[];
}

export declare class MemwardenNotInitializedError extends Error {
  code: 'ERR_MEMWARDEN_NOT_INITIALIZED';
}

export declare class MemwardenTraceError extends Error {
  code: 'ERR_MEMWARDEN_TRACE';
  problems: string[];
}

/**
 * Replays a trace through the leak detector: the verdict over time. Deterministic.
 * Options are initialize()'s (thresholds, memoryLimitMb, monitoringIntervalMs, ...).
 */
export declare function analyzeTrace(trace: MemoryTrace, options?: MemwardenOptions): TraceAnalysis;

/** Validates settings without starting anything. `env` defaults to process.env. */
export declare function resolveConfig(options?: MemwardenOptions, env?: Record<string, string | undefined>): ResolvedConfig;
