import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describeStack, startStack, stopOnSignals } from './stack.js';

/** `npm start`: the development stack on loopback, and the desktop app pointed at it. */

function electronBinary(): { path: string } | { error: string } {
  // Requiring `electron` downloads its binary on first use; where that cannot work, say why.
  const probe = spawnSync(process.execPath, ['-e', "process.stdout.write(require('electron'))"], {
    encoding: 'utf8',
    timeout: 60_000,
    cwd: process.cwd(),
  });
  if (probe.status === 0 && probe.stdout) return { path: probe.stdout };
  const lines = (probe.stderr || probe.error?.message || '').split('\n').map((l) => l.trim());
  // The download failure ("fetch failed") is the cause; electron's own message says what to do about it.
  const cause = lines.find((l) => /^(TypeError|RequestError|HTTPError|Error): /.test(l) && !l.includes('failed to install'));
  const advice = lines.find((l) => l.includes('failed to install'))?.replace(/^Error: /, '');
  const reason = [cause ? `downloading it failed: ${cause.replace(/^\w*Error: /, '')}` : null, advice].filter(Boolean).join('; ') || 'unknown error';
  return { error: reason };
}

async function main(): Promise<void> {
  const stack = await startStack({ idpPort: 9400, signalingPort: 8787 });
  console.log(describeStack(stack));
  const running: { app?: ReturnType<typeof spawn> } = {};
  stopOnSignals(stack, () => {
    running.app?.kill('SIGTERM');
  });

  const electron = electronBinary();
  if ('error' in electron) {
    console.log(
      `\nThe desktop app cannot start on this machine: Electron's binary is not available (${electron.error}).` +
        '\nThe servers stay up: point an app or the browser tests at the URLs above. Ctrl-C stops everything.',
    );
    return;
  }
  console.log('\nBuilding the app…');
  const build = spawnSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
  if (build.status !== 0) {
    console.log('The app did not build (see above). The servers stay up. Ctrl-C stops everything.');
    return;
  }
  const require = createRequire(import.meta.url);
  const app = spawn(electron.path, [require.resolve('../package.json').replace(/package\.json$/, '')], {
    stdio: 'inherit',
    env: {
      ...process.env,
      ZR_DEV_SERVER_URL: stack.info.signaling.url,
      ...(stack.info.turn.enabled ? { ZR_DEV_TURN_SPKI: stack.info.turn.spkiSha256 } : {}),
    },
  });
  running.app = app;
  app.on('exit', (code) => {
    console.log(`The app exited (${code ?? 'signal'}). The servers stay up; Ctrl-C stops everything.`);
  });
}

main().catch((err: unknown) => {
  console.error(`start: ${(err as Error).message}`);
  process.exit(1);
});
