/** /lib/gluon/upgrade/410-meshwan-mesh-vpn: the VPN group and the firewall include for its DNS redirect. */
import { proc } from '@meshwan/os';
import { runStep } from '../script.js';
import { upgradeMeshVpn } from '../steps.js';

proc.exit(runStep('410-meshwan-mesh-vpn', upgradeMeshVpn));
