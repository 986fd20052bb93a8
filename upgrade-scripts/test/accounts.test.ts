import t from 'tap';
import { ensureGroup, ensureShadow, ensureUser, findUser, freeId } from '../src/accounts.js';
import { UpgradeError } from '../src/errors.js';

const openwrtGroup = 'root:x:0:\ndaemon:x:1:\nadm:x:4:\nnetwork:x:101:\nnogroup:x:65534:\n';

t.test('ensureGroup appends, keeps, fixes the gid, and refuses a taken gid', async (t) => {
  const added = ensureGroup(openwrtGroup, '/etc/group', 'gluon-mesh-vpn', 800);
  t.equal(added, `${openwrtGroup}gluon-mesh-vpn:x:800:\n`);
  t.equal(ensureGroup(added, '/etc/group', 'gluon-mesh-vpn', 800), added, 'byte-identical on the second run');
  t.equal(ensureGroup('root:x:0:', 'g', 'x', 9), 'root:x:0:\nx:x:9:\n', 'a missing final newline is added before our line');
  t.equal(ensureGroup('', 'g', 'x', 9), 'x:x:9:\n');
  const wrong = 'root:x:0:\ngluon-mesh-vpn:x:799:fastd\n';
  t.equal(ensureGroup(wrong, '/etc/group', 'gluon-mesh-vpn', 800), 'root:x:0:\ngluon-mesh-vpn:x:800:fastd\n');
  const taken = 'root:x:0:\nfoo:x:800:\n';
  t.throws(() => ensureGroup(taken, '/etc/group', 'gluon-mesh-vpn', 800), UpgradeError);
  t.throws(() => ensureGroup(taken, '/etc/group', 'gluon-mesh-vpn', 800), {
    line: 2,
    message: '/etc/group:2: gid 800 for group gluon-mesh-vpn is already taken by group foo',
  });
});

t.test('users: a free shared id, an entry, a locked shadow line', async (t) => {
  const passwd = 'root:x:0:0:root:/root:/bin/ash\nftp:*:55:55:ftp:/home/ftp:/bin/false\n';
  t.equal(freeId(passwd, openwrtGroup, 54), 54);
  t.equal(freeId(passwd, 'x:x:54:\n', 54), 56, 'skips ids used in either file');
  const withUser = ensureUser(passwd, 'wan-dns', 54, 54, '/var/run/wan-dns');
  t.equal(withUser, `${passwd}wan-dns:x:54:54:wan-dns:/var/run/wan-dns:/bin/false\n`);
  t.equal(ensureUser(withUser, 'wan-dns', 60, 60, '/x'), withUser);
  t.same(findUser(withUser, 'wan-dns'), { uid: 54, gid: 54 });
  t.equal(findUser(withUser, 'nobody'), undefined);
  const shadow = ensureShadow('root:::0:99999:7:::\n', 'wan-dns');
  t.equal(shadow, 'root:::0:99999:7:::\nwan-dns:x:0:0:99999:7:::\n');
  t.equal(ensureShadow(shadow, 'wan-dns'), shadow);
});
