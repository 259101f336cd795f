// Downloads b2c.extra_args_url with curl (certificates verified) and merges it into the configuration; its content is never printed.

import type { B2cConfig } from '../cmdline/config.ts';
import { parseCmdlineWithExtraArgs } from '../cmdline/parse.ts';
import { proxyEnvironment } from '../cmdline/proxy.ts';
import { splitArgumentsFile } from '../cmdline/split.ts';
import { B2C_RUN_DIRECTORY, CA_BUNDLE, CURL_PROTOCOL_ARGS } from '../image-layout.ts';
import type { System } from '../system/system.ts';
import type { Log } from './console.ts';
import { SetupError } from './errors.ts';

const DOWNLOAD_PATH = `${B2C_RUN_DIRECTORY}/extra_args`;
/**
 * The extra arguments are a command line, if a long one: a file larger than
 * this is a wrong URL (an image, a log) and would fill the RAM it lands in.
 */
export const EXTRA_ARGS_MAX_BYTES = 1024 * 1024;
/** curl's status for a file over --max-filesize. */
const CURL_FILE_TOO_LARGE = 63;

/** The download's bounds: to connect, for a whole try, the tries in all and the pause between them. */
export const EXTRA_ARGS_CONNECT_SECONDS = 10;
export const EXTRA_ARGS_TRY_SECONDS = 60;
export const EXTRA_ARGS_TRIES = 4;
export const EXTRA_ARGS_SECONDS_APART = 1;

/** curl for one download: fails on HTTP errors, verifies TLS against the image's bundle, retries briefly, never runs long. */
export function curlDownloadArgs(url: string, output: string): string[] {
  return [
    'curl',
    '--silent',
    '--show-error',
    '--fail',
    '--location',
    ...CURL_PROTOCOL_ARGS,
    '--cacert',
    CA_BUNDLE,
    '--connect-timeout',
    String(EXTRA_ARGS_CONNECT_SECONDS),
    '--max-time',
    String(EXTRA_ARGS_TRY_SECONDS),
    '--retry',
    String(EXTRA_ARGS_TRIES - 1),
    '--retry-delay',
    String(EXTRA_ARGS_SECONDS_APART),
    '--retry-connrefused',
    '--max-filesize',
    String(EXTRA_ARGS_MAX_BYTES),
    '--output',
    output,
    url,
  ];
}

/**
 * The configuration with the extra arguments merged in, or the kernel's own
 * when there is no URL. Throws SetupError when the download fails or the
 * merged line is invalid; the messages never quote the file.
 */
export async function withExtraArgs(system: System, console: Log, kernelLine: string, config: B2cConfig): Promise<B2cConfig> {
  const url = config.extraArgsUrl;
  if (url === undefined) return config;
  await console.log(`Downloading the extra arguments from ${url}`);
  await system.makeDirectory(B2C_RUN_DIRECTORY);
  const result = await system.run(curlDownloadArgs(url, DOWNLOAD_PATH), {
    captureStdout: true,
    captureStderr: true,
    moreEnv: proxyEnvironment(config.proxy),
  });
  const text = (await system.readText(DOWNLOAD_PATH)) ?? '';
  await system.run(['rm', '-f', DOWNLOAD_PATH]);
  if (result.status === CURL_FILE_TOO_LARGE) {
    throw new SetupError(`the extra arguments at ${url} are larger than ${EXTRA_ARGS_MAX_BYTES / 1024 / 1024} MiB: is it the right file?`);
  }
  if (result.status !== 0) {
    throw new SetupError(`could not download the extra arguments from ${url} (curl status ${result.status}): ${result.stderr.trim() || 'no detail'}`);
  }
  const merged = parseCmdlineWithExtraArgs(kernelLine, text);
  const count = splitArgumentsFile(text).words.length;
  await console.log(`Got ${count} extra argument${count === 1 ? '' : 's'} (${text.length} bytes, not shown: they may hold secrets)`);
  return merged;
}
