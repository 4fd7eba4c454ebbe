/*
 * Child process management for the test bed: every server process is
 * tracked, killed on parent exit/SIGINT/SIGTERM, and started with
 * --parent-pid so that the Go side exits by itself if this process dies
 * without running any handler (SIGKILL, OOM kill, ...).
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';

const live = new Set<ChildProcess>();

/** The scheduler state letter of each thread of `pid` (Linux /proc). */
function threadStates(pid: number): string[] {
  const dir = `/proc/${pid}/task`;
  let tids: string[];
  try {
    tids = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const states: string[] = [];
  for (const tid of tids) {
    try {
      const stat = fs.readFileSync(`${dir}/${tid}/stat`, 'utf8');
      // "tid (comm) S ...": comm may contain spaces and parentheses.
      states.push(
        stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3),
      );
    } catch {
      // the thread exited meanwhile
    }
  }
  return states;
}
let handlersInstalled = false;

function killAllSync() {
  for (const child of live) {
    try {
      if (child.pid) {
        // A SIGSTOPped child must be continued to act on SIGTERM; SIGKILL
        // works regardless, and at exit time there is no time for grace.
        process.kill(child.pid, 'SIGKILL');
      }
    } catch {
      // already gone
    }
  }
  live.clear();
}

function installHandlers() {
  if (handlersInstalled) {
    return;
  }
  handlersInstalled = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = () => {
      // Someone else handles the signal (e.g. the CLI stops the test bed
      // gracefully): leave it to them; the 'exit' hook is the backstop.
      if (process.listenerCount(sig) > 1) {
        return;
      }
      // Otherwise keep the default behaviour (terminate) after killing
      // the servers, by re-raising the signal without our handler.
      killAllSync();
      process.removeListener(sig, handler);
      process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }
}

/** Number of server processes currently tracked (for tests/diagnostics). */
export function liveProcessCount(): number {
  return live.size;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type ProcessEvent = Record<string, unknown>;

export class ProcessExitError extends Error {
  constructor(
    readonly label: string,
    readonly exit: ExitInfo | undefined,
    readonly logFile: string,
  ) {
    super(
      `${label} exited (code ${exit?.code ?? '?'}${
        exit?.signal ? `, signal ${exit.signal}` : ''
      }); log ${logFile}:\n${tailFile(logFile)}`,
    );
  }

  get addressInUse(): boolean {
    return /address already in use/i.test(tailFile(this.logFile, 60));
  }
}

export function tailFile(file: string, lines = 25): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    const all = text.split('\n');
    // only look at the output of the last run of this process
    const start = all.map(l => l.startsWith('==== ')).lastIndexOf(true);
    return all
      .slice(Math.max(start, all.length - lines - 1))
      .join('\n')
      .trimEnd();
  } catch {
    return '(no log)';
  }
}

/**
 * One server process of the kube-testbed binary. Stdout carries JSON event
 * lines (e.g. {"ready":"apiserver"}), stderr goes to a log file.
 */
export class ServerProcess {
  private child?: ChildProcess;
  private events: ProcessEvent[] = [];
  private waiters = new Set<() => void>();
  private exitInfo?: ExitInfo;
  private exitPromise?: Promise<ExitInfo>;

  constructor(
    readonly label: string,
    private readonly binary: string,
    private readonly args: string[],
    readonly logFile: string,
    private readonly env: NodeJS.ProcessEnv = {},
  ) {}

  get pid(): number | undefined {
    return this.exitInfo ? undefined : this.child?.pid;
  }

  get running(): boolean {
    return Boolean(this.child && !this.exitInfo);
  }

