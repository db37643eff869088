// The staff console (issue 33, items 7 and 8): destructive actions ask first and say what they
// end; a disabled account is enabled again; the username's pattern is valid; API tokens are made
// (shown once) and revoked; a grant of a preset length; a refused grant keeps its dates.
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

test('disable asks first and names what it ends; enable brings the account back', async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const problems = [];
  page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
  await withScreenshotOnFailure(page, 'console-disable', async () => {
    // The reviewer is signed in somewhere: disabling ends that session.
    const elsewhere = await browser.newPage();
    await signIn(elsewhere, server.url, 'reviewer', server.passwords.reviewer);
    await signIn(page, server.url, 'staff', server.passwords.staff);
    await page.goto(`${server.url}/admin`);
    assert.deepEqual(problems.filter((p) => /pattern/i.test(p)), [], 'the username pattern is valid');
    assert.ok(await page.locator('input[name=username][pattern]').evaluate((input) => {
      input.value = 'Not Valid!';
      return !input.checkValidity();
    }), "the browser's check is on");

    const row = page.locator('tr[data-user=reviewer]');
    await row.locator('summary', { hasText: 'Disable…' }).click();
    const box = row.locator('.confirm-box').last();
    assert.match(await box.innerText(), /ends 1 live session now and revokes 0 live API tokens/);
    assert.equal(await page.locator('tr[data-user=reviewer] .badge-revoked').count(), 0, 'one click did nothing');
    await box.locator('input[name=reason]').fill('left the lab');
    await Promise.all([page.waitForNavigation(), box.locator('button', { hasText: 'Disable reviewer' }).click()]);
    assert.match(await page.locator('tr[data-user=reviewer]').innerText(), /disabled/);
    await elsewhere.goto(`${server.url}/`);
    assert.match(elsewhere.url(), /\/login/, 'their session ended');

    await page.locator('tr[data-user=reviewer] summary', { hasText: 'Enable…' }).click();
    const enable = page.locator('tr[data-user=reviewer] .confirm-box');
    assert.match(await enable.innerText(), /may sign in again/);
    await Promise.all([page.waitForNavigation(), enable.locator('button').click()]);
    assert.doesNotMatch(await page.locator('tr[data-user=reviewer]').innerText(), /disabled/);
    await signIn(elsewhere, server.url, 'reviewer', server.passwords.reviewer);
    assert.doesNotMatch(elsewhere.url(), /\/login/, 'they sign in again');
    await elsewhere.close();

    // Revoking a grant and withdrawing a pin ask first too.
    for (const label of ['Revoke…', 'Withdraw…']) {
      const summary = page.locator('details.confirm summary', { hasText: label }).first();
      await summary.click();
      const text = await summary.locator('xpath=..').locator('.confirm-box').innerText();
      assert.match(text, label === 'Revoke…' ? /loses access to .* at their next request/ : /Only staff will read .*reviewers? with an active grant/);
      await summary.click();
    }
  });
  await page.close();
});

