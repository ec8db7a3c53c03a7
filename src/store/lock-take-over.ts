/**
 * @internal Taking the root lock: linking a candidate in, and taking over a dead holder's lock
 * through a chain of claims (the protocol is described in root-lock.ts).
 */
import { link, open, readdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SessionError } from '../core/errors.js';
import { isErrno } from './durable-fs.js';
import { isOurToken } from './held-locks.js';
import { describeHolder, readEntry, unlinkIfPresent, type LockEntry, type LockHolder } from './lock-file.js';
import { holderLiveness, type Liveness, type PlatformFacts } from './process-liveness.js';

/** @internal How long an unreadable lock must stay unchanged before it is taken over. */
export const DEFAULT_UNREADABLE_GRACE_MS = 5_000;
/** @internal How long to wait for another process that is taking the lock over right now. */
export const DEFAULT_PATIENCE_MS = 5_000;
const POLL_MS = 10;
/** Longer chains of dead claimants than this are not followed (each link is a crashed process). */
const MAX_CHAIN = 64;

/** @internal What one acquisition works with. */
export interface Attempt {
  root: string;
  dir: string;
  file: string;
  candidate: string;
  holder: LockHolder;
  facts: PlatformFacts;
  graceMs: number;
  /** Monotonic ms by unreadable-file version, when we first saw it. */
  unreadableSince: Map<string, number>;
  /** False once link() failed other than with EEXIST: the filesystem has no hard links. */
  hardLinks: boolean;
  patienceMs: number;
}

type TakeOver = { kind: 'taken' } | { kind: 'retry' } | { kind: 'busy'; claimant: LockHolder | null };

/**
 * Puts our lock under the name `to` unless that name exists (then answers false): a link() of the
 * candidate, so that it appears complete. Where the filesystem has no hard links (FAT, exFAT, some
 * network shares), an exclusive create and write instead: others may then see it empty for a
 * moment, which they treat as a lock being written.
 */
async function placeExclusive(attempt: Attempt, to: string): Promise<boolean> {
  if (attempt.hardLinks) {
    try {
      await link(attempt.candidate, to);
      return true;
    } catch (error) {
      if (isErrno(error, 'EEXIST')) return false;
      attempt.hardLinks = false; // EPERM, ENOTSUP, ...: the exclusive create below says if it was more
    }
  }
  let handle;
  try {
    handle = await open(to, 'wx');
  } catch (error) {
    if (isErrno(error, 'EEXIST')) return false;
    throw error;
  }
  try {
    await handle.writeFile(`${JSON.stringify(attempt.holder)}\n`);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(to).catch(() => undefined);
    throw error;
  }
  await handle.close();
  return true;
}

/** Whether the process named by a lock or claim runs; this very process answers from its table. */
function livenessOf(holder: LockHolder, attempt: Attempt): Liveness {
  const self = attempt.holder;
  const sameProcess =
    holder.hostname === self.hostname && holder.pid === self.pid && holder.processStart === self.processStart;
  if (!sameProcess) return holderLiveness(holder, attempt.facts);
  if ((holder.threadId ?? 0) !== (self.threadId ?? 0)) {
    return { state: 'unknown', why: `another thread of this process (${holder.threadId ?? 0}) holds it` };
  }
  return isOurToken(holder.token)
    ? { state: 'alive', why: 'another runtime of this process holds it' }
    : { state: 'dead', why: 'this process left it behind and no longer holds it' };
}

/** Whether an entry that does not parse has stayed unchanged long enough to be taken over. */
function unreadableLongEnough(entry: LockEntry, attempt: Attempt): boolean {
  if (Date.now() - entry.mtimeMs >= attempt.graceMs) return true;
  const now = performance.now();
  const since = attempt.unreadableSince.get(entry.version) ?? now;
  attempt.unreadableSince.set(entry.version, since);
  return now - since >= attempt.graceMs;
}

function isDead(entry: LockEntry, attempt: Attempt): boolean {
  return entry.holder
    ? livenessOf(entry.holder, attempt).state === 'dead'
    : unreadableLongEnough(entry, attempt);
}

function claimFile(attempt: Attempt, id: string): string {
  return path.join(attempt.dir, `lock.${id}.next`);
}

/**
 * The claims from the lock entry `id` to ours, if every claimant on the way is dead and the chain
 * ends with our claim; else null.
 */
async function chainToUs(attempt: Attempt, id: string): Promise<string[] | null> {
  const claims: string[] = [];
  for (let hop = 0; hop < MAX_CHAIN; hop++) {
    const claim = claimFile(attempt, id);
    const entry = await readEntry(claim);
    if (entry === null) return null;
    claims.push(claim);
    if (entry.holder?.token === attempt.holder.token) return claims;
    if (!isDead(entry, attempt)) return null;
    id = entry.id;
  }
  return null;
}

