// tier: root: network namespaces, SO_MARK or firewall rules
/** The other router ABIs under qemu-user: little-endian MIPS (mipsel_24kc, ramips) and aarch64. */
import t from 'tap';
import { conformance } from './lib/checks.js';

t.test('mipsel_24kc under qemu-user', (t) => conformance(t, 'mipsel_24kc'));
t.test('aarch64 under qemu-user', (t) => conformance(t, 'aarch64'));
