// Pulls through a registry that fails the way farm networks do: the real registry behind a fault-injecting proxy on 127.0.0.1.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { FaultProxy } from '../../src/testbed/fault-proxy.ts';
import { freePort } from '../../src/testbed/registry.ts';
import { FORWARD_ADDRESS } from '../../src/vm/qemu.ts';
import { bootB2c, expectCleanEnd, step } from './boot.ts';
import { blankDisk } from './disks.ts';

const folder = mkdtempSync(join(tmpdir(), 'b2c-pull-'));
let proxy: FaultProxy;
beforeAll(async () => {
  proxy = await FaultProxy.start(inject('registryPort'));
});
// A test that fails half-way leaves no fault for the next one.
afterEach(() => proxy?.clearFaults());
afterAll(async () => {
  await proxy?.close();
  rmSync(folder, { recursive: true, force: true });
});

const throughProxy = (name: string): string => `docker://${FORWARD_ADDRESS}:${proxy.port}/b2c-test/${name}:1`;

describe('pulls from a registry that fails', () => {
  it('pulls again after 503s and a registry that hangs, runs the step once, fails an image the registry lacks, and one behind a dead port', async () => {
    proxy.add({ path: /^\/v2\/b2c-test\/busybox\/manifests\//, fault: { kind: 'status', status: 503 }, times: 2 });
    // Then a registry that takes the request and hangs: the try is stopped after a minute of silence.
    proxy.add({ path: /^\/v2\/b2c-test\/busybox\/manifests\//, fault: { kind: 'stall' }, times: 1 });
    // A registry that dies after the first MiB of the big layer and stays dead for it: podman's resumed requests and every later try are dropped.
    const bigLayer = new RegExp(`^/v2/b2c-test/big/blobs/${inject('bigLayerDigest')}$`);
    proxy.add({ method: 'GET', path: bigLayer, fault: { kind: 'cut', bytes: 1024 * 1024 }, times: 1 });
    proxy.add({ method: 'GET', path: bigLayer, fault: { kind: 'reset' } });
    // A forwarded port with nothing behind it on the host: the registry is down.
    const deadPort = await freePort();
    const behindDeadPort = `docker://${FORWARD_ADDRESS}:${deadPort}/b2c-test/busybox:1`;
    const result = await bootB2c(
      [
        step('b2c.container', `sh -c 'echo ran-$((6*7))'`, throughProxy('busybox')),
        step('b2c.container', `sh -c 'echo never-$((6*7))'`, throughProxy('not-in-the-registry')),
        step('b2c.container', `sh -c 'echo never-$((6*7))'`, behindDeadPort),
        step('b2c.container', `sh -c 'echo never-$((6*7))'`, throughProxy('big')),
      ],
      // Its waits are by design (a minute of stall, four tries of each of two dead registries): about 175 s here with another boot beside
      // it, which the default bound of 180 s does not leave room for.
      { runOptions: ['--forward', String(proxy.port), '--forward', String(deadPort)], timeoutSeconds: 420 },
    );
    expectCleanEnd(result, 125);
    expect(result.output.split(/^ran-42\r?$/m)).toHaveLength(2);
    expect(result.output).toContain('Container 1 exited with status 0');
    expect(result.output).toMatch(/Pulling docker:\/\/\S+\/b2c-test\/busybox:1 failed \(try 1 of 5\): .*503 Service Unavailable; trying again in 1 s/);
    expect(result.output).toMatch(
      /Pulling docker:\/\/\S+\/b2c-test\/busybox:1 failed \(try 3 of 5\): podman moved less than 4 KiB in 60 s: the registry stopped answering; trying again/,
    );
    expect(result.output).toMatch(/Pulled docker:\/\/\S+\/b2c-test\/busybox:1 in [0-9.]+ s, on try 4 of 5/);
    expect(result.output).toMatch(/Could not pull docker:\/\/\S+\/b2c-test\/not-in-the-registry:1: .*manifest unknown/);
    expect(proxy.seen(/^\/v2\/b2c-test\/busybox\/manifests\//).filter((request) => request.fault === 'status')).toHaveLength(2);
    // A registry that says it does not have the image is asked once: no retry can change its answer.
    expect(proxy.seen(/^\/v2\/b2c-test\/not-in-the-registry\/manifests\//)).toHaveLength(1);
    expect(result.output).not.toMatch(/^never-42/m);
    // The forwarder closes the guest's connection: podman reads no bytes of busybox nc's complaint as the registry's answer. Go names a
    // connection closed before any answer in one of three ways, by when the close came.
    expect(result.output).toMatch(
      new RegExp(`Could not pull ${behindDeadPort.replaceAll('.', '\\.')} \\(5 tries\\): .*(EOF|connection reset|server closed idle connection)`),
    );
    expect(result.output).not.toMatch(/can't connect|malformed HTTP/);
    expect(result.output).toMatch(/Could not pull docker:\/\/\S+\/b2c-test\/big:1 \(5 tries\): \S/);
    const bigRequests = proxy.seen(bigLayer).map((request) => request.fault);
    expect(bigRequests[0]).toBe('cut');
    expect(bigRequests.slice(1).every((fault) => fault === 'reset')).toBe(true);
    // The registry that hung was asked once, and the try after it was a new one.
    const manifestFaults = proxy.seen(/^\/v2\/b2c-test\/busybox\/manifests\//).map((request) => request.fault);
    expect(manifestFaults.slice(0, 3)).toEqual(['status', 'status', 'stall']);
    expect(manifestFaults.slice(3).every((fault) => fault === undefined)).toBe(true);
  });

  it('pulls again after a layer cut short, fails a layer whose bytes never match its digest, and keeps no bad layer in the cache', async () => {
    const disk = blankDisk(folder, 'cache.img', 1024 ** 3);
    const bigLayer = new RegExp(`^/v2/b2c-test/big/blobs/${inject('bigLayerDigest')}$`);
    const busyboxBlobs = /^\/v2\/b2c-test\/busybox\/blobs\//;
    // The proxy keeps the earlier test's requests: this one counts its own.
    const cutsBefore = proxy.seen(bigLayer).filter((request) => request.fault === 'cut').length;
    proxy.add({ method: 'GET', path: bigLayer, fault: { kind: 'cut', bytes: 1024 * 1024 }, times: 1 });
    proxy.add({ method: 'GET', path: busyboxBlobs, fault: { kind: 'corrupt' } });
    const faulty = await bootB2c(
      [
        'b2c.cache_device=auto',
        step('b2c.container', `sh -c 'echo big-$((6*7))'`, throughProxy('big')),
        step('b2c.container', `sh -c 'echo never-$((6*7))'`, throughProxy('busybox')),
      ],
      { disks: [disk], runOptions: ['--forward', String(proxy.port)] },
    );
    expectCleanEnd(faulty, 125);
    expect(proxy.seen(bigLayer).filter((request) => request.fault === 'cut')).toHaveLength(cutsBefore + 1);
    expect(faulty.output).toMatch(/^big-42\r?$/m);
    // The same wrong bytes on every try: the step fails naming the image and the digest that did not match.
    expect(faulty.output).toMatch(/Could not pull docker:\/\/\S+\/b2c-test\/busybox:1 \(5 tries\): .*digest \S+ does not match expected/);
    expect(faulty.output).not.toMatch(/^never-42/m);
    proxy.clearFaults();
    const busyboxFetchesBefore = proxy.seen(busyboxBlobs).length;
    const bigFetchesBefore = proxy.seen(bigLayer).length;

    // The next boot of that cache: the good layer stays, the bad one was never kept, and the image pulls cleanly.
    const clean = await bootB2c(
      [
        'b2c.cache_device=auto',
        step('b2c.container', `sh -c 'echo big-again-$((6*7))'`, throughProxy('big')),
        step('b2c.container', `sh -c 'echo clean-$((6*7))'`, throughProxy('busybox')),
      ],
      { disks: [disk], runOptions: ['--forward', String(proxy.port)] },
    );
    expectCleanEnd(clean, 0);
    expect(clean.output).toContain('Using the cache partition');
    expect(clean.output).toMatch(/^big-again-42\r?$/m);
    expect(clean.output).toMatch(/^clean-42\r?$/m);
    expect(clean.output).not.toContain('failed (try 1 of 5)');
    expect(proxy.seen(busyboxBlobs).length).toBeGreaterThan(busyboxFetchesBefore);
    expect(proxy.seen(bigLayer)).toHaveLength(bigFetchesBefore);
  });
});
