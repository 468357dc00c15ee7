import { IpHandlingPolicy } from '../../shared/ipc/shellServices.js';
import type { CrashReportSettings } from './crashReports.js';
import { NO_MANAGED_CONFIG, type ManagedConfig } from './managedConfig.js';

/**
 * What an organisation may set for the shell's services: updates (off, a pinned channel, the feed),
 * crash report uploads, and a fixed WebRTC IP-handling policy. The managed configuration file
 * (managedConfig.ts) decides where it says something; the environment can set the rest, and test
 * machines use it (ZR_UPDATES=off, ZR_UPDATE_CHANNEL, ZR_UPDATE_URL, ZR_CRASH_SUBMIT_URL,
 * ZR_WEBRTC_IP_POLICY). Updates are on only if neither turns them off.
 */
export interface ShellSettings {
  updates: { enabled: boolean; channel: string | null; feedUrl: string | null };
  crashReports: CrashReportSettings;
  managedIpPolicy: IpHandlingPolicy | null;
}

const CHANNEL = /^[a-z][a-z0-9-]{0,31}$/;

/** Settings from the environment, and what was wrong with it (each bad value is ignored and named). */
export function shellSettingsFromEnv(env: NodeJS.ProcessEnv, managed: Readonly<ManagedConfig> = NO_MANAGED_CONFIG): { settings: ShellSettings; problems: string[] } {
  const problems: string[] = [];
  const updatesOff = env.ZR_UPDATES === 'off';
  if (env.ZR_UPDATES && env.ZR_UPDATES !== 'off' && env.ZR_UPDATES !== 'on') problems.push(`ZR_UPDATES must be "on" or "off", not "${env.ZR_UPDATES}"`);
  let channel: string | null = null;
  if (env.ZR_UPDATE_CHANNEL) {
    if (CHANNEL.test(env.ZR_UPDATE_CHANNEL)) channel = env.ZR_UPDATE_CHANNEL;
    else problems.push('ZR_UPDATE_CHANNEL must be a lower-case name such as "latest" or "beta"');
  }
  let feedUrl: string | null = null;
  if (env.ZR_UPDATE_URL) {
    if (URL.canParse(env.ZR_UPDATE_URL) && new URL(env.ZR_UPDATE_URL).protocol === 'https:') feedUrl = env.ZR_UPDATE_URL;
    else problems.push('ZR_UPDATE_URL must be an https URL');
  }
  let managedIpPolicy: IpHandlingPolicy | null = null;
  if (env.ZR_WEBRTC_IP_POLICY) {
    const parsed = IpHandlingPolicy.safeParse(env.ZR_WEBRTC_IP_POLICY);
    if (parsed.success) managedIpPolicy = parsed.data;
    else problems.push(`ZR_WEBRTC_IP_POLICY must be one of ${IpHandlingPolicy.options.join(', ')}`);
  }
  const submitUrl = env.ZR_CRASH_SUBMIT_URL || null;
  return {
    settings: {
      updates: { enabled: managed.updates.enabled && !updatesOff, channel: managed.updates.channel ?? channel, feedUrl: managed.updates.feedUrl ?? feedUrl },
      // Setting a collector is the organisation's way of asking for uploads; the address is checked at start.
      crashReports: { uploadToServer: submitUrl !== null, submitUrl },
      managedIpPolicy: managed.webrtcIpHandling ?? managedIpPolicy,
    },
    problems,
  };
}
