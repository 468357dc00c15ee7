// Import boundaries between runtimes are data here: each layer has an allowlist of what it may import,
// checked on every import form by eslint-local/importPatterns.js (and each layer's tsconfig has only
// its runtime's types). Test, dev, bench and script code may import anything.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import local from './eslint-local/importPatterns.js';

const SHARED = '~/shared/**';
const importPatterns = (layer, allow) => ({
  plugins: { local },
  rules: { 'local/import-patterns': ['error', { layer, allow }] },
});

export default tseslint.config(
  {
    ignores: ['build/**', 'dist/**', 'release/**', 'node_modules/**', '.zerorange/**', 'test-results/**', 'playwright-report/**', 'bench/results/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    files: ['shared/**/*.ts'],
    languageOptions: { globals: {} },
    // Pure TypeScript: runs in every layer, the renderer and the preload included.
    ...importPatterns('shared/', [SHARED, 'zod']),
  },
  {
    // The preload's one view of the contract: it must stay free of zod and of anything zod-laden.
    files: ['shared/ipc/channels.ts'],
    ...importPatterns('shared/ipc/channels.ts', []),
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    ...importPatterns('renderer/', ['~/renderer/**', SHARED, 'react', 'react/jsx-runtime', 'react-dom', 'react-dom/client', 'zustand', 'zustand/*']),
  },
  {
    // The call domain sits below the app: it reports through its events and never reaches up into
    // the store, the controllers or the UI (the store depends on the call layer, not the other way).
    files: ['renderer/src/call/**/*.ts'],
    ...importPatterns('renderer/src/call/', ['~/renderer/src/call/**', SHARED]),
  },
  {
    // Runs in the sandboxed page before it: Electron's renderer-side IPC and the channel names, nothing else.
    files: ['electron/preload/**/*.ts'],
    languageOptions: { globals: {} },
    ...importPatterns('electron/preload/', [
      '~/electron/preload/**',
      '~/shared/ipc/channels.{js,ts}',
      { module: 'electron', names: ['contextBridge', 'ipcRenderer', 'IpcRendererEvent'] },
    ]),
  },
  {
    files: ['electron/main/**/*.ts'],
    ...importPatterns('electron/main/', ['~/electron/main/**', SHARED, '#node', 'electron', 'openid-client', 'jose', 'zod', 'ipaddr.js', 'electron-updater', 'electron-log/main', 'electron-log/node']),
  },
  {
    files: ['server/**/*.ts'],
    ...importPatterns('server/', ['~/server/**', SHARED, '#node', 'ws', 'pino', 'prom-client', 'zod', 'jose', 'ioredis', 'rate-limiter-flexible']),
  },
  {
    files: ['dev/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['test/**/*.ts'],
    rules: { 'no-console': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
