/**
 * @internal The Anthropic SDK, loaded the first time a compaction or a conversation turn needs
 * it. Loading it takes about 250 modules and a third of a second or more, which a program
 * that only reads sessions, or compacts offline, should not pay: modules that use it import its
 * types only (`import type`) and call {@link loadAnthropicSdk} when they are about to talk to the
 * API.
 */
import type * as AnthropicModule from '@anthropic-ai/sdk';

/** @internal The SDK's module: `default` is the client class, beside the error classes. */
export type AnthropicSdk = typeof AnthropicModule;

let loading: Promise<AnthropicSdk> | undefined;

/**
 * @internal The SDK's module, imported once per process. A failed import is not remembered, so
 * a later call tries again.
 * @example const { default: Anthropic } = await loadAnthropicSdk(); const client = new Anthropic();
 */
export function loadAnthropicSdk(): Promise<AnthropicSdk> {
  loading ??= import('@anthropic-ai/sdk').catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}
