/** /lib/gluon/upgrade/105-meshwan-settings: /etc/config/meshwan from the site file. */
import { proc } from '@meshwan/os';
import { runStep } from '../script.js';
import { upgradeSettings } from '../steps.js';

proc.exit(runStep('105-meshwan-settings', upgradeSettings));
