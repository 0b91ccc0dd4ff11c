/**
 * The Kubernetes WebSocket channel protocols of exec/attach (k8s.io/apimachinery wsstream and
 * the kubelet's remotecommand): every message starts with a channel byte — 0 stdin, 1 stdout,
 * 2 stderr, 3 error/status, 4 resize, 255 close (v5 only). The base64 variants carry the
 * channel as an ASCII digit and the payload base64-encoded. Pure functions, no I/O.
 */

/** Subprotocols we speak, newest first. '' is what the kubelet assumes when none is asked. */
export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io', 'channel.k8s.io', 'base64.channel.k8s.io'];

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;
export const CLOSE = 255;

export interface ChannelCodec {
  readonly protocol: string;
  /** Text frames with base64 payloads instead of binary frames. */
  readonly base64: boolean;
  /** v4+: the error channel carries a JSON metav1.Status (with the exit code), not plain text. */
  readonly statusJson: boolean;
  /** v5: the client may half-close a stream with a message on channel 255. */
  readonly closeSignal: boolean;
  encode(channel: number, data: Uint8Array): Buffer | string;
  /** undefined for an empty or undecodable message. */
  decode(message: Buffer, isBinary: boolean): { channel: number; data: Buffer } | undefined;
}

export function channelCodec(protocol: string): ChannelCodec {
  const base64 = protocol.includes('base64');
  return {
    protocol,
    base64,
    statusJson: protocol.startsWith('v4.') || protocol.startsWith('v5.'),
    closeSignal: protocol.startsWith('v5.'),
    encode(channel, data) {
      if (base64) return String.fromCharCode(48 + channel) + Buffer.from(data).toString('base64');
      return Buffer.concat([Buffer.from([channel]), data]);
    },
    decode(message, isBinary) {
      if (message.length === 0) return undefined;
      if (!base64) return { channel: message[0]!, data: message.subarray(1) };
      // A base64 client may still send the v5 close signal as a binary frame.
      if (isBinary && message[0] === CLOSE) return { channel: CLOSE, data: message.subarray(1) };
      const channel = message[0]! - 48;
      const data = Buffer.from(message.subarray(1).toString('latin1'), 'base64');
      return channel >= 0 && channel <= 9 ? { channel, data } : undefined;
    },
  };
}

/** metav1.Status written on the error channel when the command ended. */
export interface ExecStatus {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes: { reason: string; message: string }[] };
}

/** The kubelet's status for an exit code: Success, or NonZeroExitCode with an ExitCode cause. */
export function exitStatus(exitCode: number): ExecStatus {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: exit status ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/** Status for a session that failed without an exit code (the worker could not run it). */
export function failureStatus(message: string): ExecStatus {
  return { metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 };
}

/** What goes on the error channel: JSON for v4+, the bare message (nothing on success) before. */
export function statusPayload(codec: ChannelCodec, status: ExecStatus): Buffer | undefined {
  if (codec.statusJson) return Buffer.from(JSON.stringify(status));
  return status.status === 'Success' ? undefined : Buffer.from(status.message ?? 'command failed');
}

/** A resize message's payload: {"Width":W,"Height":H} (remotecommand.TerminalSize). */
export function parseResize(data: Buffer): { width: number; height: number } | undefined {
  try {
    const v = JSON.parse(data.toString('utf8')) as { Width?: unknown; Height?: unknown };
    const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 65535;
    return ok(v.Width) && ok(v.Height) ? { width: v.Width, height: v.Height } : undefined;
  } catch {
    return undefined;
  }
}
