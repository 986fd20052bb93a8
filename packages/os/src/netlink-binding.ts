/**
 * The netlink transport over a binding of native/netio.c: the same functions in meshwan-js (meshwan:netio) and
 * in netio.node, so one implementation serves both engines; only readiness differs (a `watch` of the engine).
 */
import { OsError } from './errors.js';
import type { NetlinkOpenOptions, NetlinkSocket, NetlinkTransport } from './netlink-api.js';

/** What a binding of netio.c offers for netlink (native/netio-qjs.c, native/netio-napi.c). */
export interface NetlinkBinding {
  netlinkOpen(protocol: number, netns: string | null): number;
  netlinkBind(fd: number, groups: number): number;
  netlinkOption(fd: number, name: number, value: number): number;
  setRcvbuf(fd: number, bytes: number): number;
  getRcvbuf(fd: number): number;
  send(fd: number, bytes: Uint8Array): number;
  recvWait(fd: number, bytes: Uint8Array, timeoutMs: number): number | null;
  closeFd(fd: number): void;
  errnoCode(errno: number): string;
}

/** The engine's fd readiness: calls `fn` while fd is readable until the returned function is called. */
export type Watch = (fd: number, fn: () => void) => () => void;

/** A binding's Error (errno, code, syscall) as the seam's OsError; anything else unchanged. */
export function osError(err: unknown): unknown {
  if (!(err instanceof Error) || err instanceof OsError) return err;
  const errno: unknown = Reflect.get(err, 'errno');
  const code: unknown = Reflect.get(err, 'code');
  const syscall: unknown = Reflect.get(err, 'syscall');
  if (typeof errno !== 'number' || typeof code !== 'string' || typeof syscall !== 'string') return err;
  return new OsError(code === 'EUNKNOWN' ? `E${errno}` : code, errno, syscall);
}

function call<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err: unknown) {
    throw osError(err);
  }
}

export function netlinkTransport(binding: NetlinkBinding, watch: Watch): NetlinkTransport {
  return {
    errnoName: (errno) => {
      const code = binding.errnoCode(Math.abs(errno));
      return code === 'EUNKNOWN' ? `E${Math.abs(errno)}` : code;
    },
    open: (options: NetlinkOpenOptions): NetlinkSocket => {
      const fd = call(() => binding.netlinkOpen(options.protocol, options.netns ?? null));
      let portid: number;
      try {
        if (options.rcvbufBytes !== undefined) {
          const bytes = options.rcvbufBytes;
          call(() => binding.setRcvbuf(fd, bytes));
        }
        for (const [name, value] of options.options ?? []) {
          try {
            binding.netlinkOption(fd, name, value);
          } catch {
            // An option an older kernel lacks (extended acks, strict checking) only loses detail, never function.
          }
        }
        portid = call(() => binding.netlinkBind(fd, options.groups ?? 0));
      } catch (err: unknown) {
        binding.closeFd(fd);
        throw err;
      }
      let unwatch: (() => void) | undefined;
      let closed = false;
      const socket: NetlinkSocket = {
        fd,
        portid,
        send: (bytes) => {
          call(() => binding.send(fd, bytes));
        },
        receive: (buf, timeoutMs) => call(() => binding.recvWait(fd, buf, timeoutMs)),
        receiveBufferBytes: () => call(() => binding.getRcvbuf(fd)),
        setReceiveBuffer: (bytes) => {
          call(() => binding.setRcvbuf(fd, bytes));
        },
        onReadable: (fn) => {
          unwatch?.();
          unwatch = fn === null ? undefined : watch(fd, fn);
        },
        close: () => {
          if (closed) return;
          closed = true;
          unwatch?.();
          unwatch = undefined;
          call(() => binding.closeFd(fd));
        },
      };
      return socket;
    },
  };
}
