// Under QuickJS: a sleep that waits for a program's end wakes when the program ends, through the init's SIGCHLD handler.
import * as os from 'os';
import * as std from 'std';
import { onChildExit, quickjsSystem } from '../../src/system/quickjs.ts';

os.signal(os.SIGCHLD, onChildExit);
const started = Date.now();
const program = await quickjsSystem.start(['sleep', '0.3']);
await quickjsSystem.sleepUntilExit(20_000);
const woke = Date.now() - started;
const status = program.poll();
// With no program ending, the sleep lasts its time.
const idleStarted = Date.now();
await quickjsSystem.sleepUntilExit(300);
std.out.puts(JSON.stringify({ woke, status, idle: Date.now() - idleStarted }));
