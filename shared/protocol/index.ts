export * from './errors.js';
export * from './http.js';
export * from './ice.js';
export * from './rooms.js';
export * from './signal.js';
