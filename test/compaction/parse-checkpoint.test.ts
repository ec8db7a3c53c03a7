import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateCheckpointSummary } from '../../src/compaction/checkpoint-schema.js';
import {
  jsonCandidates,
  parseCheckpointResponse,
  type CheckpointResponse,
} from '../../src/compaction/parse-checkpoint.js';
import { isSessionError } from '../../src/core/errors.js';
import type { CheckpointSummary } from '../../src/core/types.js';

const SUMMARY: CheckpointSummary = {
  completed: ['ran `npm test` (ok)'],
  inProgress: ['rewriting src/parser.ts'],
  pending: ['update the README'],
  decisions: ['keep ESM only'],
  blockers: [],
};

const tool = (input: unknown, name = 'record_checkpoint') => ({
  type: 'tool_use',
  id: 'toolu_1',
  name,
  input,
});
const text = (value: string) => ({ type: 'text', text: value });
const answer = (
  content: Array<{ type: string }>,
  stop_reason: string | null = 'end_turn',
): CheckpointResponse => ({ content, stop_reason });

function malformed(response: CheckpointResponse): string {
  try {
    parseCheckpointResponse(response);
  } catch (error) {
    expect(isSessionError(error, 'COMPACTOR_MALFORMED')).toBe(true);
    expect((error as { retryable: boolean }).retryable).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected COMPACTOR_MALFORMED');
}

describe('parseCheckpointResponse', () => {
  it('reads the record_checkpoint tool input (first compaction: empty sections are fine)', () => {
    expect(parseCheckpointResponse(answer([tool(SUMMARY)], 'tool_use'))).toEqual(SUMMARY);
    const empty = { completed: [], inProgress: [], pending: [], decisions: [], blockers: [] };
    expect(parseCheckpointResponse(answer([tool(empty)], 'tool_use'))).toEqual(empty);
  });

  it('prefers the tool call over text, trims items and drops blank ones and unknown keys', () => {
    const input = { ...SUMMARY, completed: ['  ran `npm test` (ok) ', '   '], notes: 'extra' };
    expect(parseCheckpointResponse(answer([text('{"completed": 1}'), tool(input)], 'tool_use'))).toEqual(
      SUMMARY,
    );
  });

  it('parses a tool input given as a JSON string', () => {
    expect(parseCheckpointResponse(answer([tool(JSON.stringify(SUMMARY))], 'tool_use'))).toEqual(SUMMARY);
  });

  it.each([
    ['plain JSON', JSON.stringify(SUMMARY)],
    ['```json fences', `\`\`\`json\n${JSON.stringify(SUMMARY, null, 2)}\n\`\`\``],
    ['bare ``` fences', `\`\`\`\n${JSON.stringify(SUMMARY)}\n\`\`\``],
    [
      'fences with text around',
      `Here is the checkpoint:\n\n\`\`\`json\n${JSON.stringify(SUMMARY)}\n\`\`\`\nAnything else?`,
    ],
    ['JSON with text around, no fences', `Sure. ${JSON.stringify(SUMMARY)} Let me know.`],
    ['a first object that is not the checkpoint', `Input {"a": "}"} then ${JSON.stringify(SUMMARY)}`],
  ])('falls back to a JSON answer: %s', (_, body) => {
    expect(parseCheckpointResponse(answer([text(body)]))).toEqual(SUMMARY);
  });

  it('names each field of the wrong type', () => {
    const message = malformed(
      answer([tool({ ...SUMMARY, completed: 'all done', pending: ['ok', 42, null] })], 'tool_use'),
    );
    expect(message).toContain('[dagent-sessions] [compaction]');
    expect(message).toContain('the record_checkpoint input does not match its schema');
    expect(message).toContain('"completed" must be an array of strings, got a string');
    expect(message).toContain('"pending[1]" must be a string, got a number');
    expect(message).toContain('"pending[2]" must be a string, got null');
  });

  it('names each missing field; goals, completed and blockers may be left out', () => {
    const message = malformed(answer([tool({ completed: [], inProgress: [] })], 'tool_use'));
    expect(message).toContain('missing "pending"');
    expect(message).toContain('missing "decisions"');
    expect(message).not.toContain('missing "blockers"');
    expect(message).not.toContain('missing "goals"');
    expect(malformed(answer([tool(['a'])], 'tool_use'))).toContain('expected an object with "goals"');
    expect(
      parseCheckpointResponse(
        answer(
          [tool({ goals: [' CSV export '], inProgress: [], pending: ['tests'], decisions: [] })],
          'tool_use',
        ),
      ),
    ).toEqual({
      goals: ['CSV export'],
      completed: [],
      inProgress: [],
      pending: ['tests'],
      decisions: [],
      blockers: [],
    });
  });

  it('reports JSON text that is not a checkpoint, and prose', () => {
    expect(malformed(answer([text('```json\n{"inProgress": "x"}\n```')]))).toMatch(
      /the JSON in the answer does not match the checkpoint schema: "inProgress" must be an array/,
    );
    const prose = malformed(answer([text('I reviewed the conversation and everything looks fine.')]));
    expect(prose).toContain(
      'holds neither a record_checkpoint call nor a JSON checkpoint; it begins "I reviewed the conversation',
    );
  });

  it('reports an empty answer, another tool, and an invalid JSON string input', () => {
    expect(malformed(answer([]))).toContain('the answer is empty');
    expect(malformed(answer([tool({}, 'Bash')], 'tool_use'))).toContain(
      'called Bash instead of record_checkpoint',
    );
    expect(malformed(answer([tool('{"completed": [oops')], 'tool_use'))).toContain('input is not valid JSON');
  });

  it('says the answer was cut at max_tokens when it is incomplete', () => {
    const cut = malformed(answer([tool('{"completed": ["a", "b')], 'max_tokens'));
    expect(cut).toMatch(
      /cut at max_tokens before the checkpoint was complete .*raise maxTokens or lower the checkpoint budget/,
    );
    expect(malformed(answer([text('{"completed": ["a"')], 'max_tokens'))).toContain('cut at max_tokens');
    // Complete and valid even so: accepted.
    expect(parseCheckpointResponse(answer([tool(SUMMARY)], 'max_tokens'))).toEqual(SUMMARY);
  });

  it('never throws anything but COMPACTOR_MALFORMED, whatever the content (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ type: fc.constant('text'), text: fc.string() }),
            fc.record({
              type: fc.constant('tool_use'),
              name: fc.constant('record_checkpoint'),
              input: fc.jsonValue(),
            }),
          ),
        ),
        (content) => {
          try {
            const summary = parseCheckpointResponse({ content, stop_reason: 'end_turn' });
            expect(validateCheckpointSummary(summary).ok).toBe(true);
          } catch (error) {
            expect(isSessionError(error, 'COMPACTOR_MALFORMED')).toBe(true);
          }
        },
      ),
    );
  });
});

describe('jsonCandidates', () => {
  it('puts ```json fences first, then other fences, the whole text and balanced objects', () => {
    const candidates = jsonCandidates('a {"x": "}"} b\n```\n{"p": 1}\n```\n```json\n{"j": 2}\n```');
    expect(candidates[0]).toBe('{"j": 2}');
    expect(candidates[1]).toBe('{"p": 1}');
    expect(candidates).toContain('{"x": "}"}');
  });
});
