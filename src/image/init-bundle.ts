// Bundles src/init into the one JavaScript file that qjs runs as /init.

import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { B2cError } from '../errors.ts';

/** Web and Node APIs that QuickJS lacks: the init must not call them. */
const QUICKJS_MISSING = [/new TextEncoder\b/, /new TextDecoder\b/, /\bstructuredClone\(/, /\bBuffer\.(from|alloc|concat)\(/, /\bprocess\.(env|argv|exit)\b/];

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
    // The archive must stay within 20 MiB: minified, the init costs 35 kB of xz instead of 49 kB. Its messages lose
    // nothing: it prints no stack, and QuickJS's errors name properties, which keep their names.
    minify: true,
  });
  const output = result.outputFiles[0];
  if (!output) throw new B2cError('esbuild produced no output for the init');
  const missing = QUICKJS_MISSING.filter((pattern) => pattern.test(output.text)).map((pattern) => pattern.source);
  if (missing.length > 0) throw new B2cError(`the init uses what QuickJS does not have: ${missing.join(', ')}`);
  // The kernel passes the rest of a #! line as one argument: exactly one option fits.
  // qjs treats a rejection that is handled a moment later (an awaited async
  // function that throws before its first await) as unhandled and exits, which
  // would panic the kernel; the init handles every error itself.
  return `#!/usr/bin/qjs --no-unhandled-rejection\n${output.text}`;
}
