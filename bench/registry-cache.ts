// `npm run bench:registry-cache`: 1, 3 and 6 machines netbooting at once and pulling one 67 MB image through the gateway's cache,
// cold and warm, with nginx's single flight and with docker-registry's proxy alone: the bytes that left the upstream, and the time.

import { existsSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { architecture } from '../src/architectures.ts';
import { bytesSent, REGISTRY_CACHE_HEADER, registryCacheRow, type RegistryCacheRound } from '../src/bench-report/registry-cache.ts';
import { markdownTable } from '../src/bench-report/timeline.ts';
import { DebianTools } from '../src/debian/tools.ts';
import { outputNames } from '../src/image/output-names.ts';
import { REGISTRY_PACKAGES } from '../src/serve/registries.ts';
import { SERVE_PACKAGES } from '../src/serve/server.ts';
import { busyboxImage, debianBusybox, incompressibleBytes } from '../src/testbed/images.ts';
import { LAN, TestNetwork } from '../src/testbed/netns.ts';
import { prepareUefiFirmware } from '../src/vm/firmware.ts';
import { netbootOnce } from './netboot-machine.ts';
import { writeResultsSection } from './results-file.ts';

const ROUNDS = [1, 3, 6];
const MODES = ['single flight', 'proxy alone'] as const;
const CACHE_PORT = 8002;
const names = outputNames(architecture('amd64').debian);

async function main(): Promise<void> {
  for (const file of [names.kernel, names.initramfs.xz]) {
    if (!existsSync(join('out', file))) throw new Error(`out/${file} is missing: run 'npx b2c build' first`);
  }
  // b2c serve and the registries run in the test LAN's namespace, which has no route to Debian's mirror: their packages are fetched here.
  await DebianTools.prepare([...SERVE_PACKAGES, ...REGISTRY_PACKAGES]);
  await (await prepareUefiFirmware(architecture('amd64'))).remove();
  const image = await busyboxImage(await debianBusybox('amd64'), 'amd64', [
    { path: 'payload', kind: 'file', mode: 0o644, data: incompressibleBytes(64 * 1024 * 1024) },
  ]);
  const imageBytes = [image.manifest, image.config, ...image.layers].reduce((sum, blob) => sum + blob.data.length, 0);
  const lan = await TestNetwork.create(Array.from({ length: Math.max(...ROUNDS) }, () => 'lan' as const));
  try {
    await lan.serveUpstreamRegistry('mesa/test-gl', '42', image);
    const machinesFile = join(lan.workDir, 'machines.yaml');
    const line = `console=ttyS0 panic=-1 b2c.container="--tls-verify=false docker://${LAN.address}:${CACHE_PORT}/mesa/test-gl:42 true"`;
    writeFileSync(machinesFile, `default:\n  cmdline: '${line}'\n`);
    const serve = [process.execPath, resolve('bin/b2c.js'), 'serve', '--json', '--interface', 'b2cbr0', '--address', `${LAN.address}/${LAN.prefixLength}`];
    await lan.serve(
      'serve',
      [...serve, '--dhcp-range', `${LAN.dhcpFirst},${LAN.dhcpLast}`, '--machines', machinesFile],
      /serving 0 machines and a default/,
      300_000,
    );
    const rounds: RegistryCacheRound[] = [];
    for (const mode of MODES) {
      for (const machines of ROUNDS) {
        const dataDir = join(lan.workDir, `registries-${mode.replace(' ', '-')}-${machines}`);
        for (const cache of ['cold', 'warm'] as const) {
          const label = `registry-${mode.replace(' ', '-')}-${machines}-${cache}`;
          process.stderr.write(`bench: ${label}\n`);
          const gateway = [process.execPath, '--import', 'tsx', resolve('bench/registry-gateway.ts'), LAN.address, String(CACHE_PORT)];
          await lan.serve(label, [...gateway, `http://${LAN.upstream}:5000`, dataDir, mode.replace(' ', '-')], /registries ready/, 120_000);
          const logStart = lan.serverLog('registry-5000').length;
          const seconds = await Promise.all(Array.from({ length: machines }, (_, index) => netbootOnce(lan, index, label)));
          const upstreamBytes = bytesSent(lan.serverLog('registry-5000').slice(logStart));
          await lan.stop(label);
          rounds.push({ machines, mode, cache, upstreamBytes, imageBytes, seconds });
        }
      }
    }
    const section = [
      '## Registry cache',
      '',
      `Run on ${new Date().toISOString().slice(0, 10)}: machines powered on at once on a test LAN, netbooted by one \`b2c serve\` (UEFI, as in`,
      `"Netboot"), each pulling one image of ${(imageBytes / 1e6).toFixed(1)} MB (busybox and 64 MiB that do not compress, in one layer) from the`,
      "gateway's registry cache, whose upstream is a registry on another host of the LAN. Bytes left the upstream: the blobs and manifests",
      'it sent, by its own log. Single flight: docker-registry 2.8 with nginx between it and the upstream, as `b2c serve --registry-cache`',
      'runs it; proxy alone: docker-registry fetching from the upstream itself. Cold: the gateway stored nothing; warm: the same storage',
      `again. Seconds from QEMU start to the status line, 1 vCPU and 1 GiB each under TCG on this host's ${cpus().length} cores, so several machines`,
      'share them. Consoles are in out/bench/registry-*.console.',
      '',
      markdownTable(REGISTRY_CACHE_HEADER, rounds.map(registryCacheRow)),
      '',
    ].join('\n');
    await writeResultsSection(section);
  } finally {
    await lan.destroy();
  }
}

await main();
