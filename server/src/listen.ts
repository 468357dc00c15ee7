import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from './app.js';

function listenOn(server: http.Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Starts the public listener; resolves with the bound address (port 0 picks a free one). */
export function listen(app: App, port = app.config.listen.port, host = app.config.listen.host): Promise<AddressInfo> {
  return listenOn(app.server, port, host);
}

/** Starts the metrics listener, on its own (by default loopback) address. */
export function listenMetrics(app: App, port = app.config.metrics.port, host = app.config.metrics.host): Promise<AddressInfo> {
  return listenOn(app.metricsServer, port, host);
}
