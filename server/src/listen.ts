import type { AddressInfo } from 'node:net';
import type { App } from './app.js';

/** Starts listening; resolves with the bound address (port 0 picks a free one). */
export function listen(app: App, port = app.config.listen.port, host = app.config.listen.host): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    app.server.once('error', onError);
    app.server.listen(port, host, () => {
      app.server.off('error', onError);
      resolve(app.server.address() as AddressInfo);
    });
  });
}
