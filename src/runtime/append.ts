/**
 * @internal `addMessage` of the runtime: the caller's message is validated and copied once, its
 * tokens counted (large texts off the main thread), and it is handed to the session's actor in
 * call order; with an `idempotencyKey`, a retry returns the message stored the first time.
 */
import { randomUUID } from 'node:crypto';
import type { AppendReply } from '../../machines/session.machine.js';
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
}

/** @internal The runtime's append operations. */
export function createAppender(deps: AppendDeps) {
  const { send, estimator } = deps;
  const takeSlot = createAppendOrder();
  const locks = createKeyLocks();

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

  /** Counts, waits for its turn, hands the message to the actor and waits for it to be durable. */
  async function write(id: string, input: MessageInput, slot: AppendSlot): Promise<Message> {
    try {
      const timestamp = input.timestamp ?? deps.at();
      const tokens = await countTokens(input);
      await slot.turn;
      const message = {
        id: `msg_${randomUUID()}`,
        role: input.role,
        content: input.content,
        timestamp,
        tokens,
        ...(input.metadata === undefined ? {} : { metadata: input.metadata }),
        ...(input.idempotencyKey === undefined ? {} : { idempotencyKey: input.idempotencyKey }),
      };
      // The session is looked up once, by send: an unknown id or an archived session fails there.
      const reply = await send<AppendReply>(id, (r) => {
        slot.release();
        return { type: 'APPEND', message, reply: r };
      });
      if (!reply.ok) throw toSessionError(reply.error, id);
      return reply.message;
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
    async addMessage(id: string, raw: unknown, replyTo?: string): Promise<Message> {
      const valid = validateMessageInput(raw, { maxBytes: deps.maxMessageBytes });
      const input = replyTo === undefined ? valid : { ...valid, idempotencyKey: replyKeyOf(replyTo) };
      // Taken before anything is awaited: the call's place in the session's order.
      const slot = takeSlot(id);
      const stored =
        input.idempotencyKey === undefined
          ? await write(id, input, slot)
          : await writeOnce(id, input as MessageInput & { idempotencyKey: string }, slot);
      return stored; // deep-frozen by the session handle: shared, not copied
    },

    /** The message stored under `key` in the window of idempotency, or null (frozen). */
    async findByKey(id: string, key: string): Promise<Message | null> {
      const found = await (await keysOf(id)).find(key);
      return found; // deep-frozen, as every stored message
    },
  };
}
