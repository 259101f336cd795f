// A vitest reporter that ends every run with the time of each test file, slowest first, and the run's total: where CI's minutes go.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';
import { FILE_SECONDS } from './sequencer.ts';

export interface FileTime {
  file: string;
  project: string;
  seconds: number;
  state: string;
}

/** The table the reporter prints: one row a file, slowest first, then the total. */
export function fileTimesTable(rows: readonly FileTime[], totalSeconds: number, setupSeconds: number): string {
  const sorted = [...rows].sort((a, b) => b.seconds - a.seconds || a.file.localeCompare(b.file));
  const width = Math.max(4, ...sorted.map((row) => row.file.length));
  const line = (seconds: string, project: string, file: string, state: string): string =>
    `${seconds.padStart(8)}  ${project.padEnd(11)}  ${file.padEnd(width)}  ${state}`.trimEnd();
  return [
    'Time of each test file, slowest first (wall-clock seconds from its start to its end; files run side by side):',
    line('seconds', 'project', 'file', ''),
    ...sorted.map((row) => line(row.seconds.toFixed(1), row.project, row.file, row.state === 'passed' ? '' : row.state)),
    line(setupSeconds.toFixed(1), '', 'global setup (the build and the registry) and start', ''),
    line(totalSeconds.toFixed(1), '', 'total', ''),
  ].join('\n');
}

export default class FileTimesReporter implements Reporter {
  private readonly started = Date.now();
  private firstModuleAt: number | undefined;
  private readonly moduleStarts = new Map<string, number>();
  private readonly rows: FileTime[] = [];
  private root = '';

  onInit(vitest: { config: { root: string } }): void {
    this.root = vitest.config.root;
  }

  onTestModuleStart(module: TestModule): void {
    this.firstModuleAt ??= Date.now();
    this.moduleStarts.set(module.moduleId, Date.now());
  }

  onTestModuleEnd(module: TestModule): void {
    const started = this.moduleStarts.get(module.moduleId) ?? Date.now();
    this.rows.push({
      file: module.moduleId.startsWith(`${this.root}/`) ? module.moduleId.slice(this.root.length + 1) : module.moduleId,
      project: module.project.name,
      seconds: (Date.now() - started) / 1000,
      state: module.state(),
    });
  }

  onTestRunEnd(): void {
    const now = Date.now();
    process.stdout.write(`\n${fileTimesTable(this.rows, (now - this.started) / 1000, ((this.firstModuleAt ?? now) - this.started) / 1000)}\n`);
    // The times the sequencer orders the next runs by: kept when a run passed and was asked to record them. A run of some files
    // updates theirs and keeps the others' (of files still there).
    if (process.env.B2C_RECORD_TEST_TIMES === '1' && this.rows.length > 0 && this.rows.every((row) => row.state === 'passed')) {
      const recorded = existsSync(FILE_SECONDS) ? (JSON.parse(readFileSync(FILE_SECONDS, 'utf8')) as Record<string, number>) : {};
      const merged = { ...recorded, ...Object.fromEntries(this.rows.map((row): [string, number] => [row.file, Math.round(row.seconds)])) };
      const kept = Object.entries(merged)
        .filter(([file]) => existsSync(join(this.root, file)))
        .sort(([a], [b]) => a.localeCompare(b));
      writeFileSync(FILE_SECONDS, `${JSON.stringify(Object.fromEntries(kept), null, 2)}\n`);
    }
  }
}
