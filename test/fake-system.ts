// A scripted machine for unit tests of the effectful init: programs answer from a script by argv, files live in memory, time is virtual.
//
// It stands in for the QuickJS system interface where no real part can run in
// a unit test (mount, modprobe, podman as PID 1's children); the e2e suite
// runs the same code on a real kernel.

import type { FileInfo, RunningProgram, RunOptions, RunResult, StartOptions, System } from '../src/system/system.ts';

/** What a scripted program does when it runs. */
export type Behaviour =
  | { status?: number; stdout?: string; stderr?: string; /** Virtual milliseconds it takes. */ takes?: number }
  /** It never ends on its own: only a `timeout` around it, or a kill, ends it. */
  | { hangs: true }
  /** The machine goes down: the call never returns, which the fake shows as a MachineOff rejection. */
  | { powersOff: true };

/** Decides a program's behaviour from its argv, and may act on the machine (write a file, move the clock). */
export type Responder = (argv: readonly string[], machine: FakeSystem, options: RunOptions | StartOptions) => Behaviour;

/** The machine powered off or rebooted: what a real shutdown command never returns from. */
export class MachineOff extends Error {
  constructor(readonly argv: readonly string[]) {
    super(`the machine went down by ${argv.join(' ')}`);
  }
}

/** A program scripted to hang was run with nothing to kill it: on a real machine, this is where it would hang for ever. */
export class HungForever extends Error {}

interface Rule {
  matches: (argv: readonly string[]) => boolean;
  respond: Responder;
}

export interface ProgramRun {
  argv: string[];
  /** What the call added to the environment (RunOptions.moreEnv). */
  moreEnv?: Record<string, string>;
  /** Virtual milliseconds since the fake started. */
  at: number;
  started: boolean;
}

const EPOCH = Date.UTC(2026, 10, 30, 12, 0, 0);
const KILL_STATUS = 137;
const TERM_STATUS = 143;

function timeoutCommand(argv: readonly string[]): { seconds: number; inner: string[] } | undefined {
  if (argv[0] !== 'timeout') return undefined;
  const rest = [...argv.slice(1)];
  while (rest[0]?.startsWith('-')) rest.splice(0, rest[0] === '-s' ? 2 : 1);
  const seconds = Number(rest.shift());
  return Number.isFinite(seconds) ? { seconds, inner: rest } : undefined;
}

