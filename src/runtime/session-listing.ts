/**
 * @internal What `listSessions` says of a session that is not loaded: the store's figures as
 * stored, or why the session could not be summarised. Shared by the runtime and by
 * `dagent-sessions list`, which lists without opening a runtime (no XState, no tokenizer).
 */
import { validateKey } from '../core/ids.js';
import type { Limits, SessionKey } from '../core/types.js';
import type { SessionListing } from '../store/contract.js';
import { infoOfSummary, placeholderInfo, toSessionError } from './session-info.js';
import type { SessionInfo } from './types.js';

/** @internal What describing a listing needs. */
export interface ListingContext {
  /** The limits of a session with this key (its agent type's, else the base ones). */
  limitsOf(key: SessionKey): Limits;
  /** Limits shown for a session whose key could not be read. */
  baseLimits: Limits;
  /** The compactor's name, as `SessionInfo.compactor` shows it. */
  compactor: string;
}

/**
 * @internal The {@link SessionInfo} of a session listed by the store and not loaded.
 * @example infoOfListing(listing, { limitsOf: () => limits, baseLimits: limits, compactor: 'offline' })
 */
export function infoOfListing(listing: SessionListing, context: ListingContext): SessionInfo {
  if (listing.summary !== null) {
    const limits = context.limitsOf(validateKey(listing.summary.key));
    return infoOfSummary(listing.summary, limits, context.compactor);
  }
  const e = toSessionError(listing.error, listing.id);
  return {
    ...placeholderInfo(listing.id, context.compactor, context.baseLimits),
    error: { code: e.code, message: e.message },
    state: 'failed',
  };
}
