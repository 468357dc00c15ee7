/**
 * A lean WebSocket and HTTP/1.1 client for load generation: raw sockets, prebuilt frames, frames
 * handed over as Buffers. The generator must cost far less than the servers it drives, or it would
 * measure itself; `ws` and fetch cost several times more per connection.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface Endpoint {
  host: string;
  port: number;
  /** TLS with this CA (PEM); plain TCP when absent. */
  ca?: string;
  servername?: string;
}

function connectSocket(ep: Endpoint, localAddress?: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    const tcp = net.connect({ host: ep.host, port: ep.port, localAddress, noDelay: true });
    const done = () => {
      socket.off('error', onError);
      resolve(socket);
    };
    const socket: net.Socket = ep.ca ? tls.connect({ socket: tcp, ca: ep.ca, servername: ep.servername ?? 'localhost' }, done) : tcp.once('connect', done);
    socket.once('error', onError);
    tcp.once('error', onError);
  });
}

const HEADER_END = Buffer.from('\r\n\r\n');

export interface HttpResponse {
  status: number;
  body: Buffer;
}

/** One request on its own connection (`connection: close`), as a client joining cold would. */
export async function httpRequest(ep: Endpoint, method: string, path: string, headers: Record<string, string>, localAddress?: string): Promise<HttpResponse> {
  const socket = await connectSocket(ep, localAddress);
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${ep.host}:${ep.port}\r\nconnection: close\r\ncontent-length: 0\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  socket.write(`${head}\r\n`);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('error', reject);
    socket.once('close', () => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf(HEADER_END);
      if (end < 0) return reject(new Error(`no HTTP response from ${method} ${path}`));
      const status = Number(all.subarray(9, 12).toString('latin1'));
      resolve({ status, body: all.subarray(end + 4) });
    });
  });
}

// A fixed mask key of zero: the server unmasks as always, and prebuilt frames need no copying.
const MASK = Buffer.alloc(4);

/** A masked client frame for a text (0x1), close (0x8) or pong (0xa) payload. */
export function clientFrame(payload: Buffer, opcode = 0x1): Buffer {
  const len = payload.length;
  const headLen = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headLen + 4 + len);
  frame[0] = 0x80 | opcode;
  if (len < 126) frame[1] = 0x80 | len;
  else if (len < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(len, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(0, 2);
    frame.writeUInt32BE(len, 6);
  }
  MASK.copy(frame, headLen);
  payload.copy(frame, headLen + 4);
  return frame;
}

const PONG_EMPTY = clientFrame(Buffer.alloc(0), 0xa);

export class RawWs {
  private handler: ((payload: Buffer) => void) | undefined;
  /** Messages that arrived before anyone listened (e.g. in the same packet as the 101). */
  private early: Buffer[] = [];

  /** Called with each text message (a view into the receive buffer: copy to keep it). */
  set onMessage(handler: (payload: Buffer) => void) {
    this.handler = handler;
    for (const m of this.early.splice(0)) handler(m);
  }
  onClose: () => void = () => {};
  closed = false;
  private buf: Buffer<ArrayBufferLike> = Buffer.alloc(0);

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('error', () => {});
    socket.once('close', () => {
      this.closed = true;
      this.onClose();
    });
  }

  /** Opens a socket and completes the upgrade; `rest` holds any bytes after the 101 response. */
  static async connect(ep: Endpoint, path: string, localAddress?: string): Promise<RawWs> {
    const socket = await connectSocket(ep, localAddress);
    socket.write(
      `GET ${path} HTTP/1.1\r\nhost: ${ep.host}:${ep.port}\r\nupgrade: websocket\r\nconnection: Upgrade\r\n` +
        'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n',
    );
    return new Promise((resolve, reject) => {
      let head: Buffer<ArrayBufferLike> = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        head = head.length ? Buffer.concat([head, chunk]) : chunk;
        const end = head.indexOf(HEADER_END);
        if (end < 0) return;
        socket.off('data', onData);
        socket.off('error', reject);
        socket.off('close', onClose);
        if (head.toString('latin1', 9, 12) !== '101') {
          socket.destroy();
          return reject(new Error(`upgrade refused: ${head.toString('latin1', 0, Math.min(end, 200))}`));
        }
        const ws = new RawWs(socket);
        const rest = head.subarray(end + 4);
        resolve(ws);
        if (rest.length) queueMicrotask(() => ws.read(rest));
      };
      const onClose = () => reject(new Error('closed during upgrade'));
      socket.on('data', onData);
      socket.once('error', reject);
      socket.once('close', onClose);
    });
  }

  send(frame: Buffer): boolean {
    if (this.closed) return false;
    return this.socket.write(frame);
  }

  sendText(text: string): boolean {
    return this.send(clientFrame(Buffer.from(text)));
  }

  /** Ends without a closing handshake, as a client that goes away does. */
  destroy(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    let buf: Buffer<ArrayBufferLike> = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (buf.length < 2) break;
      const opcode = buf[0]! & 0x0f;
      let len = buf[1]! & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) break;
        len = buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) break;
        len = buf.readUInt32BE(6);
        off = 10;
      }
      if (buf.length < off + len) break;
      const payload = buf.subarray(off, off + len);
      buf = buf.subarray(off + len);
      if (opcode === 0x1 || opcode === 0x2) {
        if (this.handler) this.handler(payload);
        else this.early.push(Buffer.from(payload));
      }
      else if (opcode === 0x9) this.send(payload.length ? clientFrame(payload, 0xa) : PONG_EMPTY);
      else if (opcode === 0x8) this.socket.end();
    }
    // Keep only the unread tail, copied so the chunk it came from can be freed.
    this.buf = buf.length ? Buffer.from(buf) : Buffer.alloc(0);
  }
}
