// Starts a real php-fpm for tests: the peer whose quirks (one connection per child, keep-conn
// pinning, max_requests shutdowns) the pool exists for, so tests run against it, not a double.
// Each instance gets its own temp dir (config, php.ini, pid, log, a copy of the docroot) and is
// killed on process exit even if a test forgets stop().
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../src/errors.ts';
import { freePort } from './ports.ts';

export interface PhpFpmOptions {
  /** pm.max_children with pm = static. Default 2. */
  children?: number;
  /** pm.max_requests: a child exits after this many requests (0 = never). Default 0. */
  maxRequests?: number;
  /** Listen on 127.0.0.1:<free port> or on a unix socket in the temp dir. Default 'tcp'. */
  listen?: 'tcp' | 'unix';
  /** request_terminate_timeout in whole seconds (0 = off). Default 0. */
  requestTerminateTimeout?: number;
  /** Scripts to serve; copied into the temp dir. Default test/fixtures/php. */
  docroot?: string;
  /**
   * The whole environment php-fpm and its children see (clear_env = no): scripts find it in
   * $_SERVER and getenv(). Default: only PATH, so echo.php shows params, not the runner's env.
   */
  env?: Record<string, string>;
  /** How long start() and restart() wait for php-fpm to accept. Default 10000 ms. */
  startTimeoutMs?: number;
}

export interface PhpFpm {
  /** '127.0.0.1' for TCP, '' for a unix socket. */
  readonly host: string;
  /** TCP port (0 for a unix socket). Stays the same across restart(). */
  readonly port: number;
  /** Path of the unix socket when listen is 'unix'. */
  readonly socketPath?: string;
  /** "127.0.0.1:port" or "unix:/path", the form a pool server address takes. */
  readonly address: string;
  /** Absolute path of the served copy of the docroot: use it for SCRIPT_FILENAME. */
  readonly docroot: string;
  /** pm.status_path (and ping.path is '/fpm-ping'). */
  readonly statusPath: string;
  /** Graceful enough: SIGTERM, then SIGKILL after 5 s. Removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Kills the master and every child at once (default SIGKILL): "php-fpm died mid-response". */
  kill(signal?: NodeJS.Signals): void;
  /** Stops (if running) and starts again on the same port or socket path. */
  restart(): Promise<void>;
  /** Pids of the current children (from /proc). */
  childPids(): number[];
  /** The php-fpm error log so far: fwrite(STDERR) output of scripts lands here. */
  log(): string;
}

const FIXTURES = fileURLToPath(new URL('../fixtures/php/', import.meta.url));
const STATUS_PATH = '/fpm-status';
const STOP_GRACE_MS = 5000;

/** Every running instance, so an exiting test process never leaves php-fpm behind. */
const running = new Set<PhpFpmInstance>();
let cleanupInstalled = false;

export async function startPhpFpm(opts: PhpFpmOptions = {}): Promise<PhpFpm> {
  const binary = findPhpFpm();
  const config = validate(opts);
  const port = config.listen === 'tcp' ? await freePort() : 0;
  const instance = new PhpFpmInstance(binary, config, port);
  await instance.start();
  return instance;
}

/** The newest /usr/sbin/php-fpm8.x (Debian names it by version), or $PHP_FPM_BIN. */
export function findPhpFpm(): string {
  const override = process.env.PHP_FPM_BIN;
  if (override) return override;
  const dir = '/usr/sbin';
  const found = existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => /^php-fpm(\d+(\.\d+)?)?$/.test(name))
        .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    : [];
  const newest = found.at(-1);
  if (newest === undefined) {
    throw new Error('php-fpm not found in /usr/sbin: install php-fpm: apt-get install -y php-fpm');
  }
  return join(dir, newest);
}

interface Config {
  children: number;
  maxRequests: number;
  listen: 'tcp' | 'unix';
  requestTerminateTimeout: number;
  sourceDocroot: string;
  env: Record<string, string>;
  startTimeoutMs: number;
}

