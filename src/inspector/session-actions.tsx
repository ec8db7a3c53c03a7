/**
 * A session's actions: force a compaction, clear the live messages, reset, export, and reload a
 * session in doubt from its files. Destructive ones ask first, in a dialog; errors are shown,
 * never swallowed.
 */
import { useState } from 'react';
import type { SessionAPI } from '../ipc/channels.js';
import type { SessionInfo } from '../runtime/types.js';
import { ConfirmDialog } from './confirm-dialog.js';
import { browser, valueOf } from './dom.js';
import { formatTokens } from './gauge.js';
import { errorText } from './use-session-inspector.js';

/**
 * The actions of {@link SessionActions}.
 * @example const action: SessionAction = 'compact';
 */
export type SessionAction = 'compact' | 'clear' | 'reset' | 'export' | 'reopen';

/** `details.outcome` of a session whose files hold a write that memory does not (in doubt). */
const IN_DOUBT: ReadonlySet<unknown> = new Set(['in-place-not-durable', 'refused-in-doubt']);

/**
 * Props of {@link SessionActions}.
 * @example const props: SessionActionsProps = { api, session: info, onError: (e) => setError(String(e)) };
 */
export interface SessionActionsProps {
  api: SessionAPI;
  session: SessionInfo;
  /** Where errors go; without it they are shown in the component's own `role="alert"` region. */
  onError?(error: unknown): void;
  /** Called after an action succeeded (the page refreshes; events do it too). */
  onDone?(action: SessionAction, sessionId: string): void;
}

/**
 * Saves `value` as a JSON file through a download link.
 * @internal
 */
export function downloadJson(value: unknown, fileName: string): void {
  const url = URL.createObjectURL(new Blob([JSON.stringify(value, null, 2)], { type: 'application/json' }));
  const { document } = browser();
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

const CONFIRM = {
  clear: {
    title: 'Clear the live messages?',
    label: 'Clear messages',
    text:
      'Every live message moves to the archive (history keeps it); the checkpoint stays. ' +
      'The next request starts from description, context and checkpoint alone.',
  },
  reset: {
    title: 'Reset the session?',
    label: 'Reset',
    text:
      'Every live message moves to the archive and the checkpoint is emptied ' +
      '(summary and checks). History stays readable; the agent starts over.',
  },
  reopen: {
    title: 'Reload the session from its files?',
    label: 'Reload from files',
    text:
      'A write of this session is in its files but not durable (the disk refused to sync it), and ' +
      'the session takes appends only. Check the disk first (dmesg): the session is then loaded ' +
      'again from its files, as a restart would, and takes every write again.',
  },
} as const;

/**
 * Buttons for one session: "Compact now" (with an optional tail to keep, in tokens), "Clear
 * messages…" and "Reset…" (each asks in a modal dialog first and does nothing when cancelled),
 * "Export JSON" (downloads `session-<id>.json`: session, checkpoint and full history), and, for a
 * session in doubt (`error.details.outcome` `'in-place-not-durable'` or `'refused-in-doubt'`),
 * "Reload from files…" (asks first, then `api.reopen(id)`).
 * A result is announced in a `role="status"` line; errors go to `onError`, or to a
 * `role="alert"` region of its own.
 *
 * @example
 * <SessionActions api={api} session={info} onError={model.reportError} onDone={(_, id) => model.refresh(id)} />
 */
export function SessionActions({ api, session, onError, onDone }: SessionActionsProps) {
  const [busy, setBusy] = useState<SessionAction | null>(null);
  const [asking, setAsking] = useState<keyof typeof CONFIRM | null>(null);
  const [keep, setKeep] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const [ownError, setOwnError] = useState<string | null>(null);
  const id = session.id;

  async function run(action: SessionAction, work: () => Promise<string>) {
    setBusy(action);
    setNotice(null);
    setOwnError(null);
    try {
      setNotice(await work());
      onDone?.(action, id);
    } catch (error) {
      if (onError) onError(error);
      else setOwnError(errorText(error));
    } finally {
      setBusy(null);
    }
  }

  const compact = () =>
    run('compact', async () => {
      const keepRecentTokens = keep.trim() === '' ? undefined : Number(keep);
      const result = await api.compact(id, keepRecentTokens === undefined ? undefined : { keepRecentTokens });
      return result.kind === 'compacted'
        ? `Compacted ${result.messagesCompacted} messages: ${formatTokens(result.tokensBefore)} ` +
            `→ ${formatTokens(result.tokensAfter)} tokens (checkpoint v${result.checkpointVersion}).`
        : `Nothing to fold: ${result.reason}. Set a smaller tail to keep (0 folds every live message).`;
    });
  const clearOrReset = (which: 'clear' | 'reset') => {
    setAsking(null);
    void run(which, async () => {
      const result = which === 'clear' ? await api.clearMessages(id) : await api.reset(id);
      return (
        `${which === 'clear' ? 'Cleared' : 'Reset'}: ${result.archivedMessages} ` +
        `messages moved to the archive (checkpoint v${result.checkpointVersion}).`
      );
    });
  };
  const reopen = () => {
    setAsking(null);
    void run('reopen', async () => {
      const info = await api.reopen(id);
      return (
        `Reloaded from its files: checkpoint v${info.checkpointVersion}, ` +
        `${info.liveMessages} live messages.`
      );
    });
  };
  const inDoubt = IN_DOUBT.has(session.error?.details?.outcome);
  const exportSession = () =>
    run('export', async () => {
      downloadJson(await api.export(id), `session-${id}.json`);
      return `Exported session-${id}.json.`;
    });

  const confirm = asking ? CONFIRM[asking] : null;
  return (
    <section className="dgi-panel dgi-actions" aria-label="Actions">
      <div className="dgi-actions__row">
        <label className="dgi-keep">
          Tail to keep (tokens)
          <input
            type="number"
            min={0}
            step={1}
            inputMode="numeric"
            value={keep}
            placeholder={formatTokens(session.limits.keepRecentTokens)}
            onChange={(e) => setKeep(valueOf(e.target))}
          />
        </label>
        <button type="button" disabled={busy !== null} onClick={() => void compact()}>
          {busy === 'compact' ? 'Compacting…' : 'Compact now'}
        </button>
        <button
          type="button"
          className="dgi-danger-outline"
          disabled={busy !== null}
          onClick={() => setAsking('clear')}
        >
          Clear messages…
        </button>
        <button
          type="button"
          className="dgi-danger-outline"
          disabled={busy !== null}
          onClick={() => setAsking('reset')}
        >
          Reset…
        </button>
        <button type="button" disabled={busy !== null} onClick={() => void exportSession()}>
          {busy === 'export' ? 'Exporting…' : 'Export JSON'}
        </button>
        {inDoubt && (
          <button
            type="button"
            className="dgi-danger-outline"
            disabled={busy !== null}
            onClick={() => setAsking('reopen')}
          >
            {busy === 'reopen' ? 'Reloading…' : 'Reload from files…'}
          </button>
        )}
      </div>
      <p className="dgi-notice" role="status">
        {notice}
      </p>
      {!onError && ownError && (
        <p className="dgi-error" role="alert">
          {ownError}
        </p>
      )}
      <ConfirmDialog
        open={confirm !== null}
        title={confirm?.title ?? ''}
        confirmLabel={confirm?.label ?? ''}
        onCancel={() => setAsking(null)}
        onConfirm={() => (asking === 'reopen' ? reopen() : asking && clearOrReset(asking))}
      >
        <p>{confirm?.text}</p>
        <p className="dgi-muted">Session {id}</p>
      </ConfirmDialog>
    </section>
  );
}
