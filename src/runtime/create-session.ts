/**
 * @internal The writing half of `createSession`: a session not yet in the store is written with
 * its record, description, context, checkpoint and their counts, and announced. The runtime runs
 * it through the registry (`create`), so that concurrent creations of one session write it once.
 * A creation in doubt (session.json in place, its directory's fsync failed) is held as the
 * session's doubt until a retried create or a reopen confirms it ({@link createOrConfirm}).
 */
import { SCHEMA_VERSION, type SessionContext, type SessionRecord } from '../core/types.js';
import type { Limits, SessionKey } from '../core/types.js';
import { SessionError } from '../core/errors.js';
import type { SessionStore } from '../store/contract.js';
import { IN_PLACE_NOT_DURABLE } from '../store/writes-in-doubt.js';
import type { TokenEstimator } from '../tokens/token-estimator.js';
import type { ResolvedAgents } from './agent-profiles.js';
import type { SessionEvent } from './events.js';
import { countOfText, countPart, textOf } from './fixed-counts.js';
import { countFixedPartsFit } from './fixed-parts-check.js';
import { initialCheckpointOf } from './initial-checkpoint.js';
import type { SessionRegistry } from './session-registry.js';
import type { CreateSessionOptions } from './types.js';
import { validateAgentDescription, validatePlainObject } from './validate-arguments.js';

/** @internal What writing a new session needs of the runtime. */
export interface CreateSessionDeps {
  store: SessionStore;
  profiles: ResolvedAgents;
  estimator: TokenEstimator;
  /** The runtime clock's now, ISO-8601. */
  at(): string;
  limitsOf(key: SessionKey): Limits;
  publish(event: SessionEvent): void;
  /** The size limit of the context and description, in UTF-8 bytes of text (`maxMessageBytes`; 16 MiB when absent). */
  maxMessageBytes?: number;
  /** The learned correction factor requests use (1 when absent). */
  correction?(): number;
}

/**
 * @internal Writes the session `id` of `key` unless the store has it already (then nothing is
 * written: creation is idempotent). The key is valid and its agent type registered.
 *
 * @throws SessionError `INVALID_ARGUMENT` for a bad context, description or checkpoint, one over
 *   `maxMessageBytes`, or a description and context that leave no room for a conversation in the
 *   session's limits (see `fixedPartsRoom`): nothing is written;
 *   `CORRUPT_FILE` from the store for a damaged session (files without a record).
 */
export async function writeNewSession(
  deps: CreateSessionDeps,
  key: SessionKey,
  id: string,
  options: CreateSessionOptions,
): Promise<void> {
  const { store, estimator } = deps;
  if ((await store.presence(id)) === 'present') return;
  const context =
    options.context === undefined
      ? undefined
      : (validatePlainObject(options.context, 'context', deps.maxMessageBytes) as SessionContext);
  const description =
    options.agentDescription === undefined
      ? structuredClone(deps.profiles.profile(key.agentType)!.description)
      : validateAgentDescription(options.agentDescription, 'agentDescription', deps.maxMessageBytes);
  const time = deps.at();
  const checkpoint =
    options.checkpoint === undefined
      ? undefined
      : initialCheckpointOf(options.checkpoint, {
          now: time,
          estimator,
          budgetTokens: deps.limitsOf(key).checkpointTokens,
        });
  const record: SessionRecord = {
    schemaVersion: SCHEMA_VERSION,
    id,
    key,
    createdAt: time,
    updatedAt: time,
    status: 'active',
    stats: {
      totalMessages: 0,
      totalTokens: 0,
      totalCompactions: 0,
      lastCompactionAt: null,
      lastRequestTokens: 0,
    },
  };
  // Counted once here and persisted: loading the session to read it needs no tokenizer. A long
  // text is counted off the main thread, or refused uncounted when too long by far.
  const descriptionText = textOf('description', description);
  const contextText = context ? textOf('context', context) : undefined;
  const tokens = await countFixedPartsFit(estimator, {
    where: `createSession(${id})`,
    part:
      options.agentDescription === undefined
        ? 'context'
        : context === undefined
          ? 'agentDescription'
          : 'agentDescription and context',
    description: descriptionText,
    context: contextText ?? 0,
    limits: deps.limitsOf(key),
    correction: deps.correction?.() ?? 1,
  });
  const counts = {
    description: countOfText(estimator, descriptionText, tokens.descriptionTokens),
    ...(contextText !== undefined
      ? { context: countOfText(estimator, contextText, tokens.contextTokens) }
      : {}),
    ...(checkpoint ? { checkpoint: countPart(estimator, 'checkpoint', checkpoint) } : {}),
  };
  // A damaged session (files without a record) is refused here: CORRUPT_FILE.
  await store.create(record, {
    ...(context ? { context } : {}),
    agentDescription: description,
    ...(checkpoint ? { checkpoint } : {}),
    counts,
  });
  deps.publish({ type: 'session.created', sessionId: id, at: time, key: { ...key } });
}

/** @internal What creating a session and confirming a creation in doubt need of the runtime. */
export interface CreationDeps extends CreateSessionDeps {
  registry: Pick<SessionRegistry, 'create' | 'entry' | 'noteCreatedInDoubt' | 'createdInDoubt'>;
  /** Loads the session (spawns its actor) unless it is loaded. */
  load(id: string): Promise<unknown>;
  /** Stops the session's actor and loads the session again from its files. */
  reopen(id: string): Promise<unknown>;
}

/**
 * @internal `createSession` once its arguments are checked: writes the session (once, however many
 * callers at a time: {@link writeNewSession}), or confirms one whose creation is in doubt. A
 * creation whose session.json went in place but not durably (`in-place-not-durable`) rejects, its
 * session loaded first with that error as its doubt (failed, figures unconfirmed,
 * `session.write.in-doubt`, appends only), and every load holds the doubt until the create is
 * retried or the session reopened ({@link confirmCreated}): nothing is written twice.
 * @throws what {@link writeNewSession} throws.
 */
export async function createOrConfirm(
  deps: CreationDeps,
  key: SessionKey,
  id: string,
  options: CreateSessionOptions,
): Promise<void> {
  const { registry } = deps;
  try {
    await registry.create(id, () =>
      writeNewSession(deps, key, id, options).catch((error: unknown) => {
        // Noted before the creation ends: no load of the session after it misses the doubt.
        if (error instanceof SessionError && error.details.outcome === IN_PLACE_NOT_DURABLE)
          registry.noteCreatedInDoubt(id, error);
        throw error;
      }),
    );
  } catch (error) {
    // The session is in the files: loaded, so that every host sees it in doubt (session-effects.ts).
    if (error !== undefined && registry.createdInDoubt(id) === error)
      await deps.load(id).catch(() => undefined);
    throw error;
  }
  await confirmCreated(deps, id); // a retried create of a session whose creation is in doubt
}

/**
 * @internal Confirms a creation in doubt, if the session's is: the session is loaded again from its
 * files (its actor stopped first) and `session.created` published, once. Returns whether it was in
 * doubt (then the caller need not reopen it).
 */
export async function confirmCreated(
  deps: Pick<CreationDeps, 'registry' | 'reopen' | 'publish' | 'at'>,
  id: string,
): Promise<boolean> {
  if (deps.registry.createdInDoubt(id) === undefined) return false;
  deps.registry.noteCreatedInDoubt(id, undefined);
  await deps.reopen(id);
  const key = deps.registry.entry(id)?.dir.record.key;
  if (key !== undefined)
    deps.publish({ type: 'session.created', sessionId: id, at: deps.at(), key: { ...key } });
  return true;
}
