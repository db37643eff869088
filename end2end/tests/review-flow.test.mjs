// The reviewer's day in the browser: select lines, comment, reply, resolve, mark reviewed with `r`,
// see the coverage picture, submit a verdict. Leaves a screenshot of each page in test-results/.
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

test('a reviewer comments on selected lines, replies, resolves, marks reviewed and gives a verdict', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await withScreenshotOnFailure(page, 'review-flow', async () => {
    await signIn(page, server.url, 'reviewer', server.passwords.reviewer);
    const file = `${server.url}/pins/1/blob/server/src/audit/proof.rs`;
    await page.goto(file);
    // Select lines 20-22: click one line number, shift-click another (the island keeps the permalink).
    await page.locator('tr#L20 td.ln').click();
    await page.waitForFunction(() => location.hash === '#L20');
    await page.locator('tr#L22 td.ln').click({ modifiers: ['Shift'] });
    await page.waitForFunction(() => location.hash === '#L20-L22');
    assert.equal(await page.locator('tr.selected').count(), 3);

    // `c` opens the composer right under the selection, filled in.
    await page.keyboard.press('c');
    await page.waitForSelector('tr#composer-row #composer-body');
    assert.equal(await page.locator('#composer-start').inputValue(), '20');
    assert.equal(await page.locator('#composer-end').inputValue(), '22');
    const rowAfter = await page.evaluate(() => document.querySelector('tr#L22').nextElementSibling?.id);
    assert.equal(rowAfter, 'composer-row', 'the composer opens under the last selected line');
    await page.locator('#composer-body').fill('Why is the **split point** computed this way?');
    await page.locator('.composer-form select[name=severity]').selectOption('medium');
    await Promise.all([page.waitForNavigation(), page.locator('.composer-form button[type=submit]').click()]);
    assert.match(page.url(), /done=saved/);
    const thread = page.locator('article.thread', { hasText: 'split point' });
    await thread.waitFor();
    assert.match(await thread.locator('.thread-header').innerText(), /medium/);
    await page.screenshot({ path: join(shots, 'flow-1-commented.png') });

    // Reply, then resolve (withdraw is the author's too; here: the finding's author marks it fixed).
    await thread.locator('summary', { hasText: 'Reply' }).click();
    await thread.locator('.reply textarea').fill('Answering my own question: see RFC 9162, 2.1.1.');
    await Promise.all([page.waitForNavigation(), thread.locator('.reply button[type=submit]').click()]);
    const again = page.locator('article.thread', { hasText: 'split point' });
    assert.match(await again.innerText(), /RFC 9162/);
    await again.locator('select[name=state]').selectOption('withdrawn');
    await Promise.all([page.waitForNavigation(), again.locator('.state-form button').click()]);
    assert.match(await page.locator('article.thread', { hasText: 'split point' }).locator('.thread-header').innerText(), /withdrawn/);

    // `r` marks the file reviewed.
    await page.waitForSelector('#reviewed-form');
    await page.locator('body').click({ position: { x: 5, y: 300 } });
    await Promise.all([page.waitForNavigation(), page.keyboard.press('r')]);
    assert.match(await page.locator('#reviewed-form button').innerText(), /Reviewed/);
    await page.screenshot({ path: join(shots, 'flow-2-reviewed.png') });

    // The coverage picture shows the file as reviewed.
    await page.goto(`${server.url}/pins/1/coverage`);
    await page.waitForSelector('svg.treemap');
    const reviewedTile = page.locator('svg.treemap rect.tm-reviewed').first();
    assert.ok(await reviewedTile.count() > 0, 'a reviewed file is drawn');
    assert.match(await page.locator('svg.treemap').innerHTML(), /server\/src\/audit\/proof\.rs — reviewed/);
    await page.screenshot({ path: join(shots, 'flow-3-coverage.png'), fullPage: true });

    // A verdict.
    await page.goto(`${server.url}/pins/1/verdicts`);
    await page.locator('input[name=verdict][value=no_objection]').check();
    await page.locator('textarea[name=summary]').fill('Reviewed the proof code; no objection.');
    await Promise.all([page.waitForNavigation(), page.locator('button', { hasText: 'Submit verdict' }).click()]);
    assert.match(await page.locator('.notice-ok').innerText(), /verdict #\d+ recorded/);
    assert.match(await page.locator('article.verdict').first().innerText(), /no objection/);
    assert.ok(await page.locator('article.verdict.superseded').count() >= 1, 'the demo verdict is superseded, not edited');
    await page.screenshot({ path: join(shots, 'flow-4-verdict.png'), fullPage: true });

    // `?` shows the keys.
    await page.keyboard.press('?');
    assert.ok(await page.locator('#keys-help').isVisible());
  });
  await page.close();
});
