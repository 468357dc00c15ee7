import { z } from 'zod';

const iceUrl = z
  .string()
  .max(512)
  .regex(/^(stun|stuns|turn|turns):[^\s]+$/, 'an ICE server URL starts with stun:, stuns:, turn: or turns:');

/** The shape RTCPeerConnection's `iceServers` takes. */
export const IceServer = z.object({
  urls: z.union([iceUrl, z.array(iceUrl).min(1).max(8)]),
  username: z.string().max(256).optional(),
  credential: z.string().max(256).optional(),
});
export type IceServer = z.infer<typeof IceServer>;

export const IceServers = z.array(IceServer).max(16);
