// Under QuickJS: a wait for a started program's end wakes when that program ends (the init's SIGCHLD handler), and only then.
import * as os from 'os';
import * as std from 'std';
import { onChildExit, quickjsSystem } from '../../src/system/quickjs.ts';

os.signal(os.SIGCHLD, onChildExit);
const started = Date.now();
const program = await quickjsSystem.start(['sleep', '0.3']);
await quickjsSystem.waitForAny([program], 20_000);
const woke = Date.now() - started;
const status = program.poll();
await program.wait();
// Another program's end, run to its end just before, does not cut the wait short.
const other = await quickjsSystem.start(['sleep', '5']);
const idleStarted = Date.now();
await quickjsSystem.run(['true']);
await quickjsSystem.waitForAny([other], 300);
const idle = Date.now() - idleStarted;
await quickjsSystem.run(['kill', String(other.pid)]);
await other.wait();
std.out.puts(JSON.stringify({ woke, status, idle }));
