/**
 * @packageDocumentation
 * @meshwan/site reads a community's site.ini into a typed, validated Site: the WAN mark and table, the mesh-VPN
 * group, the WAN DNS forwarder's defaults and the firewall backend. Each package reads only the keys it needs.
 */

export { type Endpoint, type EndpointResult, formatEndpoint, parseEndpoint } from './endpoints.js';
export { SettingsError, SiteError, SiteErrors } from './errors.js';
export { renderSiteExample } from './example.js';
export { isIPv4, isIPv6 } from './ip.js';
export { defaultSitePath, loadSite } from './load.js';
export { type FieldSpec, type FirewallBackend, fieldList, fields, type Site } from './schema.js';
export { type NodeSettings, readSettings, SETTINGS_PACKAGE, WAN_RULE } from './settings.js';
export { defaultSite, parseSite } from './site.js';
