/**
 * The kubelet API's serving certificate: the given files, or a self-signed one made with
 * openssl for the node's name and addresses (like the kubelet without --tls-cert-file).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface ServingCert {
  cert: Buffer;
  key: Buffer;
}

export async function loadOrCreateServingCert(certFile: string | undefined, keyFile: string | undefined, names: string[]): Promise<ServingCert> {
  if (certFile || keyFile) {
    if (!certFile || !keyFile) throw new Error('--tls-cert-file and --tls-private-key-file go together');
    return { cert: await readFile(certFile), key: await readFile(keyFile) };
  }
  const dir = await mkdtemp(join(tmpdir(), 'burstlet-cert-'));
  try {
    const san = [...new Set(names)].map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '365',
      '-subj', `/CN=${names[0]}@${Math.floor(Date.now() / 1000)}`, '-addext', `subjectAltName=${san}`,
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ]);
    return { cert: await readFile(join(dir, 'cert.pem')), key: await readFile(join(dir, 'key.pem')) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
