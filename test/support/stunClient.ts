/** The TURN client lives in the server (the pool's probes use it); tests use the same one. */
export * from '../../server/src/turnPool/TurnClient.js';
