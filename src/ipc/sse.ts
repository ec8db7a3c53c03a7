/**
 * @internal Server-Sent Events of the HTTP transport: one runtime subscription fanned out to every
 * open `GET /events` response, with heartbeats, and cleanup when a client goes away.
 */
import type { ServerResponse } from 'node:http';
import type { SessionEvent } from '../runtime/events.js';
import type { SessionRuntime } from '../runtime/types.js';
import { SESSION_EVENT_CHANNEL } from './channels.js';

/** A client that reads slower than this many bytes behind is cut off (it may reconnect). */
const MAX_BUFFERED = 8 * 1024 * 1024;

/** @internal The open event streams of one server. */
export interface EventStreams {
  /** Starts an event stream on this response; it ends when the client leaves or on close(). */
  open(res: ServerResponse): void;
  /** Ends every stream and stops listening to the runtime. */
  close(): void;
}

/** @internal One SSE frame of an event (JSON has no raw newlines, so one data line). */
export function sseFrame(event: SessionEvent): string {
  return `event: ${SESSION_EVENT_CHANNEL}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** @internal Fans the runtime's events out to every open `GET /events` response. */
export function createEventStreams(runtime: SessionRuntime, heartbeatMs: number): EventStreams {
  const open = new Map<ServerResponse, () => void>();
  let unsubscribe: (() => void) | null = runtime.subscribe((event) => {
    let frame: string;
    try {
      frame = sseFrame(event);
    } catch (error) {
      console.error('[dagent-sessions] [runtime] an event could not be sent as JSON:', error);
      return;
    }
    for (const [res, end] of open) {
      if (res.writableLength > MAX_BUFFERED) end();
      else res.write(frame);
    }
  });

  return {
    open(res) {
      if (unsubscribe === null) {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('closing');
        return;
      }
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      // A first comment flushes the headers: a client knows it is subscribed once it reads them.
      res.write(': connected\n\n');
      const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), heartbeatMs);
      heartbeat.unref();
      const end = () => {
        if (!open.delete(res)) return;
        clearInterval(heartbeat);
        res.end();
      };
      open.set(res, end);
      res.on('close', end); // the client went away (or the stream ended)
    },
    close() {
      unsubscribe?.();
      unsubscribe = null;
      for (const end of [...open.values()]) end();
    },
  };
}
