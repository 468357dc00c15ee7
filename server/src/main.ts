import { pino } from 'pino';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { listen, listenMetrics } from './listen.js';

/**
 * Runs `make`; a configuration error exits 2 with its message, which the systemd unit does not
 * restart (RestartPreventExitStatus=2): restarting cannot fix a setting.
 */
function orExit2<T>(make: () => T): T {
  try {
    return make();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`zerorange-server: ${err.message}\n`);
    process.exit(2);
  }
}

/** Process entry: validated config, listen, graceful shutdown on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const config = orExit2(() => loadConfig(process.env, process.argv[2] ?? process.env.ZR_CONFIG));
  const logger = pino(
    {
      level: config.logLevel,
      // Belt and braces: these never belong in logs even if a future log call passes them.
      redact: { paths: ['*.authorization', '*.roomToken', '*.credential', '*.password', '*.token', '*.secret'], censor: '[redacted]' },
    },
    // Asynchronous writes: under load, lines written while one write is in flight go out together
    // (one syscall for many), and an idle server still writes each line at once. Flushed on exit.
    pino.destination({ dest: 1, sync: false }),
  );
  // A setting that validates but cannot be used (a replay store file that cannot be written) is a
  // configuration error too.
  const app = orExit2(() => buildApp(config, { logger }));
  app.verifier.ready().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'identity provider discovery failed; will retry on demand'));
  const address = await listen(app);
  const metricsAddress = await listenMetrics(app);
  logger.info(
    { host: address.address, port: address.port, tls: Boolean(config.tls), metrics: `${metricsAddress.address}:${metricsAddress.port}` },
    'signaling server listening',
  );

  let stopping = false;
  const stop = (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, drainDelayMs: config.cluster.drainDelayMs, graceMs: config.shutdownGraceMs }, 'shutting down');
    const hardExit = setTimeout(() => {
      logger.error('shutdown deadline passed; exiting');
      process.exit(1);
    }, config.cluster.drainDelayMs + config.shutdownGraceMs + 2000);
    hardExit.unref();
    app.close().then(
      () => logger.flush(() => process.exit(exitCode)),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // Room-token keys rotate without a restart: SIGHUP rereads roomToken.keysFile.
  process.on('SIGHUP', () => {
    if (!stopping) app.reloadRoomTokenKeys('SIGHUP');
  });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  // Last resort. Client input cannot get here (the request and upgrade listeners answer every
  // fault themselves), so this is our own bug, and after it the process state is unknown: a room
  // half updated, a per-address count never released. Serving on from such a state fails quietly
  // and for long; crash-only is the safer policy. The stop is the graceful one, so calls survive
  // it as they survive a deploy, and the non-zero exit has the supervisor start a clean process.
  const fatal = (kind: string) => (err: unknown) => {
    logger.fatal({ err }, kind);
    stop(kind, 1);
  };
  process.on('uncaughtException', fatal('uncaughtException'));
  process.on('unhandledRejection', fatal('unhandledRejection'));
}

main().catch((err: unknown) => {
  process.stderr.write(`zerorange-server: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
