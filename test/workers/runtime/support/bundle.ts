// OCI bundles for executor tests, built with the runtime's own spec options.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSpec, type SpecOption } from '../../../../workers/runtime/spec/oci.ts';
import { withCgroupsPath, withHostname, withRootPath } from '../../../../workers/runtime/spec/linux.ts';

/** A unique id usable as container id and cgroup name. */
export const uniqueId = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

/** Writes a bundle running `args` over `rootfs`; the cgroup is flat and unique. */
export function writeBundle(rootfs: string, id: string, args: string[], ...more: SpecOption[]): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'burstlet-bundle-'));
  const spec = buildSpec(
    withRootPath(rootfs),
    withHostname('box'),
    withCgroupsPath(`/burstlet-test-${id}`),
    (s) => {
      s.process.args = args;
      s.process.env = ['PATH=/bin', 'HOME=/root'];
      s.root.readonly = true;
    },
    ...more,
  );
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec, null, 1));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
