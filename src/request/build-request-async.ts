/**
 * @internal {@link buildRequest} without counting a long text on the main thread. A request
 * counts its agent description, its context and the system prompt that holds them: with a 4 MB
 * context, the first request built in a process counted them with `estimate` here and held the
 * event loop for 0.7 s. Here a long text that is not remembered yet is not counted during the
 * build: its count is taken from what the session already knows (the persisted count of its
 * description or context, made of the same rendered text), or made with `estimateAsync` (the
 * counting worker), and the build runs again with it. The counts are the same as `estimate`'s, so
 * the request is the same as {@link buildRequest}'s.
 */
import { DEFAULT_OFF_THREAD_CHARS } from '../tokens/token-estimator-options.js';
import { buildRequestCounting, type BuiltRequest, type RequestInput } from './build-request.js';
import { recalledCount, rememberCount, rememberedCount } from './remembered-counts.js';

/**
 * @internal The request {@link buildRequest} builds from `input`, the texts of at least the
 * estimator's `offThreadChars` characters (default {@link DEFAULT_OFF_THREAD_CHARS}) that it has
 * not counted lately counted by `known` (a count the caller holds of that very text, or
 * undefined), else by `estimateAsync` off the main thread. An estimator without `estimateAsync`
 * counts as {@link buildRequest} does.
 *
 * @param known - `estimator.estimate(text)` when the caller knows it without counting (for a
 *   session's rendered description or context, its persisted count: see `storedCountOf`).
 */
export async function buildRequestOffThread(
  input: RequestInput,
  known: (text: string) => number | undefined = () => undefined,
): Promise<BuiltRequest> {
  const estimator = input.estimator;
  const estimateAsync = estimator?.estimateAsync?.bind(estimator);
  if (estimateAsync === undefined)
    return buildRequestCounting(input, (text) => rememberedCount(estimator, text));
  const { offThreadChars } = estimator as { offThreadChars?: unknown };
  const longFrom = typeof offThreadChars === 'number' ? offThreadChars : DEFAULT_OFF_THREAD_CHARS;
  // Counts made for this request: kept here too, should the remembered ones drop them meanwhile.
  const made = new Map<string, number>();
  for (;;) {
    const missing: string[] = [];
    const built = buildRequestCounting(input, (text) => {
      const tokens = made.get(text) ?? recalledCount(estimator, text);
      if (tokens !== undefined) return tokens;
      if (text.length < longFrom) return rememberedCount(estimator, text);
      missing.push(text);
      // Not counted yet: the build goes on with 0 and is made again once the count is known.
      return 0;
    });
    if (missing.length === 0) {
      // Remembered as a count made here would be: the session's next request finds them.
      for (const [text, tokens] of made) rememberCount(estimator, text, tokens);
      return built;
    }
    for (const text of new Set(missing)) made.set(text, known(text) ?? (await estimateAsync(text)));
  }
}
