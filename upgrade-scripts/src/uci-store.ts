/** ConfigStore through @meshwan/uci (to be wired when its core API lands). */
import type { Context } from './context.js';
import { UpgradeError } from './errors.js';
import type { ConfigStore } from './store.js';

export function openStore(ctx: Context): ConfigStore {
  throw new UpgradeError(ctx.confdir, '@meshwan/uci is not available yet');
}
