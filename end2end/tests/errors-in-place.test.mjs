// Errors appear where the user is looking (issue 33, item 6): a refused form comes back with the
// reason next to its field, in view, announced, with the focus in the field and what was typed
// kept; a search that cannot run keeps its page; a refused download is a page, not JSON.
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

/** Whether the element is inside the viewport (all of its top edge at least). */
async function inView(locator) {
  return locator.evaluate((element) => {
    const box = element.getBoundingClientRect();
    return box.top >= 0 && box.top < window.innerHeight && box.bottom > 0;
  });
}

const focusedId = (page) => page.evaluate(() => document.activeElement?.id || document.activeElement?.name || '');

test('a refused comment comes back as typed, the reason next to the text, in view and announced', async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await withScreenshotOnFailure(page, 'refused-comment', async () => {
    await signIn(page, server.url, 'reviewer', server.passwords.reviewer);
    const file = `${server.url}/pins/1/blob/server/src/audit/proof.rs`;
    await page.goto(file);
    await page.locator('#composer-details summary').click();
    await page.fill('#composer-start', '9999');
    await page.fill('#composer-end', '9999');
    const text = 'The bounds check on **the split point** is missing.';
    await page.fill('#composer-body', text);
    await page.locator('.composer-form select[name=severity]').selectOption('high');
    await Promise.all([page.waitForNavigation(), page.locator('.composer-form button[type=submit]').click()]);

    assert.doesNotMatch(page.url(), /error=/, 'not a notice at the top of the page');
    assert.doesNotMatch(page.url(), /#/, 'no fragment: a browser would not honour autofocus');
    const error = page.locator('#composer-error');
    assert.match(await error.innerText(), /past the end of the file/);
    assert.equal(await error.getAttribute('role'), 'alert');
    assert.ok(await inView(error), 'the reason is on screen');
    assert.equal(await page.locator('.notice-error').count(), 0, 'and only there');
    assert.equal(await page.inputValue('#composer-body'), text, 'the text is kept');
    assert.equal(await page.inputValue('#composer-start'), '9999');
    assert.equal(await page.locator('.composer-form select[name=severity]').inputValue(), 'high');
    assert.equal(await focusedId(page), 'composer-body', 'the focus is in the text');
    assert.equal(await page.getAttribute('#composer-body', 'aria-describedby'), 'composer-error');

    // Corrected, it saves; the reason is shown once, not on the next visit.
    await page.fill('#composer-start', '20');
    await page.fill('#composer-end', '21');
    await Promise.all([page.waitForNavigation(), page.locator('.composer-form button[type=submit]').click()]);
    assert.match(page.url(), /done=saved/);
    await page.locator('article.thread', { hasText: 'the split point' }).waitFor();
    await page.goto(file);
    assert.equal(await page.locator('#composer-error').count(), 0);

    // A blank reply: the reason under that thread's reply box, the box open.
    const thread = page.locator('article.thread', { hasText: 'the split point' });
    await thread.locator('summary', { hasText: 'Reply' }).click();
    await thread.locator('.reply textarea').fill('   ');
    await Promise.all([page.waitForNavigation(), thread.locator('.reply button[type=submit]').click()]);
    const again = page.locator('article.thread', { hasText: 'the split point' });
    const replyError = again.locator('.reply .field-error');
    assert.match(await replyError.innerText(), /write something first/);
    assert.ok(await inView(replyError));
    assert.ok(await again.locator('.reply textarea').evaluate((box) => box === document.activeElement));
  });
  await page.close();
});

test('second factor and password: each outcome is shown next to its form, the focus in the field', async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 700 } });
  await withScreenshotOnFailure(page, 'account-errors', async () => {
    await signIn(page, server.url, 'reviewer', server.passwords.reviewer);
    await page.goto(`${server.url}/account`);
    await page.fill('#second-factor input[name=password]', server.passwords.reviewer);
    await Promise.all([page.waitForNavigation(), page.locator('#second-factor button[type=submit]').click()]);
    const outcome = page.locator('#second-factor-outcome');
    assert.match(await outcome.innerText(), /authenticator app/);
    assert.equal(await outcome.getAttribute('role'), 'status');

    // A wrong code: the reason beside the code field, which has the focus again.
    await page.fill('#second-factor input[name=code]', '000000');
    await Promise.all([page.waitForNavigation(), page.locator('#second-factor button[type=submit]').click()]);
    assert.doesNotMatch(page.url(), /error=/);
    assert.equal(await outcome.getAttribute('role'), 'alert');
    assert.ok(await inView(outcome), 'the reason is on screen');
    assert.equal(await focusedId(page), 'code');
    assert.equal(await page.getAttribute('#second-factor input[name=code]', 'aria-invalid'), 'true');

    // A wrong current password, at the bottom of the page.
    await page.fill('#password input[name=current]', 'not my password at all');
    await page.fill('#password input[name=new]', 'a long enough new passphrase');
    await page.fill('#password input[name=confirm]', 'a long enough new passphrase');
    await Promise.all([page.waitForNavigation(), page.locator('#password button[type=submit]').click()]);
    const refused = page.locator('#password-outcome');
    assert.equal(await refused.getAttribute('role'), 'alert');
    assert.ok(await inView(refused), 'the reason is on screen');
    assert.equal(await focusedId(page), 'current');
  });
  await page.close();
});

test('a search that cannot run keeps the pin bar and the query, with the reason under the field', async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await withScreenshotOnFailure(page, 'search-errors', async () => {
    await signIn(page, server.url, 'reviewer', server.passwords.reviewer);
    const response = await page.goto(`${server.url}/pins/1/search?q=${encodeURIComponent('fn (')}&re=1`);
    assert.equal(response.status(), 200, 'the page, not an error page');
    assert.equal(await page.locator('nav.pinbar').count(), 1);
    assert.equal(await page.locator('nav.pinbar [aria-current=page]').innerText(), 'Search');
    const error = page.locator('#search-error');
    assert.match(await error.innerText(), /regular expression|regex|pattern/i);
    assert.equal(await error.getAttribute('role'), 'alert');
    assert.equal(await page.inputValue('#search-box'), 'fn (');
    assert.ok(await page.locator('input[name=re]').isChecked(), 'the options as they were');
    assert.equal(await page.getAttribute('#search-box', 'aria-describedby'), 'search-error');

    // The empty search page has the pin bar too.
    await page.goto(`${server.url}/pins/1/search`);
    assert.equal(await page.locator('nav.pinbar').count(), 1);
    assert.equal(await focusedId(page), 'search-box');
  });
  await page.close();
});

test('a refused download is a page that says why, not JSON', async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await withScreenshotOnFailure(page, 'refused-download', async () => {
    // A regulator holds no grant for the demo pin's source.
    await signIn(page, server.url, 'regulator', server.passwords.regulator);
    const response = await page.goto(`${server.url}/pins/1/raw/README.md`);
    assert.ok([403, 404].includes(response.status()), `${response.status()}`);
    assert.match(response.headers()['content-type'], /^text\/html/);
    assert.ok((await page.locator('h1').innerText()).length > 0);
    assert.equal(await page.locator('header.topbar').count(), 1, 'the header every page has');
    assert.equal(await page.locator('main a[href="/"]').count(), 1, 'a way back');
  });
  await page.close();
});
