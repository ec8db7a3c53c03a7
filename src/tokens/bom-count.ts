/**
 * @internal Exact counts of text holding U+FEFF (a byte order mark), without building js-tiktoken.
 *
 * gpt-tokenizer miscounts a piece holding U+FEFF: it looks ranks up by decoding bytes with a
 * `TextDecoder` that drops a leading byte order mark, so the piece `\ufeff` (one token) counts two,
 * and merges through it go wrong. js-tiktoken counts it right, but building its encoder takes
 * 300-400 ms and 60 MB, once per process and thread, for what is one tool result in a transcript.
 *
 * So such text is cut into pieces by js-tiktoken's own pattern (the encoding's `pat_str`); a piece
 * without U+FEFF is counted by gpt-tokenizer (exact for it: the bytes it looks up never start with a
 * byte order mark, and a piece on its own is one piece again for both patterns); a piece with one is
 * merged here exactly as js-tiktoken merges it (`bytePairMerge` of its `lite` build), with the ranks
 * read from js-tiktoken's rank file, keyed by their base64 (no decoding: about 30 ms once).
 * `test/tokens/encoding-cache.test.ts` compares it with js-tiktoken on generated text of every kind.
 */

/** @internal What counting text holding U+FEFF needs of an encoding: its pattern and its ranks. */
export interface ReferenceRanks {
  /** js-tiktoken's pre-tokenising pattern of the encoding, global and unicode. */
  pattern: RegExp;
  /** Rank by the base64 of the token's bytes, as js-tiktoken's rank file writes them. */
  ranks: Map<string, number>;
}

/** @internal js-tiktoken's rank file: the pattern and the ranks, `"! <offset> <base64>..."` lines. */
export interface TiktokenRankFile {
  pat_str: string;
  bpe_ranks: string;
}

/** @internal Reads a rank file into {@link ReferenceRanks} (tokens stay base64: no decoding). */
export function referenceRanks(file: TiktokenRankFile): ReferenceRanks {
  const ranks = new Map<string, number>();
  for (const line of file.bpe_ranks.split('\n')) {
    if (line === '') continue;
    const fields = line.split(' ');
    const offset = Number.parseInt(fields[1]!, 10);
    for (let i = 2; i < fields.length; i++) ranks.set(fields[i]!, offset + i - 2);
  }
  return { pattern: new RegExp(file.pat_str, 'gu'), ranks };
}

/**
 * @internal Tokens of `text` as js-tiktoken counts them (special-token text as plain text), the
 * pieces without U+FEFF counted by `countPiece` (gpt-tokenizer).
 */
export function countHoldingBom(
  reference: ReferenceRanks,
  countPiece: (piece: string) => number,
  text: string,
): number {
  let total = 0;
  for (const [piece] of text.matchAll(reference.pattern)) {
    total += piece.includes('\ufeff')
      ? mergedParts(Buffer.from(piece, 'utf8'), reference.ranks)
      : countPiece(piece);
  }
  return total;
}

/** @internal How many tokens js-tiktoken's byte-pair merge makes of `piece`. */
function mergedParts(piece: Buffer, ranks: Map<string, number>): number {
  const rankOf = (start: number, end: number) => ranks.get(piece.subarray(start, end).toString('base64'));
  if (piece.length <= 1 || rankOf(0, piece.length) !== undefined) return piece.length === 0 ? 0 : 1;
  // Part i spans [starts[i], starts[i + 1]); the lowest rank of adjacent parts merges first, the
  // leftmost of equal ranks, until no adjacent pair is a token.
  const starts = Array.from({ length: piece.length + 1 }, (_, i) => i);
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 2 < starts.length; i++) {
      const rank = rankOf(starts[i]!, starts[i + 2]!);
      if (rank !== undefined && rank < bestRank) {
        bestRank = rank;
        best = i;
      }
    }
    if (best < 0) break;
    starts.splice(best + 1, 1);
  }
  // js-tiktoken drops a part without a rank; every byte is a token of both encodings, so none is.
  let parts = 0;
  for (let i = 0; i + 1 < starts.length; i++) if (rankOf(starts[i]!, starts[i + 1]!) !== undefined) parts++;
  return parts;
}
