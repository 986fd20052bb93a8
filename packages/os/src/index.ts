/**
 * @meshwan/os: the one seam between meshwan and the OS. Everything else is engine-independent TypeScript that
 * imports from here; the engine (Node or QuickJS) is chosen when a command is bundled (mk/bundle.mjs).
 */

export { engine, files, netlink, paths, proc, programs, signals, sockets, streams, timers } from '#engine';
export type { EngineName, Proc, TimerHandle, Timers } from './api.js';
export { OsError } from './errors.js';
export type { AtomicWriteOptions, FileStat, Files, LockMode, OpenHow } from './files-api.js';
export type { IpFamily } from './ip-family.js';
export { hostLittleEndian, type NetlinkOpenOptions, type NetlinkSocket, type NetlinkTransport } from './netlink-api.js';
export type { Paths } from './paths-api.js';
export type { Child, ExecOptions, Programs, RunResult, SignalName, Signals, SpawnOptions, SyncResult } from './proc-api.js';
export type { IoHandle, Sockets, Stream, StreamAt, StreamEvents, StreamServer, Streams, StreamTo } from './socket-api.js';
export { decodeUtf8, encodeUtf8 } from './text.js';
