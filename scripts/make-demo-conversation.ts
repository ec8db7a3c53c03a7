/**
 * Writes `fixtures/demo-conversation.json`: a deterministic, scripted dev-agent session over the
 * project's own sources, in the transcript format of the evaluation data, so that `npm start`
 * replays it through the same path as a real transcript. Same sources, same file.
 *
 * Run with `npx tsx scripts/make-demo-conversation.ts`.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** A project file the scripted agent can read. */
export interface SourceFile {
  /** Path relative to the project root, with `/` separators. */
  path: string;
  text: string;
}

/** One message of the transcript format (`role`, `content`, `toolName?`). */
export interface DemoMessage {
  role: 'user' | 'assistant' | 'tool';
  content: string;
  toolName?: string;
}

/** The fixture: a transcript with `meta` describing how it was made. */
export interface DemoConversation {
  source: string;
  license: string;
  messages: DemoMessage[];
  meta: Record<string, unknown>;
}

/** Sizes the generator aims for. */
export interface DemoOptions {
  /** Approximate tokens (chars / 4) to aim for. Default 200,000. */
  targetTokens?: number;
  /**
   * Cap on messages, met by reading less. Default 400. The scripted rounds themselves (about 250
   * messages) are always produced, so a cap below that is not honoured.
   */
  maxMessages?: number;
  /** Lines shown per `Read`. Default 150. */
  readLines?: number;
}

/** @internal One scripted round of the session: a theme of the store review. */
interface Topic {
  /** Which files the round reads first. */
  files: RegExp;
  /** What the round greps for (also where its edit lands). */
  grep: RegExp;
  ask: string;
  plan: string;
  todos: string[];
  finding: string;
  decision: string;
  comment: string;
  failingTest: string;
  failure: string;
  diagnosis: string;
  fixComment: string;
  blocker?: string;
  resolves?: string;
  question?: { ask: string; answer: string };
  progress: string;
  /** A TODO this round adds for later. */
  todoLater?: string;
  /** A TODO of an earlier round that this round completes. */
  closes?: string;
}

