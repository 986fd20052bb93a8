/**
 * Syslog-friendly logging to stderr: one line per event, `wan-dns[PID]: LEVEL: message`, no colour and no
 * timestamp (procd and logd add their own). A repeated problem is logged once per `key` until it clears.
 */
import { proc } from '@meshwan/os';

export type Level = 'err' | 'warning' | 'notice' | 'info';

export interface Logger {
  log(level: Level, message: string): void;
  /** Logs once per key; later calls with the same key are silent until clear(key). */
  once(key: string, level: Level, message: string): void;
  clear(key: string): void;
}

export function stderrLogger(tag = 'wan-dns', write: (line: string) => void = (l) => proc.writeStderr(l)): Logger {
  const seen = new Set<string>();
  const log = (level: Level, message: string): void => write(`${tag}[${proc.pid}]: ${level}: ${message}\n`);
  return {
    log,
    once(key, level, message) {
      if (seen.has(key)) return;
      seen.add(key);
      log(level, message);
    },
    clear(key) {
      seen.delete(key);
    },
  };
}
