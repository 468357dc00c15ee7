/**
 * `npx tsx bench/signal/busChoice.ts`: how to carry signaling messages between nodes through Redis,
 * measured: pub/sub on a channel per node, or a stream per node (XADD, read with blocking XREAD).
 * One publisher connection, one receiving connection, 1 KB messages offered at a fixed rate in
 * bursts per millisecond (as relays arrive); latency from send to receipt. The result decided
 * server/src/cluster/redisState.ts (see the comment on RedisMessageBus).
 */
import { Redis } from 'ioredis';
import { startRedis } from '../../dev/redis.js';
import { benchArgs, printTable, summarize, writeResults, type Summary } from '../lib/report.js';

const args = benchArgs('npx tsx bench/signal/busChoice.ts [options]\n\nRedis pub/sub against streams as the bus between signaling nodes.', {
  rate: { default: 20_000, help: 'messages per second offered' },
  seconds: { default: 3, help: 'seconds per transport' },
  bytes: { default: 1000, help: 'message size' },
});

interface Result { transport: string; offered: number; received: number; latency: Summary; redisCpuMs: number }

async function drive(send: (msg: string) => void, received: () => number, total: number): Promise<void> {
  const t0 = performance.now();
  let sent = 0;
  const pad = 'x'.repeat(Math.max(0, args.bytes - 20));
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * args.rate) / 1000) + 1);
      for (; sent < due; sent++) send(`${performance.now().toFixed(3)}|${pad}`);
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  const deadline = performance.now() + 5000;
  while (received() < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

/** A second at the offered rate, not recorded: JIT and connection buffers warm up. */
async function warmUp(send: (msg: string) => void, latencies: number[]): Promise<void> {
  await drive(send, () => latencies.length, args.rate);
  latencies.length = 0;
}

const sentAt = (msg: string) => Number(msg.slice(0, msg.indexOf('|')));

async function redisCpuMs(r: Redis): Promise<number> {
  const info = await r.info('cpu');
  const get = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (get('used_cpu_sys') + get('used_cpu_user')) * 1000;
}

async function pubsub(url: string, password: string): Promise<Result> {
  const pub = new Redis(url, { password, enableAutoPipelining: true });
  const sub = new Redis(url, { password });
  const latencies: number[] = [];
  await sub.subscribe('bus:node-b');
  sub.on('message', (_ch: string, msg: string) => latencies.push(performance.now() - sentAt(msg)));
  const total = args.rate * args.seconds;
  const send = (m: string) => void pub.publish('bus:node-b', m);
  await warmUp(send, latencies);
  const cpu0 = await redisCpuMs(pub);
  await drive(send, () => latencies.length, total);
  const cpu = (await redisCpuMs(pub)) - cpu0;
  await Promise.all([pub.quit(), sub.quit()]);
  return { transport: 'pub/sub (PUBLISH, SUBSCRIBE)', offered: total, received: latencies.length, latency: summarize(latencies), redisCpuMs: cpu };
}

async function streams(url: string, password: string): Promise<Result> {
  const pub = new Redis(url, { password, enableAutoPipelining: true });
  const sub = new Redis(url, { password });
  const latencies: number[] = [];
  const total = args.rate * args.seconds;
  let running = true;
  // A reader as a node would run it: block for new entries, read in batches, keep the last id.
  const reader = (async () => {
    let last = '$';
    while (running) {
      const res = (await sub.xread('COUNT', 1000, 'BLOCK', 100, 'STREAMS', 'stream:node-b', last)) as [string, [string, string[]][]][] | null;
      for (const [, entries] of res ?? []) {
        for (const [id, fields] of entries) {
          latencies.push(performance.now() - sentAt(fields[1]!));
          last = id;
        }
      }
    }
  })();
  await new Promise((r) => setTimeout(r, 100));
  // Trimmed, or a dead node's stream would grow without bound.
  const send = (m: string) => void pub.xadd('stream:node-b', 'MAXLEN', '~', '10000', '*', 'm', m);
  await warmUp(send, latencies);
  const cpu0 = await redisCpuMs(pub);
  await drive(send, () => latencies.length, total);
  const cpu = (await redisCpuMs(pub)) - cpu0;
  running = false;
  await reader;
  await Promise.all([pub.quit(), sub.quit()]);
  return { transport: 'streams (XADD MAXLEN ~, XREAD BLOCK)', offered: total, received: latencies.length, latency: summarize(latencies), redisCpuMs: cpu };
}

async function main(): Promise<void> {
  const redis = await startRedis();
  try {
    const results = [await pubsub(redis.url, redis.password), await streams(redis.url, redis.password)];
    const table = printTable(
      `Bus between nodes: ${args.rate} msg/s of ${args.bytes} B for ${args.seconds} s, one Redis on this machine`,
      ['transport', 'offered', 'received', 'p50 ms', 'p99 ms', 'max ms', 'Redis CPU µs/msg'],
      results.map((r) => [r.transport, r.offered, r.received, r.latency.p50, r.latency.p99, r.latency.max, (r.redisCpuMs * 1000) / r.offered]),
    );
    writeResults('signal-bus', { parameters: args, results, tables: [table] });
  } finally {
    await redis.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
