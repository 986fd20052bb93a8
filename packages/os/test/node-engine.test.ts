/** The Node side of the seam in this process (the cross-engine suite runs it as a bundle; this is its coverage). */
import t from 'tap';
import { engine, OsError, proc, timers } from '../src/index.js';

t.test('node engine: proc and timers', async (t) => {
  t.equal(engine, 'node');
  t.equal(proc.pid, process.pid);
  t.equal(proc.env('PATH'), process.env.PATH);
  t.same(proc.argv, process.argv.slice(2));
  const start = timers.now();
  const ticks = await new Promise<number>((done) => {
    let n = 0;
    const h = timers.every(2, () => {
      n += 1;
      if (n === 2) {
        timers.clear(h);
        timers.after(10, () => done(n));
      }
    });
  });
  t.equal(ticks, 2, 'a cleared interval fires no more');
  t.ok(timers.now() - start >= 10);
});

t.test('OsError names the call, the path and the code', (t) => {
  const err = new OsError('ENOENT', 2, 'open', '/etc/config/network');
  t.equal(err.message, 'open /etc/config/network: ENOENT');
  t.equal(new OsError('EPERM', 1, 'setsockopt(SO_MARK)').message, 'setsockopt(SO_MARK): EPERM');
  t.end();
});