function validate(opts: PhpFpmOptions): Config {
  const int = (field: string, value: number, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new ConfigError(field, `must be an integer from ${min} to ${max}, got ${value}`);
    }
    return value;
  };
  const listen = opts.listen ?? 'tcp';
  if (listen !== 'tcp' && listen !== 'unix') throw new ConfigError('listen', `must be 'tcp' or 'unix'`);
  const sourceDocroot = resolve(opts.docroot ?? FIXTURES);
  if (!existsSync(sourceDocroot) || !statSync(sourceDocroot).isDirectory()) {
    throw new ConfigError('docroot', `${sourceDocroot} is not a directory`);
  }
  return {
    // php-fpm refuses pm.max_children < 1 with pm = static.
    children: int('children', opts.children ?? 2, 1, 256),
    maxRequests: int('maxRequests', opts.maxRequests ?? 0, 0, 1_000_000),
    listen,
    requestTerminateTimeout: int('requestTerminateTimeout', opts.requestTerminateTimeout ?? 0, 0, 86_400),
    sourceDocroot,
    env: opts.env ?? { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
    startTimeoutMs: int('startTimeoutMs', opts.startTimeoutMs ?? 10_000, 1, 600_000),
  };
}

class PhpFpmInstance implements PhpFpm {
  readonly host: string;
  readonly port: number;
  readonly socketPath?: string;
  readonly address: string;
  readonly docroot: string;
  readonly statusPath = STATUS_PATH;
  readonly #binary: string;
  readonly #config: Config;
  readonly #dir: string;
  #master: ChildProcess | null = null;
  #exited: Promise<unknown> = Promise.resolve();
  /** Last bytes php-fpm wrote to stdout/stderr (it logs to a file, but startup errors go here). */
  #output = '';

