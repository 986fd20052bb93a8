/**
 * @packageDocumentation
 * @meshwan/wan-dns: placeholder until issue #8 lands.
 */
export const packageName = '@meshwan/wan-dns';
