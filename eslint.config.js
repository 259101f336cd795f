// Lint rules that catch real bugs: promises nobody awaits, unused names, unreachable code, and the type-aware checks around them.

import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config({ ignores: ['out/', 'node_modules/', '.cache/'] }, js.configs.recommended, ...tseslint.configs.recommendedTypeChecked, {
  languageOptions: {
    parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js', 'bin/b2c.js'] }, tsconfigRootDir: import.meta.dirname },
  },
  rules: {
    '@typescript-eslint/no-floating-promises': 'error',
    '@typescript-eslint/no-misused-promises': 'error',
    '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    'no-unreachable': 'error',
    'no-constant-condition': ['error', { checkLoops: false }],
    // An async function that does not await keeps its interface's promise shape (the system interface has two implementations).
    '@typescript-eslint/require-await': 'off',
    // Prettier wraps code at 160 columns but leaves long strings and comments as they are.
    'max-len': ['error', { code: 160, ignoreUrls: true }],
  },
});
