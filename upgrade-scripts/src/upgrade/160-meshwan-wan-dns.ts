/** /lib/gluon/upgrade/160-meshwan-wan-dns: gluon-wan-dnsmasq's static section and the forwarder's user. */
import { proc } from '@meshwan/os';
import { runStep } from '../script.js';
import { upgradeWanDns } from '../steps.js';

proc.exit(runStep('160-meshwan-wan-dns', upgradeWanDns));
