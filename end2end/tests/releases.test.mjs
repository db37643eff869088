// The public releases page, as a customer sees it without an account: the demo's authorised
// release with its artifacts, and a file checked against the public log after its SHA-256 is
// computed in the browser (the file is not uploaded).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemo, launchBrowser, signIn, withScreenshotOnFailure, root } from './support.mjs';

const shots = join(root, 'end2end', 'test-results');

let server;
let browser;
let scratch;

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'clearroom-releases-'));
  mkdirSync(shots, { recursive: true });
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

test('staff propose a release on the pin page; a supervisor signs it offline and pastes the file', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  await withScreenshotOnFailure(page, 'releases-decide', async () => {
    await signIn(page, server.url, 'staff', server.passwords.staff);
    await page.goto(`${server.url}/pins/1/tree`);
    await Promise.all([page.waitForURL(/\/pins\/1\/releases$/), page.click('#releases-tab')]);
    const authorised = page.locator('article.release-detail', { has: page.locator('.state-authorised') });
    assert.match(await authorised.locator('h2').innerText(), / 1\.0$/);
    assert.equal(await authorised.locator('.rule-list li.unmet').count(), 0, 'every rule met');
    // The demo's recorded builds are offered; the one its two builders agree on is ticked.
    assert.equal(await page.locator('#propose input[name=artifact]').count(), 3);
    const ticked = page.locator('#propose input[name=artifact]:checked');
    assert.equal(await ticked.count(), 1);
    assert.match(await ticked.getAttribute('value'), /^clearroom-server:linux\/amd64:[0-9a-f]{64}$/);
    await page.fill('#propose input[name=version]', '1.1');
    await Promise.all([page.waitForURL(/\/releases#propose$/), page.click('#propose button.primary')]);
    assert.match(await page.locator('#propose-outcome').innerText(), /^proposed: release \d+ \(1\.1\) waiting for supervisors$/);

    // The supervisor sees it waiting on the home page, downloads the envelope, signs it with the
    // key kept outside the server, and pastes the file.
    await page.context().clearCookies();
    await signIn(page, server.url, 'supervisor', server.passwords.supervisor);
    assert.match(await page.locator('.open-releases').innerText(), /1 release waits for your decision/);
    await Promise.all([page.waitForURL(/\/releases#release-\d+$/), page.click('.open-releases a')]);
    const waiting = page.locator('article.release-detail', { has: page.locator('.state-proposed') });
    const [download] = await Promise.all([page.waitForEvent('download'), waiting.locator('a[download]').click()]);
    const dossier = join(scratch, 'dossier.json');
    await download.saveAs(dossier);
    const signature = join(scratch, 'decision.sig');
    const key = join(server.dataDir, 'demo-supervisor-keys', 'supervisor.key');
    execFileSync(server.binary, ['supervisor', 'sign', dossier, '--key', key, '--out', signature]);
    await waiting.locator('textarea[name=decision]').fill(readFileSync(signature, 'utf8'));
    await Promise.all([page.waitForURL(/\/releases#release-\d+$/), waiting.locator('button.primary').click()]);
    assert.match(await page.locator('#decision-outcome').innerText(), /your decision is recorded: release \d+ \(1\.1\) authorised/);
    assert.equal(await page.locator('article.release-detail .state-authorised').count(), 2);
    await page.screenshot({ path: join(shots, 'pin-releases.png'), fullPage: true });
  });
});
