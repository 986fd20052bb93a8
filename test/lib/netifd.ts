/**
 * OpenWrt's real netifd in a test namespace: ubusd and netifd with their own config directory, ubus socket,
 * resolv.conf and an empty proto directory (`proto static` is built in), all under one temp root that is removed
 * at teardown; both stopped by PID. For policy's tests, the e2e suites and the sim: meshwan is tested beside the
 * daemon a router runs. The tools come from test/lib/openwrt.ts (built once into /var/cache/meshwan/openwrt).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Namespace, run, stopProcess, type Teardowns, waitFor } from './netns.js';
import { type OpenwrtTools, openwrtTools } from './openwrt.js';

/** OpenWrt's loopback interface as config_generate writes it: the first section of every network config here. */
export const loopbackInterface = `config interface 'loopback'
\toption device 'lo'
\toption proto 'static'
\toption ipaddr '127.0.0.1'
\toption netmask '255.0.0.0'
`;

/** netifd's and ubusd's start-up and every wait here: generous, the machine is shared and busy. */
const NETIFD_DEADLINE_MS = 60_000;

/** Thrown when netifd or ubusd exits on its own, or a ubus call fails. */
class NetifdError extends Error {
  override readonly name = 'NetifdError';
}

export interface InterfaceStatus {
  up: boolean;
  pending?: boolean;
  available?: boolean;
  l3_device?: string;
}

export interface NetifdOptions {
  /** netifd's log level (-l); its log goes to `log()`. */
  readonly logLevel?: number;
}

export class Netifd {
  /** The temp root: config/ (netifd's -c), proto/ (-p, empty), ubus.sock, resolv.conf.auto. */
  readonly root: string;
  readonly configDir: string;
  readonly socket: string;
  private daemon: ChildProcess | undefined;
  private ubusd: ChildProcess | undefined;
  private logText = '';

  constructor(
    private readonly t: Teardowns,
    readonly ns: Namespace,
    readonly tools: OpenwrtTools,
    private readonly options: NetifdOptions = {},
  ) {
    this.root = mkdtempSync(join(tmpdir(), 'meshwan-netifd-'));
    t.teardown(() => rmSync(this.root, { recursive: true, force: true }));
    this.configDir = join(this.root, 'config');
    this.socket = join(this.root, 'ubus.sock');
    mkdirSync(this.configDir);
    mkdirSync(join(this.root, 'proto'));
  }

  /** netifd's PID while it runs. */
  get pid(): number | undefined {
    return this.daemon?.pid;
  }

  /** Everything netifd wrote to stdout/stderr (-S: no syslog), across restarts. */
  log(): string {
    return this.logText;
  }

  /** Writes config/network (the file netifd reads as /etc/config/network). Takes effect on reload() or restart(). */
  writeNetwork(text: string): void {
    writeFileSync(join(this.configDir, 'network'), text);
  }

  /** Starts ubusd (once) and netifd; resolves when netifd has registered `network` on ubus. */
  async start(): Promise<void> {
    if (!this.ubusd) {
      this.ubusd = this.spawn(this.tools.ubusd, ['-s', this.socket], 'ubusd');
      await waitFor('ubusd socket', () => existsSync(this.socket), NETIFD_DEADLINE_MS);
    }
    if (this.daemon) throw new NetifdError('netifd is already running');
    const args = ['-s', this.socket, '-c', this.configDir, '-p', join(this.root, 'proto'), '-h', '/bin/true'];
    args.push('-r', join(this.root, 'resolv.conf.auto'), '-S', '-l', String(this.options.logLevel ?? 4));
    this.daemon = this.spawn(this.tools.netifd, args, 'netifd');
    await waitFor('netifd on ubus (network object)', () => this.ubusTry('list', 'network') !== undefined, NETIFD_DEADLINE_MS);
  }

  /** Stops netifd by PID (SIGTERM), as procd's stop does; leaves ubusd running. */
  async stop(): Promise<void> {
    const d = this.daemon;
    this.daemon = undefined;
    if (d) await stopProcess(d, 5000);
  }

  /**
   * What `/etc/init.d/network restart` does: `ifdown -a` (every interface down over ubus), then stop and start
   * netifd. Resolves when the new netifd is on ubus; waitUp() for its interfaces.
   */
  async restart(): Promise<void> {
    const names = this.interfaceNames();
    for (const name of names) this.ubus('call', `network.interface.${name}`, 'down');
    await waitFor('every interface down before the restart', () => names.every((n) => !this.status(n).up), NETIFD_DEADLINE_MS);
    await this.stop();
    await this.start();
  }

  /** `ubus call network reload` (what `/etc/init.d/network reload` and `reload_config` lead to). */
  reload(): void {
    this.ubus('call', 'network', 'reload');
  }

  /** Every interface netifd knows (`ubus list network.interface.*`). */
  interfaceNames(): string[] {
    return this.ubus('list', 'network.interface.*')
      .split('\n')
      .map((l) => l.trim().replace(/^network\.interface\./, ''))
      .filter((n) => n !== '');
  }

  status(name: string): InterfaceStatus {
    return JSON.parse(this.ubus('call', `network.interface.${name}`, 'status')) as InterfaceStatus;
  }

  /** Resolves when each named interface is up (netifd has set its addresses, routes and rules). */
  async waitUp(names: readonly string[], timeoutMs = NETIFD_DEADLINE_MS): Promise<void> {
    await waitFor(
      `netifd interfaces up: ${names.join(', ')}`,
      () => {
        this.assertRunning();
        return names.every((n) => {
          const out = this.ubusTry('call', `network.interface.${n}`, 'status');
          return out !== undefined && (JSON.parse(out) as InterfaceStatus).up;
        });
      },
      timeoutMs,
    );
  }

  /** `ubus -s SOCK ARGS`; throws NetifdError with ubus's output on failure. */
  ubus(...args: string[]): string {
    const out = this.ubusTry(...args);
    if (out === undefined) throw new NetifdError(`ubus ${args.join(' ')} failed (netifd log:\n${this.logText.slice(-2000)})`);
    return out;
  }

  private ubusTry(...args: string[]): string | undefined {
    try {
      // The socket is a path, not a network object: the client needs no namespace.
      return run(this.tools.ubus, ['-s', this.socket, '-t', '10', ...args]);
    } catch {
      return undefined;
    }
  }

  private assertRunning(): void {
    const d = this.daemon;
    if (!d || d.exitCode !== null || d.signalCode !== null) {
      throw new NetifdError(`netifd is not running (netifd log:\n${this.logText.slice(-2000)})`);
    }
  }

  private spawn(command: string, args: readonly string[], label: string): ChildProcess {
    // cwd in the temp root: anything netifd resolves relative to its working directory stays there.
    const child = this.ns.spawn(this.t, command, args, { cwd: this.root });
    const append = (chunk: Buffer) => {
      this.logText += chunk.toString('utf8');
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    child.once('exit', (code, signal) => {
      this.logText += `[${label} exited: ${signal ?? code}]\n`;
    });
    return child;
  }
}

/**
 * Builds the tools if needed, writes `networkText` as netifd's config, starts ubusd and netifd in `ns` and waits
 * until the interfaces in `waitFor` are up. Everything is stopped and removed at teardown.
 */
export async function startNetifd(
  t: Teardowns,
  ns: Namespace,
  networkText: string,
  up: readonly string[] = [],
  options: NetifdOptions = {},
): Promise<Netifd> {
  const n = new Netifd(t, ns, openwrtTools(), options);
  n.writeNetwork(networkText);
  await n.start();
  if (up.length > 0) await n.waitUp(up);
  return n;
}
