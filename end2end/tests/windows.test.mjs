// A file past the highlight cap is shown a window of lines at a time: scrolling loads the next
// window, and a link to a line outside the loaded ones opens the window that holds it. The demo
// server runs with a low cap so that this checkout's Cargo.lock (over 4,000 lines) is such a file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDemo, launchBrowser, signIn, withScreenshotOnFailure } from './support.mjs';

let server;
let browser;

before(async () => {
  server = await startDemo(['--highlight-max-bytes', '20000']);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a large file loads further windows as the reader scrolls, and jumps to a far line', async () => {
  const page = await browser.newPage();
  await withScreenshotOnFailure(page, 'windows', async () => {
    await signIn(page, server.url, 'reviewer', server.passwords.reviewer);
    await page.goto(`${server.url}/pins/1/blob/Cargo.lock`);
    const range = page.locator('.window-range');
    const text = await range.innerText();
    const total = Number(text.match(/of ([\d,]+)/)[1].replace(/,/g, ''));
    assert.ok(total > 4000, `Cargo.lock has ${total} lines`);
    assert.match(text, /^Lines 1–4,000 of /);
    assert.equal(await page.locator('table.code tr#L4001').count(), 0, 'one window at first');

    // A permalink to a line in the last window opens that window and selects the line.
    await page.goto(`${server.url}/pins/1/blob/Cargo.lock#L${total}`);
    await page.waitForURL(/\?from=4001#L\d+$/, { timeout: 15_000 });
    await page.waitForSelector(`tr#L${total}.selected`, { timeout: 15_000 });
    assert.equal(await page.locator('table.code tr#L1').count(), 0);

    // From the first window, scrolling to the end of the table loads the next window's rows.
    await page.goto(`${server.url}/pins/1/blob/Cargo.lock`);
    await page.waitForSelector('table.code tr#L4000');
    for (let i = 0; i < 40 && (await page.locator('table.code tr#L4001').count()) === 0; i++) {
      await page.locator('table.code tr#L4000').scrollIntoViewIfNeeded();
      await page.mouse.wheel(0, 2000);
      await page.waitForTimeout(250);
    }
    await page.waitForSelector('table.code tr#L4001', { timeout: 15_000 });
    assert.equal(await range.innerText(), `Lines 1–${total.toLocaleString('en-US')} of ${total.toLocaleString('en-US')}`);

    // The whole file is a download away.
    const download = await page.locator('a', { hasText: 'Download raw file' }).getAttribute('href');
    const response = await page.request.get(`${server.url}${download}`);
    assert.equal(response.status(), 200);
    assert.equal((await response.body()).toString().split('\n').length - 1, total);
  });
  await page.close();
});
