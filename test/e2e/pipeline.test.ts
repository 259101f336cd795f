// The pipeline in a real VM: real kernel, QuickJS init, podman and crun, images from a real registry.
//
// Outputs are computed inside the containers ($((...))) so that they cannot be
// mistaken for the kernel's echo of its own command line.

import { describe, expect, it } from 'vitest';
import { bootB2c, expectCleanEnd, sectionText, step, testImage } from './boot.ts';

const POWERED_OFF = /^It's now safe to turn off your computer\r?$/m;

describe('a pipeline in a VM', () => {
  it('runs every step in order beside a service, keeps the first failure as the status, and always runs post containers', async () => {
    const result = await bootB2c(
      [
        // The service says it is up (a file in the machine's /tmp, shared with the step) once it has printed twice; the first step waits for that.
        step(
          'b2c.service',
          `sh -c 'trap exit TERM; n=0; while true; do echo service-$((10*10)); n=$((n+1)); [ $n -ge 2 ] && touch /shared/service-up; sleep 1; done'`,
          `-v /tmp:/shared ${testImage()}`,
        ),
        step('b2c.service', `sh -c 'echo dying-$((3*3)); exit 7'`),
        step('b2c.container', `sh -c 'until [ -e /shared/service-up ]; do sleep 1; done; echo first-$((6*7))'`, `-v /tmp:/shared ${testImage()}`),
        step('b2c.run', `sh -c 'echo a b-$((1+1)); exit 5'`),
        step('b2c.container', `sh -c 'echo seen-$B2C_PIPELINE_STATUS-$B2C_PIPELINE_PREV_CONTAINER_EXIT_CODE-$((2+1)) host=$(hostname)'`),
        // Forms farms boot with that b2c carries out with a warning, as upstream did without one.
        'b2c.hostname=dut_42',
        'b2c.insmods=overlay.ko',
        'b2c.poweroff_delay=soon',
        'b2c.volume="scratch,colour=blue"',
        step('b2c.post_container', `sh -c 'echo post-$((3*3)) $B2C_PIPELINE_FAILED_BY; exit 7'`),
        // The archive farms fetch, once: the other boots take the uncompressed one.
      ],
      { archive: 'xz' },
    );
    expectCleanEnd(result, 5);
    // The single-quoted command reached sh as one argument.
    expect(result.output).toMatch(/^a b-2\r?$/m);
    const order = ['first-42', 'a b-2', 'seen-5-5-3 host=dut_42', 'post-9'].map((marker) => result.output.indexOf(marker));
    expect(order.every((position) => position >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(result.output).toContain(`post-9 --tls-verify=false ${testImage()} sh -c 'echo a b-$((1+1)); exit 5'`);
    expect(result.output.indexOf('Execution is over')).toBeGreaterThan(result.output.indexOf('post-9'));
    expect(sectionText(result.console, 'b2c_container_2')).toContain('Container 2 exited with status 5');
    expect(sectionText(result.console, 'b2c_post_container_1')).toContain('Post container 1 exited with status 7');
    expect(result.console).toMatch(/^\[[0-9.]+\]: CPU: /m);
    for (const warning of [
      'Warning: b2c.hostname=dut_42 is not a DNS host name',
      'Warning: b2c.insmods: overlay.ko is a file name: the module overlay is loaded',
      'Warning: b2c.poweroff_delay=soon is not a number of seconds (e.g. b2c.poweroff_delay=5): no delay',
      'Warning: b2c.volume=scratch: unknown option colour ignored',
    ]) {
      expect(result.output).toContain(warning);
    }
    // The section farms open before the boot is closed once, before the init's first own section.
    const kernelBootEnd = result.console.search(/section_end:\d+:b2c_kernel_boot\r/);
    expect(kernelBootEnd).toBeGreaterThanOrEqual(0);
    expect(kernelBootEnd).toBeLessThan(result.console.indexOf('section_start:'));
    // The service ran (the first step waited for it), its output stayed off the console, and it was stopped after the post containers.
    expect(result.output).toContain('Service 1 started as b2c-service-1; its output goes to /run/b2c/services/b2c-service-1.log');
    expect(result.output).not.toMatch(/^service-100\r?$/m);
    const stopped = result.output.indexOf('b2c-service-1 ended with status 0');
    expect(stopped).toBeGreaterThan(result.output.indexOf('post-9'));
    // A service that dies with an error shows its last output, once.
    expect(result.output).toMatch(/b2c-service-2 ended on its own with status 7; the last lines of its output:\r?\n(.*\r?\n)*?dying-9\r?$/m);
    expect(result.output.split('dying-9')).toHaveLength(2);
    // Storage in RAM goes with the machine: the cleanup starts no podman to empty it.
    expect(sectionText(result.console, 'b2c_cleanup')).toContain('Containers and images are in RAM and go with it: nothing to remove');
    // The VM's virtio RNG seeds the kernel's CRNG before podman first starts; without it, podman waits seconds for it under TCG.
    expect(sectionText(result.console, 'b2c_modules')).toMatch(/Loading the drivers of this machine's devices: .*virtio_rng/);
    const crngReady = result.output.indexOf('random: crng init done');
    expect(crngReady).toBeGreaterThanOrEqual(0);
    expect(crngReady).toBeLessThan(result.output.indexOf('Service 1: podman create'));
  });

  it('stops at the first failure under b2c.pipefail, and a container that reboots makes the machine reboot', async () => {
    const result = await bootB2c([
      'b2c.pipefail',
      step('b2c.container', `sh -c 'echo rebooting-$((4*4)); reboot -f'`),
      step('b2c.container', `sh -c 'echo never-$((5*5))'`),
      step('b2c.post_container', `sh -c 'echo post-mode-$B2C_PIPELINE_SHUTDOWN_MODE-$B2C_PIPELINE_STATUS'`),
    ]);
    expectCleanEnd(result, 129, 'reboot');
    expect(result.output).toContain('rebooting-16');
    expect(result.output).not.toContain('never-25');
    expect(result.output).toContain('post-mode-reboot-129');
    expect(result.console).not.toMatch(POWERED_OFF);
  });

  it('fails on a missing image, goes on without pipefail, a container that powers off sets the mode back, and the shutdown command is a shell', async () => {
    const result = await bootB2c([
      step('b2c.container', 'true', testImage('does-not-exist')),
      step('b2c.container', `sh -c 'echo next-$B2C_PIPELINE_PREV_CONTAINER_EXIT_CODE-$((7*7)); reboot -f'`),
      step('b2c.container', `sh -c 'echo after-$B2C_PIPELINE_PREV_CONTAINER_EXIT_CODE-$B2C_PIPELINE_SHUTDOWN_MODE; poweroff -f'`),
      step('b2c.post_container', `sh -c 'echo final-$B2C_PIPELINE_SHUTDOWN_MODE-$B2C_PIPELINE_PREV_CONTAINER_EXIT_CODE'`),
      // Every step shares the machine's network: one that asks for its own fails, before any netavark would run.
      step('b2c.post_container', `sh -c 'echo bridged-$((5*5))'`, `--network=bridge ${testImage()}`),
      // As farms write it: the machine's shell prints the job's result before powering off.
      'b2c.shutdown_cmd="echo JOB_RESULT=$B2C_PIPELINE_PREV_CONTAINER_EXIT_CODE status=$B2C_PIPELINE_STATUS; poweroff -f"',
    ]);
    expectCleanEnd(result, 125);
    expect(result.output).toMatch(/^JOB_RESULT=125 status=125\r?$/m);
    expect(result.output).toContain('next-125-49');
    expect(result.output).toContain('after-129-reboot');
    expect(result.output).toContain('final-poweroff-130');
    expect(result.output).toContain('Error: cannot set multiple networks without bridge network mode, selected mode host');
    expect(result.output).not.toContain('bridged-25');
    expect(result.output).toContain('Post container 2 exited with status 125');
  });

  it('runs nothing when the command line is invalid, and still powers off with a failing status', async () => {
    const result = await bootB2c(['b2c.volume="v,pull_on=sometimes"', step('b2c.container', `sh -c 'echo ran-$((8*8))'`)]);
    expectCleanEnd(result, 1);
    expect(result.output).toContain('Error: b2c.volume=v: pull_on=sometimes is not a condition');
    expect(result.output).not.toContain('ran-64');
  });
});
