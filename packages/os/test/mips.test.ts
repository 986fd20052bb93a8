// tier: root: network namespaces, SO_MARK or firewall rules
/** The big-endian MIPS build (mips_24kc, ath79) under qemu-mips: netio from QuickJS on the routers' ABI. */
import t from 'tap';
import { conformance } from './lib/checks.js';

t.test('mips_24kc under qemu-user', (t) => conformance(t, 'mips_24kc'));