/** @internal The script of the session, in order. */
const TOPICS: readonly Topic[] = [
  {
    files: /store\/(durable|atomic)/,
    grep: /rename|fsync|writeFile/,
    ask:
      "We're going to review and harden the session store before the 0.1 release. Start with the write path: I want a crash at " +
      'any point to leave a session that loads. Go through src/store, tell me what you find, fix what is wrong, keep `npm test` ' +
      'green, and note your decisions as you make them.',
    plan:
      "I'll start with the durable write path, then corrupt-file handling, the root lock, ids, the chat journal and the archive. " +
      'For each: read the code, look for the failure window, write a test that reproduces it, fix, rerun the suite.',
    todos: [
      'Audit the durable write path (temp file, fsync, rename, dir fsync)',
      'Test a crash between write and rename',
    ],
    finding:
      'The write path writes a temporary file next to the target and renames it over. The open question is whether the ' +
      'directory is fsynced after the rename on every path, including the first write of a new session.',
    decision:
      'every write goes through the one durable adapter: temp file in the same directory, fsync it, rename over the target, ' +
      'fsync the directory. No caller touches node:fs directly.',
    comment: 'rename only after fsync: a crash leaves either the old file or the new one, never a torn one',
    failingTest: 'durable write > a crash between write and rename keeps the previous content',
    failure:
      'AssertionError: expected \'{"messages":[{"id":"m1"\' to be \'{"messages":[]}\' // Object.is equality',
    diagnosis:
      'The test simulates the crash by aborting after the temp write; the reader then picked up the temp file because it ' +
      'globbed `chat.json*`. The reader must open exactly the target name and ignore `*.tmp-*` leftovers.',
    fixComment: 'read the target name only; temporary files are cleaned up on open, never read',
    progress:
      'durable write path audited; torn writes cannot be observed by a reader; leftovers are cleaned on open.',
    todoLater: 'Measure the cost of the directory fsync per append on ext4 and APFS (bench, not a test)',
  },
  {
    files: /corrupt|json-file/,
    grep: /CORRUPT_FILE|corrupt/,
    ask: 'Next: what happens when chat.json does not parse? I never want us to overwrite a file we could not read.',
    plan: 'I will trace the read path for each of the four files and check what happens on a parse error, an empty file and a truncated file.',
    todos: [
      'Corrupt files are kept aside, never overwritten',
      'Empty and truncated files report CORRUPT_FILE with the path',
    ],
    finding:
      'A parse error is translated into a SessionError, but the message does not say which file, and the next write would ' +
      'replace the broken file with the in-memory state, which loses whatever could have been recovered by hand.',
    decision:
      'a file that does not parse is renamed to `<name>.corrupt-<n>` and the session reports CORRUPT_FILE with the file ' +
      'path and the kept-aside name in `details`; it is never overwritten silently.',
    comment: 'keep the unreadable file aside before anything else is written',
    failingTest: 'corrupt files > a truncated chat.json is kept aside and reported',
    failure:
      "AssertionError: expected [ 'chat.json' ] to deeply equal [ 'chat.json', 'chat.json.corrupt-1' ]",
    diagnosis:
      'The rename to `.corrupt-1` happened after the first write instead of before it. Moving it to the load path.',
    fixComment: 'CORRUPT_FILE carries the original path and where the bytes were kept',
    blocker:
      'cannot reproduce the half-written chat.json case on tmpfs: rename is atomic there and the test never sees a torn ' +
      'file. I need a way to inject a torn write before I can test recovery.',
    question: {
      ask: 'Should we try to repair a truncated chat.json automatically?',
      answer:
        'No. Repair guesses; the journal already holds every appended message after the last snapshot, so load falls back to ' +
        'snapshot + journal replay and keeps the broken snapshot aside for a human. Guessing could duplicate or reorder messages.',
    },
    progress:
      'corrupt files are kept aside and reported with their paths; torn-write injection still open (blocker).',
  },
  {
    files: /lock/,
    grep: /lock|pid|ROOT_LOCKED/,
    ask: 'Two processes on the same root: what stops them from interleaving writes?',
    plan: 'Reading the root lock: how it is taken, what a stale lock looks like, and what the second process is told.',
    todos: ['Root lock: stale lock takeover', 'ROOT_LOCKED names the holder'],
    finding:
      'The lock file holds pid and hostname. A lock left by a dead process on the same host should be taken over; a lock ' +
      'from another host cannot be checked and must not be stolen.',
    decision:
      'one lock file per root with pid, hostname and start time; a stale lock (dead pid on this host) is taken over, anything ' +
      'else fails with ROOT_LOCKED and the holder in `details`. No timeouts-based stealing.',
    comment: 'a lock from another host is never stolen: we cannot tell whether its process is alive',
    failingTest: 'root lock > takes over a lock whose process is gone',
    failure: 'SessionError: [dagent-sessions] [lock] root is locked by pid 999999 on this host',
    diagnosis:
      '`process.kill(pid, 0)` throws ESRCH for a dead pid and EPERM for a live process of another user; the code treated both ' +
      'as alive. Only EPERM means alive.',
    fixComment: 'ESRCH: the holder is gone; EPERM: alive but not ours',
    progress: 'root lock takes over stale locks on this host and reports the holder otherwise.',
  },
  {
    files: /ids/,
    grep: /assertSafe|INVALID_KEY|__proto__/,
    ask: 'Session ids become directory names. Show me they cannot escape the root.',
    plan: 'I will read the id derivation and the segment checks, then try the usual escapes: `..`, separators, `__proto__`, empty, very long.',
    todos: ['Ids cannot escape the root', 'Two keys never share an id'],
    finding:
      'Each part is checked against `[A-Za-z0-9._-]`, reserved names are rejected, and `..` is refused. Ids are joined with ' +
      '`--`, so a part containing `--` could make two different keys produce the same id.',
    decision:
      'reject `--` inside any id part, so that the id to key mapping is one to one; document it in the key rules.',
    comment: '"--" separates id parts; inside a part it would let two keys share an id',
    failingTest: 'ids > two different keys never produce the same id',
    failure: "AssertionError: expected 'feature--a--b--pm' not to be 'feature--a--b--pm'",
    diagnosis:
      'fast-check found `featureId: "a--b"` against `featureId: "a"` with another part `b`. The `--` check fixes it.',
    fixComment: 'reserved names are refused before the pattern check so the message names the real problem',
    resolves:
      'the torn-write blocker: the durable adapter now takes an injectable fs, so the corrupt-file test writes a torn ' +
      'chat.json directly and checks it is kept aside and the journal is replayed.',
    progress: 'ids are safe path segments and injective; the torn-write test exists and passes.',
  },
  {
    files: /journal|chat/,
    grep: /snapshotSeq|seq/,
    ask: 'Appending rewrites chat.json every time. With 10,000 messages that is a lot of bytes per append. Can we do better without losing durability?',
    plan: 'Reading the journaled chat file: append-only log plus periodic snapshot. I want to check the replay rule and the crash windows.',
    todos: [
      'Appends go to the journal; chat.json is a snapshot',
      'Replay skips records at or below snapshotSeq',
    ],
    finding:
      'Appends go to a log of one JSON record per line with a checksum; chat.json is rewritten only every N appends. The ' +
      'window to check is a crash after the snapshot is written but before the log is truncated.',
    decision:
      'appends are fsynced log records; chat.json is a snapshot carrying `snapshotSeq`; replay applies only records with ' +
      'seq above it and stops at the first record whose checksum fails (a torn tail).',
    comment: 'records at or below snapshotSeq are already in the snapshot',
    failingTest: 'journal > a crash between snapshot and truncation does not duplicate messages',
    failure: 'AssertionError: expected 1001 to be 1000 // Object.is equality',
    diagnosis:
      'Replay ignored `snapshotSeq` and re-applied the last record. Filtering by seq fixes it and makes replay idempotent.',
    fixComment: 'a record whose checksum fails ends the log: it is the torn tail of an interrupted append',
    blocker:
      'replaying a log written by the old format (no checksums) fails the checksum check on the first record, so old ' +
      'sessions would load with no messages. Need a migration decision before shipping.',
    question: {
      ask: 'How often do we snapshot?',
      answer:
        'Every 500 appends or 1 MB of log, whichever comes first, and always on close. Load cost is then bounded by one ' +
        'snapshot parse plus at most 500 small records.',
    },
    progress: 'journal replay is idempotent and stops at a torn tail; old-format logs are a blocker.',
    todoLater: 'Decide how old logs without checksums are migrated',
  },
  {
    files: /session-directory|archive/,
    grep: /archive|segment/,
    ask: 'Now compaction on disk: archive, checkpoint and chat.json change together. What if we crash between them?',
    plan: 'Reading the session directory code for the order of writes during a compaction and what load does with each partial state.',
    todos: [
      'Compaction writes in a crash-safe order',
      'Load repairs a compaction interrupted after the archive write',
    ],
    finding:
      'The archive segment is written first, then the checkpoint, then chat.json. After a crash after the archive write, ' +
      'the segment exists but the checkpoint still has the previous version: the messages are both archived and live.',
    decision:
      'order is archive segment, then checkpoint, then chat.json; on load a segment newer than the checkpoint is ignored ' +
      '(and rewritten by the next compaction), so every message is exactly once in archive + live.',
    comment:
      'archive first: if we crash here, the messages are still live and the segment is ignored on load',
    failingTest:
      'session directory > every message is exactly once in archive + live after a crash at any step',
    failure: 'AssertionError: expected [ 0, 1, 2, 2, 3 ] to deeply equal [ 0, 1, 2, 3 ]',
    diagnosis:
      'History read the orphan segment. A segment counts only when its checkpointVersion is at or below the checkpoint version.',
    fixComment: 'a segment counts only if the checkpoint that produced it was written',
    closes: 'Decide how old logs without checksums are migrated',
    resolves:
      'the old-log blocker: logs without checksums are detected by their first line and replayed as version 0 records by ' +
      'the migration, then rewritten with checksums.',
    progress: 'compaction is crash-safe at every step; the old-log migration is in place.',
  },
  {
    files: /plan-compaction/,
    grep: /tool_use|tool_result/,
    ask: 'Where does compaction cut? I have seen other tools break tool_use/tool_result pairs and the API then rejects the request.',
    plan: 'Reading planCompaction and its property tests: cut rules, the tail budget, and what happens when no cut is valid.',
    todos: ['Never separate a tool_use from its tool_result', 'A call awaiting its result is never folded'],
    finding:
      'The planner keeps the largest tail that fits the budget, moves the cut later when it would split a pair, and refuses ' +
      'to fold a call whose result has not arrived. It is linear: a difference array over the forbidden ranges.',
    decision:
      'cut only at message boundaries, never inside a tool pair and never right after a pending call; when nothing valid fits, ' +
      'fold as much as possible and say so, and `no-cut` when no cut is valid at all.',
    comment: 'a pair spanning messages first..last may only be cut before first or after last',
    failingTest:
      'planCompaction properties > the plan is the smallest valid fitting cut (brute-force reference)',
    failure: 'Error: Property failed after 212 tests { seed: 1337, path: "211:0:1", endOnFailure: true }',
    diagnosis:
      'The counterexample is a batch of parallel calls whose results come in one message: the forbidden range ended one ' +
      'message early. The range is [first + 1, last], inclusive.',
    fixComment: 'tails shrink as the cut moves right, so the fitting cuts form a suffix',
    progress: 'compaction never breaks a tool pair; property tests compare against a brute-force reference.',
  },
  {
    files: /compaction\//,
    grep: /COMPACTOR_|signal/,
    ask: 'What happens when the model call for a compaction fails, is slow, or returns garbage?',
    plan: 'Reading the compactor contract and the offline compactor: errors, AbortSignal, and validation of the output.',
    todos: [
      'Compactor errors are typed and retryable where it makes sense',
      'Malformed output never reaches disk',
    ],
    finding:
      'The contract says compactors throw SessionError with COMPACTOR_* codes and honour the signal. The summary returned ' +
      'must be validated before the session writes anything.',
    decision:
      'Anthropic 429/529 become retryable COMPACTOR_UNAVAILABLE with the original as cause; malformed output is ' +
      'COMPACTOR_MALFORMED and nothing on disk changes; the session retries with backoff from its clock.',
    comment: 'validate before writing: a failed compaction keeps every raw message',
    failingTest: 'compactor > a 529 response is retryable COMPACTOR_UNAVAILABLE',
    failure: "AssertionError: expected 'COMPACTOR_FAILED' to be 'COMPACTOR_UNAVAILABLE'",
    diagnosis:
      'The status check looked at `error.code` instead of `error.status`. Translating at the edge with the status fixes it.',
    fixComment: 'the abort reason becomes COMPACTION_CANCELLED, not a generic failure',
    blocker:
      'the compaction test hangs: the fake compactor ignores the AbortSignal, so cancelling on close never settles.',
    progress:
      'compactor failures are typed; malformed output never touches disk; one hanging test is a blocker.',
    todoLater: 'Add a loopback Messages API server for compactor tests (429, 529, slow, malformed)',
  },
  {
    files: /machine|runtime/,
    grep: /fromPromise|AbortSignal|compacting/,
    ask: 'Walk me through the session actor during a compaction. What if messages arrive while it runs?',
    plan: 'Reading the session machine: the compacting state, the watermark, coalescing of COMPACT, and what APPEND does meanwhile.',
    todos: ['Appends during compaction survive', 'No recursive compaction'],
    finding:
      'The compaction folds only the prefix up to a watermark fixed when it starts; messages appended meanwhile are persisted ' +
      'at once and stay live. A second COMPACT during compacting is coalesced by the state machine, not a flag.',
    decision:
      'the watermark is fixed at the start and never moves backward; the result replaces only that prefix; recursion is ' +
      'prevented by states, and the no-progress guard escalates instead of looping.',
    comment: 'the watermark is fixed here: later appends are not part of this compaction',
    failingTest: 'session machine > a message appended during compaction is live afterwards',
    failure: 'AssertionError: expected [ 0, 1, 2, 3 ] to include 4',
    diagnosis:
      'On success the machine replaced all live messages with the kept tail instead of only the prefix up to the watermark.',
    fixComment: 'replace only the prefix up to the watermark',
    resolves:
      'the hanging compaction test: the fake compactor now rejects when its signal aborts, as the contract requires.',
    question: {
      ask: 'Can a compaction that does not bring us under the threshold loop forever?',
      answer:
        'No: the no-progress guard escalates once to a smaller verbatim tail, then to re-compressing the checkpoint, then ' +
        'reports failed with COMPACTION_NO_PROGRESS and a reason. Appends keep working throughout.',
    },
    progress: 'compaction is concurrent with appends and cannot recurse or loop.',
  },
  {
    files: /request/,
    grep: /buildRequest|breakdown|limit/,
    ask: 'The request builder must never send more than the limit. Convince me.',
    plan: 'Reading request building: components, the breakdown, and what happens when compaction is not possible right now.',
    todos: ['A built request never passes the limit', 'Dropped messages are reported'],
    finding:
      'The request is agent description + context + checkpoint + live messages + reply reserve. When it would pass the limit ' +
      'and compaction cannot run, the oldest live messages are left out of this one request.',
    decision:
      'drop the oldest live messages from the request only, never from disk, respecting tool pairs, and report how many ' +
      'were dropped in the result.',
    comment: 'dropped from this request only; disk keeps every message',
    failingTest: 'request > never passes the limit when the checkpoint alone is large',
    failure: 'AssertionError: expected 100412 to be less than or equal to 100000',
    diagnosis: 'The reply reserve was added after the check. It is now part of the budget from the start.',
    fixComment: 'the reply reserve is part of the budget',
    progress: 'built requests stay under the limit and say what they left out.',
  },
  {
    files: /docs\/|README|migration/,
    grep: /TODO|Limits|^## /,
    ask: 'Last: make sure the docs say what we decided today, then give me the state of things.',
    plan: 'I will read the README and docs, check that the decisions are described, and list what is still open.',
    todos: ['Docs describe the crash-safety order and the cut rules'],
    finding:
      'The architecture notes cover the files and the actor; the crash-safety order and the tool-pair rule need a sentence each.',
    decision:
      'the README keeps an honest Limits section: one process per root, no repair of corrupt files, estimates are approximate.',
    comment: 'documented: archive, then checkpoint, then chat.json',
    failingTest: 'docs > every public export has TSDoc',
    failure: 'AssertionError: expected [ "buildRequest" ] to be empty',
    diagnosis: 'One export lacked an @example. Added.',
    fixComment: 'example added',
    progress: "docs match the code and today's decisions.",
  },
];

