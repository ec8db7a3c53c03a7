/**
 * @internal The sessions of a root for `dagent-sessions list`, read from the store without a
 * runtime: listing is what the command line runs most, and a runtime would load XState, the
 * request builder and the compactors only to read the figures each session keeps on disk.
 *
 * The infos are those `runtime.listSessions()` gives for sessions not loaded (a runtime opened
 * for the command loads none): `infoOfListing` is shared with it.
 */
import type { SessionInfo } from '../runtime/types.js';
import type { SessionStore } from '../store/contract.js';
import { sessionIdsIn, sessionsDirOf } from '../store/session-ids.js';
import { readOnlyRestateStore, restateTarget } from './restate-target.js';
import { rootDirectory } from './root-dir.js';

/** Where `list` reads: a Restate server (`--restate URL`) or a root's files. */
type Target = { ingressUrl: string } | { root: string };

/**
 * @internal Every session under `root` (`--root`, default the current directory), as
 * `runtime.listSessions()` reports them.
 * @throws SessionError `INVALID_ARGUMENT` when the root is not a directory.
 * @example const sessions = await listSessionsOf('/repo')
 */
export async function listSessionsOf(rootOption: string | undefined): Promise<SessionInfo[]> {
  const ingressUrl = restateTarget();
  const target: Target =
    ingressUrl !== undefined ? { ingressUrl } : { root: await rootDirectory(rootOption) };
  // A root without sessions is answered from one readdir: the store and the runtime's rules are
  // not even loaded (what `list` costs beyond Node's own start is mostly loading modules).
  if ('root' in target && (await sessionIdsIn(sessionsDirOf(target.root))).length === 0) return [];
  const [{ resolveAgentProfiles }, { resolveLimits }, { infoOfListing }] = await Promise.all([
    import('../runtime/agent-profiles.js'),
    import('../runtime/limits.js'),
    import('../runtime/session-listing.js'),
  ]);
  const compactor = await compactorName();
  const profiles = resolveAgentProfiles({});
  const baseLimits = resolveLimits(undefined);
  const store = await storeOf(target);
  try {
    const limitsOf = (key: { agentType: string }) => profiles.profile(key.agentType)?.resolved ?? baseLimits;
    return (await store.list()).map((listing) => infoOfListing(listing, { limitsOf, baseLimits, compactor }));
  } finally {
    await store.close();
  }
}

/** The store `list` reads: the Restate server's with `--restate URL`, else the root's files. */
async function storeOf(target: Target): Promise<SessionStore> {
  if ('ingressUrl' in target) return readOnlyRestateStore(target.ingressUrl);
  const { JsonFileSessionStore } = await import('../store/session-store.js');
  return JsonFileSessionStore.open({
    root: target.root,
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
