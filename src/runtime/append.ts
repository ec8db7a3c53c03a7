/**
 * @internal `addMessage` of the runtime: the caller's message is validated and copied once and
 * handed to the session's actor in call order; with an `idempotencyKey`, a retry returns the
 * message stored the first time. The appends to one session that reach their turn in one
 * event-loop turn go to the actor together (one `APPEND.MANY`, one write): a burst costs the actor
 * one event instead of one per message.
 *
 * Counting is off the caller's path: a message of text, tool calls or tool results goes to the
 * actor with a proven upper bound of its count (`boundMessage`: the UTF-8 bytes of what it is
 * counted by, plus framing) and is counted exactly while it is written (append-counts.ts: a few
 * short texts here during the `fdatasync`, the rest on the counting worker, batched by turn). A count known when the
 * write is durable (the usual case for a few KB) is taken by the write: the acknowledgement
 * carries it and the actor's figures never hold the bound; a later one replaces the bound
 * afterwards (`COUNTED`, and a count record with the next write). Reads, compactions and clears
 * wait for counts still being taken, so that no decision rests on a bound and only exact counts
 * are archived. A keyed append, and content with media, is counted before it is written.
 */
import { randomUUID } from 'node:crypto';
import type {
  AppendReply,
  AppendRequest,
  NewMessage,
  SessionActorRef,
  SessionMachineEvent,
} from '../../machines/session.machine.js';
import { SessionError } from '../core/errors.js';
import type { Message, MessageInput } from '../core/types.js';
import type { TokenEstimator } from '../tokens/token-estimator.js';
import {
  KeyIndex,
  conflictError,
  createAppendOrder,
  createKeyLocks,
  replyKeyOf,
  sameMessage,
  type AppendSlot,
} from './idempotency.js';
import type { LoadedSessionRef, SessionAccess } from './session-access.js';
import { createAppendCounts } from './append-counts.js';
import type { SessionRegistry } from './session-registry.js';
import { toSessionError } from './session-info.js';
import { validateMessageInput } from './validate.js';

/** @internal What appending needs of the runtime. */
export interface AppendDeps {
  send: SessionAccess['send'];
  loadedDir(id: string): Promise<LoadedSessionRef>;
  registry: Pick<SessionRegistry, 'entry'>;
  estimator: TokenEstimator;
  /** The runtime clock's now, ISO-8601. */
  at(): string;
  /** Largest message accepted, in UTF-8 bytes of its text. */
  maxMessageBytes: number;
  /** The session's actor while it runs, without loading it (exact counts are sent to it). */
  refOf(id: string): SessionActorRef | undefined;
}

/** A message waiting to be handed to its session's actor with the others of its turn. */
interface Gathered {
  message: NewMessage;
  uncounted: boolean;
  exact?: () => number | undefined;
  resolve: (reply: AppendReply) => void;
  reject: (error: unknown) => void;
}

/** The replies to a batch, each caller's own; failed as a whole only when none was stored. */
interface BatchReply {
  ok: boolean;
  error?: unknown;
  replies: AppendReply[];
}

/**
 * The event of a batch: `APPEND` for one message, `APPEND.MANY` for more. The actor queues a
 * batch at once, so its appends share one write and one fate; `send` retries a batch (a closing
 * actor) only when none of it was stored, so that no message can be written twice.
 */
function batchEvent(batch: Gathered[], reply: (value: BatchReply) => void): SessionMachineEvent {
  const replies: AppendReply[] = new Array<AppendReply>(batch.length);
  let left = batch.length;
  const answer =
    (i: number) =>
    (value: AppendReply): void => {
      replies[i] = value;
      if (--left > 0) return;
      const failed = replies.find((r): r is AppendReply & { ok: false } => !r.ok);
      const ok = failed === undefined || replies.some((r) => r.ok);
      reply(ok ? { ok, replies } : { ok, error: failed.error, replies });
    };
  const appends = batch.map((g, i) => {
    const request: AppendRequest = { message: g.message, uncounted: g.uncounted, reply: answer(i) };
    if (g.exact !== undefined) request.exact = g.exact;
    return request;
  });
  return appends.length === 1 ? { type: 'APPEND', ...appends[0]! } : { type: 'APPEND.MANY', appends };
}

