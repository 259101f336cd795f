// Progress of long host work: one line per step, updated in place on a terminal, plain lines otherwise.

import type { Writable } from 'node:stream';

export interface Progress {
  /** A new step: always a line of its own. */
  step(message: string): void;
  /** How the current step is going: redrawn on a terminal, printed as a line elsewhere. */
  update(message: string): void;
}

export function streamProgress(stream: Writable & { isTTY?: boolean }, prefix = 'b2c'): Progress {
  let pending = false;
  const clear = (): void => {
    if (pending) stream.write('\r\x1b[K');
    pending = false;
  };
  return {
    step(message) {
      clear();
      stream.write(`${prefix}: ${message}\n`);
    },
    update(message) {
      if (stream.isTTY) {
        clear();
        stream.write(`${prefix}:   ${message}`);
        pending = true;
      } else {
        stream.write(`${prefix}:   ${message}\n`);
      }
    },
  };
}

export const silentProgress: Progress = { step() {}, update() {} };
