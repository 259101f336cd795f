// Joins two stream sockets both ways, as a proxy or a relay does: when either side ends or fails, both close.

import type { Socket } from 'node:net';

export function joinSockets(a: Socket, b: Socket): void {
  a.pipe(b).pipe(a);
  const close = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', close).on('close', close);
  b.on('error', close).on('close', close);
}
