/**
 * @internal The writing half of `createSession`: a session not yet in the store is written with
 * its record, description, context, checkpoint and their counts, and announced. The runtime runs
 * it through the registry (`create`), so that concurrent creations of one session write it once.
 */
import { SCHEMA_VERSION, type SessionContext, type SessionRecord } from '../core/types.js';
import type { Limits, SessionKey } from '../core/types.js';
import type { SessionStore } from '../store/contract.js';
import type { TokenEstimator } from '../tokens/token-estimator.js';
import type { ResolvedAgents } from './agent-profiles.js';
import type { SessionEvent } from './events.js';
import { countOfText, countPart, textOf } from './fixed-counts.js';
import { countFixedPartsFit } from './fixed-parts-check.js';
import { initialCheckpointOf } from './initial-checkpoint.js';
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
