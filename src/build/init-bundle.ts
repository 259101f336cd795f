// Bundles src/init into the one JavaScript file that qjs runs as /init.

import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('../init/main.ts', import.meta.url));

/** The /init script: a shebang for qjs, then an ES module importing only QuickJS's own 'std' and 'os'. */
export async function bundleInit(version: string): Promise<string> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2023',
    external: ['std', 'os'],
    define: { B2C_VERSION: JSON.stringify(version) },
    write: false,
    legalComments: 'none',
    charset: 'utf8',
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error('esbuild produced no output for the init');
  // qjs reads a file with `import` as a module; the kernel passes the shebang's rest as one argument, so give none.
  return `#!/usr/bin/qjs\n${output.text}`;
}
