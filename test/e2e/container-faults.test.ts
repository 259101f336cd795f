// Containers that fail hard in real boots: killed by the OOM killer, a segfault, a kernel panic they cause, a step that never ends.

import { describe, expect, it } from 'vitest';
import { bootB2c, expectCleanEnd, sectionText, step } from './boot.ts';

describe('containers that fail hard', () => {
  it("keeps the OOM-killed step's 137 as the status, runs the next step, which segfaults, the post container and the cleanup, and powers off", async () => {
    // 512 MiB of guest: dd's one 450 MiB buffer passes the kernel's overcommit check, and filling it runs the machine out of memory.
    const result = await bootB2c(
      [
        step('b2c.container', `sh -c 'echo eating-$((6*7)); exec dd if=/dev/zero of=/dev/null bs=450M count=1'`),
        // The container's first process ignores signals it has no handler for: the one that dies of SIGSEGV is its child.
        step('b2c.container', `sh -c 'echo crashing-$((6*7)); sleep 100 & kill -SEGV $!; wait $!'`),
        step('b2c.post_container', `sh -c 'echo post-$((6*7))'`),
      ],
      { runOptions: ['--memory', '512'] },
    );
    expectCleanEnd(result, 137);
    expect(result.console).toMatch(/Out of memory: Killed process \d+ \(dd\)/);
    expect(sectionText(result.console, 'b2c_container_1')).toContain(
      "Container 1 exited with status 137 (SIGKILL: killed; the kernel's OOM killer does this when memory runs out",
    );
    expect(result.output).toMatch(/^crashing-42\r?$/m);
    expect(sectionText(result.console, 'b2c_container_2')).toContain('Container 2 exited with status 139 (SIGSEGV: a segmentation fault)');
    expect(result.output).toMatch(/^post-42\r?$/m);
    expect(sectionText(result.console, 'b2c_cleanup')).not.toBe('');
  });

  // The step that never ends sleeps in its machine until the timeout: the panic boots beside it.
  it.concurrent('a container that panics the kernel ends the run as a crash (251), never as a pass', async () => {
    const result = await bootB2c([step('b2c.container', `sh -c 'echo c > /proc/sysrq-trigger; echo survived-$((6*7))'`).replace('="', '="--privileged ')], {
      timeoutSeconds: 240,
    });
    expect(result.exitCode).toBe(251);
    expect(result.stderr).toMatch(/the guest kernel crashed/);
    expect(result.console).toMatch(/Kernel panic - not syncing: sysrq triggered crash/);
    expect(result.console).not.toContain('Execution is over');
    expect(result.output).not.toMatch(/^survived-42/m);
    const crashAt = result.secondsUntil('Kernel panic');
    console.log(`panic after ${crashAt} s; b2c run ended with ${result.exitCode}`);
  });

  it.concurrent("a step that never ends is stopped by b2c run's --timeout, which says so (252)", async () => {
    // Twice the time the step takes to start with another boot beside it.
    const started = Date.now();
    const result = await bootB2c([step('b2c.container', `sh -c 'echo waiting-$((6*7)); sleep 100000'`)], { timeoutSeconds: 50 });
    const seconds = (Date.now() - started) / 1000;
    expect(result.exitCode).toBe(252);
    expect(result.stderr).toContain('no pipeline status within 50 s: the machine was stopped');
    expect(result.output).toMatch(/^waiting-42\r?$/m);
    // Stopped at its timeout, not at the test's: the margin is for the host's start of node and QEMU.
    expect(seconds).toBeLessThan(80);
  });
});
