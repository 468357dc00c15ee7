import { z } from 'zod';

/**
 * Room IDs: 3–64 characters of lowercase ASCII letters, digits and inner hyphens.
 * Generated IDs use 26 characters of a 32-symbol alphabet (130 bits of randomness).
 */
export const ROOM_ID_MIN_LENGTH = 3;
export const ROOM_ID_MAX_LENGTH = 64;
export const ROOM_ID_PATTERN = '^[a-z0-9](?:[a-z0-9-]{1,62})[a-z0-9]$';
const roomIdRegExp = new RegExp(ROOM_ID_PATTERN);

/** Crockford-style base32 in lowercase: no i, l, o, u, so IDs read aloud unambiguously. */
export const GENERATED_ROOM_ID_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
export const GENERATED_ROOM_ID_LENGTH = 26;

export const RoomId = z
  .string()
  .min(ROOM_ID_MIN_LENGTH, `a room ID has at least ${ROOM_ID_MIN_LENGTH} characters`)
  .max(ROOM_ID_MAX_LENGTH, `a room ID has at most ${ROOM_ID_MAX_LENGTH} characters`)
  .regex(roomIdRegExp, 'a room ID uses only a-z, 0-9 and inner hyphens');
export type RoomId = z.infer<typeof RoomId>;

export function isRoomId(value: unknown): value is RoomId {
  return RoomId.safeParse(value).success;
}

/**
 * Generates an unguessable room ID. `fillRandom` is the platform's CSPRNG
 * (crypto.getRandomValues), passed in because shared/ has no platform APIs.
 */
export function generateRoomId(fillRandom: (bytes: Uint8Array) => Uint8Array): RoomId {
  const bytes = fillRandom(new Uint8Array(GENERATED_ROOM_ID_LENGTH));
  let id = '';
  // 256 is a multiple of 32, so taking the low 5 bits is unbiased.
  for (const byte of bytes) id += GENERATED_ROOM_ID_ALPHABET[byte & 31];
  return id;
}

export const RoomIdRules = z.object({
  pattern: z.string(),
  minLength: z.number().int(),
  maxLength: z.number().int(),
  generatedAlphabet: z.string(),
  generatedLength: z.number().int(),
});
export type RoomIdRules = z.infer<typeof RoomIdRules>;

export const roomIdRules: RoomIdRules = {
  pattern: ROOM_ID_PATTERN,
  minLength: ROOM_ID_MIN_LENGTH,
  maxLength: ROOM_ID_MAX_LENGTH,
  generatedAlphabet: GENERATED_ROOM_ID_ALPHABET,
  generatedLength: GENERATED_ROOM_ID_LENGTH,
};
