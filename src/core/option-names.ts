/**
 * The one rule for the names in an options object of the public API: a name that is none of its
 * options is refused, not ignored. A misspelt `limts`, `modle` or `readonly` would otherwise run at
 * the defaults without a word (the default limits, the default model, a writer's lock).
 */

/**
 * @internal The names of an options type, from an object literal the compiler checks against it
 * (`satisfies Record<keyof T, true>`), so that the list cannot fall out of step with the type.
 * @example const NAMES = optionNames({ root: true, durable: true } satisfies Record<keyof StoreOptions, true>);
 */
export function optionNames(names: Readonly<Record<string, true>>): readonly string[] {
  return Object.freeze(Object.keys(names));
}

/**
 * @internal Throws `refuse(message)` when `options` is not an object, or for the first name of it
 * that is not in `names`, the message naming it and listing the valid ones. A name whose value is
 * `undefined` says nothing and is let be: hosts build options with conditional spreads.
 * @example checkOptionNames({ modle: 'x' }, ['model'], invalid) // '"modle" is not an option; the options are model'
 */
export function checkOptionNames(
  options: object,
  names: readonly string[],
  refuse: (message: string) => Error,
): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw refuse(`options must be an object with some of ${names.join(', ')}, got ${kindOf(options)}`);
  for (const [name, value] of Object.entries(options)) {
    if (value !== undefined && !names.includes(name))
      throw refuse(`${JSON.stringify(name)} is not an option; the options are ${names.join(', ')}`);
  }
}

function kindOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}
