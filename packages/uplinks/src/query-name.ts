/** The names and types a DNS probe may ask (pure, engine-free: the config parser's part of the probe). */

/** QTYPE mnemonics the config accepts besides a number (RFC 1035 §3.2.2, RFC 3596). */
export const DNS_TYPES: Readonly<Record<string, number>> = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28 };

/** Why a name cannot be asked, or undefined when it can (labels 1..63 bytes, whole name at most 253). Pure. */
export function checkQueryName(name: string): string | undefined {
  if (name === '.') return undefined;
  const labels = name.replace(/\.$/, '').split('.');
  if (name.length > 254) return 'longer than 253 characters';
  if (!/^[\x21-\x7e]+$/.test(name)) return 'expected printable ASCII without spaces';
  if (labels.some((l) => l.length === 0 || l.length > 63)) return 'expected labels of 1..63 characters';
  return undefined;
}
