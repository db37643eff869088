// A reviewer reads highlighted code and follows a permalink; staff grant and revoke access.
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

test('a reviewer signs in, opens a file, and follows a permalink to a range', async () => {
  const page = await browser.newPage();
  await withScreenshotOnFailure(page, 'reviewer', async () => {
    await signIn(page, server.url, 'reviewer', server.passwords.reviewer);
    await page.getByRole('link', { name: 'Demo release', exact: true }).click();
    await page.waitForURL(/\/pins\/1\/tree$/);
    await page.getByRole('link', { name: /Cargo\.toml/ }).first().click();
    await page.waitForURL(/\/pins\/1\/blob\/Cargo\.toml$/);
    assert.ok(await page.locator('table.code tr#L1').isVisible(), 'the first line is shown');

    await page.goto(`${server.url}/pins/1/blob/server/src/domain/mod.rs#L10-L20`);
    const keyword = page.locator('table.code span.hk, table.code span.ht').first();
    await keyword.waitFor();
    assert.notEqual(await keyword.evaluate((el) => getComputedStyle(el).color), await page.locator('body').evaluate((el) => getComputedStyle(el).color), 'keywords are coloured');
    // The island marks the range once the WASM has loaded.
    await page.waitForSelector('tr#L10.selected', { timeout: 15_000 });
    assert.equal(await page.locator('tr.selected').count(), 11);
    assert.match(await page.locator('.watermark').first().innerText(), /reviewer/);
  });
  await page.close();
});

test('staff grant a new reviewer access and revoke it, ending their session', async () => {
  const staff = await browser.newPage();
  const context = await browser.newContext();
  const guest = await context.newPage();
  await withScreenshotOnFailure(staff, 'staff', async () => {
    await signIn(staff, server.url, 'staff', server.passwords.staff);
    await staff.goto(`${server.url}/admin`);
    const users = staff.locator('form[action="/admin/users"]');
    await users.locator('input[name=username]').fill('guest');
    await users.locator('select[name=role]').selectOption('reviewer');
    await users.locator('input[name=password]').fill('visiting auditor 2026');
    await Promise.all([staff.waitForNavigation(), users.locator('button').click()]);
    assert.match(await staff.locator('.notice-ok').innerText(), /created guest/);

    const grants = staff.locator('form[action="/admin/grants"]');
    await grants.locator('select[name=username]').selectOption('guest');
    await grants.locator('select[name=pin]').selectOption('1');
    await grants.locator('input[name=from]').fill('2020-01-01T00:00');
    await grants.locator('input[name=until]').fill('2099-01-01T00:00');
    await Promise.all([staff.waitForNavigation(), grants.locator('button').click()]);
    assert.match(await staff.locator('#grants-outcome').innerText(), /granted 1 pin/);

    await signIn(guest, server.url, 'guest', 'visiting auditor 2026');
    await guest.goto(`${server.url}/pins/1/tree`);
    assert.ok(await guest.locator('.file-list').isVisible(), 'the guest browses the pin');

    await staff.goto(`${server.url}/admin`);
    // Revoking asks first, naming what it takes away.
    const row = staff.locator('tr', { hasText: 'guest' }).filter({ has: staff.locator('summary', { hasText: 'Revoke…' }) });
    await row.locator('summary', { hasText: 'Revoke…' }).click();
    assert.match(await row.locator('.confirm-box').innerText(), /guest loses access to/);
    await Promise.all([staff.waitForNavigation(), row.locator('.confirm-box button').click()]);
    assert.match(await staff.locator('.notice-ok').innerText(), /revoked grant/);

    await guest.goto(`${server.url}/pins/1/tree`);
    await guest.waitForURL(/\/login\?expired=1/);
    assert.match(await guest.locator('.notice').innerText(), /session has ended/);
  });
  await context.close();
  await staff.close();
});
