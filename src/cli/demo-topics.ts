/**
 * @internal The script of the demo's Dev conversation: one round per theme of a review of the
 * session store, each with what the agent asks, finds, decides, breaks and fixes. Data only;
 * {@link makeDemoConversation} in demo-dev-conversation.ts turns it into messages over the
 * package's own files.
 */

/** @internal One scripted round of the session: a theme of the store review. */
export interface Topic {
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
export const TOPICS: readonly Topic[] = [
  {
    files: /store\/(durable|atomic)/,
    grep: /rename|fsync|writeFile/,
    ask:
      "We're going to review and harden the session store before the 0.1 release. Start with the write " +
      'path: I want a crash at any point to leave a session that loads. Go through src/store, tell me ' +
      'what you find, fix what is wrong, keep `npm test` green, and note your decisions as you make ' +
      'them.',
    plan:
      "I'll start with the durable write path, then corrupt-file handling, the root lock, ids, the " +
      'chat journal and the archive. For each: read the code, look for the failure window, write a ' +
      'test that reproduces it, fix, rerun the suite.',
    todos: [
      'Audit the durable write path (temp file, fsync, rename, dir fsync)',
      'Test a crash between write and rename',
    ],
    finding:
      'The write path writes a temporary file next to the target and renames it over. The open ' +
      'question is whether the directory is fsynced after the rename on every path, including the ' +
      'first write of a new session.',
    decision:
      'every write goes through the one durable adapter: temp file in the same directory, fsync it, ' +
      'rename over the target, fsync the directory. No caller touches node:fs directly.',
    comment: 'rename only after fsync: a crash leaves either the old file or the new one, never a torn one',
    failingTest: 'durable write > a crash between write and rename keeps the previous content',
    failure:
      'AssertionError: expected \'{"messages":[{"id":"m1"\' to be \'{"messages":[]}\' // Object.is equality',
    diagnosis:
      'The test simulates the crash by aborting after the temp write; the reader then picked up the ' +
      'temp file because it globbed `chat.json*`. The reader must open exactly the target name and ' +
      'ignore `*.tmp-*` leftovers.',
    fixComment: 'read the target name only; temporary files are cleaned up on open, never read',
    progress:
      'durable write path audited; torn writes cannot be observed by a reader; leftovers are cleaned on open.',
    todoLater: 'Measure the cost of the directory fsync per append on ext4 and APFS (bench, not a test)',
  },
  {
    files: /corrupt|json-file/,
    grep: /CORRUPT_FILE|corrupt/,
    ask: 'Next: what happens when chat.json does not parse? I never want us to overwrite a file we could not read.',
    plan:
      'I will trace the read path for each of the four files and check what happens on a parse error, an ' +
      'empty file and a truncated file.',
    todos: [
      'Corrupt files are kept aside, never overwritten',
      'Empty and truncated files report CORRUPT_FILE with the path',
    ],
    finding:
      'A parse error is translated into a SessionError, but the message does not say which file, and ' +
      'the next write would replace the broken file with the in-memory state, which loses whatever ' +
      'could have been recovered by hand.',
    decision:
      'a file that does not parse is renamed to `<name>.corrupt-<n>` and the session reports ' +
      'CORRUPT_FILE with the file path and the kept-aside name in `details`; it is never overwritten ' +
      'silently.',
    comment: 'keep the unreadable file aside before anything else is written',
    failingTest: 'corrupt files > a truncated chat.json is kept aside and reported',
    failure:
      "AssertionError: expected [ 'chat.json' ] to deeply equal [ 'chat.json', 'chat.json.corrupt-1' ]",
    diagnosis:
      'The rename to `.corrupt-1` happened after the first write instead of before it. Moving it to the load path.',
    fixComment: 'CORRUPT_FILE carries the original path and where the bytes were kept',
    blocker:
      'cannot reproduce the half-written chat.json case on tmpfs: rename is atomic there and the test ' +
      'never sees a torn file. I need a way to inject a torn write before I can test recovery.',
    question: {
      ask: 'Should we try to repair a truncated chat.json automatically?',
      answer:
        'No. Repair guesses; the journal already holds every appended message after the last snapshot, ' +
        'so load falls back to snapshot + journal replay and keeps the broken snapshot aside for a ' +
        'human. Guessing could duplicate or reorder messages.',
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
      'The lock file holds pid and hostname. A lock left by a dead process on the same host should be ' +
      'taken over; a lock from another host cannot be checked and must not be stolen.',
    decision:
      'one lock file per root with pid, hostname and start time; a stale lock (dead pid on this host) ' +
      'is taken over, anything else fails with ROOT_LOCKED and the holder in `details`. No ' +
      'timeouts-based stealing.',
    comment: 'a lock from another host is never stolen: we cannot tell whether its process is alive',
    failingTest: 'root lock > takes over a lock whose process is gone',
    failure: 'SessionError: [dagent-sessions] [lock] root is locked by pid 999999 on this host',
    diagnosis:
      '`process.kill(pid, 0)` throws ESRCH for a dead pid and EPERM for a live process of another ' +
      'user; the code treated both as alive. Only EPERM means alive.',
    fixComment: 'ESRCH: the holder is gone; EPERM: alive but not ours',
    progress: 'root lock takes over stale locks on this host and reports the holder otherwise.',
  },
  {
    files: /ids/,
    grep: /assertSafe|INVALID_KEY|__proto__/,
    ask: 'Session ids become directory names. Show me they cannot escape the root.',
    plan:
      'I will read the id derivation and the segment checks, then try the usual escapes: `..`, ' +
      'separators, `__proto__`, empty, very long.',
    todos: ['Ids cannot escape the root', 'Two keys never share an id'],
    finding:
      'Each part is checked against `[A-Za-z0-9._-]`, reserved names are rejected, and `..` is ' +
      'refused. Ids are joined with `--`, so a part containing `--` could make two different keys ' +
      'produce the same id.',
    decision:
      'reject `--` inside any id part, so that the id to key mapping is one to one; document it in the key rules.',
    comment: '"--" separates id parts; inside a part it would let two keys share an id',
    failingTest: 'ids > two different keys never produce the same id',
    failure: "AssertionError: expected 'feature--a--b--pm' not to be 'feature--a--b--pm'",
    diagnosis:
      'fast-check found `featureId: "a--b"` against `featureId: "a"` with another part `b`. The `--` check fixes it.',
    fixComment: 'reserved names are refused before the pattern check so the message names the real problem',
    resolves:
      'the torn-write blocker: the durable adapter now takes an injectable fs, so the corrupt-file ' +
      'test writes a torn chat.json directly and checks it is kept aside and the journal is replayed.',
    progress: 'ids are safe path segments and injective; the torn-write test exists and passes.',
  },
  {
    files: /journal|chat/,
    grep: /snapshotSeq|seq/,
    ask:
      'Appending rewrites chat.json every time. With 10,000 messages that is a lot of bytes per append. ' +
      'Can we do better without losing durability?',
    plan:
      'Reading the journaled chat file: append-only log plus periodic snapshot. I want to check the ' +
      'replay rule and the crash windows.',
    todos: [
      'Appends go to the journal; chat.json is a snapshot',
      'Replay skips records at or below snapshotSeq',
    ],
    finding:
      'Appends go to a log of one JSON record per line with a checksum; chat.json is rewritten only ' +
      'every N appends. The window to check is a crash after the snapshot is written but before the ' +
      'log is truncated.',
    decision:
      'appends are fsynced log records; chat.json is a snapshot carrying `snapshotSeq`; replay applies ' +
      'only records with seq above it and stops at the first record whose checksum fails (a torn tail).',
    comment: 'records at or below snapshotSeq are already in the snapshot',
    failingTest: 'journal > a crash between snapshot and truncation does not duplicate messages',
    failure: 'AssertionError: expected 1001 to be 1000 // Object.is equality',
    diagnosis:
      'Replay ignored `snapshotSeq` and re-applied the last record. Filtering by seq fixes it and ' +
      'makes replay idempotent.',
    fixComment: 'a record whose checksum fails ends the log: it is the torn tail of an interrupted append',
    blocker:
      'replaying a log written by the old format (no checksums) fails the checksum check on the first record, so old ' +
      'sessions would load with no messages. Need a migration decision before shipping.',
    question: {
      ask: 'How often do we snapshot?',
      answer:
        'Every 500 appends or 1 MB of log, whichever comes first, and always on close. Load cost is ' +
        'then bounded by one snapshot parse plus at most 500 small records.',
    },
    progress: 'journal replay is idempotent and stops at a torn tail; old-format logs are a blocker.',
    todoLater: 'Decide how old logs without checksums are migrated',
  },
  {
    files: /session-directory|archive/,
    grep: /archive|segment/,
    ask: 'Now compaction on disk: archive, checkpoint and chat.json change together. What if we crash between them?',
    plan:
      'Reading the session directory code for the order of writes during a compaction and what load does ' +
      'with each partial state.',
    todos: [
      'Compaction writes in a crash-safe order',
      'Load repairs a compaction interrupted after the archive write',
    ],
    finding:
      'The archive segment is written first, then the checkpoint, then chat.json. After a crash after ' +
      'the archive write, the segment exists but the checkpoint still has the previous version: the ' +
      'messages are both archived and live.',
    decision:
      'order is archive segment, then checkpoint, then chat.json; on load a segment newer than the ' +
      'checkpoint is ignored (and rewritten by the next compaction), so every message is exactly once ' +
      'in archive + live.',
    comment:
      'archive first: if we crash here, the messages are still live and the segment is ignored on load',
    failingTest:
      'session directory > every message is exactly once in archive + live after a crash at any step',
    failure: 'AssertionError: expected [ 0, 1, 2, 2, 3 ] to deeply equal [ 0, 1, 2, 3 ]',
    diagnosis:
      'History read the orphan segment. A segment counts only when its checkpointVersion is at or ' +
      'below the checkpoint version.',
    fixComment: 'a segment counts only if the checkpoint that produced it was written',
    closes: 'Decide how old logs without checksums are migrated',
    resolves:
      'the old-log blocker: logs without checksums are detected by their first line and replayed as ' +
      'version 0 records by the migration, then rewritten with checksums.',
    progress: 'compaction is crash-safe at every step; the old-log migration is in place.',
  },
  {
    files: /plan-compaction/,
    grep: /tool_use|tool_result/,
    ask:
      'Where does compaction cut? I have seen other tools break tool_use/tool_result pairs and the API ' +
      'then rejects the request.',
    plan:
      'Reading planCompaction and its property tests: cut rules, the tail budget, and what happens when ' +
      'no cut is valid.',
    todos: ['Never separate a tool_use from its tool_result', 'A call awaiting its result is never folded'],
    finding:
      'The planner keeps the largest tail that fits the budget, moves the cut later when it would ' +
      'split a pair, and refuses to fold a call whose result has not arrived. It is linear: a ' +
      'difference array over the forbidden ranges.',
    decision:
      'cut only at message boundaries, never inside a tool pair and never right after a pending call; ' +
      'when nothing valid fits, fold as much as possible and say so, and `no-cut` when no cut is valid ' +
      'at all.',
    comment: 'a pair spanning messages first..last may only be cut before first or after last',
    failingTest:
      'planCompaction properties > the plan is the smallest valid fitting cut (brute-force reference)',
    failure: 'Error: Property failed after 212 tests { seed: 1337, path: "211:0:1", endOnFailure: true }',
    diagnosis:
      'The counterexample is a batch of parallel calls whose results come in one message: the ' +
      'forbidden range ended one message early. The range is [first + 1, last], inclusive.',
    fixComment: 'tails shrink as the cut moves right, so the fitting cuts form a suffix',
    progress: 'compaction never breaks a tool pair; property tests compare against a brute-force reference.',
  },
  {
    files: /compaction\//,
    grep: /COMPACTOR_|signal/,
    ask: 'What happens when the model call for a compaction fails, is slow, or returns garbage?',
    plan:
      'Reading the compactor contract and the offline compactor: errors, AbortSignal, and validation of ' +
      'the output.',
    todos: [
      'Compactor errors are typed and retryable where it makes sense',
      'Malformed output never reaches disk',
    ],
    finding:
      'The contract says compactors throw SessionError with COMPACTOR_* codes and honour the signal. ' +
      'The summary returned must be validated before the session writes anything.',
    decision:
      'Anthropic 429/529 become retryable COMPACTOR_UNAVAILABLE with the original as cause; malformed output is ' +
      'COMPACTOR_MALFORMED and nothing on disk changes; the session retries with backoff from its clock.',
    comment: 'validate before writing: a failed compaction keeps every raw message',
    failingTest: 'compactor > a 529 response is retryable COMPACTOR_UNAVAILABLE',
    failure: "AssertionError: expected 'COMPACTOR_FAILED' to be 'COMPACTOR_UNAVAILABLE'",
    diagnosis:
      'The status check looked at `error.code` instead of `error.status`. Translating at the edge with ' +
      'the status fixes it.',
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
    plan:
      'Reading the session machine: the compacting state, the watermark, coalescing of COMPACT, and what ' +
      'APPEND does meanwhile.',
    todos: ['Appends during compaction survive', 'No recursive compaction'],
    finding:
      'The compaction folds only the prefix up to a watermark fixed when it starts; messages appended ' +
      'meanwhile are persisted at once and stay live. A second COMPACT during compacting is coalesced ' +
      'by the state machine, not a flag.',
    decision:
      'the watermark is fixed at the start and never moves backward; the result replaces only that ' +
      'prefix; recursion is prevented by states, and the no-progress guard escalates instead of ' +
      'looping.',
    comment: 'the watermark is fixed here: later appends are not part of this compaction',
    failingTest: 'session machine > a message appended during compaction is live afterwards',
    failure: 'AssertionError: expected [ 0, 1, 2, 3 ] to include 4',
    diagnosis:
      'On success the machine replaced all live messages with the kept tail instead of only the prefix ' +
      'up to the watermark.',
    fixComment: 'replace only the prefix up to the watermark',
    resolves:
      'the hanging compaction test: the fake compactor now rejects when its signal aborts, as the contract requires.',
    question: {
      ask: 'Can a compaction that does not bring us under the threshold loop forever?',
      answer:
        'No: the no-progress guard escalates once to a smaller verbatim tail, then to re-compressing ' +
        'the checkpoint, then reports failed with COMPACTION_NO_PROGRESS and a reason. Appends keep ' +
        'working throughout.',
    },
    progress: 'compaction is concurrent with appends and cannot recurse or loop.',
  },
  {
    files: /request/,
    grep: /buildRequest|breakdown|limit/,
    ask: 'The request builder must never send more than the limit. Convince me.',
    plan:
      'Reading request building: components, the breakdown, and what happens when compaction is not ' +
      'possible right now.',
    todos: ['A built request never passes the limit', 'Dropped messages are reported'],
    finding:
      'The request is agent description + context + checkpoint + live messages + reply reserve. When ' +
      'it would pass the limit and compaction cannot run, the oldest live messages are left out of ' +
      'this one request.',
    decision:
      'drop the oldest live messages from the request only, never from disk, respecting tool pairs, ' +
      'and report how many were dropped in the result.',
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
      'The architecture notes cover the files and the actor; the crash-safety order and the tool-pair ' +
      'rule need a sentence each.',
    decision:
      'the README keeps an honest Limits section: one process per root, no repair of corrupt files, ' +
      'estimates are approximate.',
    comment: 'documented: archive, then checkpoint, then chat.json',
    failingTest: 'docs > every public export has TSDoc',
    failure: 'AssertionError: expected [ "buildRequest" ] to be empty',
    diagnosis: 'One export lacked an @example. Added.',
    fixComment: 'example added',
    progress: "docs match the code and today's decisions.",
  },
];
