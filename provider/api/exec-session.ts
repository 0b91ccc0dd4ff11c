/**
 * One exec session between a WebSocket client and the worker that runs the pod, through
 * Redis: the `exec` control message goes to the worker's control stream, client stdin,
 * resize and close become `exec-input` records on keys.execInput(session), and the worker's
 * keys.execOutput(session) records become stdout/stderr frames; the `exit` (or `error`)
 * record becomes the status on the error channel and ends the session.
 */
import type { Redis } from 'ioredis';
import type { Keys } from '../../src/keys.ts';
import type { Logger } from '../../src/log.ts';
import type { ExecStart } from '../../src/schema/control.ts';
import { execOutput, type ExecOutput } from '../../src/schema/streams.ts';
import { parseEntry, publish } from '../../src/streams.ts';
import { CLOSE, ERROR, exitStatus, failureStatus, parseResize, RESIZE, statusPayload, STDERR, STDIN, STDOUT, type ChannelCodec, type ExecStatus } from './exec-channels.ts';
import { readAfter } from './stream-read.ts';

/** The part of a `ws` WebSocket a session uses. */
export interface ChannelSocket {
  readonly readyState: number;
  readonly OPEN: number;
  send(data: Buffer | string): void;
  close(code?: number): void;
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): unknown;
  once(event: 'close', listener: () => void): unknown;
}

export interface ExecSessionOptions {
  readonly redis: Redis;
  readonly keys: Keys;
  readonly log: Logger;
  readonly workerId: string;
  readonly start: ExecStart;
  readonly codec: ChannelCodec;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly blockMs: number;
}

/**
 * Runs the session until the worker reports the end or the client goes away; resolves when
 * everything is closed (the WebSocket, the blocking Redis connection, the session streams).
 * Must be called synchronously from the connection handler so no early client frame is lost.
 */
export async function runExecSession(socket: ChannelSocket, o: ExecSessionOptions): Promise<void> {
  const sessionId = o.start.sessionId;
  const input = forwardInput(socket, o);
  const blocking = o.redis.duplicate();
  let clientGone = false;
  socket.once('close', () => {
    clientGone = true;
    input.closeStdin();
    blocking.disconnect();
  });
  const write = (channel: number, data: Buffer) => {
    if (socket.readyState === socket.OPEN) socket.send(o.codec.encode(channel, data));
  };
  // The kubelet's "connection established" signal: an empty frame on the lowest writable channel.
  write(o.stdout ? STDOUT : o.stderr ? STDERR : ERROR, Buffer.alloc(0));
  try {
    await publish(o.redis, o.keys.control(o.workerId), o.start);
    const status = await pumpOutput(o, blocking, write, () => clientGone);
    const payload = status && statusPayload(o.codec, status);
    if (payload) write(ERROR, payload);
  } catch (err) {
    if (!clientGone) {
      o.log.warn({ err, sessionId }, 'exec session failed');
      const payload = statusPayload(o.codec, failureStatus(`exec session failed: ${(err as Error).message}`));
      if (payload) write(ERROR, payload);
    }
  } finally {
    blocking.disconnect();
    if (socket.readyState === socket.OPEN) socket.close(1000);
    await input.settled();
    // The worker is done with both streams once it wrote exit (or the client left).
    await o.redis.del(o.keys.execInput(sessionId), o.keys.execOutput(sessionId)).catch(() => undefined);
  }
}

// Client frames → exec-input records, chained so the worker sees them in the order sent.
function forwardInput(socket: ChannelSocket, o: ExecSessionOptions): { closeStdin(): void; settled(): Promise<unknown> } {
  const sessionId = o.start.sessionId;
  let chain: Promise<unknown> = Promise.resolve();
  let stdinClosed = false;
  const send = (record: Record<string, unknown>) => {
    chain = chain.then(() => publish(o.redis, o.keys.execInput(sessionId), { kind: 'exec-input', sessionId, ...record })).catch((err) => o.log.warn({ err, sessionId }, 'exec input lost'));
  };
  const closeStdin = () => {
    if (stdinClosed || !o.start.stdin) return;
    stdinClosed = true;
    send({ close: true });
  };
  socket.on('message', (message: Buffer, isBinary: boolean) => {
    const frame = o.codec.decode(message, isBinary);
    if (!frame) return;
    if (frame.channel === STDIN && o.start.stdin && !stdinClosed && frame.data.length > 0) send({ dataBase64: frame.data.toString('base64') });
    else if (frame.channel === RESIZE && o.start.tty) {
      const size = parseResize(frame.data);
      if (size) send({ resize: size });
    } else if (frame.channel === CLOSE && o.codec.closeSignal && frame.data[0] === STDIN) closeStdin();
  });
  return { closeStdin, settled: () => chain };
}

// Forwards output records until exit/error; returns the final status (undefined if the client left).
async function pumpOutput(o: ExecSessionOptions, blocking: Redis, write: (channel: number, data: Buffer) => void, gone: () => boolean): Promise<ExecStatus | undefined> {
  const key = o.keys.execOutput(o.start.sessionId);
  const ctx = { redis: o.redis, deadLetter: o.keys.deadLetter, log: o.log, source: key };
  let lastId = '0-0';
  while (!gone()) {
    const entries = await readAfter(blocking, key, lastId, 100, o.blockMs).catch((err) => {
      if (gone()) return [];
      throw err;
    });
    if (entries.length === 0 && !gone()) {
      const lost = await workerLost(o);
      if (lost) return failureStatus(lost);
    }
    for (const [id, fields] of entries) {
      lastId = id;
      const record = await parseEntry<ExecOutput>(ctx, execOutput, id, fields);
      if (!record) continue;
      const data = Buffer.from(record.dataBase64 ?? '', 'base64');
      if (record.kind === 'stdout' && o.stdout) write(STDOUT, data);
      else if (record.kind === 'stderr' && o.stderr) write(STDERR, data);
      else if (record.kind === 'exit') return exitStatus(record.exitCode ?? 0);
      else if (record.kind === 'error') return failureStatus(record.message ?? 'exec failed on the worker');
    }
  }
  return undefined;
}

/**
 * Why the session can no longer end normally, if so: the worker's heartbeat expired (it died)
 * or the pod moved to another worker. Checked whenever the output has been quiet for blockMs.
 */
export async function workerLost(o: Pick<ExecSessionOptions, 'redis' | 'keys' | 'workerId' | 'start'>): Promise<string | undefined> {
  const [alive, holder] = await Promise.all([o.redis.exists(o.keys.worker(o.workerId)), o.redis.get(o.keys.podWorker(o.start.uid))]);
  if (alive === 0) return `worker ${o.workerId} running the pod is gone (no heartbeat)`;
  if (holder !== o.workerId) return `the pod moved from worker ${o.workerId} to ${holder ?? 'no worker'}`;
  return undefined;
}
