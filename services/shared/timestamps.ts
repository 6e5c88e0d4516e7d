/**
 * Times as fieldhook's APIs accept them: ISO 8601 with an explicit zone, or whole epoch
 * milliseconds. One rule for readings, irrigation records and forecasts, so a time one of them
 * takes is never refused (or read differently) by another.
 */

/**
 * ISO 8601 with a date, a time and an explicit offset: a time without zone is ambiguous. The
 * groups are checked as a calendar afterwards (no 31 November, 29 February only in leap years).
 */
const ISO_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:Z|([+-])(\d{2}):?(\d{2}))$/;
/** Epoch values below this are almost surely seconds, not milliseconds (before 1973-03-03). */
const MIN_EPOCH_MS = 1e11;
/** The last instant a JavaScript date can hold (ECMA-262 §21.4.1.1): later epoch values are not times. */
const MAX_EPOCH_MS = 8.64e15;

const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/**
 * Epoch ms of an ISO 8601 time with a zone, or undefined when the text is not one or names a time
 * that does not exist (month 13, 31 November, 29 February 2026, 24:00, second 60, offset +25:00).
 * `Date.parse` alone would roll an impossible day over into the next month. Each calendar field
 * is checked against the calendar (the Gregorian leap rule for February), and the instant built
 * from the fields must give the same date back. Fractions beyond milliseconds are dropped, as
 * `Date.parse` does.
 */
export function parseIsoTimestamp(text: string): number | undefined {
  const m = ISO_TIMESTAMP.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  if (day > (month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1]!)) return undefined;
  let offsetMinutes = 0;
  if (m[8] !== undefined) {
    const offsetHours = Number(m[9]);
    const offsetMins = Number(m[10]);
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (m[8] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  // Date.UTC reads years 0-99 as 1900-1999: those go through setUTCFullYear, which does not.
  let local = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if (year < 100) {
    const date = new Date(local);
    date.setUTCFullYear(year, month - 1, day);
    local = date.getTime();
  }
  // The round trip: the days since the epoch give back the day that was written.
  const days = Math.floor(local / 86_400_000);
  if (civilDay(days) !== day) return undefined;
  return local - offsetMinutes * 60_000;
}

/** Day of the month of a count of days since 1970-01-01 (H. Hinnant's civil_from_days). */
function civilDay(days: number): number {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1_460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  return doy - Math.floor((153 * mp + 2) / 5) + 1;
}

/**
 * Epoch ms of an API time (ISO 8601 with a zone, or whole epoch milliseconds from 1973 on), or
 * undefined; {@link timeRefusal} says why not.
 */
export function parseApiTime(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isInteger(raw) && raw >= MIN_EPOCH_MS && raw <= MAX_EPOCH_MS ? raw : undefined;
  return typeof raw === 'string' ? parseIsoTimestamp(raw) : undefined;
}

/**
 * {@link ISO_TIMESTAMP} with the calendar written into it, for JSON Schema `pattern`s (OpenAPI
 * documents, generated clients): month 01–12, the days of each month, 29 February in leap years
 * only (the Gregorian rule), hours 00–23, minutes and seconds 00–59, offsets up to ±23:59. A text
 * matches it exactly when {@link parseIsoTimestamp} reads it (a test checks the two agree).
 */
const MONTH_DAY = '(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|02-(?:0[1-9]|1\\d|2[0-8]))';
const LEAP_YEAR = '(?:\\d{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)';
export const ISO_TIMESTAMP_PATTERN =
  `^(?:\\d{4}-${MONTH_DAY}|${LEAP_YEAR}-02-29)T(?:[01]\\d|2[0-3]):[0-5]\\d(?::[0-5]\\d(?:\\.\\d{1,9})?)?(?:Z|[+-](?:[01]\\d|2[0-3]):?[0-5]\\d)$`;

/**
 * The JSON Schema of an API time, as {@link parseApiTime} takes it: ISO 8601 with a zone, or whole
 * epoch milliseconds from 1973 (smaller numbers are almost surely seconds) to the last instant a
 * JavaScript date holds. For the OpenAPI document and route schemas.
 */
export const API_TIME_SCHEMA = {
  oneOf: [
    { type: 'string', pattern: ISO_TIMESTAMP_PATTERN },
    { type: 'integer', minimum: MIN_EPOCH_MS, maximum: MAX_EPOCH_MS },
  ],
} as const;

/** The refusal message for a value {@link parseApiTime} does not take. */
export function timeRefusal(name: string, raw: unknown): string {
  if (typeof raw === 'number') {
    if (Number.isInteger(raw) && raw >= 0 && raw < MIN_EPOCH_MS) return `${name} looks like epoch seconds; send milliseconds`;
    return `${name} must be whole epoch milliseconds`;
  }
  // A text the pattern matched is at most a few dozen characters: safe to repeat whole.
  if (typeof raw === 'string' && ISO_TIMESTAMP.test(raw)) return `${name} ${raw} is not a date and time that exists`;
  return `${name} must be ISO 8601 with a zone, or epoch milliseconds`;
}
