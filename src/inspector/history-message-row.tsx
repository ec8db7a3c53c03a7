/**
 * @internal One message of the history view's list: its role, time, tokens and a preview, marked
 * archived or internal, at a fixed height so that the virtualised list can place it unread.
 */
import { isInternalMessage } from '../core/request-size.js';
import type { Message } from '../core/types.js';
import { formatTime, formatTokens } from './gauge.js';
import { messageText } from './message-text.js';

/** Row heights in pixels: fixed, so that the list knows where every row is before reading it. */
export const MESSAGE_ROW_PX = 88;
export const CUT_ROW_PX = 34;
/** @internal Space between two rows, inside each row's slot. */
const ROW_GAP_PX = 6;

/**
 * @internal A message row, or its placeholder while its page is read or while it is internal and
 * hidden.
 * @example
 * <MessageRow message={m} seq={m.seq} archived={false} showInternal={false} top={0} highlighted={false}
 *   onOpen={open} />
 */
export function MessageRow({
  message,
  seq,
  archived,
  showInternal,
  top,
  highlighted,
  onOpen,
  onShow,
}: {
  message: Message | undefined;
  seq: number;
  archived: boolean;
  showInternal: boolean;
  top: number;
  highlighted: boolean;
  onOpen(seq: number): void;
  onShow?: (seq: number) => void;
}) {
  // A gap of ROW_GAP_PX between rows, inside each row's slot.
  const style = { top: top + ROW_GAP_PX / 2, height: MESSAGE_ROW_PX - ROW_GAP_PX };
  if (!message) {
    return (
      <li className="dgi-row dgi-message dgi-message--loading" style={style} data-seq={seq} aria-busy="true">
        <div className="dgi-message__meta">
          <span>#{seq}</span> <span>loading…</span>
        </div>
      </li>
    );
  }
  const internal = isInternalMessage(message);
  if (internal && !showInternal) {
    return (
      <li className="dgi-row dgi-message-hidden" style={style} data-seq={seq}>
        #{seq} · internal message hidden
      </li>
    );
  }
  return (
    <li
      className={
        `dgi-row dgi-message dgi-message--${message.role}` +
        `${archived ? ' dgi-message--archived' : ''}${internal ? ' dgi-message--internal' : ''}` +
        `${highlighted ? ' dgi-message--highlight' : ''}`
      }
      style={style}
      data-seq={seq}
      data-archived={archived}
      data-internal={internal}
      data-highlight={highlighted}
    >
      <div className="dgi-message__meta">
        <span>#{seq}</span>
        <strong>{message.role}</strong>
        <span>{formatTime(message.timestamp)}</span>
        <span>{formatTokens(message.tokens)} tokens</span>
        {archived && <span className="dgi-tag">archived</span>}
        {internal && <span className="dgi-tag">internal</span>}
        <span className="dgi-message__buttons">
          {onShow && (
            <button type="button" className="dgi-link" onClick={() => onShow(seq)}>
              Show in history
            </button>
          )}
          <button type="button" className="dgi-link" onClick={() => onOpen(seq)}>
            Open
          </button>
        </span>
      </div>
      <p className="dgi-message__preview">{messageText(message).slice(0, 400)}</p>
    </li>
  );
}
