/**
 * meshwan-js's `meshwan:netio` (native/netio-qjs.c), the netlink part, and QuickJS's fd readiness: what
 * src/quickjs/netlink.ts uses. Kept apart from modules.d.ts so each seam module declares what it needs.
 */
declare module 'meshwan:netio' {
  export function netlinkOpen(protocol: number, netns: string | null): number;
  export function netlinkBind(fd: number, groups: number): number;
  export function netlinkOption(fd: number, name: number, value: number): number;
  export function setRcvbuf(fd: number, bytes: number): number;
  export function getRcvbuf(fd: number): number;
  export function send(fd: number, bytes: Uint8Array, length?: number): number;
  export function recvWait(fd: number, bytes: Uint8Array, timeoutMs: number): number | null;
  export function closeFd(fd: number): void;
  export function errnoCode(errno: number): string;
}

declare module 'os' {
  export function setReadHandler(fd: number, fn: (() => void) | null): void;
}
