// @ts-check
/**
 * Lint rules for merchant-ops (ESLint 9 flat config, typescript-eslint 8 with type information).
 *
 * Besides the usual hygiene, this file enforces the layering in STYLE.md:
 * - workflows/ runs inside Temporal's deterministic sandbox: no Node built-ins, no `process`,
 *   no value imports from the side-effect layers (activities, db, api, platform, worker, config).
 *   Activities may be imported with `import type` only (for `proxyActivities<...>()`).
 * - domain/ is imported by workflows, so it follows the same sandbox rules (except the calendar
 *   file loader, the one domain module that does I/O).
 * - api/ talks to workflows only through `workflows/<name>.defs.ts` (identity, messages, types, id
 *   helpers), `workflows/search-attributes.ts` (search attribute keys) and `workflows/process.ts`.
 * - Layers point down: nothing below the API (activities, workflows, worker, db, domain,
 *   platform) imports api/, not even a type; domain/ imports only domain/ and a few pure
 *   packages.
 */
import { builtinModules } from 'node:module';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

// Both spellings of every built-in ('fs' and 'node:fs'), plus the ones that only exist with the
// prefix. Temporal's bundler refuses these in workflow code (it polyfills only a little of
// assert/url/util; we do not rely on that either).
const nodeOnlyBuiltins = ['node:sea', 'node:sqlite', 'node:test', 'node:test/reporters'];
const nodeBuiltins = [
  ...new Set([
    ...builtinModules.flatMap((m) => (m.startsWith('node:') ? [m] : [m, `node:${m}`])),
    ...nodeOnlyBuiltins,
  ]),
].sort();

const builtinMessage =
  'Node built-ins do not exist in the Temporal workflow sandbox: do the work in an activity.';

/** `../activities`, `../../db/knex`, ... from any depth. */
const layer = (names) => `^(\\.\\./)+(${names.join('|')})(/.*)?$`;

const apiMessage =
  'Layers point down: code below the API must not import api/ (no services, no HttpError). Put the shared logic below (activities/, db/, domain/) and let the API call it.';

/** Refuses api/ from any depth, type imports included. */
const noApiPattern = { regex: layer(['api']), message: apiMessage };

/**
 * domain/ imports only domain/ (`./x`) and these pure packages (test/domain/purity.test.ts
 * keeps Node built-ins out; calendar-file.ts is the one loader allowed more).
 */
const domainPackages = ['zod', 'chinese-days', 'chinese-days/dist/chinese-days.json'];
const escapeRegex = (text) => text.replace(/[.*+?^$()|[\]\\/{}]/g, '\\$&');
/** Anything but `./x` and the listed packages: no `../layer`, no other package. */
const domainOnly = `^(?!\\./|(${domainPackages.map(escapeRegex).join('|')})$)`;

/**
 * Import restrictions for code that runs in the workflow sandbox.
 * @param {{ typeImportsFromLayers: boolean }} opts whether `import type` from every
 *   side-effect layer is fine (domain/) or only from activities (workflows/).
 */
const sandboxImportRestrictions = ({ typeImportsFromLayers }) => [
  'error',
  {
    paths: nodeBuiltins.map((name) => ({ name, message: builtinMessage })),
    patterns: [
      noApiPattern,
      {
        regex: layer(['activities']),
        allowTypeImports: true,
        message:
          'Workflows call activities through proxyActivities<typeof activities>(): import them with `import type` only.',
      },
      {
        regex: '^(\\.\\./)+domain/calendar-file$',
        message: 'calendar-file.ts reads files: the worker loads the calendar and passes the data in.',
      },
      {
        regex: layer(['db', 'platform', 'worker', 'config']),
        allowTypeImports: typeImportsFromLayers,
        message:
          'Sandboxed code must not load side-effect layers (db, platform, worker, config): pass values in as workflow arguments or compute them in activities.',
      },
      {
        // The Temporal packages in @temporalio/worker's bundler `disallowedModules`.
        group: [
          '@temporalio/activity',
          '@temporalio/client',
          '@temporalio/worker',
          '@temporalio/testing',
          '@temporalio/common/lib/internal-non-workflow',
          '@temporalio/common/lib/internal-non-workflow/**',
        ],
        allowTypeImports: true,
        message: 'Not allowed in the workflow sandbox: use @temporalio/workflow (or @temporalio/common).',
      },
    ],
  },
];

