// A simulated worker for exec tests: it speaks the Redis contract of docs/redis-contracts.md
// (reads its control stream, validates messages, reads exec input, writes exec output) with
// a tiny built-in "container" instead of the executor:
//   ['exit', N]  writes "out" to stdout, "err" to stderr, exits N
//   ['fail']     reports an error record (the worker could not run it)
//   ['cat']      echoes stdin upper-cased to stdout, reports resizes, exits 0 when stdin closes
//   ['sleep']    never ends by itself; records the inputs it gets
import { Redis } from 'ioredis';
import type { Keys } from '../../../../src/keys.ts';
import { controlMessage, execInput, type ControlMessage, type ExecStart } from '../../../../src/schema/control.ts';
import { FIELD, publish } from '../../../../src/streams.ts';

export interface SimulatedWorker {
  /** Every valid control message received, in order. */
  readonly control: ControlMessage[];
  /** Every exec-input record received per session. */
  readonly inputs: Map<string, Record<string, unknown>[]>;
  stop(): Promise<void>;
}

type Entries = [string, string[]][];
const field = (fields: string[]): string => fields[fields.indexOf(FIELD) + 1]!;

async function readStream(conn: Redis, key: string, from: string, blockMs: number): Promise<Entries> {
  const reply = (await conn.call('XREAD', 'COUNT', 100, 'BLOCK', blockMs, 'STREAMS', key, from)) as unknown;
  if (!Array.isArray(reply) || reply.length === 0) return [];
  return (Array.isArray(reply[0]) ? (reply[0] as unknown[])[1] : reply[1]) as Entries;
}

export function simulateWorker(url: string, keys: Keys, workerId: string): SimulatedWorker {
  const conn = new Redis(url, { maxRetriesPerRequest: null });
  const writer = new Redis(url, { maxRetriesPerRequest: null });
  const control: ControlMessage[] = [];
  const inputs = new Map<string, Record<string, unknown>[]>();
  const sessions: Promise<void>[] = [];
  let stopped = false;
  const out = (s: string, record: Record<string, unknown>) => publish(writer, keys.execOutput(s), record);
  const text = (s: string) => Buffer.from(s).toString('base64');

  async function session(start: ExecStart): Promise<void> {
    const id = start.sessionId;
    const cmd = start.command;
    if (cmd[0] === 'fail') return void (await out(id, { kind: 'error', message: 'no such process' }));
    if (cmd[0] === 'exit') {
      await out(id, { kind: 'stdout', dataBase64: text('out') });
      await out(id, { kind: 'stderr', dataBase64: text('err') });
      return void (await out(id, { kind: 'exit', exitCode: Number(cmd[1]) }));
    }
    const reader = new Redis(url, { maxRetriesPerRequest: null });
    const seen: Record<string, unknown>[] = [];
    inputs.set(id, seen);
    try {
      for (let last = '0-0'; !stopped; ) {
        for (const [entryId, fields] of await readStream(reader, keys.execInput(id), last, 100)) {
          last = entryId;
          const input = execInput(JSON.parse(field(fields)));
          seen.push(input);
          if (cmd[0] !== 'cat') continue;
          if (input.dataBase64) await out(id, { kind: 'stdout', dataBase64: text(Buffer.from(input.dataBase64, 'base64').toString().toUpperCase()) });
          if (input.resize) await out(id, { kind: 'stdout', dataBase64: text(`resize ${input.resize.width}x${input.resize.height}`) });
          if (input.close) return void (await out(id, { kind: 'exit', exitCode: 0 }));
        }
      }
    } finally {
      reader.disconnect();
    }
  }

  const loop = (async () => {
    for (let last = '0-0'; !stopped; ) {
      for (const [id, fields] of await readStream(conn, keys.control(workerId), last, 100)) {
        last = id;
        const message = controlMessage(JSON.parse(field(fields)));
        control.push(message);
        if (message.kind === 'exec') sessions.push(session(message));
      }
    }
  })();

  return {
    control,
    inputs,
    async stop() {
      stopped = true;
      await loop;
      await Promise.allSettled(sessions);
      conn.disconnect();
      writer.disconnect();
    },
  };
}
