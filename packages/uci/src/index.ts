/**
 * @packageDocumentation
 * @meshwan/uci: placeholder until issue #4 lands.
 */
export const packageName = '@meshwan/uci';