const sandboxGlobals = [
  'error',
  { name: 'process', message: 'No `process` in the workflow sandbox: config is read by the worker and passed in as arguments.' },
  { name: 'Buffer', message: 'No `Buffer` in the workflow sandbox: use Uint8Array / TextEncoder.' },
  { name: 'setImmediate', message: 'Use `sleep` or `condition` from @temporalio/workflow.' },
  { name: 'clearImmediate', message: 'Use `CancellationScope` from @temporalio/workflow.' },
];

export default defineConfig([
  globalIgnores([
    '**/node_modules/',
    '.tools/',
    'data/',
    'coverage/',
    'dist/',
    'test/.bundle/',
    '**/*.config.js',
    '**/*.config.cjs',
    '**/*.config.mjs',
  ]),

  {
    name: 'merchant-ops/typescript',
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // Express accepts async handlers (v5 forwards their rejections), so only check the rest.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // Same convention as tsc's noUnusedParameters: a leading underscore marks "unused on purpose"
      // (Express error handlers need all four parameters).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
        },
      ],
      'no-console': 'error',
    },
  },

  {
    name: 'merchant-ops/scripts-may-print',
    files: ['scripts/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-console': 'off' },
  },

  {
    name: 'merchant-ops/workflow-sandbox',
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': sandboxImportRestrictions({ typeImportsFromLayers: false }),
      'no-restricted-globals': sandboxGlobals,
    },
  },

  {
    name: 'merchant-ops/domain-is-pure',
    files: ['domain/**/*.ts'],
    // The one loader allowed to do I/O (see test/domain/purity.test.ts); workflows may not import it.
    ignores: ['domain/calendar-file.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: builtinMessage })),
          patterns: [
            {
              regex: '^\\./calendar-file$',
              message: 'calendar-file.ts reads files: the worker loads the calendar and passes the data in.',
            },
            {
              regex: domainOnly,
              message: `domain/ imports only domain/ (./x) and ${domainPackages.join(', ')}: it is the pure layer every other one builds on.`,
            },
          ],
        },
      ],
      'no-restricted-globals': sandboxGlobals,
    },
  },

  {
    name: 'merchant-ops/layers-point-down',
    files: ['activities/**/*.ts', 'worker/**/*.ts', 'db/**/*.ts', 'platform/**/*.ts', 'domain/calendar-file.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [noApiPattern] }],
    },
  },

  {
    // The process registry is the one composition root both entry points read: it names each
    // process's route factory (`api/<area>/router`, `api/routes`) and nothing else of the API.
    name: 'merchant-ops/registry-names-routes',
    files: ['worker/registry.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+api(/(?![a-z-]+/router$|routes$).*)?$',
              message: 'The registry names route factories (api/<area>/router, api/routes) only; services and errors stay in the API.',
            },
          ],
        },
      ],
    },
  },

  {
    name: 'merchant-ops/api-uses-workflow-defs',
    files: ['api/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // `../workflows`, `../workflows/x` are refused; `../workflows/x.defs`, the shared
              // search-attribute keys and the ProcessIdentity type (workflows/process) are fine.
              regex: '^(\\.\\./)+workflows(/(?!.*\\.defs$|search-attributes$|process$).*)?$',
              message:
                'The API imports workflows/<name>.defs only (names, messages, types, id helpers), never workflow implementations.',
            },
          ],
        },
      ],
    },
  },
]);
