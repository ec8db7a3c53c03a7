/**
 * The prompt cache of the test Messages API server, simulated: what the real API does with
 * `cache_control` breakpoints, reduced to what a client can observe. Each breakpoint names a
 * prefix of the request (tools, system, messages, up to and including the marked block); a
 * later request whose prefix at some block boundary, at most 20 blocks before one of its
 * breakpoints, has the same bytes (breakpoints themselves aside) reads it from the cache
 * (`cache_read_input_tokens`); the prefix of its last breakpoint that was not cached is written
 * (`cache_creation_input_tokens`); the rest is `input_tokens`. Prefixes shorter than
 * `minTokens` are not cached, as with the real API.
 */
import { createHash } from 'node:crypto';

/** One breakpoint of a request, as the server saw it. */
export interface CacheBreakpoint {
  /** Where the marked block is: `system[0]`, `messages[3].content[1]`, `tools[2]`. */
  at: string;
  /** Canonical JSON of everything up to and including the marked block, `cache_control` left out. */
  prefix: string;
  /** sha256 of `prefix`. */
  hash: string;
  /** Tokens of the prefix, as the server counts them. */
  tokens: number;
}

/** The cache's part of a request's usage. */
export interface CacheUsage {
  read: number;
  creation: number;
}

/** @internal One block of a request, in order, with where it is. */
interface Unit {
  at: string;
  value: unknown;
  text: string;
}

/** The lookback of the API: block boundaries before a breakpoint that it checks for a hit. */
const LOOKBACK_BLOCKS = 20;

/** @internal The blocks of a request in prefix order: tools, system, messages. */
function unitsOf(body: Record<string, unknown>, textOf: (block: unknown) => string): Unit[] {
  const units: Unit[] = [];
  (Array.isArray(body.tools) ? (body.tools as unknown[]) : []).forEach((tool, i) =>
    units.push({ at: `tools[${i}]`, value: tool, text: JSON.stringify(withoutCache(tool)) }),
  );
  const system = body.system;
  if (typeof system === 'string')
    units.push({ at: 'system', value: { type: 'text', text: system }, text: system });
  else if (Array.isArray(system))
    system.forEach((block, i) => units.push({ at: `system[${i}]`, value: block, text: textOf(block) }));
  (Array.isArray(body.messages) ? (body.messages as Array<Record<string, unknown>>) : []).forEach(
    (message, i) => {
      const content = message?.content;
      const blocks =
        typeof content === 'string'
          ? [{ type: 'text', text: content }]
          : Array.isArray(content)
            ? content
            : [];
      blocks.forEach((block, j) =>
        units.push({
          at: `messages[${i}].content[${j}]`,
          value: { role: message.role, block },
          text: textOf(block),
        }),
      );
    },
  );
  return units;
}

/** @internal A value without any `cache_control` key, at any depth. */
function withoutCache(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutCache);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== 'cache_control')
      .map(([key, v]) => [key, withoutCache(v)]),
  );
}

function isMarked(unit: Unit): boolean {
  const value = unit.value as { cache_control?: unknown; block?: { cache_control?: unknown } };
  const mark = value.block === undefined ? value.cache_control : value.block.cache_control;
  return mark !== undefined && mark !== null;
}

/**
 * A simulated prompt cache, shared by every request to one server.
 *
 * @param count - how the server counts tokens of text.
 * @param textOf - the text of one block, as the server counts it.
 * @param minTokens - prefixes shorter than this are not cached (the API's minimum: 1024 for most models).
 */
export function createPromptCache(
  count: (text: string) => number,
  textOf: (block: unknown) => string,
  minTokens: number,
) {
  const cached = new Map<string, number>();
  return {
    /**
     * The breakpoints of a request and what the cache does with them; the prefixes of its
     * breakpoints are cached afterwards.
     */
    serve(
      body: Record<string, unknown>,
      totalTokens: number,
    ): { breakpoints: CacheBreakpoint[]; usage: CacheUsage } {
      const units = unitsOf(body, textOf);
      // A hash chain: the hash at block i names the whole prefix up to it, in one pass.
      const hashes: string[] = [];
      let previous = '';
      for (const unit of units) {
        previous = createHash('sha256')
          .update(previous)
          .update(JSON.stringify(withoutCache(unit.value)))
          .digest('hex');
        hashes.push(previous);
      }
      const hash = (i: number) => hashes[i]!;
      const breakpoints: CacheBreakpoint[] = [];
      units.forEach((unit, i) => {
        if (!isMarked(unit)) return;
        const upTo = units.slice(0, i + 1);
        breakpoints.push({
          at: unit.at,
          prefix: JSON.stringify(withoutCache(upTo.map((u) => u.value))),
          hash: hash(i),
          tokens: count(upTo.map((u) => u.text).join('\n')),
        });
      });
      let read = 0;
      for (const point of breakpoints) {
        const index = units.findIndex((u) => u.at === point.at);
        for (let j = index; j >= 0 && j > index - LOOKBACK_BLOCKS; j--) {
          const hit = cached.get(hash(j));
          if (hit !== undefined) {
            read = Math.max(read, hit);
            break;
          }
        }
      }
      const last = breakpoints[breakpoints.length - 1];
      const creation =
        last !== undefined && last.tokens >= minTokens && last.tokens > read ? last.tokens - read : 0;
      for (const point of breakpoints) if (point.tokens >= minTokens) cached.set(point.hash, point.tokens);
      read = Math.min(read, totalTokens);
      return { breakpoints, usage: { read, creation: Math.min(creation, totalTokens - read) } };
    },
  };
}
