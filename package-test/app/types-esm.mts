// Type-checked by the package test (tsc, module nodenext): an ES module consumer.
import memwarden, { MemoryManagerService, nativeBinding, type HealthReport, type NativeBindingInfo } from 'memwarden';

const manager: MemoryManagerService = MemoryManagerService.getInstance();
const info: Readonly<NativeBindingInfo> = nativeBinding;
const source: 'package' | 'local' | 'override' | null = info.source;
const middleware = memwarden.express({ path: '/api/memory' });
const app = (req: unknown, res: unknown) => void [req, res];
const attached: typeof app = memwarden.express.attach(app, { headers: false });
export async function health(): Promise<HealthReport> {
  await manager.initialize({ monitoringIntervalMs: 5000 });
  return manager.getHealthMetrics();
}
export { middleware, source, attached };
