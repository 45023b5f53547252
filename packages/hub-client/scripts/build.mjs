// Builds the package: ESM to dist/esm, CommonJS to dist/cjs, each with its
// declarations; a package.json in each folder tells Node (and TypeScript)
// which module format its .js and .d.ts files are.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync(join(root, 'dist'), { recursive: true, force: true });
for (const [config, dir, type] of [
  ['tsconfig.json', 'esm', 'module'],
  ['tsconfig.cjs.json', 'cjs', 'commonjs'],
]) {
  execFileSync(process.execPath, [tsc, '-p', join(root, config)], { stdio: 'inherit' });
  mkdirSync(join(root, 'dist', dir), { recursive: true });
  writeFileSync(join(root, 'dist', dir, 'package.json'), `${JSON.stringify({ type }, null, 2)}\n`);
  pointAtLocalMarker(join(root, 'dist', dir));
}

/**
 * The generated documents import their marker type from
 * @graphql-typed-document-node/core (mapped to src/typed-document.ts for the
 * compiler); the declarations shipped must name the package's own copy.
 */
function pointAtLocalMarker(outDir) {
  const walk = (d) =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith('.d.ts') ? [join(d, e.name)] : [],
    );
  for (const file of walk(outDir)) {
    const text = readFileSync(file, 'utf8');
    if (!text.includes('@graphql-typed-document-node/core')) continue;
    let rel = relative(dirname(file), join(outDir, 'typed-document.js')).replaceAll('\\', '/');
    if (!rel.startsWith('.')) rel = `./${rel}`;
    writeFileSync(file, text.replaceAll("'@graphql-typed-document-node/core'", `'${rel}'`));
  }
}
process.stdout.write('@hub-gateway/client: built dist/esm and dist/cjs\n');
