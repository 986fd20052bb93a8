/**
 * @packageDocumentation
 * @meshwan/upgrade-scripts: placeholder until issue #9 lands.
 */
export const packageName = '@meshwan/upgrade-scripts';
