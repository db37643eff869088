// A reviewer's working day, continued (issue 33, items 9 and 10, the low items and the features):
// coverage figures that agree, search results that link on and are highlighted, the audit page's
// filters and counts, Markdown where comments are listed, lockfiles highlighted, the account's
// sessions and QR code, a diff's neighbours and reviewed mark, copy buttons, the home dashboard.
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

// One signed-in context per person for the whole file: sign-in is rate-limited per account (a
// burst of 5), and each test opens its own page in it.
const contexts = {};
async function page(user) {
  if (!contexts[user]) {
    contexts[user] = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const first = await contexts[user].newPage();
    await signIn(first, server.url, user, server.passwords[user]);
    await first.close();
  }
  return contexts[user].newPage();
}

test('coverage: the whole-pin row says what the figures say, rounded alike', async () => {
  const tab = await page('staff');
  await withScreenshotOnFailure(tab, 'coverage-agree', async () => {
    await tab.goto(`${server.url}/pins/1/coverage`);
    const together = await tab.locator('tr', { hasText: 'Everyone together' }).locator('td').nth(1).innerText();
    const lines = together.match(/lines \(([\d.]+ %|–)\)/)[1];
    const whole = tab.locator('tr', { hasText: '(whole pin)' }).locator('td');
    assert.equal(await whole.nth(3).innerText(), lines, 'Shown: one rule, one number');
    assert.match(await tab.locator('thead', { hasText: 'Reviewed or carried' }).innerText(), /Shown/);
  });
  await tab.close();
});

test('search: totals, "N more lines" is a link, result lines are highlighted', async () => {
  const tab = await page('reviewer');
  await withScreenshotOnFailure(tab, 'search-more', async () => {
    await tab.goto(`${server.url}/pins/1/search?q=fn`);
    assert.match(await tab.locator('.search-totals').innerText(), /^[\d,]+ matching lines? in [\d,]+ files?\. This page: /);
    const more = tab.locator('.search-file a', { hasText: /more matching lines? in this file/ }).first();
    assert.ok(await more.count() > 0, 'a file with more lines than shown');
    assert.ok(await tab.locator('.search-file td.lc span[class^=h]').count() > 0, 'highlighted lines');
    await Promise.all([tab.waitForNavigation(), more.click()]);
    assert.match(tab.url(), /lines=all/);
    assert.equal(await tab.locator('.search-file').count(), 1, 'that file, all its lines');
  });
  await tab.close();
});

test('audit: a bad filter is said, the count is of the matches, every path and the event indented', async () => {
  const tab = await page('staff');
  await withScreenshotOnFailure(tab, 'audit-filters', async () => {
    await tab.goto(`${server.url}/audit?pin=abc`);
    assert.match(await tab.locator('#audit-filter-error').innerText(), /“abc” is not a pin number/);
    assert.equal(await tab.locator('table.audit').count(), 0, 'nothing listed for a filter not understood');

    await tab.goto(`${server.url}/audit?action=blob.view`);
    const count = await tab.locator('.audit-count').innerText();
    const [, matching, all] = count.match(/^([\d,]+) events? match, of ([\d,]+) in the log/);
    assert.ok(Number(matching.replace(/,/g, '')) < Number(all.replace(/,/g, '')), count);
    const leaf = tab.locator('table.audit pre.leaf').first();
    assert.ok((await leaf.textContent()).includes('\n  "action": "blob.view"'), 'indented');

    // A search's results name every file it listed.
    await tab.goto(`${server.url}/pins/1/search?q=fn`);
    await tab.goto(`${server.url}/audit?action=search.results`);
    const paths = await tab.locator('table.audit td.path').first().innerText();
    assert.ok(paths.split(', ').length > 1, paths);
  });
  await tab.close();
});

test('home: Markdown rendered in the list of comments, and the reviewer\'s progress at each pin', async () => {
  const tab = await page('reviewer');
  await withScreenshotOnFailure(tab, 'home-dashboard', async () => {
    await tab.goto(`${server.url}/`);
    const excerpt = tab.locator('.my-threads .excerpt', { hasText: 'please confirm' });
    assert.equal(await excerpt.locator('strong').innerText(), 'please confirm', 'rendered, not raw');
    assert.ok(!(await excerpt.innerText()).includes('**'));
    const progress = tab.locator('tr', { hasText: 'Demo release' }).locator('.pin-progress');
    assert.match(await progress.innerText(), /Reviewed [\d.]+ % of the lines \(\d+ of [\d,]+ files?\)/);
    assert.match(await progress.innerText(), /\d+ open findings? of yours/);
    const next = progress.locator('.next-file a');
    const path = await next.innerText();
    await Promise.all([tab.waitForNavigation(), next.click()]);
    assert.equal(await tab.locator('h1.file-name').innerText(), path.split('/').pop(), 'the next file to review opens');
  });
  await tab.close();
});

test('Cargo.lock is highlighted as TOML', async () => {
  const tab = await page('reviewer');
  await withScreenshotOnFailure(tab, 'toml', async () => {
    await tab.goto(`${server.url}/pins/1/blob/Cargo.lock`);
    assert.equal(await tab.locator('.file-header .badge').first().innerText(), 'TOML');
    assert.ok(await tab.locator('table.code td.lc span.hs').count() > 10, 'its strings are marked');
  });
  await tab.close();
});

