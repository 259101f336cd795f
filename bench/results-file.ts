// bench/RESULTS.md: a benchmark's section put in place of its last one, the rest of the report as the other benchmarks wrote it.

import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { replaceSection } from '../src/bench-report/report.ts';

/** Prints a benchmark's section and puts it in bench/RESULTS.md. */
export async function writeResultsSection(section: string): Promise<void> {
  process.stdout.write(`${section}\n`);
  const path = 'bench/RESULTS.md';
  const report = existsSync(path) ? await readFile(path, 'utf8') : '# b2c benchmark results\n';
  await writeFile(path, replaceSection(report, section));
}
