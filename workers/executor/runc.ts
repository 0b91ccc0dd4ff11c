/** runc as an Executor: works natively on v2 and on this hybrid host (v1 controllers). */
import { OciCliExecutor } from './oci-cli.ts';

export function runcExecutor(root: string, binary = 'runc'): OciCliExecutor {
  return new OciCliExecutor({ name: 'runc', binary, root, keep: true });
}
