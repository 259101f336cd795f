import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { sendCounted } from '../../src/serve/http.ts';

const CHUNK = 64 * 1024;

/** A file of `chunks` chunks that counts what was read of it. */
function file(chunks: number): { source: Readable; read: () => number } {
  let read = 0;
  const source = Readable.from(
    (function* () {
      for (let index = 0; index < chunks; index++) {
        read += CHUNK;
        yield Buffer.alloc(CHUNK, index);
      }
    })(),
  );
  return { source, read: () => read };
}

/**
 * A connection that takes `chunks` chunks, then fails the next write as a
 * machine's dropped TCP connection does. It stands in for a socket, whose
 * kernel buffers on loopback would hide the difference between read and sent.
 */
function connectionTaking(chunks: number): Writable {
  let taken = 0;
  return new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      if (taken === chunks) {
        callback(new Error('ECONNRESET'));
        return;
      }
      taken++;
      setImmediate(callback);
    },
  });
}

describe('sendCounted', () => {
  it('counts the bytes the connection took, not those read from the disk, when the machine drops its download', async () => {
    const { source, read } = file(10);
    const result = await sendCounted(source, connectionTaking(3));
    expect(result).toEqual({ sent: 3 * CHUNK, complete: false });
    // The fourth chunk was read, and never reached the machine.
    expect(read()).toBeGreaterThan(result.sent);
  });

  it('says a download that went whole is complete, with every byte', async () => {
    const { source } = file(10);
    expect(await sendCounted(source, connectionTaking(10))).toEqual({ sent: 10 * CHUNK, complete: true });
  });

  it('stops at a connection closed while a chunk was on its way', async () => {
    const { source } = file(10);
    const connection = new Writable({ write: () => connection.destroy() });
    expect(await sendCounted(source, connection)).toEqual({ sent: 0, complete: false });
  });
});
