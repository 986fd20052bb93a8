/** /lib/gluon/upgrade/990-meshwan-commit: one commit of everything the scripts before it staged. */
import { proc } from '@meshwan/os';
import { runStep } from '../script.js';
import { commitStaged } from '../steps.js';

proc.exit(runStep('990-meshwan-commit', commitStaged));
