import { concat, utf8 } from './bytes.js';

/**
 * The call security code: a few emoji both sides read out loud, like Signal's safety numbers or
 * Element's emoji verification. Whoever swaps a DTLS fingerprint (mesh) or an identity key (SFU) on
 * the way makes the two sides' codes differ.
 *
 * 8 emoji of 64 carry 48 bits. A relay in the middle picks both of its own certificates, so it needs
 * a collision between two codes (about 2^24 certificate signatures) and must find it within the
 * seconds a connection takes to set up; the people comparing notice a mismatch at once.
 */

/** The 64 emoji of Matrix's SAS verification (index = 6 bits), with the names people say. */
export const CODE_EMOJI: readonly (readonly [string, string])[] = [
  ['🐶', 'Dog'], ['🐱', 'Cat'], ['🦁', 'Lion'], ['🐎', 'Horse'], ['🦄', 'Unicorn'], ['🐷', 'Pig'], ['🐘', 'Elephant'], ['🐰', 'Rabbit'],
  ['🐼', 'Panda'], ['🐓', 'Rooster'], ['🐧', 'Penguin'], ['🐢', 'Turtle'], ['🐟', 'Fish'], ['🐙', 'Octopus'], ['🦋', 'Butterfly'], ['🌷', 'Flower'],
  ['🌳', 'Tree'], ['🌵', 'Cactus'], ['🍄', 'Mushroom'], ['🌏', 'Globe'], ['🌙', 'Moon'], ['☁️', 'Cloud'], ['🔥', 'Fire'], ['🍌', 'Banana'],
  ['🍎', 'Apple'], ['🍓', 'Strawberry'], ['🌽', 'Corn'], ['🍕', 'Pizza'], ['🎂', 'Cake'], ['❤️', 'Heart'], ['😀', 'Smiley'], ['🤖', 'Robot'],
  ['🎩', 'Hat'], ['👓', 'Glasses'], ['🔧', 'Spanner'], ['🎅', 'Santa'], ['👍', 'Thumbs up'], ['☂️', 'Umbrella'], ['⌛', 'Hourglass'], ['⏰', 'Clock'],
  ['🎁', 'Gift'], ['💡', 'Light bulb'], ['📕', 'Book'], ['✏️', 'Pencil'], ['📎', 'Paperclip'], ['✂️', 'Scissors'], ['🔒', 'Lock'], ['🔑', 'Key'],
  ['🔨', 'Hammer'], ['☎️', 'Telephone'], ['🏁', 'Flag'], ['🚂', 'Train'], ['🚲', 'Bicycle'], ['✈️', 'Aeroplane'], ['🚀', 'Rocket'], ['🏆', 'Trophy'],
  ['⚽', 'Ball'], ['🎸', 'Guitar'], ['🎺', 'Trumpet'], ['🔔', 'Bell'], ['⚓', 'Anchor'], ['🎧', 'Headphones'], ['📁', 'Folder'], ['📌', 'Pin'],
];

export const CODE_LENGTH = 8;

export interface SecurityCode {
  emoji: string[];
  words: string[];
}

/** One DTLS fingerprint as the SDP states it (`a=fingerprint:sha-256 AB:CD:…`). */
export interface Fingerprint {
  algorithm: string;
  value: string;
}

/** Every fingerprint in an SDP (session and media level; with BUNDLE they are one), normalised and sorted. */
export function sdpFingerprints(sdp: string | null | undefined): string[] {
  const found = new Set<string>();
  for (const m of (sdp ?? '').matchAll(/^a=fingerprint:(\S+) ([0-9A-Fa-f:]+)\s*$/gm)) {
    found.add(normaliseFingerprint({ algorithm: m[1]!, value: m[2]! }));
  }
  return [...found].sort();
}

function normaliseFingerprint(f: Fingerprint): string {
  const value = f.value.replace(/:/g, '').toUpperCase();
  if (!/^[0-9A-F]{2,128}$/.test(value) || value.length % 2 !== 0) throw new Error('not a fingerprint');
  return `${f.algorithm.toLowerCase()} ${value}`;
}

async function codeOf(label: string, parts: string[]): Promise<SecurityCode> {
  // Length-prefixed, so no two different lists hash alike.
  const input = concat(utf8(label), ...parts.flatMap((p) => [utf8(`\n${p.length}:`), utf8(p)]));
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', input));
  const emoji: string[] = [];
  const words: string[] = [];
  for (let i = 0; i < CODE_LENGTH; i += 1) {
    // Six bits at a time from the front of the digest.
    const bit = i * 6;
    const pair = (digest[bit >> 3]! << 8) | digest[(bit >> 3) + 1]!;
    const [e, w] = CODE_EMOJI[(pair >> (10 - (bit & 7))) & 0x3f]!;
    emoji.push(e);
    words.push(w);
  }
  return { emoji, words };
}

/**
 * A mesh call's code for one peer connection, from both sides' DTLS fingerprints (each side's local
 * is the other's remote, so each side's set is sorted: both compute the same code).
 */
export async function meshSecurityCode(local: readonly string[], remote: readonly string[]): Promise<SecurityCode> {
  if (local.length === 0 || remote.length === 0) throw new Error('both sides need a DTLS fingerprint');
  const sides = [[...local].sort().join(','), [...remote].sort().join(',')].sort();
  return codeOf('zr-security-code-mesh-v1', sides);
}

/** An SFU room's code, from every member's identity public key, in any order. */
export async function groupSecurityCode(publicKeys: readonly string[]): Promise<SecurityCode> {
  if (publicKeys.length < 2) throw new Error('a group code needs at least two members');
  const sorted = [...new Set(publicKeys)].sort();
  if (sorted.length !== publicKeys.length) throw new Error('the same identity key twice');
  return codeOf('zr-security-code-group-v1', sorted);
}

export function sameCode(a: SecurityCode | null, b: SecurityCode | null): boolean {
  return a != null && b != null && a.emoji.join('') === b.emoji.join('');
}
