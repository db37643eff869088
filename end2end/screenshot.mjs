// Takes screenshots of the main pages for a visual check: node screenshot.mjs [outdir]
import { startDemo, launchBrowser, signIn } from './tests/support.mjs';

const out = process.argv[2] ?? 'test-results';
const server = await startDemo();
const browser = await launchBrowser();
try {
  for (const scheme of ['light', 'dark']) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: scheme });
    const page = await context.newPage();
    await signIn(page, server.url, 'reviewer', server.passwords.reviewer);
    await page.screenshot({ path: `${out}/home-${scheme}.png` });
    await page.goto(`${server.url}/pins/1/blob/server/src/audit/merkle.rs#L1-L3`);
    await page.waitForSelector('tr#L1.selected', { timeout: 15_000 });
    await page.screenshot({ path: `${out}/blob-${scheme}.png` });
    await page.goto(`${server.url}/pins/1/comments`);
    await page.screenshot({ path: `${out}/comments-${scheme}.png`, fullPage: true });
    await page.goto(`${server.url}/pins/1/verdicts`);
    await page.screenshot({ path: `${out}/verdicts-${scheme}.png`, fullPage: true });
    const staff = await context.newPage();
    await context.clearCookies();
    await signIn(staff, server.url, 'staff', server.passwords.staff);
    await staff.goto(`${server.url}/pins/1/coverage`);
    await staff.waitForTimeout(1500);
    await staff.goto(`${server.url}/pins/1/coverage?reviewer=reviewer`);
    await staff.screenshot({ path: `${out}/coverage-${scheme}.png`, fullPage: true });
    await staff.goto(`${server.url}/admin`);
    await staff.screenshot({ path: `${out}/admin-${scheme}.png` });
    await staff.goto(`${server.url}/admin#users`);
    await staff.screenshot({ path: `${out}/admin-users-${scheme}.png` });
    await staff.goto(`${server.url}/account`);
    await staff.screenshot({ path: `${out}/account-${scheme}.png` });
    await staff.goto(`${server.url}/audit`);
    await staff.screenshot({ path: `${out}/audit-${scheme}.png` });
    await context.close();
  }
  const login = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await login.goto(`${server.url}/login?error=1`);
  await login.screenshot({ path: `${out}/login.png` });
} finally {
  await browser.close();
  await server.stop();
}
