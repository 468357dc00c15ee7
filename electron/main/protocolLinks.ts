export const PROTOCOL_SCHEME = 'zerorange';
const LINK_PREFIX = /^zerorange:\/\//i;
const MAX_LINK_LENGTH = 2048;

/**
 * The join link in a command line (Windows and Linux cold start, and `second-instance`). Chromium may put
 * its own switches anywhere, before or after `--`; only a whole argument that is a zerorange:// link counts.
 */
export function findJoinLinkInArgv(argv: readonly string[]): string | null {
  for (const arg of argv.slice(1)) {
    if (arg.length <= MAX_LINK_LENGTH && LINK_PREFIX.test(arg)) return arg;
  }
  return null;
}

/**
 * Arguments for `app.setAsDefaultProtocolClient`. Run as `electron <app>` (process.defaultApp), the OS must
 * start Electron with the app's path too, or the link would open the bare Electron shell.
 */
export function protocolClientArgs(defaultApp: boolean, execPath: string, appPath: string | undefined): [string] | [string, string, string[]] {
  if (defaultApp && appPath) return [PROTOCOL_SCHEME, execPath, [appPath]];
  return [PROTOCOL_SCHEME];
}
