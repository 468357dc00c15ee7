import { callController } from '../../controllers/index.js';
import type { PeerStatsSnapshot } from '../../call/stats/statsReducer.js';
import { useAppStore, type PeerView } from '../../store/index.js';
import { ExportDiagnostics } from '../ExportDiagnostics.js';
import { Sparkline } from './Sparkline.js';

const ms = (v: number | null) => (v === null ? '–' : `${Math.round(v)} ms`);
const pct = (v: number | null) => (v === null ? '–' : `${v.toFixed(1)} %`);
const kbps = (v: number | null) => (v === null ? '–' : `${Math.round(v / 1000)} kbit/s`);
const text = (v: string | number | null | undefined) => (v === null || v === undefined || v === '' ? '–' : String(v));
const res = (w: number | null, h: number | null, fps: number | null) => (w && h ? `${w}×${h}${fps ? ` @ ${Math.round(fps)} fps` : ''}` : '–');

function Row({ label, value }: { label: string; value: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </>
  );
}

function PeerStats({ peer, stats }: { peer: PeerView; stats: PeerStatsSnapshot }) {
  const { path, transport: t, quality: q } = stats;
  const history = callController().statsHistory(peer.peerId);
  const counts = (c: Record<string, number>) => Object.entries(c).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ') || '–';
  return (
    <section className="stats-peer" aria-label={`Statistics for ${peer.name}`}>
      <h3>
        {peer.name}
        {peer.quality && (
          <span className="stats-score" data-testid="stats-score">
            {' '}
            · quality {peer.quality.score}/5{peer.quality.reasons.length ? `: ${peer.quality.reasons.join('; ')}` : ''}
          </span>
        )}
      </h3>
      <div className="stats-columns">
        <dl>
          <Row label="Path" value={path.label} />
          <Row label="Candidates (local → remote)" value={`${text(path.localCandidateType)} → ${text(path.remoteCandidateType)}`} />
          <Row label="Protocol" value={`${text(path.protocol)}${path.relayProtocol ? `, to TURN over ${path.relayProtocol}` : ''}`} />
          <Row label="TURN server" value={text(path.turnUrl)} />
          <Row label="Gathered" value={`local: ${counts(path.candidates.local)}; remote: ${counts(path.candidates.remote)}`} />
        </dl>
        <dl>
          <Row label="ICE" value={text(t.iceState)} />
          <Row label="DTLS" value={`${text(t.dtlsState)}${t.dtlsRole ? ` (${t.dtlsRole})` : ''}`} />
          <Row label="TLS version" value={text(t.tlsVersion)} />
          <Row label="DTLS cipher" value={text(t.dtlsCipher)} />
          <Row label="SRTP cipher" value={text(t.srtpCipher)} />
        </dl>
        <dl data-testid="stats-quality">
          <Row label="Round-trip time" value={ms(q.rttMs)} />
          <Row label="Jitter" value={ms(q.jitterMs)} />
          <Row label="Packet loss in" value={pct(q.lossInPercent)} />
          <Row label="Packet loss out" value={pct(q.lossOutPercent)} />
          <Row label="Available outgoing" value={kbps(q.availableOutgoingBitrate)} />
          <Row label="Audio in / out" value={`${kbps(q.audioIn.bitrate)} / ${kbps(q.audioOut.bitrate)} (${text(q.audioIn.codec ?? q.audioOut.codec)})`} />
          <Row label="Video in / out" value={`${kbps(q.videoIn.bitrate)} / ${kbps(q.videoOut.bitrate)} (${text(q.videoIn.codec ?? q.videoOut.codec)})`} />
          <Row label="Video received" value={res(q.videoIn.width, q.videoIn.height, q.videoIn.fps)} />
          <Row label="Video sent" value={res(q.videoOut.width, q.videoOut.height, q.videoOut.fps)} />
          <Row label="Frames dropped" value={text(q.videoIn.framesDropped)} />
          <Row label="Sending limited by" value={text(q.videoOut.qualityLimitationReason)} />
          <Row label="Jitter buffer (audio / video)" value={`${ms(q.audioIn.jitterBufferDelayMs)} / ${ms(q.videoIn.jitterBufferDelayMs)}`} />
        </dl>
      </div>
      {history && (
        <div className="stats-charts">
          <Sparkline label="Round-trip time (ms)" points={history.series((s) => s.quality.rttMs)} />
          <Sparkline label="Packet loss in (%)" points={history.series((s) => s.quality.lossInPercent)} />
          <Sparkline label="Video out (kbit/s)" points={history.series((s) => (s.quality.videoOut.bitrate === null ? null : s.quality.videoOut.bitrate / 1000))} />
        </div>
      )}
    </section>
  );
}

/** Live statistics per peer (sampled once a second outside React), and the diagnostics export. */
export function StatsPanel() {
  const open = useAppStore((s) => s.call.statsPanelOpen);
  const order = useAppStore((s) => s.call.order);
  const peers = useAppStore((s) => s.call.peers);
  if (!open) return null;
  return (
    <section className="stats-panel" aria-label="Connection statistics">
      <h2>Connection statistics</h2>
      {order.length === 0 && <p className="muted">Statistics appear when someone joins.</p>}
      {order.map((id) => {
        const peer = peers[id];
        return peer?.stats ? <PeerStats key={id} peer={peer} stats={peer.stats} /> : <p key={id}>{peer?.name ?? id}: waiting for statistics…</p>;
      })}
      <ExportDiagnostics />
    </section>
  );
}
