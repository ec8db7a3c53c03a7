/**
 * One block of every type the installed `@anthropic-ai/sdk` defines, typed with the SDK's own
 * types (so the compiler checks that they are what the SDK makes), as a conversation the
 * Messages API would accept: a user turn with media, an assistant turn with thinking, citations,
 * client and server tool calls and their results, and a user turn answering the tool call with
 * text and a screenshot. Media are the real files of fixtures/media.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ContentBlock } from '../../src/core/types.js';

const MEDIA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/media');

/** A fixture file of fixtures/media as base64. */
export function media(name: string): string {
  return readFileSync(path.join(MEDIA, name)).toString('base64');
}

/** The 37x23 PNG screenshot, base64 (443 bytes). */
export const PNG_37X23 = media('screenshot-37x23.png');
/** The 1000x750 JPEG photo, base64. */
export const JPEG_1000X750 = media('photo-1000x750.jpg');
/** A three-page PDF, base64. */
export const PDF_3_PAGES = media('three-pages.pdf');

const direct = { type: 'direct' } as const;

const image: Anthropic.ImageBlockParam = {
  type: 'image',
  source: { type: 'base64', media_type: 'image/png', data: PNG_37X23 },
};
const urlImage: Anthropic.ImageBlockParam = {
  type: 'image',
  source: { type: 'url', url: 'https://example.com/diagram.png' },
};
const fileImage: Anthropic.ImageBlockParam = { type: 'image', source: { type: 'file', file_id: 'file_011' } };
const pdf: Anthropic.DocumentBlockParam = {
  type: 'document',
  source: { type: 'base64', media_type: 'application/pdf', data: PDF_3_PAGES },
  title: 'Design notes',
  citations: { enabled: true },
};
const textDocument: Anthropic.DocumentBlockParam = {
  type: 'document',
  source: { type: 'text', media_type: 'text/plain', data: 'The store keeps every message.' },
  title: 'Store contract',
  context: 'From the architecture page',
};
const contentDocument: Anthropic.DocumentBlockParam = {
  type: 'document',
  source: { type: 'content', content: [{ type: 'text', text: 'First chunk.' }, image] },
};
const urlDocument: Anthropic.DocumentBlockParam = {
  type: 'document',
  source: { type: 'url', url: 'https://example.com/spec.pdf' },
};
const searchResult: Anthropic.SearchResultBlockParam = {
  type: 'search_result',
  source: 'https://example.com/wiki/compaction',
  title: 'Compaction',
  content: [{ type: 'text', text: 'A compaction folds old messages into a checkpoint.' }],
  citations: { enabled: true },
};
const containerUpload: Anthropic.ContainerUploadBlockParam = {
  type: 'container_upload',
  file_id: 'file_022',
};

/** A user turn of every user-side block (text, images, documents, a search result, an upload). */
export const USER_BLOCKS: Anthropic.ContentBlockParam[] = [
  { type: 'text', text: 'Here is what I have: a screenshot, a diagram, the notes and the spec.' },
  image,
  urlImage,
  fileImage,
  pdf,
  textDocument,
  contentDocument,
  urlDocument,
  searchResult,
  containerUpload,
];

