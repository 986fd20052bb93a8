/** /lib/gluon/upgrade/160-meshwan-wan-dns: gluon-wan-dnsmasq's static section and the forwarder's user. */
import { runStep } from '../script.js';
import { upgradeWanDns } from '../steps.js';

process.exitCode = runStep('160-meshwan-wan-dns', upgradeWanDns);
