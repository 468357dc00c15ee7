// Vite bundles CSS imported for its side effect; the renderer imports only that way (no CSS modules).
declare module '*.css';
