/**
 * Dependencies point inward (`.dependency-cruiser.cjs`, `npm run lint:deps`): the real tree has
 * no violations, and an import that breaks a rule is reported with the rule's name. Runs
 * dependency-cruiser in process; no servers.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cruise, type ICruiseOptions, type ICruiseResult, type IViolation } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');

async function cruiseTree(roots: string[], baseDir?: string): Promise<ICruiseResult> {
  const options: ICruiseOptions = await extractDepcruiseOptions(CONFIG);
  const tsConfigFile = options.tsConfig?.fileName ?? 'tsconfig.json';
  if (baseDir) options.baseDir = baseDir;
  const tsConfig = extractTSConfig(join(baseDir ?? ROOT, tsConfigFile));
  const { output } = await cruise(roots, options, {}, { tsConfig });
  if (typeof output === 'string') throw new Error(`expected a cruise result, got: ${output.slice(0, 200)}`);
  return output;
}

const describeViolation = (v: IViolation) => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (cycle ${v.cycle.map((c) => c.name).join(' → ')})` : ''}`;

describe('dependency boundaries', () => {
  it('the source tree (services, infra, bench) breaks no rule', async () => {
    const result = await cruiseTree(['services', 'infra', 'bench']);
    expect(result.summary.violations.map(describeViolation)).toEqual([]);
    // The rules only mean something if `.js` specifiers resolved to the .ts sources.
    const pipeline = result.modules.find((m) => m.source === 'services/cli/program.ts');
    expect(pipeline?.dependencies.map((d) => d.resolved)).toContain('services/cli/commands/index.ts');
    expect(result.modules.filter((m) => m.couldNotResolve)).toEqual([]);
  });

  describe('a fixture tree with violating imports', () => {
    let dir: string;
    let violations: IViolation[];

    const file = (path: string, text: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    };

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'fh-boundaries-'));
      file('tsconfig.json', JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }));
      file('package.json', JSON.stringify({ type: 'module', dependencies: { zod: '*' }, devDependencies: { 'fast-check': '*' } }));
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
      file('infra/harness/y.ts', 'export const y = 1;\n');
      file('services/simulator/fleet.ts', 'export const fleet = 1;\n');
      file('services/training/dataset.ts', "import { y } from '../../infra/harness/y.js';\nexport const dataset = y;\n");
      // Runtime code importing the test harness.
      file('services/x.ts', "import { y } from '../infra/harness/y.js';\nexport const x = y;\n");
      // A CLI command: a static import of the simulator is refused, a dynamic one inside the action is fine.
      file('services/cli/commands/simulate.ts', "import { fleet } from '../../simulator/fleet.js';\nexport const f = fleet;\n");
      file('services/cli/commands/quality.ts', "export async function action() {\n  return (await import('../../training/dataset.js')).dataset;\n}\n");
      // A devDependency in shipped code (and a production dependency, which is fine).
      file('services/z.ts', "import fc from 'fast-check';\nimport { z } from 'zod';\nexport const arb = fc.integer();\nexport const schema = z.number();\n");
      // A cycle.
      file('services/a.ts', "import { b } from './b.js';\nexport const a = () => b;\n");
      file('services/b.ts', "import { a } from './a.js';\nexport const b = () => a;\n");
      violations = (await cruiseTree(['services', 'infra'], dir)).summary.violations;
    });

    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reports runtime code importing infra/harness, naming the rule', () => {
      expect(violations).toContainEqual(
        expect.objectContaining({ from: 'services/x.ts', to: 'infra/harness/y.ts', rule: { name: 'runtime-not-to-test-support', severity: 'error' } }),
      );
    });

    it('reports the training code importing infra/harness', () => {
      expect(violations).toContainEqual(
        expect.objectContaining({ from: 'services/training/dataset.ts', to: 'infra/harness/y.ts', rule: { name: 'tools-not-to-test-support', severity: 'error' } }),
      );
    });

    it('reports a static import of the simulator from a CLI command, not a dynamic import of the training code', () => {
      expect(violations).toContainEqual(
        expect.objectContaining({ from: 'services/cli/commands/simulate.ts', to: 'services/simulator/fleet.ts', rule: { name: 'cli-tools-only-dynamic', severity: 'error' } }),
      );
      expect(violations.filter((v) => v.from === 'services/cli/commands/quality.ts')).toEqual([]);
    });

    it('reports a devDependency imported by services', () => {
      expect(violations).toContainEqual(
        expect.objectContaining({ from: 'services/z.ts', unresolvedTo: 'fast-check', rule: { name: 'services-not-to-dev-dep', severity: 'error' } }),
      );
    });

    it('reports a circular dependency', () => {
      const cycles = violations.filter((v) => v.rule.name === 'no-circular');
      expect(cycles).toHaveLength(1);
      expect([cycles[0]!.from, ...cycles[0]!.cycle!.map((c) => c.name)].sort()).toEqual(['services/a.ts', 'services/a.ts', 'services/b.ts']);
    });

    it('reports nothing else', () => {
      expect(violations.map(describeViolation)).toHaveLength(5);
    });
  });
});
