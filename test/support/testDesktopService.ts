import { createDesktopService, type DesktopService, type DesktopServiceDeps } from '../../electron/main/desktopService.js';
import { fakeSafeStorage } from './fakeSafeStorage.js';

/**
 * The main-process service as tests run it: an unpackaged test app with an AES keystore standing in
 * for the OS one. Callers give where it keeps its files, how it opens URLs and what network it is on.
 */
export function createTestDesktopService(
  deps: Pick<DesktopServiceDeps, 'userDataDir' | 'openExternal' | 'networkInterfaces'> & Partial<DesktopServiceDeps>,
): DesktopService {
  return createDesktopService({
    appInfo: () => ({ name: 'ZeroRange', version: '0.0.0-test', electron: null, chrome: null, node: process.versions.node, platform: process.platform, arch: process.arch, packaged: false }),
    safeStorage: fakeSafeStorage(),
    platform: process.platform,
    allowInsecureLoopback: true,
    loginTimeoutMs: 30_000,
    ...deps,
  });
}
