// Stopping child processes the same way everywhere (standalone mode, benches).
import type { ChildProcess } from 'node:child_process';

/** SIGTERM once, then SIGKILL after `timeoutMs`; resolves when the child is gone. */
export function stopChild(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}
