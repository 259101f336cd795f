// Runs pure init logic under QuickJS and prints the results, for comparison with the same code under Node.

import { configToJson } from '../../src/cmdline/config.ts';
import { parseCmdline } from '../../src/cmdline/parse.ts';
import { classifyHeader } from '../../src/init/cache-plan.ts';
import { crc32, singlePartitionGpt } from '../../src/init/gpt.ts';
import { runtimeSummary, shellQuote } from '../../src/init/console.ts';

export function quickjsProbe(): unknown {
  let guids = 0;
  const layout = singlePartitionGpt(64 * 1024 * 1024, 512, 'B2C_CACHE', () => `00000000-0000-4000-8000-00000000000${guids++}`);
  const header = new Uint8Array(2048);
  header.set(layout.writes[1]?.data ?? [], 512);
  return {
    config: configToJson(
      parseCmdline(`b2c.minio="s3,http://10.0.0.1:9000,a,secret" b2c.volume="v,mirror=s3/b/p,push_on=changes|pipeline_end" b2c.container="-e A='x y' docker://r/i sh -c 'echo $A'" b2c.swap=1G b2c.contianer=x`),
    ),
    gpt: layout.writes.map((write) => ({ offset: write.offset, crc: crc32(write.data) })),
    header: classifyHeader(header),
    summary: runtimeSummary({ linuxVersion: 'Linux', b2cVersion: '1', architecture: 'x86_64', cpu: 'cpu', cpuCount: 2, memoryKiB: 1048576, blockDevices: [] }),
    quoted: shellQuote(['sh', '-c', "it's"]),
  };
}