  constructor(binary: string, config: Config, port: number) {
    this.#binary = binary;
    this.#config = config;
    this.#dir = mkdtempSync('/tmp/fcgi-pool-php-fpm-');
    this.docroot = join(this.#dir, 'docroot');
    this.port = port;
    if (config.listen === 'unix') {
      this.host = '';
      this.socketPath = join(this.#dir, 'php-fpm.sock');
      this.address = `unix:${this.socketPath}`;
    } else {
      this.host = '127.0.0.1';
      this.address = `127.0.0.1:${port}`;
    }
  }

  async start(): Promise<void> {
    this.#prepare();
    installCleanup();
    running.add(this);
    const logStart = this.#logSize();
    this.#output = '';
    const master = spawn(
      this.#binary,
      ['-F', '-R', '-y', this.#path('php-fpm.conf'), '-c', this.#path('php.ini')],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: this.#config.env,
      },
    );
    this.#master = master;
    this.#exited = once(master, 'exit');
    const keep = (d: Buffer) => {
      this.#output = (this.#output + d).slice(-4096);
    };
    master.stdout?.on('data', keep);
    master.stderr?.on('data', keep);
    // A forgotten stop() must not keep the test process alive; the exit hook still kills it.
    master.unref();
    (master.stdout as net.Socket | null)?.unref();
    (master.stderr as net.Socket | null)?.unref();
    try {
      await this.#waitReady(master, logStart);
    } catch (err) {
      await this.#stopProcess();
      throw err;
    }
  }

  async stop(): Promise<void> {
    await this.#stopProcess();
    running.delete(this);
    rmSync(this.#dir, { recursive: true, force: true });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    const master = this.#master;
    if (master?.pid === undefined || master.exitCode !== null || master.signalCode !== null) return;
    // The children would keep serving on the inherited listening socket if only the master died,
    // so they go too. Master first: a master that saw a child die would fork a replacement.
    const children = this.childPids();
    killQuietly(master.pid, signal);
    for (const pid of children) killQuietly(pid, signal);
  }

  async restart(): Promise<void> {
    await this.#stopProcess();
    await this.start();
  }

  childPids(): number[] {
    const pid = this.#master?.pid;
    return pid === undefined ? [] : childrenOf(pid);
  }

  log(): string {
    try {
      return readFileSync(this.#path('php-fpm.log'), 'utf8');
    } catch {
      return '';
    }
  }

  #path(name: string): string {
    return join(this.#dir, name);
  }

  #logSize(): number {
    return existsSync(this.#path('php-fpm.log')) ? statSync(this.#path('php-fpm.log')).size : 0;
  }

  /** Writes config and docroot (again after stop()), readable by www-data who runs the children. */
  #prepare(): void {
    mkdirSync(this.#dir, { recursive: true });
    chmodSync(this.#dir, 0o755);
    if (!existsSync(this.docroot)) {
      cpSync(this.#config.sourceDocroot, this.docroot, { recursive: true });
      makeWorldReadable(this.docroot);
    }
    writeFileSync(this.#path('php-fpm.conf'), this.#fpmConf());
    writeFileSync(this.#path('php.ini'), PHP_INI);
  }

  #fpmConf(): string {
    const c = this.#config;
    const root = process.getuid?.() === 0;
    return [
      '[global]',
      `pid = ${this.#path('php-fpm.pid')}`,
      `error_log = ${this.#path('php-fpm.log')}`,
      'daemonize = no',
      'log_level = notice',
      '',
      '[test]',
      ...(root ? ['user = www-data', 'group = www-data'] : []),
      `listen = ${this.socketPath ?? `127.0.0.1:${this.port}`}`,
      ...(this.socketPath ? ['listen.mode = 0666'] : []),
      'pm = static',
      `pm.max_children = ${c.children}`,
      `pm.max_requests = ${c.maxRequests}`,
      `request_terminate_timeout = ${c.requestTerminateTimeout}`,
      `pm.status_path = ${STATUS_PATH}`,
      'ping.path = /fpm-ping',
      'catch_workers_output = yes',
      'decorate_workers_output = no',
      'clear_env = no',
      'security.limit_extensions = .php',
      '',
    ].join('\n');
  }

  async #waitReady(master: ChildProcess, logStart: number): Promise<void> {
    const deadline = Date.now() + this.#config.startTimeoutMs;
    for (;;) {
      if (master.exitCode !== null || master.signalCode !== null) {
        throw this.#startError(`php-fpm exited (${master.exitCode ?? master.signalCode}) during start`);
      }
      // "ready to handle connections" comes after the static children are forked.
      const ready = this.log().slice(logStart).includes('ready to handle connections');
      if (ready && this.childPids().length >= this.#config.children && (await this.#accepts())) return;
      if (Date.now() > deadline) {
        throw this.#startError(
          `php-fpm did not accept on ${this.address} within ${this.#config.startTimeoutMs} ms`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  #accepts(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = this.socketPath
        ? net.connect({ path: this.socketPath })
        : net.connect({ host: this.host, port: this.port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  }

  #startError(message: string): Error {
    const tail = (this.log() + this.#output).split('\n').slice(-20).join('\n');
    return new Error(`${message}\n--- php-fpm log (${this.#dir}) ---\n${tail}`);
  }

  async #stopProcess(): Promise<void> {
    const master = this.#master;
    if (master === null) return;
    const alive = master.exitCode === null && master.signalCode === null;
    if (alive) {
      const children = this.childPids();
      master.kill('SIGTERM');
      const timer = setTimeout(() => this.kill('SIGKILL'), STOP_GRACE_MS);
      await this.#exited;
      clearTimeout(timer);
      // Normally the master reaps them; this covers a master that died first.
      for (const pid of children) killQuietly(pid, 'SIGKILL');
    }
    this.#master = null;
  }

  /** Synchronous last resort from the process 'exit' hook. */
  killNow(): void {
    this.kill('SIGKILL');
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

// Our own php.ini: unbuffered output so flush() reaches the gateway, errors to the FastCGI
// STDERR stream (no error_log file), as a production php-fpm behind a gateway would have.
const PHP_INI = [
  'output_buffering = 0',
  'implicit_flush = 0',
  'display_errors = Off',
  'log_errors = On',
  'error_reporting = E_ALL',
  'fastcgi.logging = 1',
  'expose_php = Off',
  'post_max_size = 0',
  'memory_limit = 256M',
  '',
].join('\n');

function makeWorldReadable(path: string): void {
  const st = statSync(path);
  chmodSync(path, st.isDirectory() ? 0o755 : 0o644);
  if (st.isDirectory()) for (const name of readdirSync(path)) makeWorldReadable(join(path, name));
}

/** Children of `ppid` according to /proc (field 4 of /proc/<pid>/stat, after the comm). */
function childrenOf(ppid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === ppid && fields[0] !== 'Z') pids.push(Number(name));
  }
  return pids.sort((a, b) => a - b);
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  const killAll = () => {
    for (const instance of running) instance.killNow();
    running.clear();
  };
  process.on('exit', killAll);
  // On a fatal signal the 'exit' hook does not run; clean up, then die of the same signal
  // unless someone else handles it.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killAll();
      if (process.listenerCount(signal) === 1) {
        process.off(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}
