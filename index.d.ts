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
  /** Attribute every confirmed leak to allocation sites (true), never (false), or with settings. Default: true. */
  leakAttribution?: boolean | LeakAttributionSettings;
  /** The planned restart (opt-in): `{ restart: { beforeLimitMs, drainMs, exitCode } }`. Env `MEMORY_RESTART_BEFORE_LIMIT` (ms). Default: off. */
  onLeak?: { restart?: false | RestartSettings };
  /** Where leak and alert messages go (console, pino, winston: info/warn/error). Default: console. */
  logger?: { info(msg: string): unknown; warn(msg: string): unknown; error(msg: string): unknown };
  /** Webhook for alerts (http/https; JSON POST, no retries). Env `MEMORY_ALERT_WEBHOOK_URL`. Default: none. */
  alertWebhookUrl?: string;
  /** Timeout of one webhook request, ms (100–120000). Default: 5000. */
  alertWebhookTimeoutMs?: number;
  /** Deliveries waiting while one is in flight (1–1000); the oldest is dropped when full. Default: 20. */
  alertWebhookQueueSize?: number;
  /** Run the eligible cleanup strategies from the periodic check at critical or above. Default: true. */
  proactiveCleanup?: boolean;
  /** Minimum ms between proactive cleanups (1000–86400000). Default: 60000. */
  cleanupCooldownMs?: number;
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
  /**
   * Local development as detected (never set by the `platform` option): the detected platform is
   * local (NODE_ENV=development, or NODE_ENV unset outside a container) and none of DYNO,
   * FLY_APP_NAME, KUBERNETES_SERVICE_HOST is set. Without a token, the router opens admin routes
   * (and private reads) to loopback only then (README "Security").
   */
  localDevelopment: boolean;
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
  /**
   * The heap side of the pressure: the larger of heapUsed / heapSizeLimit × 100 and
   * the old generation (newest reading: a sample, or the heap read after a
   * collection) / the old generation's room (heapSizeLimit minus the young
   * generation's 48 MB) × 100.
   */
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
  /** Minutes to the memory limit at the central slope; null when not growing. */
  minutesToLimit: number | null;
  /** Minutes to where V8 is expected to abort (85 % of the old generation's room) at the central slope of the old generation; null when not growing. */
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
  /** Whether the JS thread answers the sampler thread's heap reads in time. */
  eventLoop: EventLoopReport;
  /** The sampler thread: 'running', 'restarted' after a panic, or 'stopped'. */
  sampler: SamplerState;
  gcAvailable: boolean;
  recommendations: string[];
  /** Where the analysis ran (evidence for tests and operators). */
  debug: EngineDebug;
}

export type SamplerState = 'running' | 'restarted' | 'stopped';

export interface EventLoopReport {
  /** The heap reading the sampler asked for is overdue by thresholdMs or more. */
  blocked: boolean;
  /** How long the JS thread has not answered (0 when not blocked). */
  blockedForMs: number;
  /** Longest block seen since monitoring started (ms). */
  longestBlockedMs: number;
  /** max(1000, monitoringIntervalMs / 2). */
  thresholdMs: number;
}

export interface EngineDebug {
  /** Name of the thread that analysed the newest heap sample: 'memwarden' (the sampler thread), or the JS thread's after sampleNow()/checkMemoryPressure() (null when it has no name). */
  analysisThread: string | null;
  /** Heap samples analysed since start. */
  heapSamples: number;
  /** Restarts of the sampler thread after a panic. */
  samplerRestarts: number;
}

export interface StatusEvent {
  type: 'status';
  previous: MemoryStatus;
  current: MemoryStatus;
  pressurePercentage: number;
  usagePercentage: number;
  heapUsagePercentage: number;
  pressureSource: 'resident' | 'heap';
  /**
   * What moved it: 'sample' (a periodic or explicit sample), 'fullGc' (the heap read
   * just after a full collection), 'gc' (the old generation read after other
   * collections while the heap is high) or 'heapWatch' (a heap reading the sampler
   * asks for every 200 ms between samples while the heap is high); all but the first
   * come between samples.
   */
  trigger: 'sample' | 'fullGc' | 'gc' | 'heapWatch';
  timestamp: number;
}

/** The addon's raw report of a sampler thread panic (the manager warns, and emits 'error' when listened to). */
export interface SamplerErrorEvent {
  type: 'error';
  message: string;
  sampler: SamplerState;
  restarts: number;
  timestamp: number;
}

/** What the manager emits as 'error' when the sampler thread panicked. */
export interface SamplerError extends Error {
  code: 'ERR_MEMWARDEN_SAMPLER';
  sampler: SamplerState;
  restarts: number;
}

export type LeakSignal = 'heap' | 'external' | 'resident';

export interface LeakEvent {
  type: 'leak';
  /** Which signal grew: the old-generation heap or off-heap memory. */
  signal: LeakSignal;
  growthRateBytesPerSec: number;
  growthRateLowBytesPerSec: number;
  timestamp: number;
}

export interface LeakResolvedEvent {
  type: 'leakResolved';
  signal: LeakSignal;
  /** How long the leak was flagged (ms). */
  durationMs: number;
  timestamp: number;
}

