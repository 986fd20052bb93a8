/** The deadline heap behind attempt timeouts: order, removal, re-arming, close. */
import t from 'tap';
import { Deadlines, type Expiring } from '../src/deadlines.js';

interface Item extends Expiring {
  name: string;
}
const item = (name: string): Item => ({ name, expiresAt: 0, heapIndex: -1 });

t.test('items expire in deadline order; removed ones never', async (t) => {
  const fired: string[] = [];
  const d = new Deadlines<Item>(
    (i) => fired.push(i.name),
    () => performance.now(),
  );
  const now = performance.now();
  const items = ['e', 'b', 'd', 'a', 'c', 'x'].map(item);
  const at: Record<string, number> = { a: 10, b: 20, c: 30, d: 40, e: 50, x: 25 };
  for (const i of items) d.add(i, now + (at[i.name] as number));
  t.equal(d.size, 6);
  d.remove(items[5] as Item);
  d.remove(items[5] as Item);
  t.equal((items[5] as Item).heapIndex, -1);
  t.equal(d.size, 5);
  await new Promise((r) => setTimeout(r, 80));
  t.same(fired, ['a', 'b', 'c', 'd', 'e']);
  t.equal(d.size, 0);
});

t.test('an earlier deadline re-arms; one added while expiring fires too; close stops all', async (t) => {
  const fired: string[] = [];
  const d: Deadlines<Item> = new Deadlines<Item>(
    (i) => {
      fired.push(i.name);
      if (i.name === 'first') d.add(item('chained'), performance.now() + 5);
    },
    () => performance.now(),
  );
  const now = performance.now();
  d.add(item('late'), now + 1000);
  d.add(item('first'), now + 5);
  await new Promise((r) => setTimeout(r, 60));
  t.same(fired, ['first', 'chained']);
  d.close();
  d.add(item('never'), performance.now() + 1);
  await new Promise((r) => setTimeout(r, 20));
  t.same(fired, ['first', 'chained']);
});

t.test('a random mix keeps the heap ordered', async (t) => {
  const fired: number[] = [];
  const d = new Deadlines<Item & { v: number }>(
    (i) => fired.push(i.v),
    () => performance.now(),
  );
  const base = performance.now() + 30;
  const all = Array.from({ length: 200 }, (_, k) => ({ ...item(String(k)), v: (k * 7919) % 200 }));
  for (const i of all) d.add(i, base + i.v / 10);
  for (const i of all.filter((_, k) => k % 3 === 0)) d.remove(i);
  await new Promise((r) => setTimeout(r, 100));
  const expected = all
    .filter((_, k) => k % 3 !== 0)
    .map((i) => i.v)
    .sort((a, b) => a - b);
  t.same(fired, expected);
});
