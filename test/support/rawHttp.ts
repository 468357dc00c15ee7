import net from 'node:net';

export interface RawResponse {
  /** 0 when the connection closed before a status line arrived. */
  status: number;
  head: string;
  body: string;
}

/** The first response in `text`, when its head and (content-length) body are complete. */
export function parseResponse(text: string): RawResponse | null {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const head = text.slice(0, end);
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  const length = /\r\ncontent-length: *(\d+)/i.exec(head);
  const body = text.slice(end + 4);
  if (length && Buffer.byteLength(body) < Number(length[1])) return null;
  return { status, head, body: length ? body.slice(0, Number(length[1])) : body };
}

export function connect(port: number, host = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Sends raw bytes as one request and resolves with the first response, or status 0 when the
 * server closes without one. The connection is closed afterwards; with `end`, our side is
 * half-closed right after the request, so an incomplete one is not left waiting for more.
 */
export async function rawRequest(port: number, bytes: string | Buffer, timeoutMs = 5000, opts: { end?: boolean } = {}): Promise<RawResponse> {
  const socket = await connect(port);
  socket.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    let text = '';
    const done = (r: RawResponse) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no response within ${timeoutMs} ms to ${JSON.stringify(String(bytes).slice(0, 80))}`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      let r = parseResponse(text);
      // An interim answer (100 Continue) is not the answer: look past it.
      while (r && r.status >= 100 && r.status < 200 && r.status !== 101) {
        text = text.slice(r.head.length + 4);
        r = parseResponse(text);
      }
      if (r) done(r);
    });
    // A short body (a HEAD answer, a cut connection) still has its status line.
    socket.on('close', () => done(parseResponse(text) ?? { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), head: text, body: '' }));
    if (opts.end) socket.end(bytes);
    else socket.write(bytes);
  });
}

/** A request head with the given target and header lines (`host: 127.0.0.1` unless one is given). */
export function requestHead(target: string, headers: string[] = [], method = 'GET'): string {
  const all = headers.some((h) => /^host:/i.test(h)) ? headers : ['host: 127.0.0.1', ...headers];
  return `${method} ${target} HTTP/1.1\r\n${all.map((h) => `${h}\r\n`).join('')}\r\n`;
}
