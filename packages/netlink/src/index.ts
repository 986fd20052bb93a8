/**
 * @packageDocumentation
 * @meshwan/netlink: placeholder until issue #6 lands.
 */
export const packageName = '@meshwan/netlink';
