/**
 * @internal The user's own words in a message, and what they say about the ledger: a correction,
 * a blocker, a problem settled. Console echo (lines after `⎿`), slash commands and the text that
 * tools and harnesses put in the user's turn are not the user's words.
 */

/** Text a harness puts in the user's turn: Claude Code's command tags and caveats, interruptions. */
const HARNESS =
  /^(?:<(?:command-|local-command-|system-reminder|user-prompt-submit-hook)|Caveat: |\[Request interrupted)/;
const CORRECTION = new RegExp(
  String.raw`^(?:no\b|nope\b|not\b|don'?t\b|do not\b|stop\b|wait\b|w8\b|actually\b|instead\b|wrong\b|undo\b|revert\b)` +
    String.raw`|\b(?:instead of|should be|should have|shouldn'?t have|not what i|that'?s not|that is not|this is not` +
    String.raw`|i said|i meant|you forgot|why did you)\b`,
  'i',
);
const BLOCKS =
  /\b(?:blocked|blocking|blocker|can'?t (?:proceed|continue|move on)|cannot (?:proceed|continue))\b/i;
const UNBLOCKS = /\b(?:unblocked|no longer block(?:ed|ing)?|not blocked any ?more)\b/i;
const SETTLES = new RegExp(
  String.raw`\b(?:ignore (?:it|that|this|them|those)|never ?mind|don'?t worry about` +
    String.raw`|not (?:a |an )?(?:problem|issue|concern)|(?:that'?s|it'?s|this is) (?:fine|ok|okay|expected)` +
    String.raw`|leave it|skip (?:it|that)|settled|resolved|known issue|won'?t fix|works (?:for me|now))\b`,
  'i',
);
const SETTLES_ALL = /\bignore (?:all|the|those|these) (?:errors|failures|failing tests|warnings)\b/i;

/**
 * The user's words of a message text: up to the first console echo line (`⎿ ...`), trimmed;
 * empty for a slash command, an Aider chat command or harness text.
 */
export function userWords(text: string): string {
  const echo = text.search(/^\s*⎿/m);
  const words = (echo < 0 ? text : text.slice(0, echo)).trim();
  if (words === '' || /^\/[\w:-]+/.test(words) || words.startsWith('!') || HARNESS.test(words)) return '';
  return words;
}

/** Whether the words correct the agent (`no, ...`, `not ...`, `... instead of ...`). */
export function isCorrection(words: string): boolean {
  return CORRECTION.test(words);
}

/** Whether the user says the work is blocked, and whether it is no longer. */
export function blockerStatement(words: string): 'blocks' | 'unblocks' | null {
  if (UNBLOCKS.test(words)) return 'unblocks';
  return BLOCKS.test(words) ? 'blocks' : null;
}

/**
 * The open problems the user settles: those the words name (their command, file or test) next to
 * a settling phrase (`ignore that`, `that's expected`, `known issue`...), or all of them with
 * `ignore all the errors`.
 */
export function settledBy(words: string, problems: ReadonlyArray<{ key: string; text: string }>): string[] {
  if (SETTLES_ALL.test(words)) return problems.map((p) => p.key);
  if (!SETTLES.test(words)) return [];
  const lower = words.toLowerCase();
  return problems.filter((problem) => mentions(lower, problem.key)).map((problem) => problem.key);
}

/** Whether `lower` names the subject of a problem key: its command, or its file's name. */
function mentions(lower: string, key: string): boolean {
  const subject = key.replace(/^(?:write|read|check):/, '').toLowerCase();
  if (subject.length >= 4 && lower.includes(subject)) return true;
  const file = subject.split('/').pop() ?? '';
  if (file.length >= 4 && /\.\w+$/.test(file) && lower.includes(file)) return true;
  // A command is named by its program and first argument (`npm test`, `pytest specs`).
  const head = subject.split(/\s+/).slice(0, 2).join(' ');
  return head.length >= 6 && lower.includes(head);
}
