/**
 * What differs between the servers under test: how a client joins, and how a signal message and a
 * heartbeat look on the wire. Everything else in the generator is shared, so both servers are driven
 * the same way.
 */
import { clientFrame, httpRequest, RawWs, type Endpoint } from './rawWs.js';

export type ServerKind = 'zerorange' | 'peerjs';

export interface Joined {
  ws: RawWs;
  peerId: string;
}

export interface JoinRequest {
  /** Unique per simulated client: the user's IdP access token (ZeroRange) or nothing (PeerJS). */
  accessToken?: string;
  room: string;
  /** PeerJS clients choose their id. */
  peerId: string;
  localAddress: string;
}

export type SignalKind = 'offer' | 'answer' | 'candidate';

export interface Adapter {
  kind: ServerKind;
  join(ep: Endpoint, req: JoinRequest): Promise<Joined>;
  /** A complete signal message from one peer to another. */
  signal(to: string, kind: SignalKind, body: string): string;
  heartbeat(n: number): Buffer;
}

const WELCOME = Buffer.from('"type":"welcome"');
const OPEN = Buffer.from('"type":"OPEN"');
const ERROR = Buffer.from('"type":"error"');

function waitFor(ws: RawWs, marker: Buffer, what: string, timeoutMs = 30_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.destroy();
      reject(new Error(`no ${what} within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.onMessage = (payload) => {
      if (payload.includes(marker)) {
        clearTimeout(timer);
        ws.onMessage = () => {};
        resolve(Buffer.from(payload));
      } else if (payload.includes(ERROR)) {
        clearTimeout(timer);
        ws.destroy();
        reject(new Error(`refused: ${payload.toString('utf8', 0, 200)}`));
      }
    };
    ws.onClose = () => {
      clearTimeout(timer);
      reject(new Error(`closed before ${what}`));
    };
  });
}

export const zerorange: Adapter = {
  kind: 'zerorange',
  async join(ep, req) {
    // The full join: HTTP join with the IdP's token (room token + TURN credentials), socket, welcome.
    const res = await httpRequest(ep, 'POST', `/v1/rooms/${req.room}/join`, { authorization: `Bearer ${req.accessToken}` }, req.localAddress);
    if (res.status !== 200) throw new Error(`join answered ${res.status}: ${res.body.toString('utf8', 0, 200)}`);
    const { roomToken } = JSON.parse(res.body.toString('utf8')) as { roomToken: string };
    const ws = await RawWs.connect(ep, '/v1/signal', req.localAddress);
    const welcome = waitFor(ws, WELCOME, 'welcome');
    ws.sendText(`{"type":"join","v":1,"roomToken":"${roomToken}"}`);
    const msg = JSON.parse((await welcome).toString('utf8')) as { self: { peerId: string } };
    return { ws, peerId: msg.self.peerId };
  },
  signal(to, kind, body) {
    const data =
      kind === 'candidate'
        ? `{"kind":"candidate","candidate":${body}}`
        : `{"kind":"description","description":{"type":"${kind}","sdp":${body}}}`;
    return `{"type":"signal","to":"${to}","data":${data}}`;
  },
  heartbeat: (n) => clientFrame(Buffer.from(`{"type":"ping","id":${n}}`)),
};

export const peerjs: Adapter = {
  kind: 'peerjs',
  async join(ep, req) {
    const ws = await RawWs.connect(ep, `/peerjs?key=peerjs&id=${req.peerId}&token=${req.peerId.slice(0, 10)}`, req.localAddress);
    await waitFor(ws, OPEN, 'OPEN');
    return { ws, peerId: req.peerId };
  },
  // What the PeerJS client library sends for a media connection.
  signal(to, kind, body) {
    const payload =
      kind === 'candidate'
        ? `{"candidate":${body},"type":"media","connectionId":"mc_bench0000000"}`
        : `{"sdp":{"type":"${kind}","sdp":${body}},"type":"media","connectionId":"mc_bench0000000","browser":"chrome"}`;
    return `{"type":"${kind.toUpperCase()}","payload":${payload},"dst":"${to}"}`;
  },
  heartbeat: () => clientFrame(Buffer.from('{"type":"HEARTBEAT"}')),
};

export const adapters: Record<ServerKind, Adapter> = { zerorange, peerjs };
