// Pulls through a registry that fails the way farm networks do: the real registry behind a fault-injecting proxy on 127.0.0.1.

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FaultProxy } from '../../src/testbed/fault-proxy.ts';
import { freePort } from '../../src/testbed/registry.ts';
import { FORWARD_ADDRESS } from '../../src/vm/qemu.ts';
import { bootB2c, expectCleanEnd, step } from './boot.ts';

let proxy: FaultProxy;
beforeAll(async () => {
  proxy = await FaultProxy.start(inject('registryPort'));
});
afterAll(async () => {
  await proxy?.close();
});

const throughProxy = (name: string): string => `docker://${FORWARD_ADDRESS}:${proxy.port}/b2c-test/${name}:1`;

describe('pulls from a registry that fails', () => {
  it('pulls again after 503s and runs the step once, fails an image the registry does not have at once, and one behind a dead port', async () => {
    proxy.add({ path: /^\/v2\/b2c-test\/busybox\/manifests\//, fault: { kind: 'status', status: 503 }, times: 2 });
    // A forwarded port with nothing behind it on the host: the registry is down.
    const deadPort = await freePort();
    const behindDeadPort = `docker://${FORWARD_ADDRESS}:${deadPort}/b2c-test/busybox:1`;
    const result = await bootB2c(
      [
        step('b2c.container', `sh -c 'echo ran-$((6*7))'`, throughProxy('busybox')),
        step('b2c.container', `sh -c 'echo never-$((6*7))'`, throughProxy('not-in-the-registry')),
        step('b2c.container', `sh -c 'echo never-$((6*7))'`, behindDeadPort),
      ],
      { runOptions: ['--forward', String(proxy.port), '--forward', String(deadPort)] },
    );
    expectCleanEnd(result, 125);
    expect(result.output.split(/^ran-42\r?$/m)).toHaveLength(2);
    expect(result.output).toContain('Container 1 exited with status 0');
    expect(result.output).toMatch(/Pulling docker:\/\/\S+\/b2c-test\/busybox:1 failed \(try 1 of 5\): .*503 Service Unavailable; trying again in 1 s/);
    expect(result.output).toMatch(/Pulled docker:\/\/\S+\/b2c-test\/busybox:1 on try 3 of 5/);
    expect(result.output).toMatch(/Could not pull docker:\/\/\S+\/b2c-test\/not-in-the-registry:1: .*manifest unknown/);
    expect(proxy.seen(/^\/v2\/b2c-test\/busybox\/manifests\//).filter((request) => request.fault === 'status')).toHaveLength(2);
    // A registry that says it does not have the image is asked once: no retry can change its answer.
    expect(proxy.seen(/^\/v2\/b2c-test\/not-in-the-registry\/manifests\//)).toHaveLength(1);
    expect(result.output).not.toMatch(/^never-42/m);
    // The forwarder closes the guest's connection: podman reads no bytes of busybox nc's complaint as the registry's answer.
    expect(result.output).toContain(`Could not pull ${behindDeadPort}: `);
    expect(result.output).not.toMatch(/can't connect|malformed HTTP/);
  });
});
