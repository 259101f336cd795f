// Test certificates made with the openssl command: a CA, a server certificate it signed for one name or address, and a stranger's CA.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCertificates {
  /** The CA, in PEM: what a client trusts. */
  ca: string;
  /** The server's key and certificate, in PEM, and where they are. */
  key: string;
  cert: string;
  keyFile: string;
  certFile: string;
  /** A CA that signed nothing here: a client trusting it alone refuses the server. */
  strangerCa: string;
}

/** Makes them in `directory`; `subjectAltName` is openssl's form, e.g. `IP:10.0.2.100` or `DNS:registry.b2c.test`. */
export function makeCertificates(directory: string, subjectAltName: string): TestCertificates {
  const path = (name: string): string => join(directory, name);
  const openssl = (args: string[]): void => void execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  for (const name of ['ca', 'stranger']) {
    openssl(['req', '-x509', ...ecKey, '-days', '2', '-subj', `/CN=b2c test ${name}`, '-keyout', path(`${name}.key`), '-out', path(`${name}.pem`)]);
  }
  const commonName = subjectAltName.slice(subjectAltName.indexOf(':') + 1);
  openssl(['req', ...ecKey, '-subj', `/CN=${commonName}`, '-keyout', path('server.key'), '-out', path('server.csr')]);
  writeFileSync(path('san.ext'), `subjectAltName=${subjectAltName}\n`);
  const signed = ['-CA', path('ca.pem'), '-CAkey', path('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', path('san.ext')];
  openssl(['x509', '-req', '-in', path('server.csr'), ...signed, '-out', path('server.pem')]);
  return {
    ca: readFileSync(path('ca.pem'), 'utf8'),
    key: readFileSync(path('server.key'), 'utf8'),
    cert: readFileSync(path('server.pem'), 'utf8'),
    keyFile: path('server.key'),
    certFile: path('server.pem'),
    strangerCa: readFileSync(path('stranger.pem'), 'utf8'),
  };
}
