/**
 * The session client on Restate holds a context and a description to the same rules as the
 * runtime (test/runtime/fixed-parts.test.ts): room for a conversation in the session's limits,
 * and `maxMessageBytes`; a refused call writes nothing to the object.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedPartsRoom } from '../../src/core/fixed-parts-room.js';
import { serveRestateEndpoint, type RestateEndpointServer } from '../../src/restate/endpoint-server.js';
import { createRestateSessionClient, type RestateSessionClient } from '../../src/restate/session-client.js';
import { restateServices } from '../../src/restate/services.js';
import { resolveLimits } from '../../src/runtime/limits.js';
import { useRestateServer } from '../support/restate-server.js';

const server = useRestateServer();
let endpoint: RestateEndpointServer;
let client: RestateSessionClient;
const LIMITS = { maxTokens: 20_000 };
const ROOM = fixedPartsRoom(resolveLimits(LIMITS));
const MAX_BYTES = 256 * 1024;
const words = (tokens: number) => 'word '.repeat(tokens);

beforeAll(async () => {
  endpoint = await serveRestateEndpoint({ services: restateServices(), logger: () => undefined });
  await server.register(endpoint.url);
  client = await createRestateSessionClient({
    ingressUrl: server.ingressUrl,
    namespace: 'fixed',
    limits: LIMITS,
    maxMessageBytes: MAX_BYTES,
  });
});

afterAll(async () => {
  await client?.close();
  await endpoint?.close();
});

const codeAndDetails = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (error: { code?: string; details?: Record<string, unknown>; message?: string }) => ({
      code: error.code,
      details: error.details,
      message: error.message,
    }),
  );

describe('a context or description too large for the session, on Restate', () => {
  it('create, setContext and setAgentDescription refuse it and write nothing', async () => {
    const key = { type: 'feature', agentType: 'dev', featureId: 'too-large' } as const;
    const created = await codeAndDetails(client.create(key, { context: { notes: words(ROOM + 500) } }));
    expect(created).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { reason: 'fixed-parts-too-large', room: ROOM },
    });
    expect(created?.message).toContain('larger maxTokens');
    expect((await client.list()).map((s) => s.id)).not.toContain('feature--too-large--dev');

    const { id } = await client.create(key, { context: { featureName: 'Export' } });
    const description = await client.getAgentDescription(id);
    expect(await codeAndDetails(client.setContext(id, { notes: words(2 * ROOM) }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { reason: 'fixed-parts-too-large', part: 'context' },
    });
    expect(
      await codeAndDetails(client.setAgentDescription(id, { role: 'dev', notes: words(ROOM + 100) })),
    ).toMatchObject({ code: 'INVALID_ARGUMENT', details: { reason: 'fixed-parts-too-large' } });
    expect(await codeAndDetails(client.setContext(id, { notes: 'x'.repeat(MAX_BYTES + 1) }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { reason: 'too-many-bytes', maxBytes: MAX_BYTES },
    });
    expect(await client.getContext(id)).toEqual({ featureName: 'Export' });
    expect(await client.getAgentDescription(id)).toEqual(description);

    // One that leaves room is taken, and requests are built.
    await client.setContext(id, { notes: words(ROOM - 1_000) });
    expect((await client.previewRequest(id)).fits).toBe(true);
  });
});
