/** /lib/gluon/upgrade/111-meshwan-network: the network end state: wan, wan6, rule6 wan6_lookup, route6 wan6_unreachable. */
import { proc } from '@meshwan/os';
import { runStep } from '../script.js';
import { upgradeNetwork } from '../steps.js';

proc.exit(runStep('111-meshwan-network', upgradeNetwork));
