import { Errors } from '../shared/error-catalog.js';

/** Bounds of a numeric field; both inclusive unless stated. */
export interface NumberRule {
  min?: number;
  max?: number;
  /** Reject the minimum itself (e.g. a depth that must be > 0). */
  exclusiveMin?: boolean;
  /** Whether the field must be present. Default false. */
  required?: boolean;
}

/**
 * Reads fields of one untrusted JSON object and fails with an error that names the field by its
 * path (`[2].tmax`, `days[0].et0`), so whoever wrote the input can find the mistake.
 */
export class InputReader {
  readonly #obj: Record<string, unknown>;
  readonly #path: string;
  readonly #seen = new Set<string>();

  constructor(value: unknown, path = '') {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw Errors.agronomyInvalidInput(`${path || 'input'} must be a JSON object`, { field: path || 'input' });
    }
    this.#obj = value as Record<string, unknown>;
    this.#path = path;
  }

  /** The full path of a field, for messages. */
  path(name: string): string {
    return this.#path ? `${this.#path}.${name}` : name;
  }

  has(name: string): boolean {
    return this.#obj[name] !== undefined && this.#obj[name] !== null;
  }

  raw(name: string): unknown {
    this.#seen.add(name);
    return this.#obj[name];
  }

  fail(name: string, message: string): never {
    const field = this.path(name);
    throw Errors.agronomyInvalidInput(`${field}: ${message}`, { field });
  }

  number(name: string, rule: NumberRule & { required: true }): number;
  number(name: string, rule?: NumberRule): number | undefined;
  number(name: string, rule: NumberRule = {}): number | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) {
      if (rule.required) this.fail(name, 'is required');
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(name, 'must be a finite number');
    if (rule.min !== undefined && (rule.exclusiveMin ? v <= rule.min : v < rule.min)) {
      this.fail(name, `must be ${rule.exclusiveMin ? '>' : '≥'} ${rule.min} (got ${v})`);
    }
    if (rule.max !== undefined && v > rule.max) this.fail(name, `must be ≤ ${rule.max} (got ${v})`);
    return v;
  }

  integer(name: string, rule: NumberRule & { required: true }): number {
    const v = this.number(name, rule);
    if (!Number.isInteger(v)) this.fail(name, `must be an integer (got ${v})`);
    return v;
  }

  boolean(name: string): boolean | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') this.fail(name, 'must be true or false');
    return v;
  }

  /** A calendar date `YYYY-MM-DD` that exists. */
  date(name: string): string {
    const v = this.raw(name);
    if (v === undefined || v === null) this.fail(name, 'is required');
    if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v)) this.fail(name, 'must be a date YYYY-MM-DD');
    const t = new Date(`${v}T00:00:00Z`);
    if (Number.isNaN(t.getTime()) || t.toISOString().slice(0, 10) !== v) this.fail(name, `is not a calendar date (${v})`);
    return v;
  }

  array(name: string): unknown[] {
    const v = this.raw(name);
    if (!Array.isArray(v) || v.length === 0) this.fail(name, 'must be a non-empty array');
    return v;
  }

  /** At most one of the groups may be present; returns the index of the present one, or -1. */
  oneOf(groups: readonly (readonly string[])[]): number {
    const present = groups
      .map((names, i) => ({ i, names, any: names.some((n) => this.has(n)) }))
      .filter((g) => g.any);
    if (present.length > 1) {
      const a = present[0]!.names.filter((n) => this.has(n)).map((n) => this.path(n));
      const b = present[1]!.names.filter((n) => this.has(n)).map((n) => this.path(n));
      throw Errors.agronomyConflictingInput(`${a.join('+')} and ${b.join('+')} cannot be given together`, {
        field: b[0],
      });
    }
    const chosen = present[0];
    if (!chosen) return -1;
    for (const n of chosen.names) if (!this.has(n)) this.fail(n, `is required with ${chosen.names.filter((m) => m !== n).map((m) => this.path(m)).join(', ')}`);
    return chosen.i;
  }

  /** Reject fields this reader never asked about (catches typos such as `rh_maxx`). */
  rejectUnknown(allowed: readonly string[] = []): void {
    for (const key of Object.keys(this.#obj)) {
      if (!this.#seen.has(key) && !allowed.includes(key)) this.fail(key, 'is not a known field');
    }
  }
}
