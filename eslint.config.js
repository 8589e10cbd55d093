import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import { floorsPlugin } from './lint/floors.js';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'test-results/**',
      'playwright-report/**',
      'src/core/onnx/generated/**',
      // scripts/device/bundle.ts output (bundled third-party code), see .gitignore
      '.devgpu/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/app/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },
  {
    // The core runs in a worker, in Node and in tests: no DOM UI state.
    files: ['src/core/**/*.ts'],
    rules: { 'no-restricted-globals': ['error', 'document', 'window', 'localStorage'] },
  },
  {
    files: ['src/**/*.{ts,tsx}'],
    plugins: { floors: floorsPlugin },
    rules: { 'floors/arrows': 'error' },
  },
);
