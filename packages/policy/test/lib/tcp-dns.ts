/**
 * A scripted DNS-over-TCP server and client for the late-packet tests: they end each connection in a chosen way
 * (the first label of the query name picks it) and print one line per event, so a test waits for the end it
 * asked for instead of sleeping. Python, because the abortive ends need SO_LINGER.
 *
 * Modes: `normal` the client closes first, the server closes on EOF (as dig and dnsmasq do); `close` the server
 * closes first; `rst` the server aborts (RST); `client-rst` the client aborts; `late` the server writes after
 * the client has closed, so the client's kernel answers with an RST.
 */
import type { ChildProcess } from 'node:child_process';
import { type Namespace, type Teardowns, waitFor } from '../../../../test/lib/netns.js';

export type EndMode = 'normal' | 'close' | 'rst' | 'client-rst' | 'late';

const common = `import socket, struct, sys, threading
def say(*a): print(*a, flush=True)
def recv_exact(c, n):
    b = b''
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d: raise EOFError()
        b += d
    return b
def family(addr): return socket.AF_INET6 if ':' in addr else socket.AF_INET
LINGER0 = struct.pack('ii', 1, 0)
`;

const serverScript = `${common}
def qname(q):
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode()); i += 1 + q[i]
    return '.'.join(labels)
def serve(c, port):
    mode = '?'
    try:
        q = recv_exact(c, struct.unpack('!H', recv_exact(c, 2))[0])
        mode = qname(q).split('.')[0]
        a = q[:2] + b'\\x81\\x80' + q[4:6] + bytes(6) + q[12:]
        c.sendall(struct.pack('!H', len(a)) + a)
        if mode == 'rst':
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0); c.close(); say('rst-sent', mode, port); return
        if mode == 'close':
            c.close(); say('closed-first', mode, port); return
        try:
            d = c.recv(100)
        except ConnectionResetError:
            c.close(); say('reset', mode, port); return
        if d:
            c.close(); say('unexpected-data', mode, port); return
        if mode == 'late':
            # The client has closed: its kernel answers this with an RST that has no owning process.
            c.send(b'late'); say('late-sent', mode, port); c.close(); return
        c.close(); say('closed', mode, port)
    except Exception as e:
        say('error', mode, port, repr(e))
def loop(s):
    while True:
        c, peer = s.accept()
        threading.Thread(target=serve, args=(c, peer[1]), daemon=True).start()
port = int(sys.argv[1])
for addr in sys.argv[2:]:
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(16)
    threading.Thread(target=loop, args=(s,), daemon=True).start()
say('ready')
threading.Event().wait()
`;

const clientScript = `${common}
server, mode = sys.argv[1], sys.argv[2]
s = socket.socket(family(server), socket.SOCK_STREAM)
s.settimeout(30)
s.connect((server, 53))
q = struct.pack('!6H', 0x1234, 0x0100, 1, 0, 0, 0) + bytes([len(mode)]) + mode.encode() + b'\\x04test\\x00\\x00\\x01\\x00\\x01'
s.sendall(struct.pack('!H', len(q)) + q)
try:
    recv_exact(s, struct.unpack('!H', recv_exact(s, 2))[0])
    say('answer')
    if mode == 'client-rst':
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER0)
    elif mode in ('close', 'rst'):
        say('eof' if s.recv(100) == b'' else 'data')
except (ConnectionResetError, EOFError) as e:
    say('reset' if isinstance(e, ConnectionResetError) else 'eof')
s.close()
say('closed')
`;

export interface ScriptedServer {
  readonly child: ChildProcess;
  /** Every line printed so far. */
  lines(): string[];
  /** Waits until a line starting with `prefix` (e.g. `late-reset late`) has been printed `count` times. */
  waitFor(prefix: string, count?: number, timeoutMs?: number): Promise<void>;
}

/** Starts the scripted server in `ns` on `port` at each of `addresses`; resolves once it listens. */
export async function startScriptedServer(
  t: Teardowns,
  ns: Namespace,
  port: number,
  addresses: readonly string[],
): Promise<ScriptedServer> {
  const child = ns.spawn(t, 'python3', ['-u', '-c', serverScript, String(port), ...addresses]);
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const lines = () => out.split('\n').filter((l) => l !== '');
  const server: ScriptedServer = {
    child,
    lines,
    waitFor: (prefix, count = 1, timeoutMs = 60_000) =>
      waitFor(
        `"${prefix}" x${count} from the server on :${port} (has: ${lines().join('; ')}${err ? `; stderr: ${err.trim()}` : ''})`,
        () => {
          if (child.exitCode !== null) throw new Error(`server on :${port} exited with ${child.exitCode}: ${err.trim()}`);
          return lines().filter((l) => l.startsWith(prefix)).length >= count;
        },
        timeoutMs,
      ),
  };
  await server.waitFor('ready', 1, 30_000);
  return server;
}

/** Runs the scripted client in `ns` under `setpriv` args (e.g. the VPN group's gid); its event lines. */
export function runScriptedClient(ns: Namespace, setpriv: readonly string[], server: string, mode: EndMode): string[] {
  const r = ns.try('setpriv', ...setpriv, '--', 'python3', '-c', clientScript, server, mode);
  if (r.status !== 0) throw new Error(`client ${mode} to ${server} exited with ${r.status}: ${r.stderr.trim()}`);
  return r.stdout.split('\n').filter((l) => l !== '');
}
