// Comparing two releases in the browser: the changed files, one file's diff, side by side (the
// choice remembered), the commits between them and blame, a search and a jump to a result, the
// file finder, go to definition.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startDemo, launchBrowser, signIn, withScreenshotOnFailure, root } from './support.mjs';

const shots = join(root, 'end2end', 'test-results');
let server;
let browser;

before(async () => {
  mkdirSync(shots, { recursive: true });
  server = await startDemo();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a reviewer compares two releases, reads a diff side by side and the history, searches and goes to a definition', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await withScreenshotOnFailure(page, 'compare-flow', async () => {
    await signIn(page, server.url, 'reviewer', server.passwords.reviewer);
    await page.goto(`${server.url}/pins/1/compare`);
    await Promise.all([page.waitForNavigation(), page.locator('.choice-list a').first().click()]);
    assert.match(page.url(), /\/pins\/2\/compare\/1$/);
    const first = page.locator('.change-file a.path').first();
    await first.waitFor();
    await page.screenshot({ path: join(shots, 'compare-list.png'), fullPage: false });

    // A modified text file: the diff, unified, then side by side (remembered for the next diff).
    const modified = page.locator('.change-file', { has: page.locator('.change-modified') }).locator('a.path').first();
    await Promise.all([page.waitForNavigation(), modified.click()]);
    await page.waitForSelector('table.diff');
    assert.ok(await page.locator('table.diff-unified').count() === 1 || await page.locator('table.diff-split').count() === 1);
    await page.waitForFunction(() => document.querySelector('.layout-choice') !== null);
    await Promise.all([page.waitForNavigation(), page.locator('.layout-choice a', { hasText: 'Side by side' }).click()]);
    await page.waitForSelector('table.diff-split');
    assert.ok(await page.locator('table.diff tr.add, table.diff td.add, table.diff td.del').count() > 0, 'changed lines are shown');
    await page.screenshot({ path: join(shots, 'diff-split.png'), fullPage: false });
    const address = page.url().replace(/\?.*$/, '');
    await page.goto(address);
    await page.waitForSelector('table.diff-split');

    // The commits between the releases (the demo's history policy is full), one commit's diffs, blame.
    await page.goto(`${server.url}/pins/2/compare/1`);
    await Promise.all([page.waitForNavigation(), page.locator('a', { hasText: 'The commits between these releases' }).click()]);
    assert.match(page.url(), /\/pins\/2\/history\/1$/);
    const commit = page.locator('.commit-list a.commit-summary', { hasText: 'The demo release' });
    await Promise.all([page.waitForNavigation(), commit.click()]);
    await page.waitForSelector('.commit-file table.diff tr.add');
    assert.equal(await page.locator('.commit-file').count(), 3, 'the three files the commit changed');
    await page.goto(`${server.url}/pins/1/blob/README.md`);
    await Promise.all([page.waitForNavigation(), page.locator('a.button[href*="/blame/"]').click()]);
    const firstRun = page.locator('table.blame tr.blame-start').first();
    assert.match(await firstRun.innerText(), /The demo release/, 'the first line was changed by the demo release');

    // Search, then jump to a result's line.
    await page.goto(`${server.url}/pins/1/search?q=leaf_hash`);
    const result = page.locator('.search-file tr.hit td.ln a').first();
    await result.waitFor();
    await page.screenshot({ path: join(shots, 'search.png'), fullPage: false });
    const href = await result.getAttribute('href');
    await Promise.all([page.waitForNavigation(), result.click()]);
    const line = href.split('#L')[1];
    await page.waitForSelector(`tr#L${line}.selected`, { timeout: 15_000 });

    // The file finder (t).
    await page.locator('body').click({ position: { x: 5, y: 300 } });
    await page.keyboard.press('t');
    await page.locator('#finder-input').fill('merklers');
    const offered = page.locator('.finder-results a').first();
    await offered.waitFor();
    assert.match(await offered.innerText(), /merkle\.rs/);

    // Go to definition: click a function's name where it is declared.
    await page.keyboard.press('Escape');
    await page.goto(`${server.url}/pins/1/blob/server/src/audit/merkle.rs`);
    const declaration = page.locator('table.code td.lc', { hasText: 'pub fn leaf_hash' }).first();
    await declaration.waitFor();
    let found = false;
    for (let attempt = 0; attempt < 20 && !found; attempt++) {
      await declaration.scrollIntoViewIfNeeded();
      const box = await declaration.boundingBox();
      // "pub fn " is 7 characters: click on the name after it.
      await page.mouse.click(box.x + 16 + 8 * 9.5, box.y + box.height / 2);
      await page.waitForSelector('.symbol-panel h2', { timeout: 10_000 });
      found = (await page.locator('.symbol-panel').innerText()).includes('server/src/audit/merkle.rs:');
      if (!found) await page.waitForTimeout(1000);
    }
    assert.ok(found, 'the definition is listed');
    await page.screenshot({ path: join(shots, 'definition.png'), fullPage: false });
  });
  await page.close();
});
