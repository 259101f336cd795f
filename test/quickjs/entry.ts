// Runs pure init logic under QuickJS and prints the results, for comparison with the same code under Node.

import { configToJson } from '../../src/cmdline/config.ts';
import { parseIface } from '../../src/cmdline/iface.ts';
import { parseCmdline, parseCmdlineWithExtraArgs } from '../../src/cmdline/parse.ts';
import { clockMessage } from '../../src/init/clock.ts';
import { indexAliases, modulesForDevices, parseModulesAlias } from '../../src/init/modules-plan.ts';
import { parseLease, staticInterfacePlan } from '../../src/init/network-plan.ts';
import { classifyHeader } from '../../src/init/cache-plan.ts';
import { crc32, singlePartitionGpt } from '../../src/init/gpt.ts';
import { runtimeSummary, shellQuote } from '../../src/init/console.ts';
import { filesystemTypeOf, readAddKeyOutput } from '../../src/init/fscrypt.ts';
import { planMirror } from '../../src/s3/mirror-plan.ts';
import { parseListing } from '../../src/s3/listing.ts';
import { s3Target, s3Url } from '../../src/s3/request.ts';
import { signS3Request } from '../../src/s3/signature.ts';
import { describeReport } from '../../src/s3/mirror.ts';

export function quickjsProbe(): unknown {
  let guids = 0;
  const layout = singlePartitionGpt(64 * 1024 * 1024, 512, 'B2C_CACHE', () => `00000000-0000-4000-8000-00000000000${guids++}`);
  const header = new Uint8Array(2048);
  header.set(layout.writes[1]?.data ?? [], 512);
  const iface = parseIface('eth0,address=2001:db8::2/64,gateway=10.0.0.1,route=10.1.0.0/16:10.0.0.254,forward').value;
  if (iface === undefined) throw new Error('the probe interface does not parse');
  return {
    config: configToJson(
      parseCmdline(
        `b2c.minio="s3,http://10.0.0.1:9000,a,secret" b2c.volume="v,mirror=s3/b/p,push_on=changes|pipeline_end" ` +
          `b2c.container="-e A='x y' docker://r/i sh -c 'echo $A'" b2c.swap=1G b2c.contianer=x`,
      ),
    ),
    gpt: layout.writes.map((write) => ({ offset: write.offset, crc: crc32(write.data) })),
    header: classifyHeader(header),
    summary: runtimeSummary({ linuxVersion: 'Linux', b2cVersion: '1', architecture: 'x86_64', cpu: 'cpu', cpuCount: 2, memoryKiB: 1048576, blockDevices: [] }),
    quoted: shellQuote(['sh', '-c', "it's"]),
    merged: configToJson(
      parseCmdlineWithExtraArgs(
        'b2c.extra_args_url=https://f/x b2c.hostname=a b2c.container=docker://a',
        'b2c.hostname=b\nb2c.container="docker://b sh -c \'echo 1\'"',
      ),
    ),
    drivers: modulesForDevices(
      indexAliases(
        parseModulesAlias(
          'alias pci:v00008086d000015B7sv*sd*bc*sc*i* e1000e\nalias pci:v*d*sv*sd*bc01sc08i02* nvme\nalias usb:v0BDAp8153d*dc*dsc*dp*ic*isc*ip*in* r8152\n',
        ),
      ),
      [
        'pci:v0000144Dd0000A808sv0000144Dsd0000A801bc01sc08i02',
        'usb:v0BDAp8153d3100dc00dsc00dp00icFFisc00ip00in00',
        'pci:v00008086d000015B7sv00008086sd00000000bc02sc00i00',
      ],
    ),
    iface: staticInterfacePlan(iface),
    lease: parseLease('interface=eth1\nip=10.0.0.9\nmask=24\nrouter=10.0.0.1 10.0.0.2\ndns=10.0.0.53\n'),
    clock: clockMessage('ntp', Date.UTC(2001, 0, 1), Date.UTC(2026, 10, 25, 12), 250),
    listing: parseListing(
      '<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>t&amp;1</NextContinuationToken>' +
        '<Contents><Key>j/42/a b&amp;c.txt</Key><Size>3</Size><ETag>&quot;abc&quot;</ETag><LastModified>2026-11-25T12:00:00.123Z</LastModified></Contents>' +
        '<Contents><Key>j/42/dir/</Key><Size>0</Size></Contents></ListBucketResult>',
      'j/42/',
    ),
    mirror: planMirror(
      [
        { path: 'a', size: 1, modified: 5_900 },
        { path: 'logs/x.log', size: 2, modified: 0 },
        { path: 'b', size: 3, modified: 9_000 },
      ],
      [
        { path: 'a', size: 1, modified: 5_000 },
        { path: 'b', size: 3, modified: 1_000 },
        { path: 'gone', size: 1, modified: 0 },
      ],
      { overwrite: true, remove: true, exclude: ['*.log'] },
    ),
    s3: {
      url: s3Url('http://10.0.2.100:9000/', 'jobs', 'a b/é+1', { prefix: 'x/+é', 'list-type': '2' }),
      signed: signS3Request(
        {
          method: 'PUT',
          ...s3Target('http://10.0.2.100:9000/', 'jobs', 'a b/é+1'),
          query: { prefix: 'x/+é' },
          headers: { 'x-amz-meta-mc-attrs': 'mode:33261' },
        },
        { accessKey: 'AK', secretKey: 'sëcret/+', region: 'us-east-1' },
        new Date(Date.UTC(2026, 10, 30, 12)),
      ),
    },
    report: describeReport({ copied: 2, bytes: 1_300_000, removed: 1, kept: 1, skipped: ['link'] }),
    fscrypt: [
      readAddKeyOutput('Enter passphrase (echo disabled): \nError [File exists] setting policy.\n', 0),
      filesystemTypeOf('/dev/vda1 /var/lib/containers ext4 rw 0 0\n', '/var/lib/containers/storage/volumes/v/_data'),
    ],
  };
}
