// tier: root: network namespaces, SO_MARK or firewall rules
/** Shared by the netns suites: the backends under test and independent witnesses of what the kernel holds. */
import { commandExists, isRoot, type Namespace } from '../../../test/lib/netns.js';
import { type Firewall, IptablesBackend, NftBackend } from '../src/index.js';

export interface BackendCase {
  readonly name: 'iptables-nft' | 'iptables-legacy' | 'nft';
  make(netns: string): Firewall;
  /** Everything in the namespace's firewall of this backend's kind, as the tools print it (no counters). */
  dump(ns: Namespace): string;
  /** Only the parts that are ours. */
  ours(ns: Namespace): string;
}

const saveBoth = (ns: Namespace, variant: string) =>
  ['iptables', 'ip6tables']
    .map((base) =>
      ns
        .exec(`${base}-${variant}-save`)
        .replace(/^#.*\n/gm, '')
        .replace(/\[\d+:\d+\]/g, '[0:0]'),
    )
    .join('');

export const backendCases: readonly BackendCase[] = [
  ...(['nft', 'legacy'] as const).map(
    (variant): BackendCase => ({
      name: `iptables-${variant}`,
      make: (netns) => new IptablesBackend({ variant, netns }),
      dump: (ns) => saveBoth(ns, variant),
      ours: (ns) =>
        saveBoth(ns, variant)
          .split('\n')
          .filter((l) => l.includes('meshwan_'))
          .join('\n'),
    }),
  ),
  {
    name: 'nft',
    make: (netns) => new NftBackend({ netns }),
    dump: (ns) => ns.exec('nft', '-s', 'list', 'ruleset'),
    ours: (ns) => {
      const r = ns.try('nft', '-s', 'list', 'table', 'inet', 'meshwan');
      return r.status === 0 ? r.stdout : '';
    },
  },
];

export const missingPart = !isRoot()
  ? 'needs root for network namespaces'
  : !commandExists('nft') || !commandExists('iptables-legacy')
    ? 'needs nft and iptables-legacy'
    : false;
