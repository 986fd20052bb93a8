/** meshwan:netio's socket calls (native/netio-qjs.c) and QuickJS's readiness: what src/quickjs/sockets.ts uses. */
declare module 'meshwan:netio' {
  export function udpSocket(family: number, address: Uint8Array, port: number, scopeId: number): number;
  export function tcpSocket(family: number, mark: number): number;
  export function tcpListen(family: number, address: Uint8Array, port: number, scopeId: number): number;
  export function accept(fd: number, peer: Int32Array): number | null;
  export function unixListen(path: string): number;
  export function unixConnect(path: string): number;
  export function connect(fd: number, family: number, address: Uint8Array, port: number, scopeId: number): boolean;
  export function recv(fd: number, bytes: Uint8Array): number | null;
  export function shutdown(fd: number): void;
  export function socketError(fd: number): number;
  export function setMark(fd: number, mark: number): void;
  export function getMark(fd: number): number;
  export function localPort(fd: number): number;
  export function ifIndex(name: string): number;
  export function addrText(family: number, address: Uint8Array, scopeId: number): string;
  export function addrBytes(family: number, text: string, out: Uint8Array): boolean;
  export function ioOpen(
    recvBuf: Uint8Array,
    recvMeta: Int32Array,
    sendBuf: Uint8Array,
    sendMeta: Int32Array,
    slot: number,
  ): import('../socket-api.js').IoHandle;
  export function ioFd(io: import('../socket-api.js').IoHandle): number;
  export function ioDrain(io: import('../socket-api.js').IoHandle): number;
  export function ioClose(io: import('../socket-api.js').IoHandle): void;
  export function ioAdd(io: import('../socket-api.js').IoHandle, fd: number, tag: number): void;
  export function ioRemove(io: import('../socket-api.js').IoHandle, fd: number): void;
  export function ioSend(io: import('../socket-api.js').IoHandle, count: number): number;
  export const REC: number;
}

declare module 'os' {
  export function setWriteHandler(fd: number, fn: (() => void) | null): void;
}
