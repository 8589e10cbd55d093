import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', 'src/core/onnx/generated/**'] },
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
    // The core runs in a worker, in Node and in tests: no React, no DOM UI state, no zustand.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['react', 'react-dom', 'react/*', 'react-dom/*', 'zustand', 'zustand/*'], message: 'src/core must stay free of UI libraries.' },
          { group: ['**/app/**', '**/cli/**', '**/worker/**'], message: 'src/core must not import the shells.' },
        ],
      }],
      'no-restricted-globals': ['error', 'document', 'window', 'localStorage'],
    },
  },
  {
    // Backends expose kernels; the methods in src/core/quant drive them, never the other way round.
    // (A later block replaces the rule's options for these files, so the core's patterns are repeated.)
    files: ['src/core/backend/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['react', 'react-dom', 'react/*', 'react-dom/*', 'zustand', 'zustand/*'], message: 'src/core must stay free of UI libraries.' },
          { group: ['**/app/**', '**/cli/**', '**/worker/**'], message: 'src/core must not import the shells.' },
          { group: ['**/quant/**', '**/quant'], message: 'src/core/backend must not import src/core/quant: backends offer kernels (LayerKernels), the methods in quant drive them.' },
        ],
      }],
    },
  },
);
