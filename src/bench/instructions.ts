// A boot's phases in guest instructions: under `-icount shift=0` the guest's clock advances 1 ns per instruction, so its stamps count them.

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
