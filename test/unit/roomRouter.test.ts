import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { RoomRouter } from '../../server/src/cluster/RoomRouter.js';
import type { JoinOutcome, SharedState } from '../../server/src/cluster/types.js';
import type { Peer } from '../../server/src/hubPeer.js';

/** Shared state whose joins answer when the test says, and whose bus records what is sent. */
function fakeState() {
  const answers: ((o: JoinOutcome) => void)[] = [];
  const sent: [string, string][] = [];
  let onEnvelope: (e: string) => void = () => {};
  const state: SharedState = {
    directory: {
      join: () => new Promise<JoinOutcome>((resolve) => answers.push(resolve)),
      leave: () => Promise.resolve(true),
      forget: () => Promise.resolve(),
      register: () => Promise.resolve(),
      heartbeat: () => Promise.resolve({ stateLost: false, missingRooms: [], deadNodes: [] }),
      close: () => Promise.resolve(),
    },
    bus: {
      send: (node, envelope) => (sent.push([node, envelope]), true),
      listen: (_node, handler) => (onEnvelope = handler),
      close: () => Promise.resolve(),
    },
    distributed: true,
    status: () => 'ok',
    onReconnect: () => {},
    close: () => Promise.resolve(),
  };
  return { state, answers, sent, envelope: (e: string) => onEnvelope(e) };
}

function setup() {
  const fake = fakeState();
  const delivered: [string, string][] = [];
  const refused: string[] = [];
  const router = new RoomRouter({
    node: 'node-a',
    state: fake.state,
    heartbeatMs: 60_000,
    log: pino({ level: 'silent' }),
    gauge: { set: () => {} },
    deliver: (peer, json) => delivered.push([peer.id, json]),
    unknownPeer: (peer) => refused.push(peer.id),
    replaced: () => {},
    audit: () => {},
  });
  const peer = (id: string) => ({ id }) as Peer;
  return { ...fake, router, delivered, refused, peer };
}

describe('room router', () => {
  it('keeps an announcement that arrives while a join awaits shared state', async () => {
    const t = setup();
    const pending = t.router.reserve('r', 'pa', 'Alice', 4);
    // Node B's member joined after Alice's entry was written, before her answer came back.
    t.envelope('J\nr\nnode-b\npb\nBob');
    t.answers[0]!({ ok: true, others: [], replacedNode: null });
    const reserved = await pending;
    expect(reserved.ok).toBe(true);
    const alice = t.peer('pa');
    // Her welcome lists Bob, though shared state answered before he joined.
    expect(t.router.admit(alice, 'r', 'Alice', []).peers).toEqual([{ peerId: 'pb', name: 'Bob' }]);
    expect(t.router.relay(alice, 'pb', '{"x":1}')).toBe('sent');
    expect(t.sent).toEqual([['node-b', 'S\nr\npb\nnode-a\npa\n{"x":1}']]);
    t.router.close();
  });

  it('does not seat a member announced gone while the join was answered', async () => {
    const t = setup();
    const pending = t.router.reserve('r', 'pa', 'Alice', 4);
    t.envelope('L\nr\npb\nleft');
    t.answers[0]!({ ok: true, others: [{ peerId: 'pb', name: 'Bob', node: 'node-b' }], replacedNode: null });
    await pending;
    const alice = t.peer('pa');
    expect(t.router.admit(alice, 'r', 'Alice', [{ peerId: 'pb', name: 'Bob', node: 'node-b' }]).peers).toEqual([]);
    expect(t.router.relay(alice, 'pb', '{}')).toBe('unknown-peer');
    t.router.close();
  });

  it('delivers a relayed message to its local target, and refuses one for a peer gone from here', async () => {
    const t = setup();
    const pending = t.router.reserve('r', 'pa', 'Alice', 4);
    t.answers[0]!({ ok: true, others: [], replacedNode: null });
    await pending;
    t.router.admit(t.peer('pa'), 'r', 'Alice', []);
    t.envelope('S\nr\npa\nnode-b\npb\n{"type":"signal"}');
    expect(t.delivered).toContainEqual(['pa', '{"type":"signal"}']);
    t.envelope('S\nr\nnobody\nnode-b\npb\n{"type":"signal"}');
    expect(t.sent).toEqual([['node-b', 'U\nr\npb\nnobody']]);
    t.router.close();
  });

  it('drops the view kept for a join that was refused', async () => {
    const t = setup();
    const pending = t.router.reserve('r', 'pa', 'Alice', 1);
    t.envelope('J\nr\nnode-b\npb\nBob');
    t.answers[0]!({ ok: false, reason: 'room-full' });
    expect(await pending).toEqual({ ok: false, code: 'room-full' });
    expect(t.router.counts()).toEqual({ rooms: 0, members: 0 });
    t.router.close();
  });
});