/** With our claim made: if the lock is still the one claimed, replace it with ours. */
async function settle(attempt: Attempt, ourClaim: string): Promise<TakeOver> {
  const current = await readEntry(attempt.file);
  const chain = current && (await chainToUs(attempt, current.id));
  if (!chain) {
    await unlinkIfPresent(ourClaim); // ours: nobody removes a live process's claim
    return { kind: 'retry' };
  }
  await rename(attempt.candidate, attempt.file);
  // The lock is ours now; a claim that cannot be removed is swept later (its claimant is dead).
  for (const claim of chain) await unlinkIfPresent(claim).catch(() => undefined);
  return { kind: 'taken' };
}

/** Takes over the dead lock entry `id`, following claims of dead claimants to the end of the chain. */
async function takeOver(attempt: Attempt, id: string): Promise<TakeOver> {
  for (let hop = 0; hop < MAX_CHAIN; hop++) {
    const claim = claimFile(attempt, id);
    if (await placeExclusive(attempt, claim)) {
      try {
        return await settle(attempt, claim);
      } catch (error) {
        // Not left behind while we live: others would wait for us as for a taker at work.
        await unlinkIfPresent(claim).catch(() => undefined);
        throw error;
      }
    }
    const entry = await readEntry(claim);
    if (entry === null) return { kind: 'retry' }; // its taker finished meanwhile
    if (!isDead(entry, attempt)) return { kind: 'busy', claimant: entry.holder };
    id = entry.id;
  }
  return { kind: 'retry' };
}

function lockedError(attempt: Attempt, holder: LockHolder, liveness: Liveness): SessionError {
  const { root, file } = attempt;
  const self = holder.pid === attempt.holder.pid && holder.hostname === attempt.holder.hostname;
  const advice =
    liveness.state === 'unknown'
      ? `it may still run (${liveness.why}); stop it, or open this root with readOnly: true, ` +
        `and if it is gone, delete ${file}`
      : self
        ? `${liveness.why}; close it first, or open this one with readOnly: true`
        : 'stop that process, or open this root with readOnly: true';
  return new SessionError(
    'ROOT_LOCKED',
    'lock',
    `${root} is open for writing by ${describeHolder(holder)}; ${advice}`,
    {
      details: { root, file, holder, liveness },
    },
  );
}

/** @internal Links our candidate in as the lock, or takes over a dead holder's; throws ROOT_LOCKED otherwise. */
export async function takeLock(attempt: Attempt): Promise<void> {
  // Unreadable locks are waited for by unreadableLongEnough (at most the grace period); this
  // bounds the rest: a live taker that does not finish, or others that keep taking the lock.
  const deadline = performance.now() + attempt.graceMs + attempt.patienceMs;
  let busySince: number | null = null;
  let waitingFor: LockHolder | null = null;
  while (performance.now() < deadline) {
    if (await placeExclusive(attempt, attempt.file)) return;
    const current = await readEntry(attempt.file);
    if (current === null) continue; // released meanwhile
    if (current.holder) {
      const liveness = livenessOf(current.holder, attempt);
      if (liveness.state !== 'dead') throw lockedError(attempt, current.holder, liveness);
    } else if (!unreadableLongEnough(current, attempt)) {
      await sleep(POLL_MS); // perhaps being written by an old version: wait until it parses or ages
      continue;
    }
    const outcome = await takeOver(attempt, current.id);
    if (outcome.kind === 'taken') return;
    if (outcome.kind === 'busy') {
      // Another process is replacing the lock right now: see who won, unless it takes too long.
      waitingFor = outcome.claimant;
      busySince ??= performance.now();
      if (performance.now() - busySince >= attempt.patienceMs) break;
      await sleep(POLL_MS);
    }
  }
  const who = waitingFor
    ? `${describeHolder(waitingFor)} is taking it over`
    : 'other processes keep taking it';
  throw new SessionError(
    'ROOT_LOCKED',
    'lock',
    `could not take the lock ${attempt.file}: ${who}; try again in a moment`,
    {
      retryable: true,
      details: { root: attempt.root, file: attempt.file, ...(waitingFor ? { holder: waitingFor } : {}) },
    },
  );
}

/**
 * @internal Removes what crashed takers left in `.dagent` (candidates and claims of dead processes, and
 * `lock.stale-*` files of older versions). Runs while we hold the lock, so it is the only cleaner.
 */
export async function sweep(attempt: Attempt): Promise<void> {
  const names = await readdir(attempt.dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!/^lock\.(.+\.(candidate|next)|stale-[0-9a-f]+)$/.test(name)) continue;
    const file = path.join(attempt.dir, name);
    const entry = await readEntry(file).catch(() => null);
    if (entry && entry.holder?.token !== attempt.holder.token && isDead(entry, attempt)) {
      await unlinkIfPresent(file).catch(() => undefined);
    }
  }
}