const approxTokens = (text: string): number => Math.ceil(text.length / 4);

/** @internal FNV-1a: a stable small hash for deterministic "random" choices. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** @internal Test file that mirrors a source file, for the scripted `npm test` output. */
function testFileOf(path: string): string | undefined {
  if (!path.endsWith('.ts')) return undefined;
  return `test/${path.replace(/^src\//, '').replace(/\.ts$/, '.test.ts')}`;
}

/** @internal The export lines of a TypeScript file (its API at a glance), for the agent's notes. */
function exportsOf(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => /^export (?:async )?(?:function|class|const|interface|type|abstract class) /.test(l))
    .map((l) => l.replace(/\s*\{?\s*$/, '').slice(0, 160))
    .slice(0, 10);
}

/**
 * Builds the scripted session from the given files (sorted by the caller or not: they are sorted
 * here). Pure and deterministic: the same files give the same conversation.
 *
 * @param files - the project's sources (`src/**\/*.ts`, `machines/**\/*.ts`, docs, README).
 * @param options - size targets.
 * @returns the conversation in transcript format.
 * @throws Error when `files` is empty.
 * @example
 * ```ts
 * const demo = makeDemoConversation(await collectSources(root));
 * await writeFile('fixtures/demo-conversation.json', JSON.stringify(demo, null, 1));
 * ```
 */
