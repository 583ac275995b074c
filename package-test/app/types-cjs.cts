// Type-checked by the package test (tsc, module nodenext): a CommonJS consumer.
import memwarden = require('memwarden');

const manager: memwarden.MemoryManagerService = memwarden.MemoryManagerService.getInstance();
const platform: string | null = memwarden.nativeBinding.platform;
export = { manager, platform, router: memwarden.createMemoryRouter() };
