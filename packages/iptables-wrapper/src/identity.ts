/**
 * Each rule we install carries a comment `mw:<8 hex>`: a hash of the rule's canonical JSON. status() compares
 * these ids, in order, with what we want, so drift is found without reproducing iptables-save's or nft's exact
 * print format (which differs between versions and between legacy and nft-compat). A user's comment follows the id.
 */
import { sha256Hex } from './sha256.js';
import type { Rule } from './types.js';

/** JSON with object keys sorted, so equal rules give equal text whatever order their fields were written in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The rule's id: first 8 hex digits of SHA-256 over its canonical JSON. The family is hashed as `ipv4`/`ipv6`, the
 * words the ids were first computed with, so the rules a node already has keep their ids (and are not drift).
 */
export function ruleId(rule: Rule): string {
  return sha256Hex(canonical({ ...rule, family: `ipv${rule.family}` })).slice(0, 8);
}

/** The comment we attach: `mw:<id>` or `mw:<id> <user comment>`. */
export function ruleComment(rule: Rule): string {
  return `mw:${ruleId(rule)}${rule.comment ? ` ${rule.comment}` : ''}`;
}

/** The id in a comment we wrote, or undefined for any other comment. */
export function idFromComment(comment: string | undefined): string | undefined {
  return comment === undefined ? undefined : /^mw:([0-9a-f]{8})(?: |$)/.exec(comment)?.[1];
}
