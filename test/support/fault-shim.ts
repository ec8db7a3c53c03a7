/**
 * Real I/O faults for tests: builds `fault-shim.c` (an LD_PRELOAD library; also the other shims
 * of this directory, such as `sync-thread-shim.c`) with the system's C compiler, once per checkout,
 * and describes a fault as the shim's control file reads it.
 *
 * A test runs the code under fault in a child process started with {@link faultEnv}; it can
 * change or lift the fault while the child runs with {@link FaultControl.set}. See the comment at
 * the top of `fault-shim.c` for what each key means.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const OUT_DIR = fileURLToPath(new URL('../../node_modules/.cache/dagent-fault-shim/', import.meta.url));

/** One fault: which calls on which paths fail, and how. */
export interface Fault {
  /**
   * Substring of the paths the fault applies to (`chat.log`, `/archive/`, ...); with a trailing `$`,
   * their end (`${dir}$` with `ops: ['fsync']`: the directory's own fsync, not its files').
   */
  path: string;
  /** Which calls (default `['write']`). */
  ops?: ('write' | 'fsync' | 'rename' | 'truncate' | 'open')[];
  /** The first matching call that fails, from 1 (default 1). */
  nth?: number;
  /** How many matching calls fail from the nth on; -1 for every one (default 1). */
  count?: number;
  /** The errno of a failed call (default EIO). */
  errno?: 'ENOSPC' | 'EIO' | 'EFBIG' | 'EDQUOT' | 'EROFS' | 'EACCES' | 'EINVAL' | 'EPERM';
  /**
   * The first faulted write writes half its bytes and returns that count; the faulted calls after
   * it fail with `errno`. libuv loops on short writes, so `{ short: true, count: 2, errno: 'ENOSPC' }`
   * is a full disk as Node sees it: `write()` resolves with fewer `bytesWritten` than asked.
   */
  short?: boolean;
}

/** The result of building the shim: its path, or why it could not be built. */
export type ShimBuild = { ok: true; library: string } | { ok: false; reason: string };

const building = new Map<string, Promise<ShimBuild>>();

/**
 * Builds the shim (once per checkout; rebuilt when the source is newer). Resolves to
 * `{ ok: false, reason }` only where no C compiler exists, so a test can say so clearly.
 */
export function buildFaultShim(): Promise<ShimBuild> {
  return buildShim('fault-shim');
}

/** Builds `test/support/NAME.c` into an LD_PRELOAD library, as {@link buildFaultShim} does. */
export function buildShim(name: string): Promise<ShimBuild> {
  let build = building.get(name);
  if (build === undefined) building.set(name, (build = buildLibrary(name)));
  return build;
}

async function buildLibrary(name: string): Promise<ShimBuild> {
  const sourceFile = fileURLToPath(new URL(`./${name}.c`, import.meta.url));
  const library = path.join(OUT_DIR, `${name}.so`);
  const [source, built] = await Promise.all([stat(sourceFile), stat(library).catch(() => null)]);
  if (built !== null && built.mtimeMs >= source.mtimeMs) return { ok: true, library };
  await mkdir(OUT_DIR, { recursive: true });
  const compiler = process.env.CC ?? 'cc';
  // Another test file may build at the same time: build to a unique name, then rename.
  const temporary = `${library}.${process.pid}.tmp`;
  try {
    await promisify(execFile)(compiler, [
      '-shared',
      '-fPIC',
      '-O2',
      '-Wall',
      '-o',
      temporary,
      sourceFile,
      '-ldl',
      '-lpthread',
    ]);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      return {
        ok: false,
        reason:
          `no C compiler (${compiler}) on this machine; ` +
          `install one (Debian: gcc) to run the fault-injection tests`,
      };
    }
    throw error;
  }
  await rename(temporary, library);
  return { ok: true, library };
}

/** The text of the shim's control file for a fault, or for none. */
export function faultText(fault: Fault | null, log?: string): string {
  if (fault === null) return '';
  const lines = [
    `path=${fault.path}`,
    `ops=${(fault.ops ?? ['write']).join(',')}`,
    `nth=${fault.nth ?? 1}`,
    `count=${fault.count ?? 1}`,
    `errno=${fault.errno ?? 'EIO'}`,
    `short=${fault.short ? 1 : 0}`,
  ];
  if (log !== undefined) lines.push(`log=${log}`);
  return `${lines.join('\n')}\n`;
}

/** A control file a running child's shim reads on every matching call. */
export class FaultControl {
  readonly file: string;
  /** Where the shim writes one line per faulted call (`write /path`, `short-write /path`, ...). */
  readonly log: string;

  constructor(dir: string) {
    this.file = path.join(dir, 'fault-control');
    this.log = path.join(dir, 'fault-log');
  }

  /** Sets (or with null, lifts) the fault; the next matching call sees it and counts from 1. */
  async set(fault: Fault | null): Promise<void> {
    // Through a rename, so that the shim never reads half a control file.
    await writeFile(`${this.file}.tmp`, faultText(fault, this.log));
    await rename(`${this.file}.tmp`, this.file);
  }

  /** The faulted calls so far, one line each. */
  async faulted(): Promise<string[]> {
    const text = await readFile(this.log, 'utf8').catch(() => '');
    return text.split('\n').filter((line) => line !== '');
  }
}

/**
 * Environment for a child process whose I/O goes through the shim, driven by `control`.
 * libuv's io_uring path would bypass libc, so it is turned off.
 */
export function faultEnv(library: string, control: FaultControl): NodeJS.ProcessEnv {
  return { ...process.env, LD_PRELOAD: library, FAULT_CONTROL: control.file, UV_USE_IO_URING: '0' };
}

/**
 * Runs the ES module `code` in a child process whose I/O goes through the shim, driven by
 * `control`; `args` reach it as `process.argv.slice(1)`. Returns the JSON of the last line it printed.
 */
export async function runUnderShim(
  library: string,
  control: FaultControl,
  code: string,
  args: string[],
): Promise<unknown> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', code, ...args],
    { env: faultEnv(library, control) },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}
