// Builds in the browser: a mismatch between builders shown loudly on the pin's pages, a reproduced
// build, staff uploading an artifact with a progress bar, and verifying files whose SHA-256 the
// browser computes (WebCrypto for a small file, the streaming WASM hasher for a large one), each
// equal to what sha256sum computes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemo, launchBrowser, signIn, withScreenshotOnFailure, root } from './support.mjs';

const shots = join(root, 'end2end', 'test-results');
let server;
let browser;
let scratch;

before(async () => {
  mkdirSync(shots, { recursive: true });
  scratch = mkdtempSync(join(tmpdir(), 'clearroom-builds-'));
  server = await startDemo();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Chooses a file on the verify page and waits for the lookup its hash leads to. */
async function verify(page, path) {
  await page.goto(`${server.url}/verify`);
  await page.waitForFunction(() => document.querySelector('#verify-file') !== null);
  // The island must be hydrated (the WASM loaded) before the file is chosen.
  await page.waitForLoadState('networkidle');
  await Promise.all([page.waitForURL(/\/verify\?sha256=/, { timeout: 60_000 }), page.setInputFiles('#verify-file', path)]);
  await page.locator('#verify-result').waitFor();
  return new URL(page.url()).searchParams.get('sha256');
}

test('a mismatch between builders is shown on every page of the pin, a reproduced build is not', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await withScreenshotOnFailure(page, 'builds-mismatch', async () => {
    await signIn(page, server.url, 'reviewer', server.passwords.reviewer);
    await page.goto(`${server.url}/pins/2/tree`);
    const banner = page.locator('.mismatch-banner');
    await banner.waitFor();
    assert.match(await banner.innerText(), /clearroom-server/);
    await page.goto(`${server.url}/pins/2/verdicts`);
    await page.locator('.mismatch-banner').waitFor();
    await page.goto(`${server.url}/pins/2/builds`);
    assert.equal(await page.locator('.badge-mismatch').count(), 1);
    await page.screenshot({ path: join(shots, 'builds-mismatch.png'), fullPage: false });
    await page.goto(`${server.url}/pins/1/builds`);
    assert.equal(await page.locator('.mismatch-banner').count(), 0);
    const release = page.locator('section.artifact[aria-label="clearroom-server (linux/amd64)"]');
    assert.match(await release.innerText(), /reproduced by 2/);
    await page.screenshot({ path: join(shots, 'builds.png'), fullPage: true });
  });
});

test('the running server binary is mapped onto its source: marked lines, badges, the loud list', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await withScreenshotOnFailure(page, 'builds-compiled', async () => {
    await signIn(page, server.url, 'reviewer', server.passwords.reviewer);
    // The map is built in the background once the pin is indexed: the builds page says when.
    const built = page.getByText(/Built from [\d,]+ files of this pin/);
    for (let attempt = 0; attempt < 90 && (await built.count()) === 0; attempt += 1) {
      await page.goto(`${server.url}/pins/1/builds`);
      if ((await built.count()) === 0) await page.waitForTimeout(1000);
    }
    assert.equal(await built.count(), 1, 'the map of the running binary is done');
    const loud = page.locator('.elsewhere-list');
    assert.match(await loud.innerText(), /files compiled into this binary are not in the reviewed tree/);
    assert.match(await loud.innerText(), /From the toolchain/);
    await page.goto(`${server.url}/pins/1/blob/server/src/main.rs`);
    assert.match(await page.locator('.compiled-bar').innerText(), /compiled into clearroom-server \(this binary\): \d+ of [\d,]+ lines/);
    // The compiled lines' gutters carry the mark (the page's nonce'd style applies).
    const marked = await page.evaluate(() =>
      [...document.querySelectorAll('table.code td.ln')].filter((td) => getComputedStyle(td).backgroundImage.includes('gradient')).length);
    assert.ok(marked > 0, 'some lines are marked compiled');
    await page.screenshot({ path: join(shots, 'compiled-file.png'), fullPage: false });
    await page.goto(`${server.url}/pins/1/tree/server/src`);
    assert.ok((await page.locator('.badge-compiled').count()) > 3, 'compiled files and directories are badged');
  });
});

test('staff upload an artifact, and the browser hashes files exactly as sha256sum does', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await withScreenshotOnFailure(page, 'builds-verify', async () => {
    const small = join(scratch, 'tool-1.0.bin');
    const smallBytes = randomBytes(3 * 1024 * 1024);
    writeFileSync(small, smallBytes);

    await signIn(page, server.url, 'staff', server.passwords.staff);
    await page.goto(`${server.url}/pins/1/builds`);
    await page.waitForLoadState('networkidle');
    await page.setInputFiles('#upload-file', small);
    await page.fill('#upload-builder', 'release-engineering');
    await Promise.all([page.waitForNavigation({ timeout: 60_000 }), page.click('#upload-start')]);
    await page.locator(`code.hash:text("${sha256(smallBytes)}")`).waitFor();

    // A recorded build: found, with its pin.
    const found = await verify(page, small);
    assert.equal(found, sha256(smallBytes));
    assert.match(await page.locator('#verify-result').innerText(), /is a recorded build[\s\S]*Demo release/);
    await page.screenshot({ path: join(shots, 'verify-found.png'), fullPage: true });

    // A large file goes through the streaming hasher; it is not a recorded build.
    const large = join(scratch, 'large.bin');
    const largeBytes = Buffer.alloc(80 * 1024 * 1024, 7);
    largeBytes.write('not a release', 1000);
    writeFileSync(large, largeBytes);
    const hashed = await verify(page, large);
    assert.equal(hashed, sha256(largeBytes));
    assert.match(await page.locator('#verify-result').innerText(), /Not a recorded build/);
  });
});
