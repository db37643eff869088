// A reviewer's working day (issue 33): a long file opens a window of lines rather than every row
// at once, and go-to-line and find-in-file reach the lines of every window; a side-by-side diff
// fits the screen, each half wrapping its long lines.
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

test('a long highlighted file opens in windows, and go to line and find in file reach every line', async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await withScreenshotOnFailure(page, 'long-file', async () => {
    await signIn(page, server.url, 'reviewer', server.passwords.reviewer);
    // Cargo.lock is over 4,000 lines and well under the highlight cap: it used to come whole.
    await page.goto(`${server.url}/pins/1/blob/Cargo.lock`);
    const text = await page.locator('.window-range').innerText();
    const total = Number(text.match(/of ([\d,]+)/)[1].replace(/,/g, ''));
    assert.match(text, /^Lines 1–4,000 of /);
    assert.ok(total > 4000, `Cargo.lock has ${total} lines`);
    assert.equal(await page.locator('table.code tbody > tr[id^="L"]').count(), 4000, 'one window of rows');

    // Go to line: a line of the last window, selected and in view.
    const target = total - 2;
    await page.fill('.goto-line input[name=line]', String(target));
    await Promise.all([page.waitForNavigation(), page.press('.goto-line input[name=line]', 'Enter')]);
    await page.waitForSelector(`tr#L${target}.selected`, { timeout: 15_000 });
    assert.ok(await page.locator(`tr#L${target}`).isVisible());
    assert.equal(await page.locator('table.code tr#L1').count(), 0, 'the window that holds the line');

    // Find in file: a line only a later window holds is found, and its link opens that window.
    const raw = await page.request.get(`${server.url}/pins/1/raw/Cargo.lock`);
    const lines = (await raw.body()).toString().split('\n');
    const index = lines.findIndex((line, i) => i > 4100 && line.startsWith('name = ') && lines.filter((l) => l === line).length === 1);
    assert.ok(index > 0, 'a package named once, past line 4,100');
    await page.goto(`${server.url}/pins/1/blob/Cargo.lock`);
    await page.fill('.find-in-file input[name=q]', lines[index]);
    await Promise.all([page.waitForNavigation(), page.press('.find-in-file input[name=q]', 'Enter')]);
    const hit = page.locator(`.search-file tr.hit td.ln a[href$="#L${index + 1}"]`);
    await hit.waitFor();
    assert.equal(await page.locator('.search-file').count(), 1, 'this file only');
    await Promise.all([page.waitForNavigation(), hit.click()]);
    await page.waitForSelector(`tr#L${index + 1}.selected`, { timeout: 15_000 });
  });
  await page.close();
});

test('a side-by-side diff fits the screen at 1440 and 390 px, and unified lines wrap on request', async () => {
  for (const width of [1440, 390]) {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    await withScreenshotOnFailure(page, `diff-fits-${width}`, async () => {
      await signIn(page, server.url, 'reviewer', server.passwords.reviewer);
      await page.goto(`${server.url}/pins/2/compare/1`);
      const modified = page.locator('.change-file', { has: page.locator('.change-modified') }).locator('a.path').first();
      await modified.waitFor();
      const href = await modified.getAttribute('href');
      await page.goto(`${server.url}${href}${href.includes('?') ? '&' : '?'}view=split`);
      await page.waitForSelector('table.diff-split');
      const widths = await page.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        table: document.querySelector('table.diff-split').getBoundingClientRect().width,
        scroller: document.querySelector('table.diff-split').parentElement.clientWidth,
      }));
      assert.ok(widths.table <= widths.scroller + 1, `the table fits its box: ${JSON.stringify(widths)}`);
      if (width === 1440) {
        assert.ok(widths.page <= width, `no sideways scroll of the page: ${JSON.stringify(widths)}`);
      }

      await page.goto(`${server.url}${href}${href.includes('?') ? '&' : '?'}view=unified`);
      await Promise.all([page.waitForNavigation(), page.locator('a', { hasText: 'Wrap long lines' }).click()]);
      await page.waitForSelector('table.diff-unified.wrap');
      const wrapped = await page.evaluate(() => {
        const table = document.querySelector('table.diff-unified');
        return table.getBoundingClientRect().width <= table.parentElement.clientWidth + 1;
      });
      assert.ok(wrapped, 'wrapped unified lines fit too');
    });
    await page.close();
  }
});

