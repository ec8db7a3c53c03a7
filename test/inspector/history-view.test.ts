import { describe, expect, it } from 'vitest';
import { messageText } from '../../src/inspector/history-view.js';

describe('messageText', () => {
  it('renders message content as text', () => {
    expect(messageText({ content: 'plain' })).toBe('plain');
    expect(
      messageText({
        content: [
          { type: 'text', text: 'Running' },
          { type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'ls' } },
          {
            type: 'tool_result',
            tool_use_id: 't1',
            content: [{ type: 'text', text: 'a.ts' }],
            is_error: true,
          },
          { type: 'thinking', thinking: 'hmm' },
        ],
      }),
    ).toBe('Running\n[tool_use Bash] {"command":"ls"}\n[tool_result (error)] a.ts\n[thinking] hmm');
  });
});