export type AlertType = 'high_usage' | 'memory_leak' | 'gc_failure' | 'rapid_growth' | 'event_loop_blocked';

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
  /** Set on the memory_leak alert's follow-up once attribution named the site (`data.attribution`). */
  followUp?: 'leakAttributed';
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

export type MemwardenEvent = StatusEvent | LeakEvent | LeakResolvedEvent | RawAlertEvent | SamplerErrorEvent;

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
  /** The band `confidence` falls in: quiet 0–30, suspicious 30–49 (growth not yet confirmed), flagged 70–100. */
  confidenceStage: 'quiet' | 'suspicious' | 'flagged';
  signal: LeakSignal | null;
  since: number | null;
  heap: SignalEvidence;
  external: SignalEvidence;
  resident: SignalEvidence;
  bucketMs: number;
  minBuckets: number;
  lastConfirmationGc: number | null;
  /** How sure the detector is that this is a leak, 0–100: >= 70 while flagged, < 50 otherwise. */
  confidence: number;
  /** The spec's five components: the explanation; their sum places `confidence` inside its stage's band. */
  confidenceParts: ConfidenceParts;
  /** Minutes until resident memory reaches the limit at the central slope (timeToLimit.resident.minutes). */
  minutesToLimit: number | null;
  /** Minutes until V8 is expected to abort at the central slope (timeToLimit.heap.minutes). */
  minutesToHeapLimit: number | null;
  /** Both estimates with their bounds; null entries while that signal does not grow significantly. */
  timeToLimit: { heap: LimitEstimate | null; resident: LimitEstimate | null };
  /** Requests per second seen by the Express middleware; null without it. */
  requestRatePerSec: number | null;
  /** Growth of the flagged (or strongest) signal per request (bytes); null without traffic. */
  bytesPerRequest: number | null;
  recommendations: string[];
  timestamp: number;
  /** The last leak-site attribution (getLeakDetection() only). */
  attribution?: LeakAttribution | null;
  /** An attribution is sampling right now (getLeakDetection() only). */
  attributionRunning?: boolean;
}

/** When a limit is reached at the current growth. */
export interface LimitEstimate {
  /** At the central (Theil–Sen) slope, to `failAtBytes`. */
  minutes: number;
  /** Soonest: the slope's upper bound, to the earliest failure point (heap: 80 % of the old generation's room). */
  minutesLow: number;
  /** Latest: the slope's lower bound, to `limitBytes`; null when the lower bound is not positive. */
  minutesHigh: number | null;
  currentBytes: number;
  /** Heap: 85 % of the old generation's room (where V8 aborts); resident: the memory limit. */
  failAtBytes: number;
  /** Heap: the old generation's room (heap_size_limit minus the young generation); resident: the limit. */
  limitBytes: number;
  growthRateBytesPerSec: number;
}

export interface RestartSettings {
  /** Restart when a flagged leak's time to the sooner limit is under this (1000–86400000 ms). */
  beforeLimitMs?: number;
  /** Time in-flight requests get to finish before the exit (0–600000 ms). Default: 10000. */
  drainMs?: number;
  /** Exit code (1–125). Default: 75 (EX_TEMPFAIL). */
  exitCode?: number;
}

/** The 'restart' event: the planned restart has begun (the servers are closing). */
export interface RestartEvent {
  type: 'restart';
  reason: string;
  limit: 'heap' | 'resident';
  msToLimit: number;
  beforeLimitMs: number;
  drainMs: number;
  exitCode: number;
  /** HTTP servers being closed. */
  servers: number;
  signal: LeakSignal | null;
  timestamp: number;
}

export interface LeakAttributionSettings {
  /** Default: true. */
  enabled?: boolean;
  /** At most one automatic attribution per this many ms (10000–86400000). Default: 600000. */
  everyMs?: number;
  /** Sampling time of an automatic attribution (1000–1800000 ms); a slow leak is sampled longer, until it grew by 16 sampling intervals (8 MB at 512 KB), at most 1800000. Default: 30000. */
  durationMs?: number;
  /** Equal parts of the run (in allocation order) a site must still hold objects from: the first, and all but at most one (2–20; one profile read either way). Default: 3. */
  windows?: number;
  /** Average bytes between samples (1024–16777216), or 'auto': the app's allocation rate is measured for 2 s first (v8.GCProfiler, no forced GC) and the interval is 524288, or wider so that the sampler takes at most 32 samples a second (8388608 at 256 MB/s), at most 16777216. The sampler's cost is per sample: an Express app allocating ~256 MB/s lost ~2 % of its max throughput while an attribution sampled at a fixed 524288 (bench:attribution). A wider interval gives a leak fewer samples (an automatic attribution samples a slow leak longer). Default: 'auto'. */
  samplingIntervalBytes?: number | 'auto';
  /** Absolute directory that paths in results are made relative to. Env `MEMORY_APP_ROOT`. Default: process.cwd(). */
  root?: string;
}