test('at 390 px no page scrolls sideways, the header folds into a menu and every pin tab is reachable', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await withScreenshotOnFailure(page, 'narrow', async () => {
    await signIn(page, server.url, 'reviewer', server.passwords.reviewer);
    const paths = ['/', '/pins/1/tree', '/pins/1/blob/Cargo.lock', '/pins/1/search?q=leaf_hash', '/pins/2/compare/1', '/pins/1/comments', '/pins/1/coverage', '/pins/1/verdicts', '/pins/1/builds', '/account', '/verify'];
    const wide = [];
    for (const path of paths) {
      await page.goto(`${server.url}${path}`);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      if (width > 390) wide.push(`${path}: ${width} px`);
    }
    assert.deepEqual(wide, [], 'pages wider than the screen');

    // The account and Sign out are behind Menu, and in view once it is open.
    await page.goto(`${server.url}/pins/1/tree`);
    const signOut = page.locator('.whoami button', { hasText: 'Sign out' });
    assert.equal(await signOut.isVisible(), false, 'folded');
    await page.locator('.menu-button').click();
    assert.ok(await signOut.isVisible());
    const box = await signOut.boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 390, `Sign out on screen: ${JSON.stringify(box)}`);
    const clock = page.locator('.session-clock');
    if (await clock.count()) {
      const text = await clock.innerText();
      assert.match(text, /\d+ h \d+ min|\d+ min/, `the whole clock: ${text}`);
      const clockBox = await clock.boundingBox();
      assert.ok(clockBox.x >= 0 && clockBox.x + clockBox.width <= 390, 'the clock is not clipped');
    }

    // The last pin tab can be reached (the tabs scroll in their own row).
    const builds = page.locator('#builds-tab');
    await builds.scrollIntoViewIfNeeded();
    const tab = await builds.boundingBox();
    assert.ok(tab.x >= 0 && tab.x + tab.width <= 390, `the Builds tab on screen: ${JSON.stringify(tab)}`);
    const bar = await page.locator('.pinbar').boundingBox();
    assert.ok(tab.y >= bar.y && tab.y + tab.height <= bar.y + bar.height, `inside the pin bar, not clipped: ${JSON.stringify({ tab, bar })}`);
    await Promise.all([page.waitForNavigation(), builds.click()]);
    assert.match(page.url(), /\/pins\/1\/builds$/);
  });
  await context.close();
});

test('keys: the first Tab offers a skip link, t opens the finder focused, arrows choose and Enter opens', async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await withScreenshotOnFailure(page, 'keys', async () => {
    await signIn(page, server.url, 'reviewer', server.passwords.reviewer);
    await page.goto(`${server.url}/pins/1/tree`);
    await page.waitForFunction(() => document.querySelector('#finder-open') !== null);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => location.hash), '#content');

    await page.locator('body').click({ position: { x: 700, y: 500 } });
    // Islands hydrate after the load: wait until t opens the finder.
    for (let i = 0; i < 40 && !(await page.locator('#finder-input').isVisible()); i++) {
      await page.keyboard.press('t');
      await page.waitForTimeout(100);
    }
    await page.waitForFunction(() => document.activeElement?.id === 'finder-input', null, { timeout: 5_000 });
    await page.keyboard.type('routes/');
    await page.waitForSelector('#finder-results li');
    // The list follows the typing: wait until it has stopped changing (the whole query's).
    const hrefs = () => page.evaluate(() => [...document.querySelectorAll('#finder-results li a')].map((a) => a.href).join(' '));
    for (let i = 0, last = ''; i < 30; i++) {
      const now = await hrefs();
      if (now === last && (await page.inputValue('#finder-input')) === 'routes/') break;
      last = now;
      await page.waitForTimeout(150);
    }
    const first = await page.locator('#finder-results li a').nth(0).getAttribute('href');
    const second = await page.locator('#finder-results li a').nth(1).getAttribute('href');
    assert.ok(second, 'two files match');
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.locator('#finder-results li.chosen a').getAttribute('href'), second);
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowDown');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    assert.ok(page.url().endsWith(second), `opened the chosen file: ${page.url()} (not ${first})`);
    const help = await page.locator('#keys-help').innerText();
    assert.ok(!help.includes('t or /'), 'the help names each key for what it does');
  });
  await page.close();
});

test('a regulator without a grant finds the review records from home, and only the tabs they may open', async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await withScreenshotOnFailure(page, 'regulator', async () => {
    await signIn(page, server.url, 'regulator', server.passwords.regulator);
    await page.goto(`${server.url}/`);
    assert.equal(await page.locator('text=No pins to show').count(), 0);
    const records = page.locator('tr', { hasText: 'Demo release' }).locator('.pin-records');
    await Promise.all([page.waitForNavigation(), records.locator('a', { hasText: 'Comments' }).click()]);
    assert.match(page.url(), /\/pins\/\d+\/comments$/);
    assert.equal(await page.locator('#files-tab, #search-tab, #compare-tab').count(), 0, 'no source tabs');
    assert.equal(await page.locator('#coverage-tab').count(), 1);
    assert.equal(await page.locator('.thread a.anchor').count(), 0, 'places are plain text');
    assert.ok((await page.locator('.thread .anchor').count()) > 0);
    await Promise.all([page.waitForNavigation(), page.locator('#coverage-tab').click()]);
    assert.match(page.url(), /\/pins\/\d+\/coverage$/);
  });
  await page.close();
});
