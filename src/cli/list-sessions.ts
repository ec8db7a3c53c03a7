/**
 * @internal The sessions of a root for `dagent-sessions list`, read from the store without a
 * runtime: listing is what the command line runs most, and a runtime would load XState, the
 * request builder and the compactors only to read the figures each session keeps on disk.
 *
 * The infos are those `runtime.listSessions()` gives for sessions not loaded (a runtime opened
 * for the command loads none): `infoOfListing` is shared with it.
 */
import { resolveAgentProfiles } from '../runtime/agent-profiles.js';
import { resolveLimits } from '../runtime/limits.js';
import { infoOfListing } from '../runtime/session-listing.js';
import type { SessionInfo } from '../runtime/types.js';
import type { SessionStore } from '../store/contract.js';
import { JsonFileSessionStore } from '../store/session-store.js';
import { readOnlyRestateStore, restateTarget } from './restate-target.js';
import { rootDirectory } from './root-dir.js';

/**
 * @internal Every session under `root` (`--root`, default the current directory), as
 * `runtime.listSessions()` reports them.
 * @throws SessionError `INVALID_ARGUMENT` when the root is not a directory.
 * @example const sessions = await listSessionsOf('/repo')
 */
export async function listSessionsOf(rootOption: string | undefined): Promise<SessionInfo[]> {
  const compactor = await compactorName();
  const profiles = resolveAgentProfiles({});
  const baseLimits = resolveLimits(undefined);
  const store = await storeOf(rootOption);
  try {
    const limitsOf = (key: { agentType: string }) => profiles.profile(key.agentType)?.resolved ?? baseLimits;
    return (await store.list()).map((listing) => infoOfListing(listing, { limitsOf, baseLimits, compactor }));
  } finally {
    await store.close();
  }
}

/** The store `list` reads: the Restate server's with `--restate URL`, else the root's files. */
async function storeOf(rootOption: string | undefined): Promise<SessionStore> {
  const ingressUrl = restateTarget();
  if (ingressUrl !== undefined) {
    return readOnlyRestateStore(ingressUrl);
  }
  return JsonFileSessionStore.open({
    root: await rootDirectory(rootOption),
    readOnly: true,
    durable: true,
    description: `dagent-sessions list (pid ${process.pid})`,
  });
}

/** The name of the compactor a runtime of this process would use (the SDK's only with a key). */
async function compactorName(): Promise<string> {
  if (process.env.ANTHROPIC_API_KEY === undefined && process.env.ANTHROPIC_AUTH_TOKEN === undefined)
    return 'offline';
  const { AnthropicCompactor, hasAnthropicApiKey } = await import('../compaction/anthropic-compactor.js');
  return hasAnthropicApiKey() ? new AnthropicCompactor().name : 'offline';
}
