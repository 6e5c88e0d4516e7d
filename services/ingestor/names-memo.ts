/**
 * A cache of what is derived from a reading's list of quantity names. A fleet sends a handful of
 * such lists, and consecutive readings mostly repeat the last one, which is checked first without
 * building a key. Bounded: a fleet of ever-new names empties it rather than growing it.
 */
export function memoByNames<T>(derive: (names: string[]) => T, max = 10_000): (names: string[]) => T {
  const byKey = new Map<string, T>();
  let lastNames: string[] = [];
  let last: T | undefined;
  return (names) => {
    if (last !== undefined && names.length === lastNames.length) {
      let same = true;
      for (let i = 0; i < names.length && same; i++) same = names[i] === lastNames[i];
      if (same) return last;
    }
    const key = names.join(',');
    let value = byKey.get(key);
    if (value === undefined) {
      if (byKey.size >= max) byKey.clear();
      value = derive(names);
      byKey.set(key, value);
    }
    lastNames = names;
    return (last = value);
  };
}
