// electron-builder afterPack hook: flips Electron's fuses in the packed app, before signing (which
// electron-builder does after this hook, so signatures cover the flipped binary).
/* eslint-disable @typescript-eslint/no-require-imports -- electron-builder loads hooks with require() */
'use strict';
const path = require('node:path');
const { flipFuses, FuseVersion, FuseV1Options } = require('@electron/fuses');

/** Exported so a unit test can check the settings without packaging. */
const fuses = {
  // ELECTRON_RUN_AS_NODE would turn the signed app into a general-purpose Node.
  [FuseV1Options.RunAsNode]: false,
  // NODE_OPTIONS and --inspect would let anyone inject code into the main process.
  [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
  [FuseV1Options.EnableNodeCliInspectArguments]: false,
  // Cookies encrypted at rest with the OS keystore.
  [FuseV1Options.EnableCookieEncryption]: true,
  // Load only app.asar, and only if it matches the hash recorded at build time (macOS, Windows).
  [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
  [FuseV1Options.OnlyLoadAppFromAsar]: true,
  // The renderer is served from app://, so file:// needs none of its legacy privileges.
  [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
};

/** Where the Electron binary is in the packed app, as electron-builder's own addElectronFuses finds it. */
function electronBinaryPath(context) {
  const { appOutDir, electronPlatformName, packager } = context;
  if (electronPlatformName === 'darwin' || electronPlatformName === 'mas') {
    return path.join(appOutDir, `${packager.appInfo.productFilename}.app`);
  }
  if (electronPlatformName === 'win32') return path.join(appOutDir, `${packager.appInfo.productFilename}.exe`);
  return path.join(appOutDir, packager.executableName);
}

async function afterPack(context) {
  const darwin = context.electronPlatformName === 'darwin' || context.electronPlatformName === 'mas';
  await flipFuses(electronBinaryPath(context), {
    version: FuseVersion.V1,
    // Flipping invalidates the ad-hoc signature; without a fresh one arm64 macOS refuses to start the app.
    resetAdHocDarwinSignature: darwin,
    ...fuses,
  });
}

module.exports = { afterPack, fuses, electronBinaryPath };
