/**
 * @internal Test runners, build tools and linters: a run with no paths or filters (`pytest`,
 * `npm test`, `cargo test --release`) checks everything its narrower runs check, so its success
 * settles their failures. Any other command only settles its own.
 */

/** Programs whose runs check a whole project (or, with arguments, a part of it). */
const RUNNERS: ReadonlyArray<readonly [RegExp, number]> = [
  // [pattern of the leading words, how many words name the runner]
  [/^(?:npm|pnpm|yarn|bun) (?:test|t)\b/, 2],
  [/^(?:npm|pnpm|yarn|bun) run \S+/, 3],
  [/^npx \S+/, 2],
  [/^python3? -m (?:pytest|unittest|mypy|ruff|flake8|pylint)\b/, 3],
  [/^uv run (?:pytest|mypy|ruff)\b/, 3],
  [/^(?:go|cargo|dotnet|mvn|gradle|\.\/gradlew|mix|swift) (?:test|build|check|clippy|vet|lint)\b/, 2],
  [/^(?:pytest|jest|vitest|mocha|tsc|eslint|mypy|flake8|pylint|rspec|phpunit|tox|nox)\b/, 1],
  [/^ruff (?:check|format)\b/, 2],
  [/^make\b/, 2],
  [/^bundle exec \S+/, 3],
];

/**
 * The runner of a command, and whether the run is a full one (only flags after the runner).
 *
 * @param command - a normalised command line.
 * @returns null for a command that is not a test runner, build tool or linter.
 * @example runnerOf('pytest specs/cli_spec.py -x') // { runner: 'pytest', full: false }
 */
export function runnerOf(command: string): { runner: string; full: boolean } | null {
  for (const [pattern, words] of RUNNERS) {
    if (!pattern.test(command)) continue;
    const parts = command.split(/\s+/);
    const runner = parts.slice(0, words).join(' ');
    const rest = parts.slice(words);
    return { runner, full: rest.every((arg) => arg.startsWith('-') && arg !== '--') };
  }
  return null;
}

const INSPECTION = new RegExp(
  String.raw`^(?:ls|ll|cat|head|tail|pwd|echo|grep|rg|find|fd|wc|which|tree|less|file|stat|date|whoami` +
    String.raw`|env|type|du|df|ps)\b` +
    String.raw`|^git (?:status|diff|log|show|branch|remote)\b`,
);

/**
 * Whether a command only looks around (`ls`, `cat`, `grep`, `git status`...): its success is the
 * least a resuming agent needs to know.
 *
 * @param command - a normalised command line.
 * @returns true for a look around.
 * @example isInspection('git status --short') // true
 */
export function isInspection(command: string): boolean {
  return INSPECTION.test(command);
}
