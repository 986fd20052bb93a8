/**
 * ConfigStore through @meshwan/uci: reads /etc/config under the root and stages libuci deltas in the root's
 * /tmp/.uci, so OpenWrt's own `uci changes` sees what the scripts staged (and we see a user's pending edits).
 */
import { files } from '@meshwan/os';
import { openConfig, type Uci } from '@meshwan/uci';
import type { Edit, SectionView } from './config.js';
import type { Context } from './context.js';
import { UpgradeError } from './errors.js';
import { fileExists, writeTextAtomic } from './files.js';
import type { ConfigStore } from './store.js';

function applyEdit(uci: Uci, pkg: string, edit: Edit): void {
  switch (edit.op) {
    case 'section':
      uci.set(pkg, edit.name, edit.type);
      return;
    case 'add': {
      const name = uci.add(pkg, edit.type);
      for (const [option, value] of Object.entries(edit.options)) setValue(uci, pkg, name, option, value, false);
      return;
    }
    case 'set':
      setValue(uci, pkg, edit.section, edit.option, edit.value, uci.get(pkg, edit.section, edit.option) !== undefined);
      return;
    case 'delete':
      if (edit.option === undefined) uci.delete(pkg, edit.section);
      else uci.delete(pkg, edit.section, edit.option);
      return;
  }
}

function setValue(uci: Uci, pkg: string, section: string, option: string, value: string | readonly string[], exists: boolean): void {
  if (typeof value === 'string') {
    uci.set(pkg, section, option, value);
    return;
  }
  // A list is written whole: `uci delete` then one `uci add_list` per item, as a shell script would.
  if (exists) uci.delete(pkg, section, option);
  for (const item of value) uci.addList(pkg, section, option, item);
}

/** Package names with staged changes: non-empty files in the save dir (libuci's delta files), sorted. */
function listStaged(savedir: string): string[] {
  if (!fileExists(savedir)) return [];
  return files
    .list(savedir)
    .filter((name) => {
      if (name.startsWith('.')) return false;
      const st = files.stat(`${savedir}/${name}`);
      return st.type === 'file' && st.size > 0;
    })
    .sort();
}

export function openStore(ctx: Context): ConfigStore {
  // The one view every meshwan program gets: confdir, save dir and conf2dir all under the root.
  const uci = openConfig({ root: ctx.root });
  return {
    load(pkg: string): SectionView[] | undefined {
      if (!fileExists(`${ctx.confdir}/${pkg}`)) return undefined;
      return uci.sections(pkg).map((s) => ({ name: s.name, type: s.type, anonymous: s.anonymous, options: s.options }));
    },
    stage(pkg: string, edits: readonly Edit[]): void {
      if (edits.length === 0) return;
      // libuci's uci_save makes the save dir (0700) when it is missing; do the same for a bare root.
      files.mkdirp(ctx.savedir, 0o700);
      // libuci cannot stage changes for a package without a file (uci set: "Entry not found"); OpenWrt packages
      // ship their file, a bare root may not have it yet.
      const file = `${ctx.confdir}/${pkg}`;
      if (!fileExists(file)) {
        writeTextAtomic(file, '');
        uci.unload(pkg);
      }
      for (const edit of edits) applyEdit(uci, pkg, edit);
    },
    commitAll(): string[] {
      // The packages with a non-empty delta file, each committed on its own: a package that cannot be parsed
      // fails alone (and keeps its staged changes) while the others are committed.
      const staged = listStaged(ctx.savedir);
      const committed: string[] = [];
      const failures: string[] = [];
      for (const pkg of staged) {
        try {
          uci.commit(pkg);
          committed.push(pkg);
        } catch (err: unknown) {
          if (!(err instanceof Error)) throw err;
          failures.push(`${pkg}: ${err.message}`);
        }
      }
      if (failures.length > 0) throw new UpgradeError(ctx.savedir, `not committed: ${failures.join('; ')}`);
      return committed;
    },
  };
}
