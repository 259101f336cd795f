// What each command loads: `b2c run`, `b2c serve` and `b2c cmdline` start without the image builder or esbuild, which only `b2c build` needs.

import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The modules a file loads when it is imported: its static imports, followed; `import type` and `import()` load nothing at once. */
function staticClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const pending = [normalize(entry)];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!file.endsWith('.ts')) continue;
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/^(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) {
      const specifier = match[1] as string;
      pending.push(specifier.startsWith('.') ? normalize(join(dirname(file), specifier)) : `package:${specifier}`);
    }
  }
  return seen;
}

describe('what the b2c command loads', () => {
  const loaded = [...staticClosure('src/cli/main.ts')];

  it('loads neither esbuild nor the image builder to run a VM, serve machines or check a command line', () => {
    expect(loaded).toContain('src/cli/run.ts');
    expect(loaded).toContain('src/cli/serve.ts');
    expect(loaded).toContain('src/cli/cmdline.ts');
    expect(loaded.filter((file) => file.startsWith('package:esbuild'))).toEqual([]);
    expect(loaded.filter((file) => file.startsWith('src/image/'))).toEqual(['src/image/output-names.ts']);
  });

  it('reaches the builder through `b2c build` alone', () => {
    const source = readFileSync('src/cli/build.ts', 'utf8');
    expect(source).toMatch(/import\('\.\.\/image\/build\.ts'\)/);
    expect([...staticClosure('src/image/build.ts')]).toContain('package:esbuild');
  });
});
