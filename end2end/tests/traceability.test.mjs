// Requirements traced to code (issue 38, part 3) as people meet them in the demo: the release's
// requirement list with untraced requirements first, a reviewer tracing a line range to one from
// the file view's composer, and staff importing a new list through the page's form.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDemo, launchBrowser, signIn, withScreenshotOnFailure } from './support.mjs';

let server;
let browser;

before(async () => {
  server = await startDemo();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function signedIn(username) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  await signIn(await context.newPage(), server.url, username, server.passwords[username]);
  return context;
}

test('the demo list puts untraced requirements first, and a reviewer traces a range from the file view', async () => {
  const context = await signedIn('reviewer');
  const page = await context.newPage();
  await withScreenshotOnFailure(page, 'traceability-demo', async () => {
    await page.goto(`${server.url}/pins/1/traceability`);
    assert.equal(await page.locator('#traceability-tab').getAttribute('aria-current'), 'page');
    assert.match(await page.locator('.trace-figures').innerText(), /2 traced · 4 untraced/);
    const rows = page.locator('table.traceability tbody tr');
    assert.equal(await rows.count(), 6);
    for (let i = 0; i < 4; i++) {
      assert.match(await rows.nth(i).getAttribute('class'), /untraced/, `row ${i} is untraced`);
    }
    const hashing = page.locator('[id="req-FCS_COP.1/HASH"]');
    assert.match(await hashing.innerText(), /Shown to reviewer/);
    assert.match(await hashing.innerText(), /domain-separated/, "the verdict's note on it");
    const input = page.locator('[id="req-FDP_ITC.1"]');
    assert.match(await input.innerText(), /1, 1 open/, 'the open finding against it');

    // Trace lines 3–4 of the README to FAU_GEN.1 from the file view's composer.
    await page.goto(`${server.url}/pins/1/blob/README.md`);
    await page.locator('#composer-details summary').click();
    await page.fill('#composer-start', '3');
    await page.fill('#composer-end', '4');
    await page.fill('#composer-body', 'The README promises an audit record of each access.');
    await page.fill('.composer-form input[name=requirements]', 'FAU_GEN.1');
    await Promise.all([page.waitForNavigation(), page.locator('.composer-form button[type=submit]').click()]);
    await page.waitForSelector('a.badge.requirement:has-text("FAU_GEN.1")');
    await page.goto(`${server.url}/pins/1/traceability`);
    assert.match(await page.locator('.trace-figures').innerText(), /3 traced · 3 untraced/);
    assert.match(await page.locator('[id="req-FAU_GEN.1"]').innerText(), /README\.md:3–4/);
  });
  await context.close();
});

test('staff import a new list through the page, and a bad one is refused with the reason', async () => {
  const context = await signedIn('staff');
  const page = await context.newPage();
  await withScreenshotOnFailure(page, 'traceability-import', async () => {
    await page.goto(`${server.url}/pins/1/traceability`);
    const bad = 'id,title,text\nX 1,spaces,no\n';
    await page.setInputFiles('.requirements-upload input[name=file]', { name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
    await Promise.all([page.waitForURL(/\/pins\/1\/traceability/), page.click('.requirements-upload button')]);
    assert.match(await page.locator('.notice-error').innerText(), /without spaces or commas/);
    const list = 'id,title,text\nFCS_COP.1/HASH,Hashing,SHA-256.\nFPT_TST.1,Self test,Run self tests.\n';
    await page.setInputFiles('.requirements-upload input[name=file]', { name: 'reqs.csv', mimeType: 'text/csv', buffer: Buffer.from(list) });
    await Promise.all([page.waitForURL(/\/pins\/1\/traceability/), page.click('.requirements-upload button')]);
    assert.match(await page.locator('.notice-ok').first().innerText(), /imported 2 requirements/);
    assert.match(await page.locator('.trace-figures').innerText(), /1 traced · 1 untraced/);
    const rows = page.locator('table.traceability tbody tr');
    assert.match(await rows.first().innerText(), /FPT_TST\.1/);
  });
  await context.close();
});
