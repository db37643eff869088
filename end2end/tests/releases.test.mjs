// The public releases page, as a customer sees it without an account: the demo's authorised
// release with its artifacts, and a file checked against the public log after its SHA-256 is
// computed in the browser (the file is not uploaded).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemo, launchBrowser, withScreenshotOnFailure } from './support.mjs';

let server;
let browser;
let scratch;

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'clearroom-releases-'));
  server = await startDemo();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** Chooses a file in the page's check box and waits for the answer its hash leads to. */
async function check(page, path) {
  await page.goto(`${server.url}/releases`);
  await page.waitForLoadState('networkidle');
  await Promise.all([page.waitForURL(/\/releases\?sha256=/, { timeout: 60_000 }), page.setInputFiles('#verify-file', path)]);
  const result = page.locator('#check-result');
  await result.waitFor();
  return result.innerText();
}

test('anyone sees the authorised release and checks a file against the public log without signing in', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await withScreenshotOnFailure(page, 'releases-public', async () => {
    const response = await page.goto(`${server.url}/releases`);
    assert.equal(response.status(), 200);
    assert.equal(new URL(page.url()).pathname, '/releases', 'no redirect to the sign-in page');
    const release = page.locator('li.release').first();
    await release.waitFor();
    assert.match(await release.locator('h2').innerText(), / 1\.0$/);
    assert.match(await release.innerText(), /2 builder\(s\)/);
    assert.match(await release.innerText(), /1 signature\(s\), 1 needed, of supervisor, supervisor2/);
    // The demo's release artifact is a stand-in: the bytes "demo build of pin 1".
    const shipped = join(scratch, 'clearroom-server');
    writeFileSync(shipped, 'demo build of pin 1');
    assert.match(await check(page, shipped), /is part of an authorised release/);
    const statement = page.locator('#check-result a', { hasText: 'transparent statement' });
    assert.match(await statement.getAttribute('href'), /^\/bt\/statement\/[0-9a-f]{64}$/);
    const other = join(scratch, 'something-else');
    writeFileSync(other, 'a binary nobody released');
    assert.match(await check(page, other), /No authorised release contains/);
  });
});
