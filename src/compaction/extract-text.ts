/**
 * Statements from prose: split a message's text into sentences and list items, and classify the
 * ones that say something about the work (done, in progress, pending, decided, blocked).
 * Deterministic keyword rules; no model.
 */

/** @internal The checkpoint section a statement belongs to. */
export type StatementKind = 'completed' | 'inProgress' | 'pending' | 'decision' | 'blocker';

/** @internal A classified statement, already cleaned and shortened. */
export interface Statement {
  kind: StatementKind;
  text: string;
  /** Strong completions (fixed, resolved, tests pass, ✓) also resolve matching blockers. */
  strong?: boolean;
}

/** @internal Longest statement kept, in characters. */
export const MAX_STATEMENT_CHARS = 200;
/** @internal Most text read from one message, in characters (pasted documents can be huge). */
const MAX_TEXT_CHARS = 40_000;

const DECISION =
  /\b(decided|decide to|we'?ll use|we will use|let'?s go with|going with|go with|chose|chosen|opted|(?:use|using|chose|choose|went with|go with|switch(?:ed)? to|prefer)\b[^.]{0,60}\binstead of|instead of \w+ing\b[^.]{0,40}\b(?:i|we)'?(?:ll| will)|i'?ll use|i will use|we should use|the approach is)\b/i;