export interface AttributionOptions {
  /** How long to sample (1000–1800000 ms). Default: 30000. */
  durationMs?: number;
  /** Equal parts of the run (in allocation order) a site must still hold objects from: the first, and all but at most one (2–20). The profile is read once, at the end (one forced full GC). Default: 3. */
  windows?: number;
  /** Average bytes between samples (1024–16777216), or 'auto': the app's allocation rate is measured for 2 s first (v8.GCProfiler, no forced GC) and the interval is 524288, or wider so that the sampler takes at most 32 samples a second (8388608 at 256 MB/s), at most 16777216. The sampler's cost is per sample: an Express app allocating ~256 MB/s lost ~2 % of its max throughput while an attribution sampled at a fixed 524288 (bench:attribution). A wider interval gives a leak fewer samples (an automatic attribution samples a slow leak longer). Default: 'auto'. */
  samplingIntervalBytes?: number | 'auto';
  /** Sites returned (1–100). Default: 10. */
  top?: number;
}

export interface LeakSite {
  functionName: string;
  url: string;
  /** 1-based; the function's first line when V8 inlined it. */
  lineNumber: number;
  columnNumber: number;
  /** Sampled bytes still alive from this site at the end. */
  retainedBytes: number;
  /** Sampled bytes allocated since sampling began and still alive at the end (the same as retainedBytes). */
  grewBytes: number;
  growthBytesPerSec: number;
  /** Parts of the run (of `windows`) from which the site still holds objects. */
  grewInWindows: number;
  windows: number;
  /** This site's share (0–1) of the growth sampled over all growing sites. */
  shareOfGrowth: number;
}

