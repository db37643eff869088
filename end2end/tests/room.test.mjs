// The room (issue 34) as staff meet it in the demo: the firmware's 1.1 reproduced by ci and room;
// 1.0's mismatch explained by diffoscope, section by section; a room build started from the Builds
// page, its log followed live until it ends.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDemo, launchBrowser, signIn, withScreenshotOnFailure } from './support.mjs';

let server;
let browser;
let context;

before(async () => {
  server = await startDemo();
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  await signIn(await context.newPage(), server.url, 'staff', server.passwords.staff);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Reloads `path` until `text` shows (the demo's room builds run in its first seconds). */
async function until(page, path, text) {
  for (let attempt = 0; attempt < 60; attempt += 1) {
    await page.goto(`${server.url}${path}`);
    if ((await page.locator('main').innerText()).includes(text)) return;
    await page.waitForTimeout(1000);
  }
  assert.fail(`${path} never showed ${text}`);
}

test('1.1 is reproduced by ci and the room; 1.0 differs and diffoscope says where', async () => {
  const page = await context.newPage();
  await withScreenshotOnFailure(page, 'room-reproduced', async () => {
    await until(page, '/pins/4/builds', 'Built by ci, room');
    assert.match(await page.locator('.artifact').first().innerText(), /reproduced by 2/);
    await until(page, '/pins/3/builds', 'Investigate the difference');
    await page.click('text=Investigate the difference');
    await page.waitForURL(/\/pins\/3\/build-diffs\/\d+$/);
    // diffoscope takes a few seconds after the room's build is done.
    await until(page, new URL(page.url()).pathname, 'readelf');
    const report = page.locator('section.report');
    assert.match(await report.innerText(), /\.rodata/, 'the differing section is named');
    assert.ok(await report.locator('.dl-add').count() > 0 && await report.locator('.dl-del').count() > 0);
    const download = page.locator('a', { hasText: "diffoscope's HTML report" });
    assert.match(await download.getAttribute('href'), /\/api\/v1\/build-diffs\/\d+\/html$/);
  });
  await page.close();
});

test('a build started from the Builds page is followed live until it ends', async () => {
  const page = await context.newPage();
  await withScreenshotOnFailure(page, 'room-live', async () => {
    await until(page, '/pins/4/builds', 'Built by ci, room');
    await page.click('button:has-text("Build in the room")');
    await page.waitForURL(/\/pins\/4\/room\/\d+$/);
    // The page reloads itself when the build ends; its log is the compiler's lines.
    await page.waitForSelector('h1 .badge-ok', { timeout: 60_000 });
    assert.match(await page.locator('#build-log').innerText(), /gcc -O2 -Wall -o firmware main\.o greet\.o/);
    assert.match(await page.locator('main').innerText(), /firmware/);
    await page.goto(`${server.url}/pins/4/builds`);
    assert.match(await page.locator('#room').innerText(), /#3 firmware/);
  });
  await page.close();
});
