// Cross-check of the registry, token server and test images with real third-party clients:
// skopeo (containers/image) pulls through the token flow and picks linux/amd64 out of the
// index and the Docker manifest list; umoci applies the `layers` whiteouts and must reach the
// result `layers-expected.txt` states. If our images or tokens were subtly off-spec, these fail.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { LAYERS_EXPECTED_PATH, pushTestImages } from './images.ts';
import { startRegistry } from './registry.ts';

// Async on purpose: the token server lives in this process and must keep answering.
const run = async (cmd: string, args: string[]) => (await promisify(execFile)(cmd, args)).stdout;

test('interop (real docker-registry, token auth, skopeo + umoci): real clients pull and unpack the test images', async (t) => {
  const reg = await startRegistry({ auth: 'token' });
  const dir = await mkdtemp(join(tmpdir(), 'burstlet-interop-'));
  t.after(async () => {
    await reg.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const pushed = await pushTestImages(reg, ['busybox', 'busybox-docker-list', 'layers']);
  const creds = `${reg.username}:${reg.password}`;

  for (const name of ['busybox', 'busybox-docker-list'] as const) {
    const raw = JSON.parse(await run('skopeo', ['inspect', '--raw', '--tls-verify=false', '--creds', creds, `docker://${pushed[name].ref}`]));
    assert.equal(raw.manifests.length, 2, name);
    const inspected = JSON.parse(await run('skopeo', [
      'inspect', '--tls-verify=false', '--creds', creds, '--override-arch', 'amd64', `docker://${pushed[name].ref}`,
    ]));
    assert.equal(inspected.Architecture, 'amd64', name);
    assert.equal(inspected.Digest, pushed[name].digest, name);
  }
  await assert.rejects(run('skopeo', ['inspect', '--tls-verify=false', '--creds', `${reg.username}:wrong`, `docker://${pushed.busybox.ref}`]));

  await run('skopeo', ['--insecure-policy', 'copy', '--quiet', '--src-tls-verify=false', '--src-creds', creds, `docker://${pushed.layers.ref}`, `oci:${dir}/oci:layers`]);
  const rootless = process.getuid?.() === 0 ? [] : ['--rootless'];
  await run('umoci', ['unpack', ...rootless, '--image', `${dir}/oci:layers`, `${dir}/bundle`]);
  const rootfs = join(dir, 'bundle', 'rootfs');
  assert.equal((await stat(join(rootfs, 'bin', 'busybox'))).mode & 0o777, 0o755);
  const expected = (await readFile(join(rootfs, LAYERS_EXPECTED_PATH), 'utf8')).trim().split('\n');
  for (const line of expected) {
    const [kind, path, content] = line.split(' ');
    if (kind === 'present') assert.equal(await readFile(join(rootfs, path), 'utf8'), `${content}\n`, line);
    else await assert.rejects(stat(join(rootfs, path)), { code: 'ENOENT' }, line);
  }
});
