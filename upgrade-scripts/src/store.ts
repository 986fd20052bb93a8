/**
 * What the scripts need from uci, as one small interface: load a package as SectionViews, stage edits, commit.
 * The only implementation (uci-store.ts) goes through @meshwan/uci; nothing here reads /etc/config itself.
 */
import type { Edit, SectionView } from './config.js';

export interface ConfigStore {
  /** The package with its staged changes applied; undefined when /etc/config/<pkg> does not exist. */
  load(pkg: string): SectionView[] | undefined;
  /** Stages the edits in the save directory (libuci deltas). No edits: nothing is written. */
  stage(pkg: string, edits: readonly Edit[]): void;
  /** Commits every package that has staged changes; returns their names. */
  commitAll(): string[];
}
