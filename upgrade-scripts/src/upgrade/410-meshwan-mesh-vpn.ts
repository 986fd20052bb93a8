/** /lib/gluon/upgrade/410-meshwan-mesh-vpn: the VPN group and the firewall include for its DNS redirect. */
import { runStep } from '../script.js';
import { upgradeMeshVpn } from '../steps.js';

process.exitCode = runStep('410-meshwan-mesh-vpn', upgradeMeshVpn);
