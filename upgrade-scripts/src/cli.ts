/**
 * meshwan-reconfigure [--root DIR]: runs DIR/lib/gluon/upgrade/* in order against DIR's config (default /).
 * Exit 0 when every script succeeded; 1 naming each failed script; 2 on a usage error.
 */
import { proc } from '@meshwan/os';
import { UsageError } from './errors.js';
import { runScripts, type ScriptResult } from './reconfigure.js';

const usage = 'usage: meshwan-reconfigure [--root DIR]';

/** `path` made absolute against `cwd`, without `.`, `..`, empty segments or a trailing slash (as path.resolve). */
export function absolutePath(cwd: string, path: string): string {
  const parts: string[] = [];
  for (const part of `${path.startsWith('/') ? '' : cwd}/${path}`.split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '' && part !== '.') parts.push(part);
  }
  return `/${parts.join('/')}`;
}

export function parseReconfigureArgs(args: readonly string[], cwd = proc.cwd()): { root: string } | { help: true } {
  let root = '/';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '-h' || arg === '--help') return { help: true };
    if (arg === '--root') {
      const value = args[++i];
      if (value === undefined || value === '') throw new UsageError('--root', '--root needs a directory');
      root = value;
    } else if (arg.startsWith('--root=')) {
      root = arg.slice('--root='.length);
      if (root === '') throw new UsageError('--root', '--root needs a directory');
    } else throw new UsageError(arg, `unknown argument ${arg}`);
  }
  return { root: absolutePath(cwd, root) };
}

export async function runReconfigureCli(args: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parseReconfigureArgs>;
  try {
    parsed = parseReconfigureArgs(args);
  } catch (err: unknown) {
    if (!(err instanceof UsageError)) throw err;
    proc.writeStderr(`meshwan-reconfigure: ${err.message}\n${usage}\n`);
    return 2;
  }
  if ('help' in parsed) {
    proc.writeStdout(`${usage}\n`);
    return 0;
  }
  let results: ScriptResult[];
  try {
    results = await runScripts({ root: parsed.root });
  } catch (err: unknown) {
    proc.writeStderr(`meshwan-reconfigure: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const failed = results.filter((r) => r.failure !== undefined);
  if (failed.length === 0) return 0;
  proc.writeStderr(
    `meshwan-reconfigure: ${failed.length} of ${results.length} upgrade scripts failed: ${failed.map((r) => `${r.name} (${r.failure})`).join(', ')}\n` +
      'One or more upgrade scripts failed. Please review the above error messages.\n',
  );
  return 1;
}
