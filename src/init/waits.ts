// Every wait of the init and its bound, read from the constants the code runs with: docs/faults.md shows this table, and a test holds the two equal.

import { S3_CONNECT_SECONDS, S3_CURL_SECONDS_APART, S3_CURL_TRIES, S3_STALL_SECONDS, S3_TRIES, s3DroppedDelaySeconds } from '../s3/request.ts';
import { SHUTDOWN_RETRY_SECONDS } from './boot.ts';
import { DEVICE_WAIT_MS, FIRST_DISK_WAIT_MS } from './cache.ts';
import { NTP_ATTEMPT_SECONDS, NTP_BUDGET_SECONDS } from './clock.ts';
import { EXTRA_ARGS_CONNECT_SECONDS, EXTRA_ARGS_MAX_BYTES, EXTRA_ARGS_SECONDS_APART, EXTRA_ARGS_TRIES, EXTRA_ARGS_TRY_SECONDS } from './extra-args.ts';
import { NBD_CONNECT_SECONDS, NBD_IO_TIMEOUT_SECONDS } from './nbd.ts';
import { COLDPLUG_EVERY_MS, DHCP_DISCOVERS, DHCP_SECONDS_APART, INTERFACE_WAIT_MS } from './network.ts';
import { SYNC_SECONDS } from './pipeline.ts';
import { CLEANUP_COMMAND_SECONDS, STORAGE_CHECK_SECONDS } from './podman.ts';
import { PULL_STALL_SECONDS, PULL_TRIES, pullDelaySeconds } from './pull-plan.ts';

/** `1, 2, 4 and 8` */
function spoken(numbers: readonly number[]): string {
  return numbers.length < 2 ? numbers.join('') : `${numbers.slice(0, -1).join(', ')} and ${numbers.at(-1)}`;
}

const delays = (tries: number, delay: (failedTries: number) => number): number[] => Array.from({ length: tries - 1 }, (_, index) => delay(index + 1));

/** The rows of the table of waits: what waits, and its bound, in the words of the docs. */
export function waitBounds(): Array<[wait: string, bound: string]> {
  return [
    [`a network interface to appear (coldplug again every ${COLDPLUG_EVERY_MS / 1000} s)`, `${INTERFACE_WAIT_MS / 1000} s`],
    [`a DHCP lease (busybox \`udhcpc\`: ${DHCP_DISCOVERS} discovers ${DHCP_SECONDS_APART} s apart)`, `about ${DHCP_DISCOVERS * DHCP_SECONDS_APART} s`],
    ['the clock (`b2c.ntp_peer`, SNTP)', `${NTP_ATTEMPT_SECONDS} s a try, about ${NTP_BUDGET_SECONDS} s in all; the boot goes on`],
    [
      '`b2c.extra_args_url`',
      `${EXTRA_ARGS_CONNECT_SECONDS} s to connect, ${EXTRA_ARGS_TRY_SECONDS} s a try, ${EXTRA_ARGS_TRIES} tries ${EXTRA_ARGS_SECONDS_APART} s apart; ` +
        `a file over ${EXTRA_ARGS_MAX_BYTES / 1024 / 1024} MiB is refused as it arrives`,
    ],
    ['a named cache device to appear; a first disk for `auto`', `${DEVICE_WAIT_MS / 1000} s; ${FIRST_DISK_WAIT_MS / 1000} s`],
    ['`b2c.nbd` to connect; one of its I/O requests', `${NBD_CONNECT_SECONDS} s; ${NBD_IO_TIMEOUT_SECONDS} s`],
    [
      "on a cache the last boot did not unmount: removing the containers it left; podman's check of its images",
      `${CLEANUP_COMMAND_SECONDS} s; ${STORAGE_CHECK_SECONDS} s`,
    ],
    ["syncing podman's storage after a pull", `${SYNC_SECONDS} s`],
    [
      'an image pull',
      `${PULL_TRIES} tries, ${spoken(delays(PULL_TRIES, pullDelaySeconds))} s apart; a try in which podman reads and writes no byte for ` +
        `${PULL_STALL_SECONDS} s is stopped (a slow registry that keeps sending is never stopped)`,
    ],
    [
      'an S3 request of a volume',
      `${S3_CONNECT_SECONDS} s to connect; a transfer that moves no byte for ${S3_STALL_SECONDS} s times out; curl's ${S3_CURL_TRIES} tries ` +
        `${S3_CURL_SECONDS_APART} s apart (for a refused connection, a timeout, a 5xx), and up to ${S3_TRIES} runs of curl ` +
        `${spoken(delays(S3_TRIES, s3DroppedDelaySeconds))} s apart for a connection the server dropped`,
    ],
    ['each command of the cleanup', `${CLEANUP_COMMAND_SECONDS} s`],
    ['the shutdown command', `\`poweroff -f\` again every ${SHUTDOWN_RETRY_SECONDS} s once it returns`],
  ];
}

/** The table as docs/faults.md has it. */
export function waitBoundsTable(): string {
  return ['| wait | bound |', '| --- | --- |', ...waitBounds().map(([wait, bound]) => `| ${wait} | ${bound} |`)].join('\n');
}
