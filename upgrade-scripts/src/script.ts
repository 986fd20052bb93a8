/**
 * The shell every upgrade script entry shares: context from the environment, a uci store under the root, the
 * step, and on failure one line `NNN-name: file:line: reason` on stderr and exit status 1 (the runner names it).
 */
import { proc } from '@meshwan/os';
import { type Context, contextFromEnv, type Env, processEnv } from './context.js';
import type { ConfigStore } from './store.js';
import { openStore } from './uci-store.js';

export type Step = (ctx: Context, store: ConfigStore) => unknown;

export function runStep(name: string, step: Step, env: Env = processEnv()): number {
  try {
    const ctx = contextFromEnv(env);
    step(ctx, openStore(ctx));
    return 0;
  } catch (err: unknown) {
    proc.writeStderr(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
