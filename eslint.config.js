// Import boundaries between runtimes are data here (and each layer's tsconfig has only its runtime's types).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const OTHER_FOLDERS = (...names) => ({
  regex: `(^|/)(${names.join('|')})/`,
  message: `this layer may not import from ${names.join(', ')}`,
});
const NODE_BUILTINS = {
  regex: '^(node:|electron$|electron/|fs$|path$|os$|child_process$|crypto$|net$|http$|https$|ws$|pino$)',
  message: 'this layer runs without Node or Electron',
};

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
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { regex: '^(?!zod$|\\.{1,2}/)', message: 'shared/ is pure: it imports only zod and other shared modules' },
          OTHER_FOLDERS('server', 'renderer', 'electron', 'dev', 'test', 'bench', 'scripts'),
        ],
      }],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', { patterns: [NODE_BUILTINS, OTHER_FOLDERS('server', 'electron', 'dev', 'test', 'bench', 'scripts')] }],
    },
  },
  {
    files: ['server/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [OTHER_FOLDERS('renderer', 'electron', 'dev', 'test', 'bench', 'scripts'), { regex: '^electron', message: 'the server does not use Electron' }] }],
    },
  },
  {
    files: ['electron/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [OTHER_FOLDERS('renderer', 'server', 'dev', 'test', 'bench', 'scripts')] }],
    },
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
