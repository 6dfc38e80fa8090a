// Lints one email's HTML with the caniemail data (@jsx-email/doiuse-email) for Gmail, Outlook
// and Apple Mail. Prints every unsupported feature × client pair, then `pairs: N` (tests/single_pass/lint.rs
// reads that line). Usage: node tests/lint/lint.mjs FILE.html
import { readFileSync } from 'node:fs';
import { doIUseEmail } from '@jsx-email/doiuse-email';

const html = readFileSync(process.argv[2], 'utf8');
const result = doIUseEmail(html, { emailClients: ['gmail.*', 'outlook.*', 'apple-mail.*'] });
const pairs = new Set();
for (const error of result.errors ?? []) {
  // "`display:none` is not supported by `outlook.windows`"
  const m = /^`(.+)` is not supported by `(.+)`/.exec(error);
  pairs.add(m ? `${m[1]} × ${m[2]}` : error);
}
for (const p of [...pairs].sort()) console.log(p);
console.log(`pairs: ${pairs.size}`);
