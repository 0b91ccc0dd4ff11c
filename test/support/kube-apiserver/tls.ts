// A self-signed serving certificate for 127.0.0.1, made with the openssl CLI (Node cannot
// create X.509 certificates itself). The certificate is its own CA for clients.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ServingCert {
  cert: string;
  key: string;
}

/** Writes key and certificate into `dir` and returns them as PEM. */
export async function selfSignedCert(dir: string): Promise<ServingCert> {
  const keyPath = join(dir, 'apiserver.key');
  const certPath = join(dir, 'apiserver.crt');
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '7',
    '-keyout', keyPath, '-out', certPath, '-subj', '/CN=kube-apiserver',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,digitalSignature,keyCertSign',
    '-addext', 'extendedKeyUsage=serverAuth',
  ]);
  return { cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8') };
}
