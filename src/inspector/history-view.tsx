/**
 * The history view: every message, archived ones included, with the points where each
 * compaction cut.
 */
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
  return (
    <li
      className={`dgi-message dgi-message--${message.role}${archived ? ' dgi-message--archived' : ''}`}
      data-seq={message.seq}
      data-archived={archived}
    >
      <div className="dgi-message__meta">
        <span>#{message.seq}</span>
        <strong>{message.role}</strong>
        <span>{formatTime(message.timestamp)}</span>
        <span>{formatTokens(message.tokens)} tokens</span>
        {archived && <span className="dgi-tag">archived</span>}
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
 * to the archive.
 *
 * @example <HistoryView history={history} records={model.recordsOf(id)} archivedThroughSeq={info.archivedThroughSeq} />
 */
export function HistoryView({ history, records, archivedThroughSeq }: HistoryViewProps) {
  const items = historyWithCuts(history, records, archivedThroughSeq);
  const archived = history.filter((m) => m.seq <= archivedThroughSeq).length;
  return (
    <section className="dgi-panel" aria-label="History">
      <h2>
        History{' '}
        <span className="dgi-muted">
          · {history.length} messages, {archived} archived
        </span>
      </h2>
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
