/** The seam over QuickJS (what the router runs): std, os and meshwan:netio, nothing of Node. */
import * as os from 'os';
import * as std from 'std';
import type { EngineName, Proc, TimerHandle, Timers } from '../api.js';

export const engine: EngineName = 'quickjs';

export const proc: Proc = {
  // scriptArgs is [script, ...arguments]: the same as Node's argv after the engine and the script.
  argv: scriptArgs.slice(1),
  env: (name) => std.getenv(name),
  environment: () => std.getenviron(),
  cwd: () => os.getcwd()[0],
  exit: (code) => {
    std.out.flush();
    std.err.flush();
    return std.exit(code);
  },
  writeStdout: (text) => std.out.puts(text),
  writeStderr: (text) => {
    std.err.puts(text);
    std.err.flush();
  },
  pid: os.getpid(),
};

// QuickJS has one-shot timers only: an interval re-arms itself, and its handle follows the live timer.
export const timers: Timers = {
  after: (ms, fn) => ({ timer: os.setTimeout(fn, ms) }),
  every: (ms, fn) => {
    const handle: { timer: unknown } = { timer: undefined };
    const tick = () => {
      handle.timer = os.setTimeout(tick, ms);
      fn();
    };
    handle.timer = os.setTimeout(tick, ms);
    return handle;
  },
  clear: (handle: TimerHandle) => os.clearTimeout(handle.timer),
  now: () => os.now(),
};
export { files } from './files.js';
export { netlink } from './netlink.js';
export { paths, programs, signals } from './proc.js';
export { sockets, streams } from './sockets.js';
