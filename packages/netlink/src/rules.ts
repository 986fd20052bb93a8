/** Rules: dump, add, replace, delete (RTM_GETRULE/NEWRULE/DELRULE), IPv4 and IPv6. */

import type { IpFamily } from '@meshwan/os';
import { AF_INET, AF_INET6, familyNames, NLM_F_CREATE, NLM_F_EXCL, RTM_DELRULE, RTM_GETRULE, RTM_NEWRULE } from './codec/constants.js';
import { MessageWriter } from './codec/message.js';
import { decodeRule, encodeRule, type Rule, type RuleSpec } from './codec/rule.js';
import { NetlinkError } from './errors.js';
import { dumpFamily } from './family-dump.js';
import type { NetlinkSocket } from './socket.js';

/** Rules in the kernel's order: priority, then insertion order (the order the lookup walks them). */
export function listRules(sock: NetlinkSocket, family?: IpFamily): Rule[] {
  return dumpFamily(
    sock,
    'listRules',
    family,
    (af) => new MessageWriter(RTM_GETRULE, 0).u8(af).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u8(0).u32(0),
    (buf, h, off, end) => {
      // AF_UNSPEC dumps also return RTNL_FAMILY_IPMR/IP6MR (128/129) multicast rules: not ours
      const af = buf[off + 16];
      return h.type === RTM_NEWRULE && (af === AF_INET || af === AF_INET6) ? decodeRule(buf, off, end) : undefined;
    },
  );
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** `fwmark 0x1/0x1 table 1 (inet6)` */
function describeRule(spec: RuleSpec): string {
  const p: string[] = [];
  if (spec.priority !== undefined) p.push(`priority ${spec.priority}`);
  if (spec.invert) p.push('not');
  if (spec.from) p.push(`from ${spec.from}`);
  if (spec.to) p.push(`to ${spec.to}`);
  if (spec.fwmark !== undefined) p.push(`fwmark ${hex(spec.fwmark)}${spec.fwmask !== undefined ? `/${hex(spec.fwmask)}` : ''}`);
  if (spec.iif) p.push(`iif ${spec.iif}`);
  if (spec.oif) p.push(`oif ${spec.oif}`);
  if (spec.goto !== undefined) p.push(`goto ${spec.goto}`);
  else if (spec.action && spec.action !== 'lookup') p.push(spec.action);
  if (spec.table !== undefined) p.push(`table ${spec.table}`);
  if (spec.suppressPrefixLength !== undefined) p.push(`suppress_prefixlength ${spec.suppressPrefixLength}`);
  return `${p.join(' ')} (${familyNames[spec.family]})`;
}

export function addRule(sock: NetlinkSocket, spec: RuleSpec): void {
  sock.ack(encodeRule(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, spec, false), 'addRule', describeRule(spec));
}

/** Deletes the first rule matching every field given (as `ip rule del`); NetlinkError ENOENT when none does. */
export function deleteRule(sock: NetlinkSocket, spec: RuleSpec): void {
  sock.ack(encodeRule(RTM_DELRULE, 0, spec, true), 'deleteRule', describeRule(spec));
}

/**
 * Rules have no kernel replace (NLM_F_REPLACE is ignored for RTM_NEWRULE), so this deletes the rule at the same
 * priority (when one exists) and adds the new one. Between the two a lookup may miss the rule.
 */
export function replaceRule(sock: NetlinkSocket, spec: RuleSpec): void {
  if (spec.priority !== undefined) {
    try {
      deleteRule(sock, { family: spec.family, priority: spec.priority });
    } catch (err: unknown) {
      if (!(err instanceof NetlinkError && err.code === 'ENOENT')) throw err;
    }
  }
  addRule(sock, spec);
}
