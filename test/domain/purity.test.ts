import { readFileSync, readdirSync } from 'fs';
import { builtinModules } from 'module';
import { join } from 'path';

/*
 * Workflow code imports domain/ and runs in Temporal's deterministic sandbox, where Node
 * built-ins are unavailable. Only calendar-file.ts (the loader used by the worker) may
 * touch them; this keeps anyone from adding an fs or crypto import by accident.
 */
const DOMAIN_DIR = join(__dirname, '../../domain');
const ALLOWED_IO = new Set(['calendar-file.ts']);
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

const pureFiles = readdirSync(DOMAIN_DIR).filter((f) => f.endsWith('.ts') && !ALLOWED_IO.has(f));

test('the pure modules exist', () => {
  expect(pureFiles).toEqual(expect.arrayContaining(['calendar.ts', 'identity.ts', 'verification.ts']));
});

test.each(pureFiles)('%s imports no Node built-in and reads no clock or environment', (file) => {
  const source = readFileSync(join(DOMAIN_DIR, file), 'utf8');
  const imported = [...source.matchAll(/\b(?:from|import|require)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
  expect(imported.filter((name) => builtins.has(name))).toEqual([]);
  expect(source).not.toMatch(/\bDate\.now\(|\bprocess\.env\b|new Date\(\)/);
});
