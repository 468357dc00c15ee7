/**
 * Outage drills for a running development stack, over a Unix socket (mode 0600, so only its user):
 * one JSON request per connection, one JSON answer.
 *
 *   {"op":"turn-restart","signal":"SIGTERM"|"SIGKILL"}  coturn stopped (or killed) and started again
 *   {"op":"idp","up":false|true}                        the IdP stops listening, or listens again
 *
 * A Unix socket, unlike a signal, answers when the drill is done and reaches the stack from any
 * network namespace (tests run the stack in one of their own).
 */
import { chmodSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import type { Stack } from './stack.js';

export type StackControlRequest = { op: 'turn-restart'; signal?: 'SIGTERM' | 'SIGKILL' } | { op: 'idp'; up: boolean };
export type StackControlAnswer = { ok: true } | { ok: false; error: string };

const MAX_REQUEST_BYTES = 1024;

async function perform(stack: Stack, request: unknown): Promise<void> {
  const r = request as Partial<{ op: unknown; signal: unknown; up: unknown }> | null;
  if (r?.op === 'turn-restart' && (r.signal === undefined || r.signal === 'SIGTERM' || r.signal === 'SIGKILL')) {
    await stack.restartTurn(r.signal);
    console.log(`control: coturn restarted (${r.signal ?? 'SIGTERM'})`);
  } else if (r?.op === 'idp' && typeof r.up === 'boolean') {
    await stack.idp.setListening(r.up);
    console.log(`control: the IdP is ${r.up ? 'up' : 'down'}`);
  } else {
    throw new Error(`unknown request ${JSON.stringify(request)}`);
  }
}

export async function serveStackControl(stack: Stack, socketPath: string): Promise<{ close(): Promise<void> }> {
  rmSync(socketPath, { force: true });
  // One drill at a time: a second restart waits for the first.
  let queue: Promise<void> = Promise.resolve();
  const onConnection = (sock: Socket) => {
    let text = '';
    sock.setEncoding('utf8');
    sock.on('error', () => undefined);
    let started = false;
    sock.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > MAX_REQUEST_BYTES) sock.destroy();
      if (started || !text.includes('\n')) return;
      started = true;
      const answer = (a: StackControlAnswer) => void sock.end(`${JSON.stringify(a)}\n`);
      const run = async () => perform(stack, JSON.parse(text.slice(0, text.indexOf('\n'))));
      queue = queue.then(run).then(
        () => answer({ ok: true }),
        (err: unknown) => answer({ ok: false, error: (err as Error).message }),
      );
    });
  };
  const server = createServer(onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  chmodSync(socketPath, 0o600);
  return {
    // Not waiting for a drill under way: stopping the stack must never hang on it.
    async close() {
      server.close();
      rmSync(socketPath, { force: true });
    },
  };
}

/** Sends one request to a stack's control socket; rejects with the stack's error. */
export function stackControl(socketPath: string, request: StackControlRequest, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const sock = connect(socketPath);
    const timer = setTimeout(() => sock.destroy(new Error(`the stack did not answer ${JSON.stringify(request)} within ${timeoutMs} ms`)), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => (text += chunk));
    sock.once('error', (err) => (clearTimeout(timer), reject(err)));
    sock.once('end', () => {
      clearTimeout(timer);
      try {
        const answer = JSON.parse(text) as StackControlAnswer;
        if (answer.ok) resolve();
        else reject(new Error(`the stack refused ${JSON.stringify(request)}: ${answer.error}`));
      } catch {
        reject(new Error(`the stack answered ${JSON.stringify(text)} to ${JSON.stringify(request)}`));
      }
    });
    // Not end(): the stack answers on this socket once the drill is done.
    sock.write(`${JSON.stringify(request)}\n`);
  });
}
