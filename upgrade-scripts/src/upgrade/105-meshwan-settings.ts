/** /lib/gluon/upgrade/105-meshwan-settings: /etc/config/meshwan from the site file. */
import { runStep } from '../script.js';
import { upgradeSettings } from '../steps.js';

process.exitCode = runStep('105-meshwan-settings', upgradeSettings);
