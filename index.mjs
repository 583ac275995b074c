// memwarden for ES modules: the same module as require('memwarden') (index.js, loaded
// once, so there is a single manager per process whichever way it is imported), as a
// default export and as named exports. __test__/esm.test.js checks the two lists match.
import memwarden from './index.js';

export default memwarden;
export const {
  MemoryManagerService,
  MemwardenConfigError,
  MemwardenNotInitializedError,
  MemwardenTraceError,
  analyzeTrace,
  attributeLeak,
  resolveConfig,
  memoryMonitoring,
  memoryMonitorUtil,
  createMemoryRouter,
  express,
  performEnhancedHealthCheck,
  healthCheckService,
  terminusHealthCheck,
  MemwardenHealthCheckError,
  RequestStats,
  isLoopbackAddress,
  collectMemwardenMetrics,
  observeMemwardenMetrics,
  serveClusterMetrics,
  clusterMetrics,
  nativeBinding,
} = memwarden;
