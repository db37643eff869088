// Browser hashing benchmark: the verify page hashes a file of SIZE MiB (default 500) in Chromium
// (the streaming WASM hasher above 64 MiB, WebCrypto below) and this prints MB/s beside sha256sum
// on the same file. It asserts only that the two hashes agree.
//   cargo xtask build && node end2end/bench-hashing.mjs [SIZE_MIB]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemo, launchBrowser, signIn } from './tests/support.mjs';

const mib = Number(process.argv[2] ?? 500);
const dir = mkdtempSync(join(tmpdir(), 'clearroom-hash-'));
const file = join(dir, 'artifact.bin');
const bytes = Buffer.alloc(mib * 1024 * 1024);
for (let i = 0; i < bytes.length; i += 4096) bytes[i] = i % 251;
writeFileSync(file, bytes);
let started = process.hrtime.bigint();
const reference = execFileSync('sha256sum', [file]).toString().split(' ')[0];
const sha256sumSeconds = Number(process.hrtime.bigint() - started) / 1e9;

const server = await startDemo();
const browser = await launchBrowser();
try {
  const page = await browser.newPage();
  await signIn(page, server.url, 'reviewer', server.passwords.reviewer);
  await page.goto(`${server.url}/verify`);
  await page.waitForLoadState('networkidle');
  started = process.hrtime.bigint();
  await Promise.all([page.waitForURL(/sha256=/, { timeout: 600_000 }), page.setInputFiles('#verify-file', file)]);
  const browserSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const hashed = new URL(page.url()).searchParams.get('sha256');
  if (hashed !== reference) throw new Error(`browser ${hashed} != sha256sum ${reference}`);
  const rate = (s) => (mib / s).toFixed(0);
  console.log(`${mib} MiB: sha256sum ${sha256sumSeconds.toFixed(2)} s (${rate(sha256sumSeconds)} MiB/s); ` +
    `browser ${browserSeconds.toFixed(2)} s (${rate(browserSeconds)} MiB/s, including handing the file to the page)`);
} finally {
  await browser.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