  /** Spawns the process. Events and exit state are reset. */
  start(): void {
    if (this.running) {
      throw new Error(`${this.label} is already running`);
    }
    installHandlers();
    this.events = [];
    this.exitInfo = undefined;
    fs.appendFileSync(
      this.logFile,
      `\n==== ${new Date().toISOString()} ${this.label}: ${
        this.binary
      } ${this.args.join(' ')}\n`,
    );
    const logFd = fs.openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(
        this.binary,
        [...this.args, `--parent-pid=${process.pid}`],
        {
          stdio: ['ignore', 'pipe', logFd],
          env: { ...process.env, ...this.env },
        },
      );
    } finally {
      fs.closeSync(logFd);
    }
    this.child = child;
    live.add(child);
    const rl = readline.createInterface({ input: child.stdout! });
    rl.on('line', line => {
      const trimmed = line.trim();
      if (trimmed.startsWith('{')) {
        try {
          this.events.push(JSON.parse(trimmed));
        } catch {
          // not an event
        }
      }
      this.notify();
    });
    this.exitPromise = new Promise(resolve => {
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        live.delete(child);
        if (this.child === child) {
          this.exitInfo = { code, signal };
        }
        this.notify();
        resolve({ code, signal });
      };
      child.once('exit', onExit);
      child.once('error', err => {
        fs.appendFileSync(this.logFile, `spawn error: ${err.message}\n`);
        onExit(127, null);
      });
    });
  }

  private notify() {
    for (const w of [...this.waiters]) {
      w();
    }
  }

  /**
   * Resolves with the first event matching `pred`; rejects when the process
   * exits first or the timeout passes (with the tail of the log).
   */
  waitForEvent(
    pred: (e: ProcessEvent) => boolean,
    timeoutMs: number,
  ): Promise<ProcessEvent> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined = undefined;
      let check: () => void = () => {};
      const done = () => {
        this.waiters.delete(check);
        if (timer) clearTimeout(timer);
      };
      check = () => {
        const found = this.events.find(pred);
        if (found) {
          done();
          resolve(found);
          return;
        }
        if (this.exitInfo || !this.child) {
          done();
          reject(new ProcessExitError(this.label, this.exitInfo, this.logFile));
        }
      };
      timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `${this.label}: not ready after ${Math.round(
              timeoutMs / 1000,
            )}s; log ${this.logFile}:\n${tailFile(this.logFile)}`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  signal(sig: NodeJS.Signals): void {
    const pid = this.pid;
    if (pid) {
      process.kill(pid, sig);
    }
  }

  /**
   * Stops the process (SIGSTOP) and resolves once every one of its threads
   * is stopped. kill(2) only queues the signal: one thread is chosen to
   * begin the group stop when it next runs, and until then the others keep
   * serving requests, which on a loaded machine can take long enough for a
   * whole HTTP round trip to succeed after "stop" returned.
   */
  async freeze(timeoutMs = 5_000): Promise<void> {
    const pid = this.pid;
    if (!pid) {
      throw new Error(`${this.label} is not running`);
    }
    process.kill(pid, 'SIGSTOP');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = threadStates(pid);
      if (states.length > 0 && states.every(s => s === 'T' || s === 't')) {
        return;
      }
      if (states.length === 0 && !this.running) {
        throw new ProcessExitError(this.label, this.exitInfo, this.logFile);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `${
            this.label
          }: threads still not stopped ${timeoutMs} ms after SIGSTOP (states ${states.join(
            '',
          )})`,
        );
      }
      await new Promise(resolve => setTimeout(resolve, 2));
    }
  }

  /**
   * Stops the process: SIGCONT (in case it is stopped) and SIGTERM, then
   * SIGKILL after `graceMs`.
   */
  async stop(graceMs = 8000): Promise<ExitInfo | undefined> {
    if (!this.running || !this.exitPromise) {
      return this.exitInfo;
    }
    const exited = this.exitPromise;
    try {
      this.signal('SIGCONT');
      this.signal('SIGTERM');
    } catch {
      // raced with exit
    }
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>(resolve => {
      timer = setTimeout(() => {
        try {
          this.signal('SIGKILL');
        } catch {
          // gone
        }
        resolve();
      }, graceMs);
    });
    await Promise.race([exited, killed]);
    const info = await exited;
    clearTimeout(timer);
    return info;
  }

  /** Resident set size in bytes (Linux /proc), undefined if not running. */
  rssBytes(): number | undefined {
    return this.pid ? readRssBytes(this.pid) : undefined;
  }
}

export function readRssBytes(pid: number): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface MemoryInfo {
  /** VmRSS */
  rss: number;
  /** RssAnon: private memory (Go heap, stacks, ...) */
  anon: number;
  /** RssFile: mapped file pages (mostly the binary, shared between processes) */
  file: number;
}

export function readMemoryInfo(pid: number): MemoryInfo | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => {
      const m = new RegExp(`^${k}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
      return m ? Number(m[1]) * 1024 : 0;
    };
    return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
  } catch {
    return undefined;
  }
}
