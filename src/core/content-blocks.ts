/**
 * The content blocks a message can hold: every block of the Anthropic Messages API, typed loosely
 * enough that the SDK's own block types are assignable to them. Pure types; re-exported by
 * `types.ts`.
 */

/**
 * A prompt-cache breakpoint (`{ type: 'ephemeral' }`): where the Messages API caches the prefix
 * of a request. Requests built by the runtime place their own (see `buildRequest`).
 */
export interface CacheControl {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
}

/** What a cited span of a `text` block points at (the SDK's `TextCitation`, read loosely). */
export interface TextCitation {
  type: string;
  cited_text?: string;
  document_title?: string | null;
  title?: string | null;
  url?: string;
}

/** A text block of a message, with the citations the model attached to it, if any. */
export interface TextBlock {
  type: 'text';
  text: string;
  citations?: TextCitation[] | null;
  cache_control?: CacheControl | null;
}
/** A tool call made by the assistant. */
export interface ToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: unknown;
  cache_control?: CacheControl | null;
}

/** Where the bytes of an image come from: inline base64, a URL, or a Files API file. */
export type ImageSource =
  | { type: 'base64'; media_type: string; data: string }
  | { type: 'url'; url: string }
  | { type: 'file'; file_id: string };

/** An image (user side, or inside a tool result). Counted by its pixels, never as base64 text. */
export interface ImageBlock {
  type: 'image';
  source: ImageSource;
  cache_control?: CacheControl | null;
}

/**
 * Where a document comes from: a base64 PDF, plain text, content blocks, a URL or a Files API file.
 */
export type DocumentSource =
  | { type: 'base64'; media_type: string; data: string }
  | { type: 'text'; media_type: string; data: string }
  | { type: 'content'; content: string | Array<TextBlock | ImageBlock> }
  | { type: 'url'; url: string }
  | { type: 'file'; file_id: string };

/** A document (PDF or text) for the model to read and cite. */
export interface DocumentBlock {
  type: 'document';
  source: DocumentSource;
  title?: string | null;
  context?: string | null;
  citations?: unknown;
  cache_control?: CacheControl | null;
}

/** A search result given to the model, with its source and text, citable like a document. */
export interface SearchResultBlock {
  type: 'search_result';
  source: string;
  title: string;
  content: TextBlock[];
  citations?: unknown;
  cache_control?: CacheControl | null;
}

/** A reference to a tool definition (tool search results). */
export interface ToolReferenceBlock {
  type: 'tool_reference';
  tool_name: string;
  cache_control?: CacheControl | null;
}

/**
 * What a `tool_result` may hold besides a string: text, images, documents, search results,
 * tool references, and the other blocks the API defines there (browser state...), kept verbatim.
 */
export type ToolResultContentBlock =
  | TextBlock
  | ImageBlock
  | DocumentBlock
  | SearchResultBlock
  | ToolReferenceBlock
  | { type: 'browser_state'; tabs: unknown; cache_control?: CacheControl | null };

/** The result of a tool call, sent back by the user side. */
export interface ToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  content?: string | ToolResultContentBlock[];
  is_error?: boolean;
  cache_control?: CacheControl | null;
}
/** Extended thinking, kept verbatim so that requests stay valid for the Messages API. */
export interface ThinkingBlock {
  type: 'thinking';
  thinking: string;
  signature?: string;
}
/** Thinking the API returned encrypted (safety-redacted): passed back unchanged, never shown. */
export interface RedactedThinkingBlock {
  type: 'redacted_thinking';
  data: string;
}
/** A call of a tool the API runs itself (web search, web fetch, code execution, tool search). */
export interface ServerToolUseBlock {
  type: 'server_tool_use';
  id: string;
  name: string;
  input: unknown;
  cache_control?: CacheControl | null;
}
/** The types of the results of server tools, in the assistant's turn after their call. */
export type ServerToolResultType =
  | 'web_search_tool_result'
  | 'web_fetch_tool_result'
  | 'code_execution_tool_result'
  | 'bash_code_execution_tool_result'
  | 'text_editor_code_execution_tool_result'
  | 'tool_search_tool_result'
  | 'advisor_tool_result';
/** The result of a server tool call, as the API returned it (its `content` kept verbatim). */
export interface ServerToolResultBlock {
  type: ServerToolResultType;
  tool_use_id: string;
  content: unknown;
  cache_control?: CacheControl | null;
}
/** A call of a tool of a remote MCP server (the MCP connector, beta). */
export interface McpToolUseBlock {
  type: 'mcp_tool_use';
  id: string;
  name: string;
  server_name: string;
  input: unknown;
  cache_control?: CacheControl | null;
}
/** The result of an MCP connector call (beta). */
export interface McpToolResultBlock {
  type: 'mcp_tool_result';
  tool_use_id: string;
  content?: string | TextBlock[];
  is_error?: boolean;
  cache_control?: CacheControl | null;
}
/** A file uploaded to the code execution container. */
export interface ContainerUploadBlock {
  type: 'container_upload';
  file_id: string;
  cache_control?: CacheControl | null;
}
/** The API's own summary of earlier context (context management compaction, beta). */
export interface CompactionBlock {
  type: 'compaction';
  content?: string | null;
  encrypted_content?: string | null;
  cache_control?: CacheControl | null;
}
/**
 * The other block types of the SDK's beta messages, kept verbatim: the model's fallback notice,
 * an MCP server's tool listing, and tool additions and removals.
 */
export interface OtherBetaBlock {
  type: 'fallback' | 'mcp_tool_listing' | 'tool_addition' | 'tool_removal';
  cache_control?: CacheControl | null;
}

/**
 * Any content block of a message: every block of the Messages API (`ContentBlockParam` and the
 * `ContentBlock` of replies, beta ones included), so that `addMessage(id, messageParam)` and
 * `addMessage(id, { role: 'assistant', content: reply.content })` type-check with the SDK's own
 * types. Blocks are stored and sent back verbatim; a block of a type the API adds later is
 * accepted too (any object with a string `type`), cast to this type.
 *
 * @example
 * ```ts
 * const image: ContentBlock = { type: 'image', source: { type: 'base64', media_type: 'image/png', data } };
 * ```
 */
export type ContentBlock =
  | TextBlock
  | ToolUseBlock
  | ToolResultBlock
  | ThinkingBlock
  | RedactedThinkingBlock
  | ImageBlock
  | DocumentBlock
  | SearchResultBlock
  | ServerToolUseBlock
  | ServerToolResultBlock
  | McpToolUseBlock
  | McpToolResultBlock
  | ContainerUploadBlock
  | CompactionBlock
  | OtherBetaBlock;
