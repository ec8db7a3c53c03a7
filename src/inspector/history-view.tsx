/**
 * The history view: every message, archived ones included, with the points where each
 * compaction cut. Messages the host marked internal are hidden until the toggle shows them.
 */
import { useState } from 'react';
import { isInternalMessage } from '../core/request-size.js';
import type { ContentBlock, Message } from '../core/types.js';
import { historyWithCuts, type CompactionRecord } from './compactions.js';
import { formatTime, formatTokens } from './gauge.js';

/**
 * Props of {@link HistoryView}.
 * @example const props: HistoryViewProps = { history: await api.getHistory(id), records: [], archivedThroughSeq: info.archivedThroughSeq };
 */
export interface HistoryViewProps {
  /** Every message, archived then live (`api.getHistory(id)`). */
  history: readonly Message[];
  /** The compaction records known for the session: where the separators go. */
  records: readonly CompactionRecord[];
  /** The session's watermark: messages at or below it are archived. */
  archivedThroughSeq: number;
  /** Show internal messages (`metadata.internal`) at first; default false (the toggle changes it). */
  showInternal?: boolean;
}

/** Longer messages are shown folded, expandable. */
const PREVIEW_CHARS = 600;

function blockText(block: ContentBlock): string {
  switch (block.type) {
    case 'text':
      return block.text;
    case 'tool_use':
      return `[tool_use ${block.name}] ${JSON.stringify(block.input)}`;
    case 'tool_result': {
      const text =
        typeof block.content === 'string'
          ? block.content
          : (block.content ?? []).map((b) => ('text' in b ? b.text : `[${b.type}]`)).join('\n');
      return `[tool_result${block.is_error ? ' (error)' : ''}] ${text}`;
    }
    case 'thinking':
      return `[thinking] ${block.thinking}`;
    case 'image':
    case 'document':
      return `[${block.type}]`; // never their base64 on the page
    default:
      return JSON.stringify(block);
  }
}

/**
 * A message's content as plain text: blocks on their own lines, tool calls and results tagged.
 * @example messageText({ ...message, content: [{ type: 'text', text: 'hi' }] }) // 'hi'
 */
export function messageText(message: Pick<Message, 'content'>): string {
  return typeof message.content === 'string' ? message.content : message.content.map(blockText).join('\n');
}

function MessageRow({ message, archived }: { message: Message; archived: boolean }) {
  const text = messageText(message);
  const internal = isInternalMessage(message);
  return (
    <li
      className={`dgi-message dgi-message--${message.role}${archived ? ' dgi-message--archived' : ''}${internal ? ' dgi-message--internal' : ''}`}
      data-seq={message.seq}
      data-archived={archived}
      data-internal={internal}
    >
      <div className="dgi-message__meta">
        <span>#{message.seq}</span>
        <strong>{message.role}</strong>
        <span>{formatTime(message.timestamp)}</span>
        <span>{formatTokens(message.tokens)} tokens</span>
        {archived && <span className="dgi-tag">archived</span>}
        {internal && <span className="dgi-tag">internal</span>}
      </div>
      {text.length <= PREVIEW_CHARS ? (
        <pre className="dgi-message__text">{text}</pre>
      ) : (
        <details>
          <summary>
            <pre className="dgi-message__text">{text.slice(0, PREVIEW_CHARS)}…</pre>
          </summary>
          <pre className="dgi-message__text">{text}</pre>
        </details>
      )}
    </li>
  );
}

/**
 * Every message of the session in order, archived ones marked, with a separator ("Compaction
 * (checkpoint v3) cut here") after the last message each known compaction, clear or reset moved
 * to the archive. Messages the host marked internal (`metadata.internal: true`: kept in history,
 * never sent to the model) are left out until "Show internal messages" is checked; they are then
 * tagged `internal`.
 *
 * @example <HistoryView history={history} records={model.recordsOf(id)} archivedThroughSeq={info.archivedThroughSeq} />
 */
export function HistoryView({
  history,
  records,
  archivedThroughSeq,
  showInternal: initiallyShown = false,
}: HistoryViewProps) {
  const [showInternal, setShowInternal] = useState(initiallyShown);
  const internal = history.filter(isInternalMessage).length;
  // A cut after a hidden message stays: it is placed after the last message shown before it.
  const items = historyWithCuts(history, records, archivedThroughSeq).filter(
    (item) => showInternal || item.kind !== 'message' || !isInternalMessage(item.message),
  );
  const archived = history.filter((m) => m.seq <= archivedThroughSeq).length;
  return (
    <section className="dgi-panel" aria-label="History">
      <h2>
        History{' '}
        <span className="dgi-muted">
          · {history.length} messages, {archived} archived
          {internal > 0 ? `, ${internal} internal` : ''}
        </span>
      </h2>
      {internal > 0 && (
        <label className="dgi-toggle">
          <input type="checkbox" checked={showInternal} onChange={() => setShowInternal(!showInternal)} />{' '}
          Show internal messages ({internal})
        </label>
      )}
      {items.length === 0 ? (
        <p className="dgi-muted">No messages yet.</p>
      ) : (
        <ol className="dgi-history">
          {items.map((item) =>
            item.kind === 'message' ? (
              <MessageRow key={`m${item.message.seq}`} message={item.message} archived={item.archived} />
            ) : (
              <li
                key={`c${item.cut.afterSeq}`}
                className="dgi-cut"
                role="separator"
                data-cut-after={item.cut.afterSeq}
              >
                <span>{item.cut.label}</span>
              </li>
            ),
          )}
        </ol>
      )}
    </section>
  );
}