test('an API token is made with scopes, shown once, listed and revoked', async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await withScreenshotOnFailure(page, 'console-tokens', async () => {
    await signIn(page, server.url, 'staff', server.passwords.staff);
    await page.goto(`${server.url}/admin#tokens`);
    const form = page.locator('form.token-form');
    await form.locator('select[name=username]').selectOption('regulator');
    await form.locator('input[name=label]').fill('nightly export');
    await form.locator('input[name=scope][value=export]').check();
    await form.locator('input[name=scope][value="log:read"]').check();
    await Promise.all([page.waitForNavigation(), form.locator('button[type=submit]').click()]);
    const token = (await page.locator('#secret').innerText()).trim();
    assert.ok(token.length > 20, 'the token, once');
    assert.equal(await page.locator('header.topbar').count(), 1, 'the page has the header');
    const answer = await page.request.get(`${server.url}/api/v1/log/checkpoint`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(answer.status(), 200);

    await page.goto(`${server.url}/admin`);
    const row = page.locator('#tokens tr', { hasText: 'nightly export' });
    assert.match(await row.innerText(), /log:read export/);
    assert.ok(!(await page.content()).includes(token), 'never shown again');
    await row.locator('summary', { hasText: 'Revoke…' }).click();
    await Promise.all([page.waitForNavigation(), row.locator('.confirm-box button').click()]);
    assert.match(await page.locator('#tokens-outcome').innerText(), /revoked token/);
    const refused = await page.request.get(`${server.url}/api/v1/log/checkpoint`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(refused.status(), 401);
  });
  await page.close();
});

test('a grant for a day from now; a refused grant keeps its dates; checkboxes sit beside their labels', async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await withScreenshotOnFailure(page, 'console-grants', async () => {
    await signIn(page, server.url, 'staff', server.passwords.staff);
    await page.goto(`${server.url}/admin`);
    const form = page.locator('form.grant-form');
    await form.locator('select[name=pin]').selectOption({ index: 0 });
    await form.locator('input[name=from]').fill('2031-03-02T09:00');
    await form.locator('input[name=until]').fill('2031-03-01T09:00');
    await Promise.all([page.waitForNavigation(), form.locator('button[type=submit]').click()]);
    const error = page.locator('#grants-outcome');
    assert.equal(await error.getAttribute('role'), 'alert');
    assert.equal(await form.locator('input[name=from]').inputValue(), '2031-03-02T09:00', 'the dates are kept');
    assert.equal(await form.locator('input[name=until]').inputValue(), '2031-03-01T09:00');

    await form.locator('input[name=from]').fill('');
    await form.locator('input[name=until]').fill('');
    await form.locator('select[name=length]').selectOption('1d');
    await Promise.all([page.waitForNavigation(), form.locator('button[type=submit]').click()]);
    assert.match(await page.locator('#grants-outcome').innerText(), /^granted 1 pin to .* until \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);

    // Times on the page are UTC, as the forms take them.
    const times = await page.locator('time.local-time').allInnerTexts();
    assert.ok(times.length > 0 && times.every((t) => / UTC$/.test(t)), times.slice(0, 3).join(', '));

    const check = page.locator('.policy-form label.check').first();
    const [boxArea, textArea] = await Promise.all([
      check.locator('input').boundingBox(),
      check.boundingBox(),
    ]);
    assert.ok(boxArea.height > 0 && textArea.height < boxArea.height * 2.5, 'one line: the box beside its label');
  });
  await page.close();
});

test('a grant limited to paths: made on the console, listed with them; its holder sees only them, and is told', async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await withScreenshotOnFailure(page, 'console-scoped-grant', async () => {
    // The demo's evaluator holds a grant limited to the audit log's code.
    await signIn(page, server.url, 'evaluator', server.passwords.evaluator);
    await page.goto(`${server.url}/pins/1/tree`);
    assert.match(await page.locator('.scope-bar').innerText(), /^Your access covers: server\/src\/audit\/\*\* .*\(2 patterns\)$/);
    const only = async (name) => {
      const entries = (await page.locator('.file-list a').allInnerTexts()).filter((e) => !e.startsWith('↰'));
      assert.equal(entries.length, 1, entries.join(' | '));
      assert.match(entries[0], new RegExp(`^(▸\\s*)?${name}\\b`));
    };
    await only('server');
    await page.goto(`${server.url}/pins/1/tree/server/src`);
    await only('audit');
    const outside = await page.goto(`${server.url}/pins/1/blob/server/src/main.rs`);
    assert.equal(outside.status(), 404);
    assert.match(await page.locator('main').innerText(), /there is no such path at this pin/);
    const inside = await page.goto(`${server.url}/pins/1/blob/server/src/audit/merkle.rs`);
    assert.equal(inside.status(), 200);

    await signIn(page, server.url, 'staff', server.passwords.staff);
    await page.goto(`${server.url}/admin`);
    const demoRow = page.locator('tr', { hasText: 'Demo release (#1)' }).filter({ hasText: 'evaluator' }).first();
    assert.match(await demoRow.innerText(), /Only server\/src\/audit\/\*\*/);
    const form = page.locator('form.grant-form');
    await form.locator('select[name=username]').selectOption('evaluator');
    await form.locator('select[name=pin]').selectOption({ index: 0 });
    await form.locator('select[name=length]').selectOption('8h');
    await form.locator('textarea[name=paths]').fill('migrations/**\n!migrations/postgres/**');
    await Promise.all([page.waitForNavigation(), form.locator('button[type=submit]').click()]);
    assert.match(await page.locator('#grants-outcome').innerText(), /^granted 1 pin to evaluator/);
    assert.match(await page.locator('tr', { hasText: 'migrations/**' }).first().innerText(), /Only migrations\/\*\* !migrations\/postgres\/\*\*/);
  });
  await page.close();
});
