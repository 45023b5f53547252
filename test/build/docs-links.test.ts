/**
 * The docs stand on their own: every Markdown file that the README, docs/ or
 * a README under src/ cites by name is in the repository (a design note kept
 * elsewhere, such as the hub-model.md they once cited, is not).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const SKIP = new Set(['node_modules', '.git', 'dist', '.hub-data']);

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files(path, out);
    else if (/\.(md|ts|tsx|cjs|mjs|graphql|sql)$/.test(name)) out.push(path);
  }
  return out;
}

test('every cited .md file exists in the repository', () => {
  const sources = [join(ROOT, 'README.md'), ...files(join(ROOT, 'docs')), ...files(join(ROOT, 'src'))].filter(
    (f) => f.endsWith('.md'),
  );
  const all = files(ROOT);
  const names = new Set(all.map((f) => basename(f)));
  const missing: string[] = [];
  for (const file of sources) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/[\w./-]*[\w-]+\.md\b/g)) {
      const cited = match[0].replace(/^\.\//, '');
      if (/^https?:/.test(cited)) continue;
      const found =
        existsSync(join(ROOT, cited)) || existsSync(join(dirname(file), cited)) || names.has(basename(cited));
      if (!found) missing.push(`${relative(ROOT, file)}: ${cited}`);
    }
  }
  expect(missing).toEqual([]);
});
