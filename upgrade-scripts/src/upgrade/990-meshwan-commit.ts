/** /lib/gluon/upgrade/990-meshwan-commit: one commit of everything the scripts before it staged. */
import { runStep } from '../script.js';
import { commitStaged } from '../steps.js';

process.exitCode = runStep('990-meshwan-commit', commitStaged);
