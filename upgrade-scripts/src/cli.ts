/**
 * meshwan-reconfigure [--root DIR]: runs DIR/lib/gluon/upgrade/* in order against DIR's config (default /).
 * Exit 0 when every script succeeded; 1 naming each failed script; 2 on a usage error.
 */
import { resolve } from 'node:path';
import { UsageError } from './errors.js';
import { runScripts } from './reconfigure.js';

const usage = 'usage: meshwan-reconfigure [--root DIR]';

export function parseReconfigureArgs(args: readonly string[]): { root: string } | { help: true } {
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
  return { root: resolve(root) };
}

export function runReconfigureCli(args: readonly string[]): number {
  let parsed: ReturnType<typeof parseReconfigureArgs>;
  try {
    parsed = parseReconfigureArgs(args);
  } catch (err: unknown) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`meshwan-reconfigure: ${err.message}\n${usage}\n`);
    return 2;
  }
  if ('help' in parsed) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  let results: ReturnType<typeof runScripts>;
  try {
    results = runScripts({ root: parsed.root });
  } catch (err: unknown) {
    process.stderr.write(`meshwan-reconfigure: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const failed = results.filter((r) => r.failure !== undefined);
  if (failed.length === 0) return 0;
  process.stderr.write(
    `meshwan-reconfigure: ${failed.length} of ${results.length} upgrade scripts failed: ${failed.map((r) => `${r.name} (${r.failure})`).join(', ')}\n` +
      'One or more upgrade scripts failed. Please review the above error messages.\n',
  );
  return 1;
}
