// The QuickJS side of the comparison: prints the probe as JSON on stdout.
import * as std from 'std';
import { quickjsProbe } from './entry.ts';

std.out.puts(JSON.stringify(quickjsProbe()));
