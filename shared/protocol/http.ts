import { z } from 'zod';
import { IceServers } from './ice.js';
import { RoomIdRules } from './rooms.js';

/** `POST /v1/rooms/{roomId}/join` response. */
export const JoinResponse = z.object({
  roomToken: z.string().min(1),
  /** When the room token stops being accepted by the signaling socket (ISO 8601). */
  expiresAt: z.string(),
  iceServers: IceServers,
  /** When the TURN credentials in iceServers expire (ISO 8601). */
  iceServersExpireAt: z.string(),
  signalingUrl: z.url(),
  roomSizeLimit: z.number().int().positive(),
});
export type JoinResponse = z.infer<typeof JoinResponse>;

/**
 * `POST /v1/ice-servers` response (Bearer access token): fresh TURN credentials for "Check my network",
 * which needs no room. The id in the TURN username is a random check session id.
 */
export const IceServersResponse = z.object({
  iceServers: IceServers,
  /** When the TURN credentials in iceServers expire (ISO 8601). */
  expiresAt: z.string(),
});
export type IceServersResponse = z.infer<typeof IceServersResponse>;

/** `GET /v1/client-config`: everything a desktop app needs to sign in, from a server URL alone. */
export const ClientConfig = z.object({
  issuer: z.url(),
  clientId: z.string().min(1),
  scopes: z.array(z.string()),
  audience: z.string().min(1),
  signalingUrl: z.url(),
  roomId: RoomIdRules,
  protocolVersion: z.number().int(),
});
export type ClientConfig = z.infer<typeof ClientConfig>;