/** Lets timers run between steps, so that a loop that never ends under virtual time still meets the test's timeout. */
function yieldToTimers(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class FakeSystem implements System {
  readonly files = new Map<string, string | Uint8Array>();
  readonly directories = new Set<string>(['/']);
  readonly runs: ProgramRun[] = [];
  /** When each started program ends, by pid (virtual milliseconds), for waitForAny. */
  private readonly endsAt = new Map<number, number>();
  /** Everything written to the console. */
  consoleText = '';
  /** Virtual milliseconds since boot: the uptime, which never jumps. */
  elapsed = 0;
  /** How far the wall clock is from its start beyond the uptime: what setting the clock moves. */
  wallClockOffset = 0;
  private readonly rules: Rule[] = [];
  private readonly killed = new Set<number>();
  private nextPid = 100;

  /** Scripts a program: the last matching rule wins. `prefix` matches the start of argv. */
  on(prefix: readonly string[] | ((argv: readonly string[]) => boolean), behaviour: Behaviour | Responder): this {
    const matches = typeof prefix === 'function' ? prefix : (argv: readonly string[]) => prefix.every((word, index) => argv[index] === word);
    this.rules.push({ matches, respond: typeof behaviour === 'function' ? behaviour : () => behaviour });
    return this;
  }

  /** Writes a file, making its folders. */
  file(path: string, content: string | Uint8Array): this {
    this.files.set(path, content);
    void this.makeDirectory(path.slice(0, path.lastIndexOf('/')) || '/');
    return this;
  }

  /** The argv of every program run or started whose argv starts with `prefix`, in order. */
  ran(...prefix: string[]): string[][] {
    return this.runs.filter((run) => prefix.every((word, index) => run.argv[index] === word)).map((run) => run.argv);
  }

  /** The console's `[uptime]: message` lines, without their stamps. */
  logLines(): string[] {
    return this.consoleText.split('\n').flatMap((line) => {
      const match = /^\[[0-9.?]+\]: (.*)$/.exec(line);
      return match ? [match[1] as string] : [];
    });
  }

  private behaviourOf(argv: readonly string[], options: RunOptions | StartOptions): Behaviour {
    for (let index = this.rules.length - 1; index >= 0; index--) {
      const rule = this.rules[index] as Rule;
      if (rule.matches(argv)) return rule.respond(argv, this, options);
    }
    return { status: 127, stderr: `${argv[0]}: not found\n` };
  }

  /**
   * `sh -c TEXT` when no rule scripts sh: a small shell for the shutdown
   * commands farms write (`echo JOB_RESULT=$B2C_…; poweroff -f`): commands
   * split on `;`, `$NAME` and `${NAME}` from the environment given, `echo`
   * to the console, anything else run as a program of the machine.
   */
  private async shell(text: string, options: RunOptions): Promise<RunResult> {
    const environment = { ...options.env, ...options.moreEnv };
    let status = 0;
    for (const command of text.split(';')) {
      const expanded = command.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_match, name: string) => environment[name] ?? '');
      const words = expanded
        .trim()
        .split(/\s+/)
        .filter((word) => word !== '');
      if (words.length === 0) continue;
      if (words[0] === 'echo') {
        this.consoleText += `${words.slice(1).join(' ')}\n`;
        status = 0;
      } else {
        status = (await this.run(words, { ...options, moreEnv: environment })).status;
      }
    }
    return { status, stdout: '', stderr: '' };
  }

  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    if (argv[0] === 'sh' && argv[1] === '-c' && argv.length === 3 && !this.rules.some((rule) => rule.matches(argv))) {
      this.runs.push({ argv: [...argv], at: this.elapsed, started: false, ...(options.moreEnv ? { moreEnv: options.moreEnv } : {}) });
      return this.shell(argv[2] as string, options);
    }
    this.runs.push({ argv: [...argv], at: this.elapsed, started: false, ...(options.moreEnv ? { moreEnv: options.moreEnv } : {}) });
    const timeout = timeoutCommand(argv);
    const behaviour = this.behaviourOf(timeout?.inner ?? argv, options);
    await yieldToTimers();
    if ('powersOff' in behaviour) throw new MachineOff(argv);
    if ('hangs' in behaviour) {
      if (timeout === undefined) throw new HungForever(`${argv.join(' ')} never ends, and nothing kills it`);
      this.elapsed += timeout.seconds * 1000;
      return { status: KILL_STATUS, stdout: '', stderr: '' };
    }
    const takes = behaviour.takes ?? 0;
    if (timeout !== undefined && takes > timeout.seconds * 1000) {
      this.elapsed += timeout.seconds * 1000;
      return { status: KILL_STATUS, stdout: '', stderr: '' };
    }
    this.elapsed += takes;
    const stdout = behaviour.stdout ?? '';
    const stderr = behaviour.stderr ?? '';
    // What is not captured goes to the console, as a real child's output would.
    if (!options.captureStdout) this.consoleText += stdout;
    if (!options.captureStderr) this.consoleText += stderr;
    return { status: behaviour.status ?? 0, stdout: options.captureStdout ? stdout : '', stderr: options.captureStderr ? stderr : '' };
  }

  async start(argv: readonly string[], options: StartOptions = {}): Promise<RunningProgram> {
    this.runs.push({ argv: [...argv], at: this.elapsed, started: true, ...(options.moreEnv ? { moreEnv: options.moreEnv } : {}) });
    const behaviour = this.behaviourOf(argv, options);
    if ('powersOff' in behaviour) throw new MachineOff(argv);
    const pid = this.nextPid++;
    const endsAt = 'hangs' in behaviour ? Infinity : this.elapsed + (behaviour.takes ?? 0);
    this.endsAt.set(pid, endsAt);
    const status = 'hangs' in behaviour ? 0 : (behaviour.status ?? 0);
    if (!('hangs' in behaviour)) {
      // What it prints, it prints at once.
      const output = (behaviour.stdout ?? '') + (behaviour.stderr ?? '');
      if (options.outputFile === undefined) this.consoleText += output;
      else if (options.outputFile !== '/dev/null') this.files.set(options.outputFile, `${(await this.readText(options.outputFile)) ?? ''}${output}`);
    }
    const poll = (): number | undefined => (this.killed.has(pid) ? TERM_STATUS : this.elapsed >= endsAt ? status : undefined);
    return {
      pid,
      poll,
      wait: async () => {
        await yieldToTimers();
        if (poll() === undefined) {
          if (endsAt === Infinity) throw new HungForever(`waiting for ${argv.join(' ')}, which never ends and was not killed`);
          this.elapsed = endsAt;
        }
        return poll() as number;
      },
    };
  }

  /** What `kill PID` does to a program `start` began. */
  kill(pid: number): void {
    this.killed.add(pid);
  }

  async readText(path: string): Promise<string | undefined> {
    if (path === '/proc/uptime') return `${(this.elapsed / 1000).toFixed(2)} 0.00\n`;
    const content = this.files.get(path);
    return content === undefined ? undefined : typeof content === 'string' ? content : new TextDecoder().decode(content);
  }

  async writeText(path: string, text: string): Promise<void> {
    const folder = path.slice(0, path.lastIndexOf('/')) || '/';
    if (!this.directories.has(folder) && !path.startsWith('/proc/')) throw new Error(`cannot write ${path}: no folder ${folder}`);
    this.files.set(path, text);
  }

  async readBytes(path: string, offset: number, length: number): Promise<Uint8Array | undefined> {
    const content = this.files.get(path);
    if (content === undefined) return undefined;
    const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
    return bytes.slice(offset, offset + length);
  }

  async writeBytes(path: string, offset: number, data: Uint8Array): Promise<void> {
    const content = this.files.get(path);
    if (content === undefined || typeof content === 'string') throw new Error(`cannot write bytes to ${path}`);
    content.set(data, offset);
  }

  async exists(path: string): Promise<boolean> {
    return this.files.has(path) || this.directories.has(path);
  }

  async stat(path: string): Promise<FileInfo | undefined> {
    if (this.directories.has(path)) return { kind: 'directory', mode: 0o755, size: 0, modified: EPOCH };
    const content = this.files.get(path);
    if (content === undefined) return undefined;
    return { kind: 'file', mode: 0o644, size: typeof content === 'string' ? new TextEncoder().encode(content).length : content.length, modified: EPOCH };
  }

  async remove(path: string): Promise<void> {
    if (!this.files.delete(path) && !this.directories.delete(path)) throw new Error(`cannot remove ${path}: it does not exist`);
  }

  async rename(from: string, to: string): Promise<void> {
    const content = this.files.get(from);
    if (content === undefined) throw new Error(`cannot rename ${from}: it does not exist`);
    this.files.delete(from);
    this.files.set(to, content);
  }

  /** Symbolic links made, by path: the fake resolves none of them. */
  readonly links = new Map<string, string>();

  async symlink(target: string, path: string): Promise<void> {
    this.links.set(path, target);
  }

  async listDir(path: string): Promise<string[]> {
    const prefix = path.endsWith('/') ? path : `${path}/`;
    const names = new Set<string>();
    for (const entry of [...this.files.keys(), ...this.directories]) {
      if (entry.startsWith(prefix) && entry.length > prefix.length) names.add(entry.slice(prefix.length).split('/')[0] as string);
    }
    return [...names].sort();
  }

  async makeDirectory(path: string): Promise<void> {
    let prefix = '';
    for (const part of path.split('/').filter((segment) => segment !== '')) {
      prefix += `/${part}`;
      this.directories.add(prefix);
    }
  }

  write(text: string): void {
    this.consoleText += text;
  }

  async sleep(milliseconds: number): Promise<void> {
    await yieldToTimers();
    this.elapsed += milliseconds;
  }

  /** Wakes at the first end of one of the programs within the time, as their SIGCHLD wakes the init. */
  async waitForAny(programs: readonly RunningProgram[], milliseconds: number): Promise<void> {
    await yieldToTimers();
    if (programs.some((program) => program.poll() !== undefined)) return;
    const ends = programs.map((program) => this.endsAt.get(program.pid) ?? Infinity);
    this.elapsed = Math.min(this.elapsed + milliseconds, ...ends);
  }

  now(): number {
    return EPOCH + this.wallClockOffset + this.elapsed;
  }
}
