/** Small builders for SectionView fixtures in the planners' tests. */
import type { SectionView, Value } from '../src/config.js';

export function sec(type: string, name: string, options: Record<string, Value> = {}, anonymous = false): SectionView {
  return { type, name, anonymous, options };
}
