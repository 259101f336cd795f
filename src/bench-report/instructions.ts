// A boot's phases in guest instructions: under `-icount shift=0` the guest's clock advances 1 ns per instruction, so its stamps count them.

import { summarize } from './timeline.ts';

export interface InstructionSection {
  /** The init's section name without `b2c_`, e.g. `network`. */
  name: string;
  /** G instructions at the first stamp after the section began, and after it ended: sections tile the boot. */
  start: number;
  end: number;
}

export interface InstructionTimeline {
  /** G instructions when the kernel ran /init (its printk stamp). */
  initStart?: number;
  sections: InstructionSection[];
  /** The first step's `podman run` line, and its exit line. */
  firstStepStart?: number;
  firstStepEnd?: number;
  statusLine?: number;
  powerOff?: number;
}

/** The kernel's `[   12.345678] ` and the init's `[12.34]: ` stamps, in seconds of guest time. */
const STAMP = /^\[\s*(\d+\.\d+)\](?::)? /;
const SECTION = /section_(start|end):\d+:b2c_([a-z0-9_]+)/;

/**
 * Reads the phases off a console printed under instruction counting. A
 * section's bounds are the first stamped line after its markers (the markers
 * carry wall-clock seconds only); the init's stamps have two decimals, so
 * every figure is within 0.01 G instructions.
 */
export function instructionTimeline(consoleText: string): InstructionTimeline {
  const timeline: InstructionTimeline = { sections: [] };
  // Section markers waiting for the next stamp: the start or end they set.
  const waiting: Array<{ kind: 'start' | 'end'; name: string }> = [];
  const open = new Map<string, InstructionSection>();
  for (const rawLine of consoleText.split('\n')) {
    const line = rawLine.replace(/\r$/, '');
    const marker = SECTION.exec(line);
    if (marker) waiting.push({ kind: marker[1] as 'start' | 'end', name: marker[2] as string });
    const stamp = STAMP.exec(line);
    if (!stamp) continue;
    const at = Number(stamp[1]);
    for (const { kind, name } of waiting.splice(0)) {
      if (kind === 'start') {
        const section = { name, start: at, end: at };
        open.set(name, section);
        timeline.sections.push(section);
      } else {
        const section = open.get(name);
        if (section !== undefined) section.end = at;
        open.delete(name);
      }
    }
    const text = line.slice(stamp[0].length);
    if (text.startsWith('Run /init as init process')) timeline.initStart ??= at;
    else if (/^Container 1: podman run/.test(text)) timeline.firstStepStart ??= at;
    else if (/^Container 1 exited with status/.test(text)) timeline.firstStepEnd ??= at;
    else if (text.startsWith('Execution is over, pipeline status:')) timeline.statusLine ??= at;
    else if (text.startsWith('reboot: Power down')) timeline.powerOff ??= at;
  }
  return timeline;
}

/** Phases the instruction table shows, each read off a timeline. */
export const INSTRUCTION_PHASES: ReadonlyArray<{ label: string; read: (timeline: InstructionTimeline) => number | undefined }> = [
  { label: '/init start', read: (timeline) => timeline.initStart },
  { label: 'module step', read: (timeline) => sectionLength(timeline, 'modules') },
  { label: 'network', read: (timeline) => sectionLength(timeline, 'network') },
  { label: 'cache', read: (timeline) => sectionLength(timeline, 'cache') },
  { label: 'first step (podman run to exit)', read: (timeline) => difference(timeline.firstStepEnd, timeline.firstStepStart) },
  { label: 'status line', read: (timeline) => timeline.statusLine },
  { label: "init's own work (/init start to status)", read: (timeline) => difference(timeline.statusLine, timeline.initStart) },
  { label: 'power-off', read: (timeline) => timeline.powerOff },
];

function sectionLength(timeline: InstructionTimeline, name: string): number | undefined {
  const section = timeline.sections.find((candidate) => candidate.name === name);
  return section === undefined ? undefined : section.end - section.start;
}

function difference(end: number | undefined, start: number | undefined): number | undefined {
  return end === undefined || start === undefined ? undefined : end - start;
}

/** One row of G instructions: each phase's median over the boots, '–' where no boot showed it. */
export function instructionCells(timelines: readonly InstructionTimeline[]): string[] {
  return INSTRUCTION_PHASES.map(({ read }) => {
    const values = timelines.map(read).filter((value): value is number => value !== undefined);
    return summarize(values)?.median.toFixed(2) ?? '–';
  });
}

/** How far apart the boots of one row ended, at the status line (or power-off for the floor): (max − min) / median, in %. */
export function instructionSpread(timelines: readonly InstructionTimeline[]): number | undefined {
  const values = timelines.map((timeline) => timeline.statusLine ?? timeline.powerOff).filter((value): value is number => value !== undefined);
  const summary = summarize(values);
  if (summary === undefined || summary.runs < 2) return undefined;
  return (100 * (summary.max - summary.min)) / summary.median;
}
