// The executors the crash tests run with, made the same way by the killed worker stand-in
// (runner-child.ts) and by the test that adopts its pod: same kind, same root under the state dir.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Executor } from '../../../../workers/executor/executor.ts';
import { burstletExecutor } from '../../../../workers/executor/burstlet.ts';
import { burstletRuntimePath } from '../../../../workers/executor/native-runtime.ts';
import { runcExecutor } from '../../../../workers/executor/runc.ts';
import { hasBinary } from './rootfs.ts';

export type CrashTestExecutor = 'runc' | 'burstlet';

export function crashTestExecutor(name: CrashTestExecutor, state: string): Executor {
  const root = join(state, 'executor');
  return name === 'burstlet' ? burstletExecutor(root) : runcExecutor(root);
}

/** Why `name` cannot run here, or false. */
export function crashTestExecutorMissing(name: CrashTestExecutor): string | false {
  if (name === 'runc') return !hasBinary('runc') && 'runc not installed';
  return !existsSync(burstletRuntimePath) && 'native/build/burstlet-runtime not built (make -C native)';
}
