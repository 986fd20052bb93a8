/** The seam over Node (the development side and the tests). */

import type { EngineName, Proc, TimerHandle, Timers } from '../api.js';
import { monotonicNow } from './clock.js';

export const engine: EngineName = 'node';

export const proc: Proc = {
  argv: process.argv.slice(2),
  env: (name) => process.env[name],
  cwd: () => process.cwd(),
  environment: () => {
    const copy: Record<string, string> = {};
    for (const [name, value] of Object.entries(process.env)) if (value !== undefined) copy[name] = value;
    return copy;
  },
  exit: (code) => process.exit(code),
  writeStdout: (text) => {
    process.stdout.write(text);
  },
  writeStderr: (text) => {
    process.stderr.write(text);
  },
  pid: process.pid,
};

export const timers: Timers = {
  after: (ms, fn) => ({ timer: setTimeout(fn, ms) }),
  every: (ms, fn) => ({ timer: setInterval(fn, ms) }),
  clear: (handle: TimerHandle) => {
    const timer = handle.timer;
    if (timer instanceof Object) clearTimeout(timer as NodeJS.Timeout);
  },
  now: monotonicNow,
};
export { files } from './files.js';
export { netlink } from './netlink.js';
export { paths, programs, signals } from './proc.js';
export { sockets, streams } from './sockets.js';