/** @internal The runtime's append operations. */
export function createAppender(deps: AppendDeps) {
  const { send, estimator } = deps;
  const takeSlot = createAppendOrder();
  const locks = createKeyLocks();
  const { countLater, exactOf, settle } = createAppendCounts(deps);

  /** The key index of a loaded session, read from its files on first use. */
  async function keysOf(id: string): Promise<KeyIndex> {
    await deps.loadedDir(id);
    const entry = deps.registry.entry(id);
    if (!entry)
      throw new SessionError('SESSION_UNAVAILABLE', 'runtime', `session ${id} is not loaded; try again`, {
        retryable: true,
      });
    const index = (entry.keys ??= new KeyIndex(entry.dir));
    try {
      await index.ready;
    } catch (error) {
      // A segment that could not be read: the next keyed write reads the keys again.
      if (entry.keys === index) delete entry.keys;
      throw error;
    }
    return index;
  }

  async function countTokens(input: MessageInput): Promise<number> {
    return estimator.estimateMessageAsync
      ? estimator.estimateMessageAsync(input)
      : estimator.estimateMessage(input);
  }

  /** The bound to append with while counting later, or null to count first. */
  function boundOf(id: string, input: MessageInput): number | null {
    // Only over a store that takes counts later, and with an estimator that proves a bound. A
    // keyed append is counted first: its retry returns exactly the message the first call did.
    if (input.idempotencyKey !== undefined) return null;
    if (!estimator.estimateMessageLater || deps.registry.entry(id)?.dir.countsLater !== true) return null;
    return estimator.boundMessage?.(input) ?? null;
  }

  const gathering = new Map<string, Gathered[]>();
  /** Per session, resolves once the last batch handed over is with the actor (or failed). */
  const handedOverTails = new Map<string, Promise<void>>();

  /**
   * Joins the session's batch of this event-loop turn; resolves with this message's own reply.
   * `exact` (an uncounted message, appended with its bound) gives its exact count once known.
   */
  function joinBatch(
    id: string,
    message: NewMessage,
    exact?: () => number | undefined,
  ): Promise<AppendReply> {
    let batch = gathering.get(id);
    if (!batch) {
      const fresh: Gathered[] = [];
      gathering.set(id, (batch = fresh));
      // After the microtasks of this turn: every caller whose turn came in it has joined by then.
      process.nextTick(() => {
        gathering.delete(id);
        void sendBatch(id, fresh);
      });
    }
    const joined = batch;
    return new Promise((resolve, reject) => {
      const gathered: Gathered = { message, uncounted: exact !== undefined, resolve, reject };
      if (exact !== undefined) gathered.exact = exact;
      joined.push(gathered);
    });
  }

  /** Sends one batch after the session's previous one reached the actor: the call order holds. */
  async function sendBatch(id: string, batch: Gathered[]): Promise<void> {
    const previous = handedOverTails.get(id);
    let sent!: () => void;
    const mine = new Promise<void>((resolve) => (sent = resolve));
    handedOverTails.set(id, mine);
    try {
      await previous;
      // The session is looked up once, by send: an unknown id or an archived session fails there.
      const result = await send<BatchReply>(id, (r) => {
        sent();
        return batchEvent(batch, r);
      });
      for (const [i, g] of batch.entries()) g.resolve(result.replies[i]!);
    } catch (error) {
      for (const g of batch) g.reject(error);
    } finally {
      sent();
      if (handedOverTails.get(id) === mine) handedOverTails.delete(id);
    }
  }

  /** Counts (or bounds), waits for its turn, hands the message to the actor, waits for it to be durable. */
  async function write(id: string, input: MessageInput, slot: AppendSlot): Promise<Message> {
    try {
      const timestamp = input.timestamp ?? deps.at();
      const bound = boundOf(id, input);
      const counting = bound === null ? null : countLater(input, bound);
      const tokens = bound ?? (await countTokens(input));
      // With a bound and no earlier call still waiting, it is this call's turn now: it hands
      // over in the turn it was made in, with no await (and no promise) for its place.
      if (slot.turn !== null) await slot.turn;
      const message: NewMessage = {
        id: `msg_${randomUUID()}`,
        role: input.role,
        content: input.content,
        timestamp,
        tokens,
      };
      if (input.metadata !== undefined) message.metadata = input.metadata;
      if (input.idempotencyKey !== undefined) message.idempotencyKey = input.idempotencyKey;
      // Joined in call order (the slot is then free for the next caller): the appends of one
      // event-loop turn reach the actor as one event and are written together.
      const replied = joinBatch(id, message, counting === null ? undefined : exactOf(counting));
      slot.release();
      const reply = await replied;
      if (!reply.ok) throw toSessionError(reply.error, id);
      // Counted while written: the reply holds the exact count, and the store and the actor have it.
      return counting === null || counting.taken === true
        ? reply.message
        : settle(id, reply.message, counting);
    } finally {
      slot.release();
    }
  }

  /** The message stored under the key, or this one, written now. */
  async function writeOnce(
    id: string,
    input: MessageInput & { idempotencyKey: string },
    slot: AppendSlot,
  ): Promise<Message> {
    const key = input.idempotencyKey;
    const name = `${id}\n${key}`;
    // A call with the same key is running: this one is a duplicate and gives up its place in
    // the order (it writes only if the other fails, and then as a retry, ordered from then on).
    let mine: AppendSlot | null = slot;
    if (locks.busy(name)) {
      slot.release();
      mine = null;
    }
    try {
      const stored = await locks.exclusive(name, async () => {
        const found = await (await keysOf(id)).find(key);
        if (found) return found;
        const message = await write(id, input, mine ?? takeSlot(id));
        deps.registry.entry(id)?.keys?.add(key, message.seq);
        return message;
      });
      if (!sameMessage(stored, input)) throw conflictError(id, key, stored);
      return stored;
    } finally {
      slot.release();
    }
  }

  return {
    /**
     * Validates, copies and appends a message; resolves with the stored message (frozen) once it
     * is durable. `replyTo` (send's reply) stores it under the key `<replyTo>/reply`, which no
     * caller's key can be.
     */
    addMessage(id: string, raw: unknown, replyTo?: string): Promise<Message> {
      let valid: MessageInput;
      try {
        valid = validateMessageInput(raw, { maxBytes: deps.maxMessageBytes });
      } catch (error) {
        return Promise.reject(error);
      }
      const input = replyTo === undefined ? valid : { ...valid, idempotencyKey: replyKeyOf(replyTo) };
      // Taken before anything is awaited: the call's place in the session's order.
      const slot = takeSlot(id);
      // Not an async call of its own, which a burst would hold suspended per append until written.
      // The stored message is deep-frozen by the session handle: shared, not copied.
      return input.idempotencyKey === undefined
        ? write(id, input, slot)
        : writeOnce(id, input as MessageInput & { idempotencyKey: string }, slot);
    },

    /** The message stored under `key` in the window of idempotency, or null (frozen). */
    async findByKey(id: string, key: string): Promise<Message | null> {
      const found = await (await keysOf(id)).find(key);
      return found; // deep-frozen, as every stored message
    },
  };
}
