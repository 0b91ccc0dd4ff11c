/**
 * The kubelet API's serving certificate, from --tls-cert-file/--tls-private-key-file, or — like
 * the kubelet without them — a self-signed one kept in a directory (made once with the openssl
 * CLI, since Node cannot create X.509 certificates, then reused while valid). The client CA
 * (--client-ca-file) enables client-certificate authentication.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BurstletError } from '../../src/errors.ts';
import type { KubeletTls } from './deps.ts';

const run = promisify(execFile);

export interface KubeletTlsOptions {
  certFile?: string;
  keyFile?: string;
  clientCaFile?: string;
  /** Where a self-signed certificate is kept (created if missing). */
  selfSignedDir: string;
  /** Names and IPs the self-signed certificate is for (node name, addresses). */
  hosts: string[];
}

async function readPem(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new BurstletError('CONFIG_INVALID', `cannot read ${what} ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Loads or creates the serving certificate; CONFIG_INVALID for half or unreadable settings. */
export async function loadKubeletTls(o: KubeletTlsOptions): Promise<KubeletTls> {
  if ((o.certFile === undefined) !== (o.keyFile === undefined)) {
    throw new BurstletError('CONFIG_INVALID', '--tls-cert-file and --tls-private-key-file go together');
  }
  const clientCa = o.clientCaFile === undefined ? undefined : await readPem(o.clientCaFile, 'client CA file');
  const pair = o.certFile !== undefined && o.keyFile !== undefined
    ? { cert: await readPem(o.certFile, 'certificate file'), key: await readPem(o.keyFile, 'private key file') }
    : await selfSigned(o.selfSignedDir, o.hosts);
  return clientCa === undefined ? pair : { ...pair, clientCa };
}

// The kubelet keeps kubelet.crt/kubelet.key in its cert dir; so do we, renewing near expiry
// or when the hosts changed.
async function selfSigned(dir: string, hosts: string[]): Promise<{ cert: string; key: string }> {
  const certPath = join(dir, 'kubelet.crt');
  const keyPath = join(dir, 'kubelet.key');
  const existing = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]).catch(() => undefined);
  if (existing && stillGood(existing[0], hosts)) return { cert: existing[0], key: existing[1] };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const san = hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '365',
    '-keyout', keyPath, '-out', certPath, '-subj', `/CN=${hosts[0] ?? 'burstlet'}@${Math.floor(Date.now() / 1000)}`,
    ...(san ? ['-addext', `subjectAltName=${san}`] : []),
    '-addext', 'extendedKeyUsage=serverAuth',
  ]);
  return { cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8') };
}

function stillGood(pem: string, hosts: string[]): boolean {
  try {
    const cert = new X509Certificate(pem);
    const day = 24 * 3600 * 1000;
    if (Date.parse(cert.validTo) - Date.now() < 30 * day) return false;
    return hosts.every((h) => (isIP(h) ? cert.checkIP(h) : cert.checkHost(h)) !== undefined);
  } catch {
    return false;
  }
}
