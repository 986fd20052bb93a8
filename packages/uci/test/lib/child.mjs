// Child process for the crash and concurrency tests, on the built package (dist/): edits and commits one
// package in a loop. argv: mode confdir savedir id count
import { Uci } from '../../dist/index.js';

const [mode = '', confdir = '', savedir = '', id = '0', countText = '0'] = process.argv.slice(2);
const count = Number(countText);

if (mode === 'crash') {
  // Commit ever new versions of one big value until killed: each version is `v<i>;` repeated.
  for (let i = 1; ; i++) {
    const uci = new Uci({ confdir, savedir, conf2dir: null });
    uci.set('p', 'x', 'v', `v${i};`.repeat(2000 + (i % 7) * 500));
    uci.set('p', 'x', 'n', String(i));
    uci.commit('p');
    // Tell the parent each commit, so it kills us inside the loop after as many commits as it chose, at any
    // point of the next one: how far we got depends on the count, not on how busy the machine is.
    process.stdout.write(`committed ${i}\n`);
  }
} else if (mode === 'concurrent') {
  // Each process adds its own options and list items and commits after every one.
  const uci = new Uci({ confdir, savedir, conf2dir: null });
  for (let i = 0; i < count; i++) {
    uci.set('p', 'x', `o${id}_${i}`, String(i));
    uci.addList('p', 'x', 'items', `${id}-${i}`);
    uci.commit('p');
  }
}
