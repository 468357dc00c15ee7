import type { NetworkPolicy } from '../../../shared/ipc/desktopApi.js';
import type { IceServer } from '../../../shared/protocol/index.js';
import { rtcConfigurationFor } from './networkPolicy.js';
import { addMedia } from './PeerLink.js';

export interface WarmConnectionOptions {
  policy: NetworkPolicy;
  /** The ICE servers of the join at hand (the pre-join's). */
  iceServers: IceServer[];
  RTCPeerConnection: typeof RTCPeerConnection;
  tracks: MediaStreamTrack[];
  stream: MediaStream;
}

/**
 * The newcomer's first peer connection, made while the pre-join screen shows: creating it and adding
 * the tracks are blocking calls into WebRTC's thread (5–15 ms on a loaded machine) that otherwise
 * fall in Join call's task (bench:call). Nothing is negotiated or gathered until Join call; a
 * connection made for other ICE servers, another policy or other tracks is not used, and closed.
 */
export class WarmConnection {
  readonly pc: RTCPeerConnection;
  readonly senders: Map<string, RTCRtpSender>;
  private readonly key: string;
  private closed = false;

  /** Null when the policy cannot be met with these servers (the join then says why). */
  static make(opts: WarmConnectionOptions): WarmConnection | null {
    const result = rtcConfigurationFor(opts.policy, opts.iceServers);
    return result.ok ? new WarmConnection(opts, result.config) : null;
  }

  private constructor(opts: WarmConnectionOptions, config: RTCConfiguration) {
    this.pc = new opts.RTCPeerConnection(config);
    this.senders = addMedia(this.pc, opts.tracks, opts.stream);
    this.key = keyOf(opts.policy, opts.iceServers, opts.tracks);
  }

  /**
   * This connection, for a first offer with these settings; or null, and it is closed. Either way it
   * is no longer this object's to close.
   */
  take(policy: NetworkPolicy, iceServers: IceServer[], tracks: MediaStreamTrack[]): { pc: RTCPeerConnection; senders: Map<string, RTCRtpSender> } | null {
    if (this.closed) return null;
    if (keyOf(policy, iceServers, tracks) !== this.key) {
      this.close();
      return null;
    }
    this.closed = true;
    return { pc: this.pc, senders: this.senders };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pc.close();
  }
}

function keyOf(policy: NetworkPolicy, iceServers: IceServer[], tracks: MediaStreamTrack[]): string {
  return JSON.stringify([policy, iceServers, tracks.map((t) => t.id)]);
}
