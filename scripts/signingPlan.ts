/**
 * Run by `npm run dist` before electron-builder: says which signing and notarisation will happen on
 * this machine and which is skipped (and which variables would turn it on), and stops at once on a
 * half-set group of variables, which electron-builder would only report at the end of a long build.
 * electron-builder itself reads the same variables and does the signing.
 * `ZR_REQUIRE_SIGNING=1` (release pipelines) makes a skipped step an error.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

type Env = Readonly<Record<string, string | undefined>>;

export interface SigningStep {
  step: 'macOS signing' | 'macOS notarisation' | 'Windows signing';
  /** What will happen, or why it is skipped and how to turn it on. */
  message: string;
  enabled: boolean;
}

export interface SigningPlan {
  steps: SigningStep[];
  /** Settings that cannot work (half a group set): the build should not start. */
  errors: string[];
}

const set = (env: Env, name: string) => (env[name] ?? '').trim() !== '';

/** macOS notarisation credentials, in electron-builder's order of preference. */
const NOTARY_GROUPS: readonly { label: string; vars: readonly string[] }[] = [
  { label: 'an App Store Connect API key', vars: ['APPLE_API_KEY', 'APPLE_API_KEY_ID', 'APPLE_API_ISSUER'] },
  { label: 'an Apple ID', vars: ['APPLE_ID', 'APPLE_APP_SPECIFIC_PASSWORD', 'APPLE_TEAM_ID'] },
  { label: 'a notarytool keychain profile', vars: ['APPLE_KEYCHAIN_PROFILE'] },
];

function notarisation(env: Env, errors: string[]): SigningStep {
  for (const group of NOTARY_GROUPS) {
    const present = group.vars.filter((v) => set(env, v));
    if (present.length === group.vars.length) return { step: 'macOS notarisation', enabled: true, message: `notarising with ${group.label} (${group.vars.join(', ')})` };
    if (present.length > 0) errors.push(`macOS notarisation: ${present.join(', ')} set but ${group.vars.filter((v) => !set(env, v)).join(', ')} missing`);
  }
  const how = NOTARY_GROUPS.map((g) => g.vars.join(' + ')).join(', or ');
  return { step: 'macOS notarisation', enabled: false, message: `skipped: set ${how}` };
}

function certificate(env: Env, step: 'macOS signing' | 'Windows signing', link: string[], password: string[], errors: string[]): SigningStep {
  const linkVar = link.find((v) => set(env, v));
  if (!linkVar) return { step, enabled: false, message: `skipped (the build is unsigned): set ${link.join(' or ')} to the certificate (.p12/.pfx file, base64 or https URL) and ${password.join(' or ')} to its password` };
  if (!password.some((v) => set(env, v))) errors.push(`${step}: ${linkVar} is set but ${password.join(' or ')} is missing`);
  return { step, enabled: true, message: `signing with the certificate in ${linkVar}` };
}

/** What `npm run dist` will do about signing on `platform`, from the environment. */
export function signingPlan(env: Env, platform: NodeJS.Platform): SigningPlan {
  const errors: string[] = [];
  const steps: SigningStep[] = [];
  if (platform === 'darwin') {
    steps.push(certificate(env, 'macOS signing', ['CSC_LINK'], ['CSC_KEY_PASSWORD'], errors));
    steps.push(notarisation(env, errors));
  }
  // electron-builder signs Windows targets from Windows, or elsewhere with osslsigncode.
  if (platform === 'win32' || set(env, 'WIN_CSC_LINK')) {
    steps.push(certificate(env, 'Windows signing', ['WIN_CSC_LINK', 'CSC_LINK'], ['WIN_CSC_KEY_PASSWORD', 'CSC_KEY_PASSWORD'], errors));
  }
  if (env.ZR_REQUIRE_SIGNING === '1') {
    for (const s of steps) if (!s.enabled) errors.push(`${s.step} is required (ZR_REQUIRE_SIGNING=1) but ${s.message}`);
  }
  return { steps, errors };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const plan = signingPlan(process.env, process.platform);
  if (plan.steps.length === 0) console.log('signing: nothing to sign for Linux packages (deb and rpm repositories sign their own metadata)');
  for (const s of plan.steps) console.log(`${s.step}: ${s.message}`);
  for (const e of plan.errors) console.error(`error: ${e}`);
  if (plan.errors.length > 0) process.exit(1);
}