export function makeDemoConversation(
  files: readonly SourceFile[],
  options: DemoOptions = {},
): DemoConversation {
  const targetTokens = options.targetTokens ?? 200_000;
  const maxMessages = options.maxMessages ?? 400;
  const readLines = options.readLines ?? 150;
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (sorted.length === 0) throw new Error('makeDemoConversation: no source files to read');
  const byPath = new Map(sorted.map((f) => [f.path, f]));

  const messages: DemoMessage[] = [];
  let tokens = 0;
  const say = (role: 'user' | 'assistant', content: string): void => {
    messages.push({ role, content });
    tokens += approxTokens(content);
  };
  const calls = (toolName: string, pairs: readonly (readonly [call: string, result: string])[]): void => {
    // Parallel calls: N calls, then N results, as the transcript format records them.
    for (const [call] of pairs) messages.push({ role: 'assistant', content: call, toolName });
    for (const [call, result] of pairs) {
      messages.push({ role: 'tool', content: result, toolName });
      tokens += approxTokens(call) + approxTokens(result);
    }
  };

  // Reads walk through each file window by window, so a re-read shows the next part.
  const nextWindow = new Map<string, number>();
  const read = (path: string): readonly [string, string] => {
    const lines = (byPath.get(path)?.text ?? '').split('\n');
    let start = nextWindow.get(path) ?? 0;
    if (start >= lines.length) start = 0;
    const end = Math.min(lines.length, start + readLines);
    nextWindow.set(path, end);
    const body = lines
      .slice(start, end)
      .map((line, i) => `${String(start + i + 1).padStart(6)}→${line}`)
      .join('\n');
    const more =
      end < lines.length ? `\n… +${lines.length - end} lines (read with offset ${end + 1} to see more)` : '';
    const header = start > 0 ? `Read(${path}, offset ${start + 1})` : `Read(${path})`;
    return [header, body + more] as const;
  };
  const grep = (pattern: RegExp): readonly [string, string] => {
    const hits: string[] = [];
    for (const f of sorted) {
      f.text.split('\n').forEach((line, i) => {
        if (pattern.test(line)) hits.push(`${f.path}:${i + 1}:${line.trim().slice(0, 140)}`);
      });
    }
    const shown = hits.slice(0, 50);
    const rest = hits.length > shown.length ? `\n… ${hits.length - shown.length} more matches` : '';
    return [
      `Grep(${pattern.source})`,
      hits.length === 0 ? 'No matches found' : `Found ${hits.length} matches\n${shown.join('\n')}${rest}`,
    ] as const;
  };
  const edit = (path: string, pattern: RegExp, comment: string): readonly [string, string] => {
    const lines = (byPath.get(path)?.text ?? '').split('\n');
    // Land on code, not inside a comment.
    const found = lines.findIndex((l) => pattern.test(l) && !/^\s*(\*|\/\*|\/\/|import )/.test(l));
    const at = found >= 0 ? found : Math.min(10, Math.max(0, lines.length - 1));
    const indent = /^\s*/.exec(lines[at] ?? '')?.[0] ?? '';
    const marker = path.endsWith('.md') ? `<!-- ${comment} -->` : `// ${comment}`;
    const snippet = [
      ...lines.slice(Math.max(0, at - 12), at + 1),
      `${indent}${marker}`,
      ...lines.slice(at + 1, at + 13),
    ];
    const first = Math.max(0, at - 12) + 1;
    return [
      `Edit(${path})`,
      `Updated ${path} with 1 addition and 0 removals\n` +
        snippet
          .map((l, i) => `${String(first + i).padStart(6)}${first + i === at + 2 ? '+' : ' '} ${l}`)
          .join('\n'),
    ] as const;
  };
  const tsFiles = sorted.filter((f) => testFileOf(f.path) !== undefined);
  const npmTest = (failing?: {
    file: string;
    test: string;
    error: string;
    frame: string;
  }): readonly [string, string] => {
    const lines = ['> dagent-sessions@0.1.0 test', '> npm run typecheck && npm run lint && vitest run', ''];
    let tests = 0;
    for (const f of tsFiles) {
      const file = testFileOf(f.path) ?? '';
      const n = 3 + (hash(file) % 18);
      tests += n;
      if (failing?.file === file)
        lines.push(` ❯ ${file} (${n} tests | 1 failed) ${20 + (hash(file) % 300)}ms`, `   × ${failing.test}`);
      else lines.push(` ✓ ${file} (${n} tests) ${5 + (hash(file) % 200)}ms`);
    }
    if (failing !== undefined) {
      lines.push(
        '',
        '⎯⎯⎯⎯⎯⎯⎯ Failed Tests 1 ⎯⎯⎯⎯⎯⎯⎯',
        '',
        ` FAIL  ${failing.file} > ${failing.test}`,
        failing.error,
      );
      // A code frame from the source under test, as vitest prints one for the failing call.
      const source = (byPath.get(failing.frame)?.text ?? '').split('\n');
      const at = Math.max(
        0,
        source.findIndex((l) => /throw |return /.test(l)),
      );
      lines.push(` ❯ ${failing.frame}:${at + 1}:${1 + (/^\s*/.exec(source[at] ?? '')?.[0].length ?? 0)}`);
      source.slice(Math.max(0, at - 5), at + 6).forEach((l, i) => {
        const n = Math.max(0, at - 5) + i + 1;
        lines.push(`${n === at + 1 ? '    ❯' : '     '} ${String(n).padStart(4)}| ${l}`);
      });
      lines.push(
        ` ❯ ${failing.file}:${40 + (hash(failing.test) % 200)}:${7 + (hash(failing.error) % 30)}`,
        '',
      );
    }
    const failed = failing === undefined ? 0 : 1;
    lines.push(
      ` Test Files  ${failed > 0 ? '1 failed | ' : ''}${tsFiles.length - failed} passed (${tsFiles.length})`,
      `      Tests  ${failed > 0 ? '1 failed | ' : ''}${tests - failed} passed (${tests})`,
    );
    return ['Bash(npm test)', lines.join('\n')] as const;
  };

  // Files for a topic: those whose path matches, then the largest files in turn.
  const bySize = [...sorted].sort((a, b) => b.text.length - a.text.length || (a.path < b.path ? -1 : 1));
  let cursor = 0;
  const unread = (path: string): boolean =>
    (nextWindow.get(path) ?? 0) < (byPath.get(path)?.text.split('\n').length ?? 0);
  /** The next file worth reading: a topic file with an unread window, else the next large one. */
  const nextRead = (topicFiles: readonly string[], taken: ReadonlySet<string>): string => {
    const own = topicFiles.find((p) => !taken.has(p) && unread(p));
    if (own !== undefined) return own;
    for (let tries = 0; tries < bySize.length; tries++) {
      const path = bySize[cursor++ % bySize.length]?.path ?? '';
      if (!taken.has(path) && unread(path)) return path;
    }
    // Everything has been read: re-read the larger half (the files that changed most since).
    const larger = bySize.slice(0, Math.max(1, Math.ceil(bySize.length / 2)));
    for (let tries = 0; tries < larger.length; tries++) {
      const path = larger[cursor++ % larger.length]?.path ?? '';
      if (!taken.has(path)) return path;
    }
    return topicFiles[0] ?? sorted[0]?.path ?? '';
  };
  const filesFor = (topic: Topic, count: number): string[] => {
    const picked = sorted
      .filter((f) => topic.files.test(f.path))
      .map((f) => f.path)
      .slice(0, count);
    while (picked.length < Math.min(count, sorted.length)) picked.push(nextRead([], new Set(picked)));
    return picked;
  };

  const done: string[] = [];
  const open: string[] = [];
  const todos = (): string =>
    [...done.map((t) => `☒ ${t}`), ...open.map((t) => `☐ ${t}`)].join('\n') || '☐ (nothing yet)';

  TOPICS.forEach((topic, round) => {
    const left = TOPICS.length - round;
    // This round's share of what is left of the token target and of the message cap.
    const tokenShare = (targetTokens - tokens) / left;
    const messageShare = (maxMessages - 4 - messages.length) / left;
    const roundTokens = tokens;
    const roundMessages = messages.length;
    const files = filesFor(topic, 4);
    const [main = sorted[0]?.path ?? '', ...others] = files;

    say('user', topic.ask);
    say('assistant', topic.plan);
    open.push(...topic.todos);
    if (round % 5 === 0) calls('Update Todos', [['Update Todos', todos()]]);

    const batch = [main, ...others.slice(0, 3)];
    calls('Read', batch.map(read));
    const notes = batch.map((p) => {
      const text = byPath.get(p)?.text ?? '';
      const api = exportsOf(text).map((l) => `    ${l}`);
      return [`- \`${p}\` (${text.split('\n').length} lines)`, ...api].join('\n');
    });
    say('assistant', `What I see so far:\n${notes.join('\n')}\n\n${topic.finding}`);
    calls('Grep', [grep(topic.grep)]);
    say(
      'assistant',
      `${topic.resolves === undefined ? '' : `Resolved: ${topic.resolves}\n\n`}Decided: ${topic.decision}`,
    );
    calls('Edit', [edit(main, topic.grep, topic.comment)]);
    const failingFile =
      testFileOf(main) ??
      testFileOf(tsFiles[round % Math.max(1, tsFiles.length)]?.path ?? '') ??
      'test/core/ids.test.ts';
    calls('Bash', [
      npmTest({ file: failingFile, test: topic.failingTest, error: topic.failure, frame: main }),
    ]);
    say(
      'assistant',
      `${topic.diagnosis}${topic.blocker === undefined ? '' : `\n\nBlocked: ${topic.blocker}`}`,
    );
    calls('Edit', [edit(main, /throw |return |await /, topic.fixComment)]);
    calls('Bash', [npmTest()]);

    // Read on (callers, neighbours, the rest of long files) while under this round's shares.
    const tail =
      4 + (topic.question === undefined ? 0 : 2) + (round % 5 === 4 || round === TOPICS.length - 1 ? 2 : 0);
    for (
      let batches = 0;
      tokens - roundTokens < tokenShare && messages.length - roundMessages + tail + 3 <= messageShare;
      batches++
    ) {
      const room = Math.floor((messageShare - (messages.length - roundMessages) - tail - 1) / 2);
      const paths: string[] = [];
      while (paths.length < Math.max(1, Math.min(4, room)) && paths.length < sorted.length)
        paths.push(nextRead(files, new Set(paths)));
      if (batches === 0)
        say(
          'assistant',
          `Checking how ${paths.map((p) => `\`${p}\``).join(', ')} ${paths.length > 1 ? 'fit' : 'fits'} with this.`,
        );
      calls('Read', paths.map(read));
    }
    if (topic.question !== undefined) {
      say('user', topic.question.ask);
      say('assistant', topic.question.answer);
    }
    for (const todo of [...topic.todos, ...(topic.closes === undefined ? [] : [topic.closes])]) {
      const at = open.indexOf(todo);
      if (at >= 0) done.push(...open.splice(at, 1));
    }
    if (topic.todoLater !== undefined) open.push(topic.todoLater);
    if (round % 5 === 4 || round === TOPICS.length - 1) calls('Update Todos', [['Update Todos', todos()]]);
    say(
      'assistant',
      `Progress: ${topic.progress}${topic.todoLater !== undefined ? `\nTODO: ${topic.todoLater}` : ''}`,
    );
  });
  say('user', 'Good. Summarise where we are.');
  say(
    'assistant',
    `Summary of this session:\n${done.map((t) => `- done: ${t}`).join('\n')}\n${open.map((t) => `- TODO: ${t}`).join('\n')}\n` +
      'All tests pass. Decisions are recorded above as "Decided:" notes; every blocker raised was resolved.',
  );

  const counts: Record<string, number> = {};
  for (const m of messages) counts[m.role] = (counts[m.role] ?? 0) + 1;
  const textChars = messages.reduce((n, m) => n + m.content.length, 0);
  return {
    source: 'dagent-sessions:scripts/make-demo-conversation.ts',
    license: 'MIT',
    messages,
    meta: {
      id: 'demo-conversation',
      format: 'scripted-dev-session',
      generator: 'npx tsx scripts/make-demo-conversation.ts',
      note: "A deterministic, scripted dev-agent session over this project's own sources; tool output is abridged or synthesised.",
      files: sorted.map((f) => f.path),
      sources_sha256: createHash('sha256')
        .update(sorted.map((f) => `${f.path}\0${f.text}`).join('\0'))
        .digest('hex'),
      text_chars: textChars,
      approx_tokens: messages.reduce((n, m) => n + approxTokens(m.content), 0),
      message_counts: counts,
      tool_calls: messages.filter((m) => m.role === 'assistant' && m.toolName !== undefined).length,
    },
  };
}

/** @internal */
async function walk(dir: string, keep: (path: string) => boolean): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(full, keep)));
    else if (entry.isFile() && keep(entry.name)) out.push(full);
  }
  return out;
}

/**
 * Reads the project's sources: `src/**\/*.ts`, `machines/**\/*.ts`, `docs/*.md`, `README.md`,
 * whichever exist, sorted by path.
 *
 * @param root - the project root.
 * @returns the files, paths relative to `root` with `/` separators.
 * @example const files = await collectSources(process.cwd());
 */
export async function collectSources(root: string): Promise<SourceFile[]> {
  const ts = (name: string): boolean => name.endsWith('.ts');
  const paths = [
    ...(await walk(join(root, 'src'), ts)),
    ...(await walk(join(root, 'machines'), ts)),
    ...(await readdir(join(root, 'docs')).catch(() => [] as string[]))
      .filter((n) => n.endsWith('.md'))
      .map((n) => join(root, 'docs', n)),
    ...(await readFile(join(root, 'README.md'))
      .then(() => [join(root, 'README.md')])
      .catch(() => [] as string[])),
  ];
  const files = await Promise.all(
    paths.map(async (p) => ({
      path: relative(root, p).split(sep).join('/'),
      text: await readFile(p, 'utf8'),
    })),
  );
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** @internal Writes the fixture and prints its size. */
async function main(): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  // Long enough that a 100,000-token session compacts several times.
  const demo = makeDemoConversation(await collectSources(root), {
    maxMessages: 700,
    readLines: 300,
    targetTokens: 380_000,
  });
  const json = `${JSON.stringify(demo, null, 1)}\n`;
  const out = join(root, 'fixtures', 'demo-conversation.json');
  await writeFile(out, json);
  console.log(
    `wrote ${relative(root, out)}: ${demo.messages.length} messages, ~${String(demo.meta.approx_tokens)} tokens, ` +
      `${(Buffer.byteLength(json) / 1024).toFixed(0)} KB from ${(demo.meta.files as string[]).length} files`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
