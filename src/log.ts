/**
 * Logging: pino, JSON lines by default (for collectors), human-readable when stderr is a TTY
 * or when format "pretty" is asked. Third-party logging is funnelled through here.
 */
import { pino, type Logger } from 'pino';

export type { Logger };
export type LogFormat = 'json' | 'pretty' | 'auto';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface LogOptions {
  level?: LogLevel;
  format?: LogFormat;
  name?: string;
}

export function createLogger(options: LogOptions = {}): Logger {
  const pretty = options.format === 'pretty' || (options.format !== 'json' && process.stderr.isTTY === true);
  const base = { level: options.level ?? 'info', name: options.name ?? 'burstlet' };
  if (!pretty) return pino(base, pino.destination({ fd: 2, sync: false }));
  return pino({ ...base, transport: { target: 'pino-pretty', options: { destination: 2, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } });
}

/** A logger that drops everything (tests). */
export const silentLogger = (): Logger => pino({ level: 'silent' });