const INTENT =
  /^(?:(?:ok(?:ay)?|now|first|next|then|so|great|good|perfect)[,!.]?\s+)*(let me|let'?s|now i'?ll|next i will|next i'?ll|i'?m (?:now )?(?:going to|working on)|i (?:now |first |still )?need to|i am (?:now )?(?:going to|working on)|working on|i'?ll|i will|i need to look|starting (?:on|with)?)\b\s*/i;
const STRONG_DONE =
  /(✓|✅|☒|✔|\[x\]|\b(fixed|resolved|succeeded|successfully|works now|now works|is working|(?:tests?|specs?|checks?|build|lint) (?:now |all |still )?(?:pass(?:es|ed|ing)?|succeed(?:s|ed)?|(?:is |are )?green))\b)/i;
const STRONG_PENDING =
  /(☐|\[ \]|\b(todo|to-do|need to|needs to|have to|has to|remaining|next steps?|not yet|yet to)\b|(?:\bnot|n['’]t)\b[^.]{0,30}\byet\b)/i;
// Prose talks about failures all the time ("the test fails as expected"); only these say that
// the work is stuck. Failed commands and tools are blockers through their results instead.
const BLOCKER =
  /(❌|\b(blocked (?:by|on)|is blocked|blocker|stuck|cannot|can'?t (?:get|find|access|run|import|connect|install|build|reproduce|figure)|unable to|doesn'?t work|does not work|not working|(?:is|are) still failing|still fail(?:s|ing)?|keeps? failing|fails? with|failed with|failing with|permission denied|timed out|crash(?:es|ed))\b)/i;
const LEADING_DONE =
  /^(?:(?:i|we)(?:'?ve| have) )?(?:successfully )?(done|implemented|added|created|completed|finished|updated|removed|renamed|refactored|wrote|committed|merged|moved|installed|configured|changed|cleaned up|deleted|replaced|set up|extracted|documented)\b/i;
// Phrases that mention errors without reporting one.
const BENIGN_ERROR = /\berror[- ](handling|handler|messages?|cases?|types?|class(es)?|codes?|paths?)\b/gi;
const WEAK_PENDING =
  /\b(still (?:need|needs|have to|has to|to do|missing|open|pending|todo)|should also|we should|left to do|pending)\b/i;
const WEAK_DONE =
  /\b(done|implemented|added|created|completed|finished|updated|removed|renamed|refactored|wrote|written|committed|merged|moved|installed|configured|changed|cleaned up|deleted|replaced|set up)\b/i;
const NEGATION = /\b(not|never|no longer|without)\b|n['’]t\b/i;
const USER_RULE = /\b(don'?t|do not|never|always|must|make sure|should not|shouldn'?t|only use)\b/i;
const USER_REQUEST =
  /^(please|can you|could you|would you|add|implement|fix|create|update|make|write|remove|change|refactor|rename|move|run|check|review|investigate|commit|build|test|delete|use|let'?s)\b/i;

const HEADING_KINDS: ReadonlyArray<readonly [RegExp, StatementKind]> = [
  [
    /^(next steps?|to ?dos?|remaining( work| tasks)?|pending|open (items|questions|tasks)|still to do|what'?s left)\b/i,
    'pending',
  ],
  [
    /^(completed?|done|recent work|accomplished|what (was|we) (done|did)|changes made|summary of changes|progress|achievements)\b/i,
    'completed',
  ],
  [/^(blockers?|blocked|issues|problems|errors|failures|known issues)\b/i, 'blocker'],
  [/^(key )?decisions?( made)?\b/i, 'decision'],
  [/^(in progress|currently|current (task|work|goal|focus)|working on)\b/i, 'inProgress'],
];

const LIST_MARKER = /^\s*(?:[-*+•◦▪‣⎿]|\d{1,3}[.)]|[a-z][.)](?=\s))\s+/i;
const CHECKBOX = /^\s*(?:[-*+]\s+)?(☐|☒|✓|✔|✅|❌|\[[ xX]\])\s*/;

/**
 * @internal Classified statements of one message's prose, in order. `role` selects the rules:
 * assistant text is classified by keywords; user text yields requests (pending) and rules
 * (decisions); a checklist (a todo tool's output) yields only its checkbox lines. At most `limit`
 * statements are returned.
 */
export function extractStatements(
  text: string,
  role: 'user' | 'assistant' | 'checklist',
  limit: number,
): Statement[] {
  const out: Statement[] = [];
  const clean = stripCodeFences(text.length > MAX_TEXT_CHARS ? text.slice(0, MAX_TEXT_CHARS) : text);
  let section: StatementKind | null = null;
  for (const para of paragraphs(clean)) {
    if (out.length >= limit) break;
    const heading = headingKind(para.text);
    if (heading !== undefined) {
      section = heading;
      continue;
    }
    if (!para.listItem) section = null;
    const checkbox = CHECKBOX.exec(para.text);
    if (checkbox !== null) {
      const mark = checkbox[1] ?? '';
      const kind: StatementKind =
        mark === '☐' || mark === '[ ]' ? 'pending' : mark === '❌' ? 'blocker' : 'completed';
      pushStatement(out, kind, para.text.slice(checkbox[0].length), kind === 'completed', 1);
      continue;
    }
    if (role === 'checklist') continue;
    for (const sentence of sentences(para.text)) {
      if (out.length >= limit) break;
      const kind =
        para.listItem && section !== null
          ? section
          : role === 'user'
            ? classifyUser(sentence)
            : classify(sentence);
      // A sentence ending with a colon introduces a list; only an intent says something by itself.
      if (kind === null || (kind !== 'inProgress' && sentence.endsWith(':'))) continue;
      const strong = kind === 'completed' && STRONG_DONE.test(sentence);
      // List items under a heading are terse ("Release 0.2"); free sentences need three words.
      pushStatement(
        out,
        kind,
        role === 'user' ? userText(kind, sentence) : sentence,
        strong,
        para.listItem ? 2 : 3,
      );
    }
  }
  return out;
}

/**
 * @internal The section of an assistant sentence, or null when it says nothing about the work.
 * Order matters: decisions, then intents at the start, strong completions (or a sentence opening
 * with a completion verb), strong pending, blockers, weak pending, weak completions.
 */
export function classify(sentence: string): StatementKind | null {
  if (sentence.length < 8 || sentence.endsWith('?')) return null;
  if (DECISION.test(sentence)) return 'decision';
  if (INTENT.test(sentence)) return 'inProgress';
  const negated = NEGATION.test(sentence);
  if (!negated && (STRONG_DONE.test(sentence) || LEADING_DONE.test(sentence))) return 'completed';
  if (STRONG_PENDING.test(sentence)) return 'pending';
  if (BLOCKER.test(sentence.replace(BENIGN_ERROR, ''))) return 'blocker';
  if (WEAK_PENDING.test(sentence)) return 'pending';
  if (!negated && WEAK_DONE.test(sentence)) return 'completed';
  return null;
}

function classifyUser(sentence: string): StatementKind | null {
  if (sentence.length < 8 || sentence.endsWith('?')) return null;
  if (USER_RULE.test(sentence)) return 'decision';
  if (USER_REQUEST.test(sentence)) return 'pending';
  return null;
}

function userText(kind: StatementKind, sentence: string): string {
  return kind === 'decision' ? `User: ${sentence}` : `User asked: ${sentence}`;
}

function pushStatement(
  out: Statement[],
  kind: StatementKind,
  raw: string,
  strong: boolean,
  minWords = 3,
): void {
  const text = kind === 'inProgress' ? capitalise(raw.replace(INTENT, '')) : raw;
  const cleaned = shortenStatement(text);
  // Fewer than three words is a fragment ("We've successfully"), not a statement; todo items are terse.
  if (cleaned === '' || cleaned.split(' ').length < minWords) return;
  out.push(strong ? { kind, text: cleaned, strong } : { kind, text: cleaned });
}

/**
 * @internal A statement on one line, without markdown emphasis or a trailing colon, cut to its
 * first sentence and to at most {@link MAX_STATEMENT_CHARS} characters at a word boundary.
 */
export function shortenStatement(raw: string, max = MAX_STATEMENT_CHARS): string {
  let text = raw
    .replace(/\*\*|__|^#+\s*/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[:;,]$/, '');
  if (text.length <= max) return text;
  const sentenceEnd = text.slice(0, max).search(/[.!?](?=\s)[^.!?]*$/);
  if (sentenceEnd >= 40) return text.slice(0, sentenceEnd + 1);
  text = text.slice(0, max - 1);
  const space = text.lastIndexOf(' ');
  const cut = space >= max / 2 ? text.slice(0, space) : text;
  // Never end on half a surrogate pair.
  return `${cut.replace(/[\uD800-\uDBFF]$/, '')}…`;
}

interface Paragraph {
  text: string;
  listItem: boolean;
}

/**
 * Joins hard-wrapped lines (console transcripts wrap at the terminal width) into paragraphs and
 * list items; a new one starts at a blank line, a list marker, a checkbox or a heading.
 */
function paragraphs(text: string): Paragraph[] {
  const out: Paragraph[] = [];
  let current: Paragraph | null = null;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.replace(/^\s*⎿\s*/, '').trim();
    if (line === '') {
      current = null;
      continue;
    }
    const marker = LIST_MARKER.exec(line);
    const startsNew =
      current === null ||
      marker !== null ||
      CHECKBOX.test(line) ||
      /^#{1,6}\s/.test(line) ||
      current.text.endsWith(':');
    if (startsNew) {
      current = {
        text: marker !== null && !CHECKBOX.test(line) ? line.slice(marker[0].length) : line,
        listItem: marker !== null || CHECKBOX.test(line),
      };
      out.push(current);
    } else if (current !== null) {
      current.text += ` ${line}`;
    }
  }
  return out;
}

function headingKind(text: string): StatementKind | undefined {
  const bare = text.replace(/^#{1,6}\s*|\*\*|__/g, '').trim();
  if (bare.length > 40 || !(text.startsWith('#') || bare.endsWith(':'))) return undefined;
  const title = bare.replace(/:$/, '').trim();
  for (const [pattern, kind] of HEADING_KINDS) if (pattern.test(title)) return kind;
  return undefined;
}

function sentences(paragraph: string): string[] {
  return paragraph
    .split(/(?<=[.!?])\s+(?=[A-Z0-9`"'*([])/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function stripCodeFences(text: string): string {
  return text.replace(/```[\s\S]*?(?:```|$)/g, '\n');
}

function capitalise(text: string): string {
  const trimmed = text.trim();
  return trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
}
