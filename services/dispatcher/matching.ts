import { OPERATIONAL_EVENT_TYPES, TEST_EVENT_TYPE } from './events.js';

/** The parts of a subscription that decide whether an event goes to it. */
export interface RoutingFilter {
  /** Event types; `*` = every pipeline event, `irrigation.*` = a family. */
  events: string[];
  /** Only events of these farms (empty = any farm). */
  farms: string[];
  /** Only events of these fields (empty = any field). */
  fields: string[];
}

export interface RoutedEvent {
  type: string;
  farm: string | null;
  field: string | null;
}

const OPERATIONAL = new Set<string>([...OPERATIONAL_EVENT_TYPES, TEST_EVENT_TYPE]);

function typeMatches(pattern: string, type: string): boolean {
  if (pattern === type) return true;
  // Wildcards cover pipeline events only: operational ones must be asked for by name.
  if (OPERATIONAL.has(type)) return false;
  if (pattern === '*') return true;
  return pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1));
}

/** Does `event` go to a subscription with `filter`? */
export function matchesFilter(filter: RoutingFilter, event: RoutedEvent): boolean {
  if (!filter.events.some((p) => typeMatches(p, event.type))) return false;
  if (filter.farms.length > 0 && (event.farm === null || !filter.farms.includes(event.farm))) return false;
  if (filter.fields.length > 0 && (event.field === null || !filter.fields.includes(event.field))) return false;
  return true;
}

/** A valid `events` entry: a type, `*`, or `family.*`. */
export function isValidTypePattern(pattern: string): boolean {
  return pattern === '*' || /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*(\.\*|(\.[a-z0-9_]+))$/.test(pattern);
}
