/**
 * Example payloads in the docs name the model fieldhook ships (models/irrigation/model.json):
 * an example of an advice whose provenance names an older model reads as what a receiver gets
 * today. Figures measured on an older model say so in prose and are not examples.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const card = JSON.parse(readFileSync('models/irrigation/model.json', 'utf8')) as { name: string; version: string; file: { sha256: string } };

/** Every `"model": {"name": …, "version": …, "sha256": …}` in the README and docs/, with where it is. */
function modelIdentities(): { file: string; name: string; version: string; sha256: string }[] {
  const files = ['README.md', ...readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const pattern = /"name"\s*:\s*"([^"]+)"\s*,\s*"version"\s*:\s*"([^"]+)"\s*,\s*"sha256"\s*:\s*"([^"]+)"/g;
  return files.flatMap((file) => [...readFileSync(file, 'utf8').matchAll(pattern)].map((m) => ({ file, name: m[1]!, version: m[2]!, sha256: m[3]! })));
}

describe('model identity in the docs\' example payloads', () => {
  it(`names the shipped model (${card.name} ${card.version}) with a prefix of its sha256`, () => {
    const found = modelIdentities();
    // The event examples of docs/predictor.md and docs/webhooks.md at least.
    expect(new Set(found.map((f) => f.file))).toEqual(new Set(['docs/predictor.md', 'docs/webhooks.md']));
    for (const f of found) {
      expect({ file: f.file, name: f.name, version: f.version }).toEqual({ file: f.file, name: card.name, version: card.version });
      expect(card.file.sha256.startsWith(f.sha256.replace(/…$/, ''))).toBe(true);
    }
  });
});
