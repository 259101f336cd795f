// The gateway's registries alone, for the registry-cache benchmark: started inside the test LAN's namespace, with or without nginx's single flight.

import { GatewayRegistries } from '../src/serve/registries.ts';
import { describeError } from '../src/errors.ts';

const [gateway = '', port = '', upstream = '', dataDir = '', mode = ''] = process.argv.slice(2);
if (mode !== 'single-flight' && mode !== 'proxy-alone') {
  process.stderr.write('usage: registry-gateway.ts GATEWAY PORT UPSTREAM_URL DATA_DIR single-flight|proxy-alone\n');
  process.exit(2);
}
try {
  const registries = await GatewayRegistries.start({
    gateway,
    caches: [{ port: Number(port), upstream }],
    registries: [],
    dataDir,
    credentials: new Map(),
    singleFlight: mode === 'single-flight',
    report: (event) => process.stdout.write(`${event.step} ${event.address ?? '-'} ${event.message}\n`),
  });
  process.stdout.write('registries ready\n');
  const why = await Promise.race([new Promise<string>((resolve) => process.once('SIGTERM', () => resolve('SIGTERM'))), registries.ended]);
  await registries.stop();
  process.stdout.write(`stopped: ${why}\n`);
} catch (error) {
  process.stderr.write(`${describeError(error)}\n`);
  process.exit(1);
}
