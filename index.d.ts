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
  /** Start a leak-site attribution automatically when a leak is flagged with confidence ≥ 70 (at most every 10 min). Default: true. */
  leakAttribution?: boolean;
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
  signal: LeakSignal | null;
  since: number | null;
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

export interface AttributionOptions {
  /** How long to sample (1000–600000 ms). Default: 30000. */
  durationMs?: number;
  /** Profile reads after the first (2–20); each forces a full GC. Default: 3. */
  windows?: number;
  /** Average bytes between samples (1024–16777216). Default: 131072 (overhead within noise). */
  samplingIntervalBytes?: number;
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
  grewBytes: number;
  growthBytesPerSec: number;
  /** Windows in which the site grew, of `windows`. */
  grewInWindows: number;
  windows: number;
}

export interface LeakAttribution {
  startedAt: number;
  durationMs: number;
  samplingIntervalBytes: number;
  windows: number;
  /** Sites still growing in the last window, most growth first. */
  sites: LeakSite[];
  note: string;
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
  analyzeTrace(trace: MemoryTrace, options?: MemwardenOptions): TraceAnalysis;
  on(event: 'status', listener: (e: StatusEvent) => void): this;
  on(event: 'gc', listener: (a: GcAction) => void): this;
  on(event: 'leak', listener: (e: LeakEvent) => void): this;
  on(event: 'leakResolved', listener: (e: LeakResolvedEvent) => void): this;
  on(event: 'alert' | 'alertResolved', listener: (a: MemwardenAlert) => void): this;
  on(event: 'cleanup', listener: (run: CleanupRun) => void): this;
  on(event: 'error', listener: (err: SamplerError) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once(event: 'status', listener: (e: StatusEvent) => void): this;
  once(event: 'gc', listener: (a: GcAction) => void): this;
  once(event: 'leak', listener: (e: LeakEvent) => void): this;
  once(event: 'leakResolved', listener: (e: LeakResolvedEvent) => void): this;
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
  /** Bearer token for POST /gc and /emergency-cleanup (16–1024 printable ASCII). Default: env MEMORY_ADMIN_TOKEN; without one, loopback only. */
  adminToken?: string;
  /** Judge X-Forwarded-For / Forwarded / X-Real-IP addresses (every hop must be loopback). Default false: any forwarding header refuses a tokenless admin request. */
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
