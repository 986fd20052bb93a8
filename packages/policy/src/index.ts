/**
 * @packageDocumentation
 * @meshwan/policy: placeholder until issue #9 lands.
 */
export const packageName = '@meshwan/policy';
