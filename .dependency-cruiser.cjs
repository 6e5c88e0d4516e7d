/**
 * Dependencies point inward: the running pipeline (`services/`, except the simulator and the
 * training code) never imports the test harness, tests, benchmarks, the simulator or the
 * training code; the tools may import the runtime, never the other way round.
 *
 * `npm run lint:deps` checks the tree (part of `npm test`); test/unit/architecture/boundaries.test.ts
 * checks the tree and that a violating import is reported.
 */

/** The running pipeline: everything under services/ but the tools. */
const RUNTIME = '^services/';
/** The demo (services/demo) plays the simulator into the pipeline: a tool too, loaded only by `fieldhook demo`. */
const TOOLS = '^services/(simulator|training|demo)/';
/** Commands of the `fieldhook` CLI: they may load the tools, but only by a dynamic import() in an action. */
const CLI_COMMANDS = '^services/cli/commands/';
const TEST_SUPPORT = '^(infra|test|bench)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'runtime-not-to-test-support',
      comment:
        'The running pipeline (services/) must not import infra/ (the test harness), test/ or bench/: ' +
        'the build ships services/ only. The other direction (the harness re-exporting production code) is fine.',
      severity: 'error',
      from: { path: RUNTIME, pathNot: TOOLS },
      to: { path: TEST_SUPPORT },
    },
    {
      name: 'runtime-not-to-tools',
      comment:
        'The running pipeline must not import the simulator or the training code (services/simulator, services/training), ' +
        'so `fieldhook start` never loads them. CLI commands may, but only through a dynamic import() inside the ' +
        "command's action (see cli-tools-only-dynamic).",
      severity: 'error',
      from: { path: RUNTIME, pathNot: [TOOLS, CLI_COMMANDS] },
      to: { path: TOOLS },
    },
    {
      name: 'cli-tools-only-dynamic',
      comment:
        'A CLI command reaches the simulator or the training code only through `await import()` in its action ' +
        '(type-only imports are erased and allowed): a static import would load them for every command, `fieldhook start` included.',
      severity: 'error',
      from: { path: CLI_COMMANDS },
      to: { path: TOOLS, dynamic: false, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'tools-not-to-test-support',
      comment: 'The simulator and the training code must not import infra/ (the test harness), test/ or bench/.',
      severity: 'error',
      from: { path: TOOLS },
      to: { path: TEST_SUPPORT },
    },
    {
      name: 'no-circular',
      comment: 'No module may depend on itself, directly or through others.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'services-not-to-dev-dep',
      comment:
        'services/ ships with the production dependencies only: no devDependencies (vitest, fast-check, tsx, …). ' +
        'Type packages (@types/*) are fine.',
      severity: 'error',
      from: { path: '^services/' },
      to: { dependencyTypes: ['npm-dev'], pathNot: ['node_modules/@types/'] },
    },
    {
      name: 'not-to-undeclared-package',
      comment: 'Every package imported must be listed in package.json.',
      severity: 'error',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import must resolve to a file; an unresolved one would slip past the other rules.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules'] },
    exclude: { path: ['^dist/', '^node_modules/'] },
    // Type-only imports count too: they are dependencies of the source, even if erased at runtime.
    tsPreCompilationDeps: true,
    // NodeNext: `./x.js` in the source is `./x.ts` on disk; with the tsconfig and these extensions
    // dependency-cruiser resolves it to the .ts file.
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
