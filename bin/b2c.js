#!/usr/bin/env node
// The b2c command: runs the TypeScript sources through tsx, so the checkout is the program.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