const thinking: Anthropic.ThinkingBlock = {
  type: 'thinking',
  thinking: 'The user wants the failing test found.',
  signature: 'EuYBCkQYAiJA0sig',
};
const redacted: Anthropic.RedactedThinkingBlock = {
  type: 'redacted_thinking',
  data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT',
};
const cited: Anthropic.TextBlock = {
  type: 'text',
  text: 'The docs say compaction keeps every message.',
  citations: [
    {
      type: 'web_search_result_location',
      cited_text: 'keeps every message',
      encrypted_index: 'Eo8BCioIAhgBIiQyYjQ0',
      title: 'Compaction',
      url: 'https://example.com/wiki/compaction',
    },
    {
      type: 'char_location',
      cited_text: 'The store keeps every message.',
      document_index: 1,
      document_title: 'Store contract',
      start_char_index: 0,
      end_char_index: 30,
      file_id: null,
    },
  ],
};
const search: Anthropic.ServerToolUseBlock = {
  type: 'server_tool_use',
  id: 'srvtoolu_01',
  name: 'web_search',
  input: { query: 'dagent compaction' },
  caller: direct,
};
const searchResults: Anthropic.WebSearchToolResultBlock = {
  type: 'web_search_tool_result',
  tool_use_id: 'srvtoolu_01',
  caller: direct,
  content: [
    {
      type: 'web_search_result',
      title: 'Compaction',
      url: 'https://example.com/wiki/compaction',
      encrypted_content: 'EqgfCioIARgBIiQ3YTAwMjY1Mi1mZjM5LTQ1NGUtODgxNC1kNjNjNTk1ZWI3Y2'.repeat(8),
      page_age: '2 days ago',
    },
  ],
};
const fetch: Anthropic.ServerToolUseBlock = {
  type: 'server_tool_use',
  id: 'srvtoolu_02',
  name: 'web_fetch',
  input: { url: 'https://example.com/spec.txt' },
  caller: direct,
};
const fetched: Anthropic.WebFetchToolResultBlock = {
  type: 'web_fetch_tool_result',
  tool_use_id: 'srvtoolu_02',
  caller: direct,
  content: {
    type: 'web_fetch_result',
    url: 'https://example.com/spec.txt',
    retrieved_at: '2025-06-01T10:00:00Z',
    content: {
      type: 'document',
      source: { type: 'text', media_type: 'text/plain', data: 'Spec: requests never pass the limit.' },
      title: 'Spec',
      citations: null,
    },
  },
};
const run: Anthropic.ServerToolUseBlock = {
  type: 'server_tool_use',
  id: 'srvtoolu_03',
  name: 'bash_code_execution',
  input: { command: 'npm test' },
  caller: direct,
};
const ran: Anthropic.BashCodeExecutionToolResultBlock = {
  type: 'bash_code_execution_tool_result',
  tool_use_id: 'srvtoolu_03',
  content: {
    type: 'bash_code_execution_result',
    stdout: '12 passed',
    stderr: '',
    return_code: 0,
    content: [],
  },
};
const python: Anthropic.ServerToolUseBlock = {
  type: 'server_tool_use',
  id: 'srvtoolu_04',
  name: 'code_execution',
  input: { code: 'print(6 * 7)' },
  caller: direct,
};
const pythonRan: Anthropic.CodeExecutionToolResultBlock = {
  type: 'code_execution_tool_result',
  tool_use_id: 'srvtoolu_04',
  content: { type: 'code_execution_result', stdout: '42\n', stderr: '', return_code: 0, content: [] },
};
const view: Anthropic.ServerToolUseBlock = {
  type: 'server_tool_use',
  id: 'srvtoolu_05',
  name: 'text_editor_code_execution',
  input: { command: 'view', path: 'notes.md' },
  caller: direct,
};
const viewed: Anthropic.TextEditorCodeExecutionToolResultBlock = {
  type: 'text_editor_code_execution_tool_result',
  tool_use_id: 'srvtoolu_05',
  content: {
    type: 'text_editor_code_execution_view_result',
    content: '# Notes',
    file_type: 'text',
    num_lines: 1,
    start_line: 1,
    total_lines: 1,
  },
};
const toolSearch: Anthropic.ServerToolUseBlock = {
  type: 'server_tool_use',
  id: 'srvtoolu_06',
  name: 'tool_search_tool_regex',
  input: { pattern: 'git' },
  caller: direct,
};
const toolsFound: Anthropic.ToolSearchToolResultBlock = {
  type: 'tool_search_tool_result',
  tool_use_id: 'srvtoolu_06',
  content: {
    type: 'tool_search_tool_search_result',
    tool_references: [{ type: 'tool_reference', tool_name: 'git_log' }],
  },
};
const mcpCall: Anthropic.Beta.BetaMCPToolUseBlock = {
  type: 'mcp_tool_use',
  id: 'mcptoolu_01',
  name: 'list_issues',
  server_name: 'tracker',
  input: { state: 'open' },
};
const mcpResult: Anthropic.Beta.BetaMCPToolResultBlock = {
  type: 'mcp_tool_result',
  tool_use_id: 'mcptoolu_01',
  is_error: false,
  content: [{ type: 'text', text: '#12 every block type', citations: null }],
};
const uploaded: Anthropic.ContainerUploadBlock = { type: 'container_upload', file_id: 'file_033' };
const call: Anthropic.ToolUseBlock = {
  type: 'tool_use',
  id: 'toolu_01',
  name: 'screenshot',
  input: { page: '/inspector' },
  caller: direct,
};

/** An assistant turn of every assistant-side block, ending with a client tool call (`toolu_01`). */
export const ASSISTANT_BLOCKS: ContentBlock[] = [
  thinking,
  redacted,
  search,
  searchResults,
  fetch,
  fetched,
  run,
  ran,
  python,
  pythonRan,
  view,
  viewed,
  toolSearch,
  toolsFound,
  mcpCall,
  mcpResult,
  uploaded,
  cited,
  call,
];

const result: Anthropic.ToolResultBlockParam = {
  type: 'tool_result',
  tool_use_id: 'toolu_01',
  content: [
    { type: 'text', text: 'The inspector at 420 px:' },
    image,
    { type: 'tool_reference', tool_name: 'screenshot' },
  ],
};

/** The user's answer to `toolu_01` (text and a screenshot), and a block of a type no SDK defines yet. */
export const ANY_BLOCKS: ContentBlock[] = [
  result,
  { type: 'hologram', frames: 3, note: 'a block type from the future' } as unknown as ContentBlock,
];

/** The three turns, as MessageParams. */
export const CONVERSATION = [
  { role: 'user' as const, content: USER_BLOCKS },
  { role: 'assistant' as const, content: ASSISTANT_BLOCKS },
  { role: 'user' as const, content: ANY_BLOCKS },
];
