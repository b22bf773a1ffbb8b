import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `npm ci` installs exactly the lock, so the lock must name every platform's native package:
 * a lock written on one machine that lists only its own binding breaks `npm ci` on the next
 * laptop or in the image (README: `npm install --package-lock-only` restores them).
 */
const root = join(__dirname, '..', '..');
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
  lockfileVersion: number;
  packages: Record<string, { version?: string; os?: string[]; cpu?: string[]; dev?: boolean; optional?: boolean }>;
};
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
const installed = Object.keys(lock.packages);
const PLATFORMS = [
  ['linux', 'x64'],
  ['linux', 'arm64'],
  ['darwin', 'x64'],
  ['darwin', 'arm64'],
  ['win32', 'x64'],
  ['win32', 'arm64'],
] as const;

/** Native bindings, by the prefix their platform packages share. */
const FAMILIES = ['node_modules/@swc/core-', 'node_modules/@unrs/resolver-binding-', 'node_modules/@esbuild/'];

describe('package-lock.json', () => {
  it('is a v3 lock whose root matches package.json', () => {
    expect(lock.lockfileVersion).toBe(3);
    const root = lock.packages[''] as unknown as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    expect(root.dependencies).toEqual(pkg.dependencies);
    expect(root.devDependencies).toEqual(pkg.devDependencies);
  });

  it.each(FAMILIES.flatMap((family) => PLATFORMS.map(([os, cpu]) => [family, os, cpu] as const)))('%s has a package for %s %s', (family, os, cpu) => {
    const found = installed.filter((p) => p.startsWith(family)).map((p) => lock.packages[p]!);
    expect(found.some((p) => p.os?.includes(os) && p.cpu?.includes(cpu))).toBe(true);
  });

  it('pins a version for every package (nothing left for npm ci to resolve)', () => {
    const unpinned = installed.filter((p) => p !== '' && !lock.packages[p]!.version && !(lock.packages[p] as { link?: boolean }).link);
    expect(unpinned).toEqual([]);
  });
});