test('a diff steps to the next changed file (button and n), marks the file reviewed, copies its path', async () => {
  const tab = await page('reviewer');
  await tab.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  await withScreenshotOnFailure(tab, 'diff-steps', async () => {
    await tab.goto(`${server.url}/pins/1/compare/2`);
    const first = tab.locator('a.path[href*="/compare/2/"]').first();
    await Promise.all([tab.waitForNavigation(), first.click()]);
    const place = await tab.locator('.file-steps .muted').innerText();
    const [, at, of] = place.match(/^File (\d+) of (\d+)$/).map(Number);
    assert.ok(of >= 2, place);
    const heading = await tab.locator('h1.file-name').innerText();
    await tab.locator('body').click({ position: { x: 5, y: 300 } });
    await Promise.all([tab.waitForNavigation(), tab.keyboard.press('n')]);
    assert.equal(await tab.locator('.file-steps .muted').innerText(), `File ${at + 1} of ${of}`);
    assert.notEqual(await tab.locator('h1.file-name').innerText(), heading);
    await Promise.all([tab.waitForNavigation(), tab.locator('.file-steps a[rel=prev]').click()]);
    assert.equal(await tab.locator('.file-steps .muted').innerText(), place);

    const mark = tab.locator('.diff-header #reviewed-form button');
    assert.equal(await mark.count(), 1, 'the reviewed mark is on the diff');
    const before = await mark.getAttribute('aria-pressed');
    await Promise.all([tab.waitForNavigation(), mark.click()]);
    assert.notEqual(await tab.locator('#reviewed-form button').getAttribute('aria-pressed'), before, 'toggled from the diff');
    assert.match(tab.url(), /\/compare\/2\//, 'and back on the diff');

    const copy = tab.locator('.diff-header .copy-button');
    await copy.waitFor({ state: 'visible' });
    await copy.click();
    await tab.locator('.diff-header .copy-said', { hasText: 'Copied' }).waitFor();
    const copied = await tab.evaluate(() => navigator.clipboard.readText());
    assert.ok(copied.endsWith(`/${heading}`) || copied === heading, copied);
  });
  await tab.close();
});

test('account: each session names its browser and can be ended; the second factor shows a QR code', async () => {
  // A second session of the reviewer's, in a browser context of its own.
  const elsewhere = await browser.newContext();
  const other = await elsewhere.newPage();
  await signIn(other, server.url, 'reviewer', server.passwords.reviewer);
  const tab = await page('reviewer');
  await withScreenshotOnFailure(tab, 'account-sessions', async () => {
    await tab.goto(`${server.url}/account`);
    const rows = tab.locator('#sessions tbody tr');
    assert.ok(await rows.count() >= 2);
    assert.match(await rows.first().innerText(), /Chrom/);
    const end = tab.locator('#sessions tbody tr button', { hasText: 'End' }).first();
    await Promise.all([tab.waitForNavigation(), end.click()]);
    assert.match(await tab.locator('#sessions-outcome').innerText(), /ended that session/);

    await tab.fill('#second-factor input[name=password]', server.passwords.reviewer);
    await Promise.all([tab.waitForNavigation(), tab.locator('#second-factor button[type=submit]').click()]);
    const qr = tab.locator('#second-factor figure.qr svg');
    assert.equal(await qr.count(), 1, 'a QR code');
    const box = await qr.boundingBox();
    assert.ok(box.width >= 150 && Math.abs(box.width - box.height) < 2, `${box.width}×${box.height}`);
  });
  await elsewhere.close();
  await tab.close();
});

test('the sidebar opens directories in place, down to a file, and folds them again', async () => {
  const tab = await page('reviewer');
  await withScreenshotOnFailure(tab, 'sidebar-tree', async () => {
    await tab.goto(`${server.url}/pins/1/blob/README.md`);
    const server_ = tab.locator('.sidebar li.entry.dir[data-name=server] > .twisty');
    await server_.waitFor({ state: 'visible' });
    await server_.click();
    const src = tab.locator('.sidebar li.entry.dir[data-name=server] > ul.nested li.entry.dir[data-name=src] > .twisty');
    await src.waitFor({ state: 'visible' });
    assert.equal(await server_.getAttribute('aria-expanded'), 'true');
    await src.click();
    const file = tab.locator('.sidebar li[data-name=src] > ul.nested li.entry.file[data-name="lib.rs"] a');
    await file.waitFor();
    assert.match(tab.url(), /\/blob\/README\.md$/, 'still on the same file');
    await server_.click();
    assert.equal(await tab.locator('.sidebar li.entry.dir[data-name=server] > ul.nested').isVisible(), false, 'folded');
    await server_.click();
    await Promise.all([tab.waitForNavigation(), file.click()]);
    assert.match(tab.url(), /\/blob\/server\/src\/lib\.rs$/);
  });
  await tab.close();
});

test('every diff of a comparison on one page, each loaded as the reader comes to it', async () => {
  const tab = await page('reviewer');
  await withScreenshotOnFailure(tab, 'every-diff', async () => {
    await tab.goto(`${server.url}/pins/2/compare/1`);
    await Promise.all([tab.waitForNavigation(), tab.locator('a', { hasText: 'Show every diff on this page' }).click()]);
    assert.match(tab.url(), /diffs=1/);
    const files = await tab.locator('.change-file').count();
    assert.equal(await tab.locator('.lazy-diff').count(), files, 'a place for each file\'s diff');
    await tab.locator('.lazy-diff table.diff').first().waitFor();
    await tab.locator('.lazy-diff table.diff tr.add').first().waitFor();
    await tab.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await tab.waitForFunction((n) => document.querySelectorAll('.lazy-diff table.diff').length === n, files);
    const width = await tab.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 1440, `no sideways scroll: ${width}`);
  });
  await tab.close();
});