export interface LeakAttribution {
  startedAt: number;
  durationMs: number;
  /** The interval sampled at (the one 'auto' chose, or the one given). */
  samplingIntervalBytes: number;
  /** The JS heap's allocation rate 'auto' chose the interval from (bytes a second, measured over 2 s before sampling); null when the interval was given, or where v8.GCProfiler is missing. */
  allocationRateBytesPerSec: number | null;
  windows: number;
  /** Sites holding objects from the first part of the run and from all parts but at most one, most bytes first. */
  sites: LeakSite[];
  note: string;
  /** 'leak' when a confirmed leak started it, 'manual' for attributeLeak(). */
  trigger: 'leak' | 'manual';
  /** The 'leak' event that started it; null for manual runs. */
  leak: { signal: LeakSignal; growthRateBytesPerSec: number; timestamp: number } | null;
  /** When the result was ready (ms since epoch). */
  namedAt: number;
  /** "heap grows 0.5 MB/s; top growing site: rememberSession (routes/sessions.js:42), 71 % of sampled growth" */
  summary: string;
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

/** The end of the recorded trace (`traceTail()`) and the whole trace's totals. */
export interface MemoryTraceTail extends MemoryTrace {
  totalSamples: number;
  totalGc: number;
  /** Time of the oldest sample in the whole trace, or null when there is none. */
  firstSampleAt: number | null;
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
  /** The trace had no after-GC readings: the first sample after each full collection stood in for them. */
  approximate: boolean;
  /** Why the verdict is approximate, and why suspected growth was not confirmed. */
  notes: string[];
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
  /** Samples allocations and resolves to the sites still retaining memory. */
  attributeLeak(options?: AttributionOptions): Promise<LeakAttribution>;
  getAlerts(): AlertsReport;
  /** Adds a cleanup strategy; throws `ERR_MEMWARDEN_INVALID_ARG` naming the bad field. */
  registerCleanupStrategy(strategy: CleanupStrategy): CleanupStrategyInfo;
  /** Removes a strategy (built-ins too); true when one was removed. */
  unregisterCleanupStrategy(name: string): boolean;
  /** Registered strategies, highest priority first. */
  getCleanupStrategies(): CleanupStrategyInfo[];
  /** Runs the eligible strategies (all with `force`) in priority order, each isolated and measured. */
  performEmergencyCleanup(options?: { force?: boolean; reason?: string }): Promise<CleanupAction[]>;
  /** The last cleanup run, or null. */
  getLastCleanup(): CleanupRun | null;
  /** Starts a non-forced cleanup unless one ran within `cooldownMs`; null when cooled down or running. */
  requestProactiveCleanup(reason?: string, cooldownMs?: number): Promise<CleanupAction[]> | null;
  /** What the per-request middleware reads (null before initialize()). */
  getRequestSnapshot(): RequestSnapshot | null;
  /** Per-route request statistics fed by monitorRequestMemory() (created on first use). */
  readonly requestStats: RequestStats;
  /** Whether per-route request statistics are collected (`requestStats` was created). */
  readonly requestStatsEnabled: boolean;
  /** Drops the per-route statistics and windows (what `clear_performance_metrics` does); the counts dropped. */
  clearRequestStats(): { routesDropped: number; windowsDropped: number; requestsDropped: number };
  /** The proactive cleanup settings in force (a copy). */
  readonly cleanupSettings: { proactiveCleanup: boolean; cleanupCooldownMs: number };
  /** Alert delivery counters (logger, webhook). */
  getAlertDelivery(): AlertDeliveryStats;
  exportTrace(): MemoryTrace;
  /** The newest `samples` samples and `gc` full GCs with the totals: cost independent of the history length. */
  traceTail(samples: number, gc: number): MemoryTraceTail;
  analyzeTrace(trace: MemoryTrace, options?: MemwardenOptions): TraceAnalysis;
  on(event: 'status', listener: (e: StatusEvent) => void): this;
  on(event: 'gc', listener: (a: GcAction) => void): this;
  on(event: 'leak', listener: (e: LeakEvent) => void): this;
  on(event: 'leakResolved', listener: (e: LeakResolvedEvent) => void): this;
  on(event: 'leakAttributed' | 'leakAttribution', listener: (r: LeakAttribution) => void): this;
  on(event: 'restart', listener: (e: RestartEvent) => void): this;
  on(event: 'alert' | 'alertResolved', listener: (a: MemwardenAlert) => void): this;
  on(event: 'cleanup', listener: (run: CleanupRun) => void): this;
  on(event: 'error', listener: (err: SamplerError) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once(event: 'status', listener: (e: StatusEvent) => void): this;
  once(event: 'gc', listener: (a: GcAction) => void): this;
  once(event: 'leak', listener: (e: LeakEvent) => void): this;
  once(event: 'leakResolved', listener: (e: LeakResolvedEvent) => void): this;
  once(event: 'leakAttributed' | 'leakAttribution', listener: (r: LeakAttribution) => void): this;
  once(event: 'restart', listener: (e: RestartEvent) => void): this;
  once(event: 'alert' | 'alertResolved', listener: (a: MemwardenAlert) => void): this;
  once(event: 'cleanup', listener: (run: CleanupRun) => void): this;
  once(event: 'error', listener: (err: SamplerError) => void): this;
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

/** Leak-site attribution without a manager (one at a time per isolate). */
export declare function attributeLeak(options?: AttributionOptions): Promise<LeakAttribution>;

/** Validates settings without starting anything. `env` defaults to process.env. */
export declare function resolveConfig(options?: MemwardenOptions, env?: Record<string, string | undefined>): ResolvedConfig;

// ---------------------------------------------------------------------------
// Express integration (lib/middleware.js, lib/router.js, lib/express.js,
// lib/health.js, lib/cleanup.js, lib/alerts.js). Express is a peer dependency,
// required only by createMemoryRouter() and express().

/** Express-compatible middleware (no dependency on @types/express). */
export type Middleware = (req: any, res: any, next: (err?: unknown) => void) => void;
export type PathMatcher = string | RegExp;
export type ShedLevel = 'warning' | 'critical' | 'emergency';

export interface RequestSnapshot {
  status: MemoryStatus;
  /** 0 healthy, 1 warning, 2 critical, 3 emergency. */
  level: 0 | 1 | 2 | 3;
  usagePercentage: number;
  pressurePercentage: number;
  /** pressurePercentage with one decimal: the X-Memory-Usage value. */
  usageHeader: string;
  timestamp: number;
  report: Readonly<HealthReport>;
}

export interface MemoryHeadersOptions {
  manager?: MemoryManagerService;
  /** Default 'X-Memory-Status'; false leaves it out. */
  statusHeader?: string | false;
  /** Default 'X-Memory-Usage' (pressure %, one decimal); false leaves it out. */
  usageHeader?: string | false;
  /** Paths (prefixes or RegExps) that get no memory headers. Default []. */
  excludePaths?: PathMatcher[];
  /** Return true to leave the headers out of this response. */
  skip?: (req: any, res: any) => boolean;
}

export interface MonitorRequestOptions {
  manager?: MemoryManagerService;
  /** Sample the V8 heap at the start and end of 1 in N requests (0: never). Default 64. */
  memorySampleRate?: number;
  /** Route keys kept; the rest share '(other)'. Default 500. */
  maxRoutes?: number;
  /** Correlation window, ms (1000–3600000). Default 10000. */
  windowMs?: number;
  /** Closed windows kept. Default 30. */
  maxWindows?: number;
  /** Windows needed for a correlation coefficient. Default 6. */
  minWindows?: number;
  skip?: (req: any, res: any) => boolean;
}

export interface MemoryPressureOptions {
  manager?: MemoryManagerService;
  /** Shed load at this level or above. Default 'emergency'. */
  level?: ShedLevel;
  /** Retry-After, seconds (1–86400). Default 10. */
  retryAfterSeconds?: number;
  /** Never shed these (prefixes or RegExps). Default ['/api/memory', '/health', '/healthz', '/ready']. */
  exemptPaths?: PathMatcher[];
  /** Replaces the 503 response. */
  handler?: (req: any, res: any, next: (err?: unknown) => void, snapshot: RequestSnapshot) => void;
  message?: string;
  /** Start a proactive cleanup at this level or above (false: never). Default 'critical'. */
  cleanupLevel?: ShedLevel | false;
  /** Minimum ms between cleanups started by this middleware (1000–86400000). Default 60000. */
  cleanupCooldownMs?: number;
}

export interface MemoryRouterOptions {
  manager?: MemoryManagerService;
  /** The express module to build the router with. Default require('express'). */
  express?: any;
  /**
   * Bearer token for the admin routes and the private reads (16–1024 printable ASCII); only its
   * SHA-256 is kept. Default: env MEMORY_ADMIN_TOKEN; without one, loopback only, and only in local
   * development (README "Security").
   */
  adminToken?: string;
  /**
   * true: GET /metrics, /leak-detection and the other detailed reads answer anyone (GET /health
   * always does; admin routes stay closed). Default: env MEMORY_PUBLIC_READS, else false.
   */
  publicReads?: boolean;
  /**
   * Without a token, in local development: accept a request a proxy forwarded when its headers
   * name a client and every address they name is loopback. Default false: any proxy header
   * (X-Forwarded-For, Forwarded, X-Real-IP, CF-Connecting-IP, Via, ...) refuses it.
   */
  trustProxy?: boolean;
  /** One admin action per this many ms (0 disables). Default 10000. */
  adminRateLimitMs?: number;
  /** Newest samples included in GET /metrics. Default 60. */
  historySamples?: number;
}

export interface MemwardenExpressOptions {
  manager?: MemoryManagerService;
  express?: any;
  /** Where the memory router is mounted; false leaves it out. Default '/api/memory'. */
  path?: string | false;
  headers?: MemoryHeadersOptions | false;
  monitor?: MonitorRequestOptions | false;
  pressure?: MemoryPressureOptions | false;
  router?: MemoryRouterOptions | false;
}

export declare const memoryMonitoring: {
  addMemoryHeaders(options?: MemoryHeadersOptions): Middleware;
  monitorRequestMemory(options?: MonitorRequestOptions): Middleware;
  handleMemoryPressure(options?: MemoryPressureOptions): Middleware;
  /** Route-level opt-out of the memory headers. */
  omitMemoryHeaders(): Middleware;
  readonly DEFAULT_EXEMPT_PATHS: readonly string[];
};

/** The /api/memory endpoints as an express.Router. */
export declare function createMemoryRouter(options?: MemoryRouterOptions): Middleware & { [key: string]: any };
/** The three middlewares and the memory router in one express.Router. */
export declare function express(options?: MemwardenExpressOptions): Middleware & { [key: string]: any };
export declare namespace express {
  /**
   * What app.use(express(options)) does, at a fraction of the per-request cost: headers and
   * timing where the request enters the app, the rest only for requests that need it
   * (README: "memwarden.express.attach"). Returns `app`. Throws when memwarden is already attached.
   */
  function attach<App extends Function>(app: App, options?: MemwardenExpressOptions): App;
}

export interface CleanupContext {
  reason: string;
  force: boolean;
  trigger: 'manual' | 'proactive';
  status: MemoryStatus;
  pressurePercentage: number;
  manager: MemoryManagerService;
}

export type CleanupResult = void | number | { success?: boolean; error?: string; freedBytes?: number; details?: unknown; skipped?: boolean };

export interface CleanupStrategy {
  /** Letters, digits, '_', '.', ':', '-' (1–100). */
  name: string;
  /** 0–1000, higher runs first. */
  priority: number;
  /** Eligible when pressure (%) is at or above this (0–100). */
  thresholdPercent: number;
  run(context: CleanupContext): CleanupResult | Promise<CleanupResult>;
  description?: string;
  /** ms (1–600000). Default 10000. */
  timeoutMs?: number;
}

export interface CleanupStrategyInfo {
  name: string;
  priority: number;
  thresholdPercent: number;
  builtin: boolean;
  description: string;
  timeoutMs: number;
}

export interface CleanupAction {
  type: 'cleanup';
  strategy: string;
  priority: number;
  thresholdPercent: number;
  reason: string;
  success: boolean;
  /** V8 heap used before minus after (bytes, at least 0): measured, not claimed. */
  freedBytes: number;
  heapBefore: number;
  heapAfter: number;
  /** What the strategy said it freed (e.g. native memory), or null. */
  reportedFreedBytes: number | null;
  durationMs: number;
  timestamp: number;
  error?: string;
  skipped?: boolean;
  details?: unknown;
}

export interface CleanupRun {
  reason: string;
  trigger: 'manual' | 'proactive';
  force: boolean;
  status: MemoryStatus;
  pressurePercentage: number;
  actions: CleanupAction[];
  timestamp: number;
}

export interface WebhookStats {
  configured: true;
  /** Origin only (the path may hold a secret). */
  target: string;
  source: 'alertWebhookUrl' | 'MEMORY_ALERT_WEBHOOK_URL';
  timeoutMs: number;
  queueSize: number;
  sent: number;
  failed: number;
  dropped: number;
  queued: number;
  inFlight: boolean;
  lastError: string | null;
  lastErrorAt: number | null;
  lastSuccessAt: number | null;
}

export interface AlertDeliveryStats {
  delivered: { alerts: number; resolved: number };
  logger: boolean;
  webhook: WebhookStats | { configured: false };
}

export interface Correlation {
  /** Pearson's r, or null (with `reason`) below minWindows or without variation. */
  coefficient: number | null;
  strength: 'none' | 'weak' | 'moderate' | 'strong' | null;
  windows: number;
  enoughData: boolean;
  reason: string | null;
}

export interface RouteStatsReport {
  route: string;
  method: string | null;
  path: string | null;
  count: number;
  serverErrors: number;
  clientErrors: number;
  latencyMs: { mean: number | null; p50: number | null; p95: number | null; max: number | null };
  memory: { samples: number; interruptedByGc: number; meanHeapDeltaBytes: number | null; maxHeapDeltaBytes: number | null };
  lastSeen: number;
}

export interface RequestStatsReport {
  since: number;
  totalRequests: number;
  routeCount: number;
  maxRoutes: number;
  overflowedRequests: number;
  abortedRequests: number;
  routes: RouteStatsReport[];
  memoryHeavyRoutes: Array<{ route: string; samples: number; meanHeapDeltaBytes: number; maxHeapDeltaBytes: number }>;
  correlation: { windowMs: number; windows: number; minWindows: number; gcPauseVsLatency: Correlation; heapUsedVsLatency: Correlation };
  windows: Array<{ start: number; durationMs: number; requests: number; meanLatencyMs: number | null; p95LatencyMs: number | null; gcPauseMs: number | null; gcCount: number; gcPauseShare: number | null; heapUsedBytes: number | null }>;
  currentWindow: { start: number; requests: number; gcPauseMs: number | null };
}

/** Per-route request statistics; time is passed in (ms of a monotonic clock). */
export declare class RequestStats {
  constructor(options?: { maxRoutes?: number; windowMs?: number; maxWindows?: number; minWindows?: number; minMemorySamples?: number; now?: number });
  report(now?: number): RequestStatsReport;
  reset(now?: number): { routesDropped: number; windowsDropped: number; requestsDropped: number };
  /** Read-only view of the per-route latency histograms (counts[i]: requests in log bucket i, 4 per doubling from 10 µs); live arrays, do not modify. */
  latencyHistograms(): IterableIterator<{ route: string; count: number; totalMs: number; counts: Uint32Array }>;
}

export interface EnhancedHealthCheck {
  status: MemoryStatus;
  /** status below failAt */
  healthy: boolean;
  failAt: ShedLevel;
  timestamp: number;
  uptimeSeconds: number;
  metrics: {
    memoryUsage: Pick<CurrentUsage, 'heapUsed' | 'heapTotal' | 'external' | 'rss' | 'residentBytes' | 'limitBytes' | 'limitSource' | 'heapSizeLimit' | 'usagePercentage' | 'heapUsagePercentage' | 'pressurePercentage' | 'pressureSource' | 'platform'> & { status: MemoryStatus };
    gc: { totalCollections: number; averageDuration: number; pauseTimePercent: number; efficiency: number | null; available: boolean };
    trend: { growthRate: number; isIncreasing: boolean; minutesToLimit: number | null };
    leak: { suspected: boolean; confidence: number };
    alerts: { active: number };
  };
  thresholds: HealthReport['thresholds'];
  recommendations: string[];
}

export declare function performEnhancedHealthCheck(options?: { manager?: MemoryManagerService; failAt?: ShedLevel }): Promise<EnhancedHealthCheck>;
export declare const healthCheckService: { performEnhancedHealthCheck: typeof performEnhancedHealthCheck };

export interface TerminusMemoryInfo {
  memory: {
    status: MemoryStatus;
    failAt: ShedLevel;
    pressurePercentage: number;
    usagePercentage: number;
    heapUsagePercentage: number;
    residentBytes: number;
    limitBytes: number;
    leakSuspected: boolean;
  };
}

/** For @godaddy/terminus `healthChecks`: resolves below failAt (default 'critical'), throws MemwardenHealthCheckError at or above it. */
export declare function terminusHealthCheck(options?: { manager?: MemoryManagerService; failAt?: ShedLevel }): () => Promise<TerminusMemoryInfo>;

export declare class MemwardenHealthCheckError extends Error {
  code: 'ERR_MEMWARDEN_UNHEALTHY';
  causes: TerminusMemoryInfo | { memory: { status: 'unknown'; error: string } };
}

/** IPv4 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export declare function isLoopbackAddress(address: unknown): boolean;

/** Which native binary memwarden loaded (README "Install and platforms"). */
export interface NativeBindingInfo {
  /** napi-rs platform name of the binary: `linux-x64-gnu`, `darwin-arm64`, `win32-x64-msvc`, ... */
  platform: string | null;
  /**
   * `package`: from the optional dependency `memwarden-<platform>` (a prebuilt binary, the
   * npm install case); `local`: `memwarden.<platform>.node` beside the loader (built from
   * source); `override`: the file named by `NAPI_RS_NATIVE_LIBRARY_PATH`.
   */
  source: 'package' | 'local' | 'override' | null;
  /** `memwarden-<platform>` when `source` is `package`, else null. */
  packageName: string | null;
  packageVersion: string | null;
  /** Absolute path of the `.node` file. */
  path: string | null;
}
export declare const nativeBinding: Readonly<NativeBindingInfo>;

// ---------------------------------------------------------------------------
// Fleet metrics (lib/metrics/, README "Monitoring a fleet"). prom-client and
// @opentelemetry/api are optional peers: the types below are structural, so neither
// needs to be installed to type-check.

/** A metric family in prom-client's metric object shape. */
export interface MemwardenMetricFamily {
  name: string;
  help: string;
  type: 'gauge' | 'counter' | 'histogram';
  aggregator?: 'sum' | 'max' | 'min' | 'average' | 'first' | 'omit';
  values: Array<{ labels: Record<string, string | number>; value: number; metricName?: string }>;
}

/** The parts of a prom-client Registry memwarden uses. */
export interface PromClientRegistryLike {
  registerMetric(metric: unknown): void;
  getSingleMetric(name: string): unknown;
  removeSingleMetric(name: string): void;
}

export interface CollectMemwardenMetricsOptions {
  /** The registry to add the metrics to. Default: prom-client's global registry (needs prom-client installed). */
  register?: PromClientRegistryLike;
  /** Put before every name (`myapp_` gives `myapp_memwarden_usage_ratio`). Default: ''. */
  prefix?: string;
  /** Labels added to every series, e.g. `{ service: 'api' }`. Default: none. */
  labels?: Record<string, string | number>;
  /** Label naming the cluster worker (node:cluster worker id, or pm2's NODE_APP_INSTANCE); false leaves it out. Default: 'worker'. */
  workerLabel?: string | false;
  /** Export memwarden_gc_duration_seconds (prom-client's default metrics already export nodejs_gc_duration_seconds). Default: false. */
  gcDurations?: boolean;
  /** Export memwarden_request_duration_seconds{route} from memoryMonitoring.monitorRequestMemory()'s statistics. Default: false. */
  requestDurations?: boolean;
  /** Default: MemoryManagerService.getInstance(). */
  manager?: MemoryManagerService;
}

/** memwarden's metrics in a prom-client registry, read from the cached snapshot on each scrape. Throws ERR_MEMWARDEN_CONFIG. */
export declare function collectMemwardenMetrics(options?: CollectMemwardenMetricsOptions): {
  /** The registered metric names. */
  names: string[];
  /** Removes them from the registry (and stops the GC observer when gcDurations was on). */
  unregister(): void;
};

/** The parts of an OpenTelemetry Meter memwarden uses (@opentelemetry/api's Meter). */
export interface OtelMeterLike {
  createObservableGauge(name: string, options?: { description?: string; unit?: string }): unknown;
  createObservableCounter(name: string, options?: { description?: string; unit?: string }): unknown;
  createObservableUpDownCounter(name: string, options?: { description?: string; unit?: string }): unknown;
  addBatchObservableCallback(callback: (result: any) => void, observables: any[]): void;
  removeBatchObservableCallback(callback: (result: any) => void, observables: any[]): void;
}

export interface ObserveMemwardenMetricsOptions {
  /** The Meter to create the observable instruments on (required). */
  meter: OtelMeterLike;
  /** Attributes added to every point, e.g. `{ 'service.name': 'api' }`. Default: none. */
  attributes?: Record<string, string | number | boolean>;
  /** Attribute naming the cluster worker; false leaves it out. Default: 'worker'. */
  workerLabel?: string | false;
  /** Default: MemoryManagerService.getInstance(). */
  manager?: MemoryManagerService;
}

/** memwarden's metrics as OpenTelemetry observable instruments (process.memory.usage, memwarden.*). Throws ERR_MEMWARDEN_CONFIG. */
export declare function observeMemwardenMetrics(options: ObserveMemwardenMetricsOptions): {
  /** The instrument names. */
  names: string[];
  /** Removes the batch callback. */
  stop(): void;
};

/** In a node:cluster worker: answers the primary's clusterMetrics() requests. A no-op without an IPC channel. */
export declare function serveClusterMetrics(options?: {
  manager?: MemoryManagerService;
  labels?: Record<string, string | number>;
  /** Default: 'worker'. */
  workerLabel?: string | false;
  /** Export memwarden_gc_duration_seconds. Default: true. */
  gcDurations?: boolean;
}): { stop(): void };

/** In the node:cluster primary: every worker's metrics as one Prometheus text exposition. */
export declare const clusterMetrics: {
  (options?: { /** Wait for workers' answers at most this long (1–60000 ms). Default: 2000. */ timeoutMs?: number }): Promise<string>;
  /** `text/plain; version=0.0.4; charset=utf-8` */
  readonly contentType: string;
};

// ---------------------------------------------------------------------------------------
// Developer tools (README "Developer tools"): memoryMonitorUtil, the report, GET /live.

/** One recorded sample (ms since epoch, bytes). */
export interface LiveSample {
  t: number;
  heapUsed: number;
  heapTotal: number;
  rss: number;
  external: number;
}

/** One full garbage collection from the recorded history. */
export interface LiveGcEvent {
  t: number;
  durationMs: number;
  kind: string;
  forced: boolean;
  heapBefore: number;
  heapAfter: number;
}

/** What a memory pressure simulation did (memoryMonitorUtil.simulateMemoryPressure, POST /api/memory/simulate). */
export interface SimulationState {
  id: string;
  phase: 'starting' | 'allocating' | 'holding' | 'releasing' | 'recovering' | 'done' | 'failed';
  /** Bytes asked for. */
  targetBytes: number;
  /** Bytes held now (0 after the release). */
  allocatedBytes: number;
  startedAt: number;
  finishedAt: number | null;
  startStatus: MemoryStatus | null;
  status: MemoryStatus | null;
  peakStatus: MemoryStatus | null;
  transitions: { t: number; from: MemoryStatus; to: MemoryStatus; pressurePercentage: number; phase: string }[];
  alerts: { t: number; type: AlertType; level: 'warning' | 'critical' | 'emergency'; message: string; phase: string }[];
  cleanups: { t: number; reason: string; actions: { strategy: string; success: boolean; freedBytes: number | null }[]; phase: string }[];
  gcs: { t: number; reason: string; success: boolean; durationMs: number | null; freedBytes: number | null; phase: string }[];
  before: SimulationFigures | null;
  /** Each figure's maximum over the simulation (not necessarily from one sample). */
  peak: SimulationFigures | null;
  after: SimulationFigures | null;
  /** Whether the status came back to startStatus (or lower) within recoverMs. */
  recovered: boolean | null;
  error: string | null;
}

export interface SimulationFigures {
  status: MemoryStatus;
  residentBytes: number;
  heapUsed: number;
  pressurePercentage: number;
  pressureSource: 'resident' | 'heap';
}

export interface SimulationOptions {
  manager?: MemoryManagerService;
  /** ms between allocation steps (10–10000). Default 100. */
  stepMs?: number;
  /** ms to hold the memory before releasing it (0–600000). Default 2000. */
  holdMs?: number;
  /** ms to wait for the status to come back after the release (0–600000). Default 10000. */
  recoverMs?: number;
  /** Called with the state after every step. */
  onProgress?: (state: SimulationState) => void;
}

/** GET /api/memory/live (and what `memory status --json` prints). */
export interface LiveData {
  timestamp: number;
  status: MemoryStatus;
  statusSince: number;
  thresholds: HealthReport['thresholds'];
  limitBytes: number;
  limitSource: string;
  heapSizeLimit: number;
  residentBytes: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  usagePercentage: number;
  heapUsagePercentage: number;
  pressurePercentage: number;
  pressureSource: 'resident' | 'heap';
  platform: string;
  trend: { growthRateBytesPerSec: number | null; isIncreasing: boolean; minutesToLimit: number | null; minutesToHeapLimit: number | null; enoughData: boolean };
  leak: {
    leakSuspected: boolean;
    confidence: number;
    signal: string | null;
    since: number | null;
    minutesToLimit: number | null;
    minutesToHeapLimit: number | null;
    attributionRunning: boolean;
    sites: { functionName: string; url: string; lineNumber: number; growthBytesPerSec: number }[];
  };
  gcAvailable: boolean;
  gcStats: Pick<GcStats, 'totalCollections' | 'major' | 'minor' | 'averageDuration' | 'p95Duration' | 'pauseTimePercent' | 'efficiency'>;
  intervalMs: number;
  /** Samples newer than ?since= (at most 600). */
  samples: LiveSample[];
  gc: LiveGcEvent[];
  alerts: { active: MemwardenAlert[]; history: MemwardenAlert[] };
  recommendations: string[];
  cleanup: { strategies: string[]; last: { reason: string; trigger: string; status: MemoryStatus; timestamp: number; actions: { strategy: string; success: boolean; freedBytes: number | null; error: string | null }[] } | null };
  simulation: SimulationState | null;
  uptimeSeconds: number;
}

/** memoryMonitorUtil.generateMemoryReport() and the JSON that `memory report` writes. */
export interface MemoryReport {
  memwardenReport: 1;
  generatedAt: string;
  source: { kind: 'in-process'; pid: number } | { kind: 'server'; url: string };
  status: MemoryStatus;
  currentUsage: CurrentUsage;
  thresholds: HealthReport['thresholds'];
  trend: TrendReport;
  gcStats: GcStats;
  gcAvailable: boolean;
  recommendations: string[];
  leak: LeakReport;
  history: { intervalMs: number; samples: LiveSample[]; gc: LiveGcEvent[] };
  /** Per-route statistics, or null without monitorRequestMemory(). */
  requests: RequestStatsReport | null;
  alerts: AlertsReport;
  cleanup: { strategies: CleanupStrategyInfo[]; last: CleanupRun | null };
}

export interface DevelopmentMonitoringOptions {
  manager?: MemoryManagerService;
  /** Where the lines go. Default console. */
  logger?: { info(message: string): void; warn(message: string): void };
  /** Colour the status. Default: when logging to a terminal through console. */
  color?: boolean;
}

/** Development helpers (SPEC.md "Development Monitoring"), sharing their code with the `memory` CLI. */
export declare const memoryMonitorUtil: {
  /** Logs a status line every intervalMs (100–3600000, default 5000) and status changes, alerts and leaks as they happen; initializes the manager if needed; unref'd. */
  startDevelopmentMonitoring(intervalMs?: number, options?: DevelopmentMonitoringOptions): Promise<{ intervalMs: number }>;
  /** true when it was running. */
  stopDevelopmentMonitoring(): boolean;
  /** Allocates mb MB of heap gradually, holds, releases, waits for recovery. Rejects with ERR_MEMWARDEN_SIMULATION_TOO_LARGE beyond the room left below the limits. */
  simulateMemoryPressure(mb: number, options?: SimulationOptions): Promise<SimulationState>;
  /** Everything memwarden knows, as one object (the manager must be initialized). */
  generateMemoryReport(options?: { manager?: MemoryManagerService }): MemoryReport;
  /** The self-contained HTML (uPlot charts inlined) for a report. */
  renderReportHtml(report: MemoryReport): string;
  /** Writes `<base>.json` and `<base>.html`. */
  writeMemoryReport(base: string, options?: { manager?: MemoryManagerService }): { jsonPath: string; htmlPath: string };
};
