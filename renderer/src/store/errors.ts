import { DesktopError } from '../desktop.js';
import type { AppError } from './types.js';

export function toAppError(err: unknown): AppError {
  if (err instanceof DesktopError) return { code: err.code, message: err.message };
  return { code: 'internal', message: err instanceof Error ? err.message : String(err) };
}

export function invalid(message: string): AppError {
  return { code: 'invalid-argument', message };
}

/** `lead` says what failed; main's message (a lowercase fragment with the specifics) follows it. */
export function withLead(lead: string, err: unknown): AppError {
  const { code, message } = toAppError(err);
  return { code, message: message ? `${lead}: ${message}` : `${lead}.` };
}

// What a failed join means for the user.
const JOIN_FAILURES: Partial<Record<AppError['code'], string>> = {
  'room-full': 'This room is full',
  forbidden: 'You are not allowed to join this room',
  'invalid-room': 'This room cannot be joined',
  'invalid-argument': 'This room cannot be joined',
  'rate-limited': 'Too many attempts to join: wait a moment and try again',
  'not-signed-in': 'Sign in again to join rooms',
  'server-unreachable': 'The server cannot be reached',
  'service-unavailable': 'The server cannot start calls right now: try again in a moment',
  'server-error': 'The server could not let you join',
  'unknown-server': 'This server has not been confirmed',
};

export function joinError(err: unknown): AppError {
  return withLead(JOIN_FAILURES[toAppError(err).code] ?? 'Could not join the room', err);
}
