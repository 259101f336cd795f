// Reads a guest's serial console as it streams: the pipeline status line, and any sign of a guest kernel crash.

export const STATUS_LINE = /Execution is over, pipeline status: (\d+)/;
/**
 * Kernel lines that mean the guest kernel itself failed, whatever the
 * pipeline said: panics, oopses, `BUG:` (soft lockups among them) and tasks
 * the hung-task detector caught. A register dump alone (`RIP:`) is not one:
 * the OOM killer and `WARNING:` print it too, and the kernel goes on.
 */
const CRASH_LINE =
  /Kernel panic - not syncing|\bOops\b|\bBUG: |general protection fault|Unable to handle kernel|kernel BUG at|INFO: task \S+ blocked for more than/;
/** Lines kept after the first crash line, so the report shows the trace. */
const CRASH_CONTEXT = 30;

export interface ConsoleVerdict {
  status?: number;
  crash?: string[];
  safeToTurnOff: boolean;
  /** Whether the kernel printed anything here: a line without `console=` for this port leaves only the firmware's output. */
  kernelSpoke?: boolean;
}

export class ConsoleMonitor {
  private partial = '';
  private crashLines: string[] | undefined;
  private status: number | undefined;
  private safeToTurnOff = false;
  private kernelSpoke = false;

  /** Feeds raw console output; lines may arrive in pieces. */
  feed(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line.replace(/\r$/, ''));
  }

  /** Flushes a last line that had no newline. */
  end(): ConsoleVerdict {
    if (this.partial !== '') this.line(this.partial.replace(/\r$/, ''));
    this.partial = '';
    return this.verdict();
  }

  /** Whether a crash line has been seen: what follows is its trace, and the machine is of no more use. */
  get crashed(): boolean {
    return this.crashLines !== undefined;
  }

  verdict(): ConsoleVerdict {
    return {
      ...(this.status !== undefined ? { status: this.status } : {}),
      ...(this.crashLines !== undefined ? { crash: [...this.crashLines] } : {}),
      safeToTurnOff: this.safeToTurnOff,
      kernelSpoke: this.kernelSpoke,
    };
  }

  private line(line: string): void {
    if (this.crashLines !== undefined && this.crashLines.length < CRASH_CONTEXT) this.crashLines.push(line);
    else if (this.crashLines === undefined && CRASH_LINE.test(line)) this.crashLines = [line];
    const status = STATUS_LINE.exec(line);
    if (status && this.status === undefined) this.status = Number(status[1]);
    if (/It's now safe to turn off your computer$|Rebooting the computer$/.test(line)) this.safeToTurnOff = true;
    // The kernel's own lines, or, under `quiet`, those of b2c's init, which the kernel's console carries all the same.
    if (/Linux version \d|^\[ *\d+\.\d{6}\] |^\[\d+\.\d+\]: /.test(line)) this.kernelSpoke = true;
  }
}
