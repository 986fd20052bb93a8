/**
 * @packageDocumentation
 * @meshwan/iptables-wrapper: placeholder until issue #7 lands.
 */
export const packageName = '@meshwan/iptables-wrapper';
