/** The rule ids' SHA-256 without node:crypto equals node:crypto's, across the padding's block boundaries. */
import { createHash } from 'node:crypto';
import t from 'tap';
import { sha256Hex } from '../src/sha256.js';

t.test('sha256Hex equals node:crypto for every length around a block and for non-ASCII text', async (t) => {
  const texts = ['', 'abc', 'é€😀 rule', '{"chain":"OUTPUT","comment":"ünïcode"}'];
  for (let n = 50; n < 140; n++) texts.push('x'.repeat(n));
  for (const text of texts) t.equal(sha256Hex(text), createHash('sha256').update(text).digest('hex'), `${text.length} chars`);
  t.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'FIPS 180-2 example');
});
