/**
 * Writes docs/errors.md from the error catalog (`npm run docs:errors`). With `--check` it writes
 * nothing and exits with 1 when the file is out of date. The unit test
 * test/unit/shared/error-catalog.test.ts makes the same comparison.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderErrorDocs } from '../../services/shared/error-catalog.js';

const target = fileURLToPath(new URL('../../docs/errors.md', import.meta.url));
const rendered = renderErrorDocs();

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // A missing file is simply out of date.
  }
  if (current !== rendered) {
    process.stderr.write('docs/errors.md is out of date: run npm run docs:errors\n');
    process.exitCode = 1;
  }
} else {
  writeFileSync(target, rendered);
  process.stdout.write('wrote docs/errors.md\n');
}
