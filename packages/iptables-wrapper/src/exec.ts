/**
 * The only place that starts firewall tools. With `netns` set, every command runs as `ip netns exec NS …`, so
 * tests (and a caller managing another namespace) never touch the host's own firewall.
 */
import { programs } from '@meshwan/os';

export interface ToolResult {
  readonly command: readonly string[];
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The argv that runs `args` in `netns` (or in the current namespace when undefined). */
export function inNetns(netns: string | undefined, args: readonly string[]): string[] {
  return netns === undefined ? [...args] : ['ip', 'netns', 'exec', netns, ...args];
}

/** Runs a command to completion, feeding `input` on stdin. Never throws for a non-zero exit; spawn errors become code null. */
export async function runTool(argv: readonly string[], input?: string): Promise<ToolResult> {
  try {
    const r = await programs.run(argv, input ?? '');
    return { command: argv, code: r.code, stdout: r.stdout, stderr: r.stderr };
  } catch (err: unknown) {
    // OsError ENOENT spawn: the tool is not installed
    return { command: argv, code: null, stdout: '', stderr: err instanceof Error ? err.message : String(err) };
  }
}

/** The line number a tool names in its error, else 0. iptables-restore: "line 3 failed" / "Error occurred at line: 3"; nft: "/dev/stdin:3:1-4:". */
export function failedLine(stderr: string): number {
  const m = /line:? (\d+)/.exec(stderr) ?? /^[^:\n]*:(\d+):\d+/m.exec(stderr);
  return m?.[1] ? Number(m[1]) : 0;
}

/** Runs `fn` after every earlier call with the same key has settled: one transaction at a time per namespace and tool. */
const queues = new Map<string, Promise<unknown>>();
export function serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const next = previous.then(fn, fn);
  const settled = next.catch(() => {});
  queues.set(key, settled);
  void settled.then(() => {
    if (queues.get(key) === settled) queues.delete(key);
  });
  return next;
}
