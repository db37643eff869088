// The working day's figures (issue 33), measured in Debian's Chromium against the demo (a debug
// server unless CLEARROOM_SERVER names another binary):
//   - the load event of long files and diffs (median of 3 loads each, cold page, warm server);
//   - each page's width at 390 px (its scroll width: over 390 means sideways scrolling).
// Run from end2end/: `node measure-working-day.mjs`. Not a test: it asserts nothing and prints.
import { startDemo, launchBrowser, signIn } from './tests/support.mjs';

const server = await startDemo();
const browser = await launchBrowser();
try {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await signIn(page, server.url, 'reviewer', server.passwords.reviewer);

  // Long diffs in the demo's compare: the three with the most changed lines.
  await page.goto(`${server.url}/pins/2/compare/1`);
  const diffs = await page.$$eval('.change-file', (rows) =>
    rows
      .map((row) => ({
        href: row.querySelector('a.path')?.getAttribute('href'),
        lines: [...row.querySelectorAll('.additions, .deletions')].reduce((n, e) => n + (Number(e.textContent.replace(/[^\d]/g, '')) || 0), 0),
      }))
      .filter((d) => d.href)
      .sort((a, b) => b.lines - a.lines)
      .slice(0, 3),
  );
  const targets = [
    '/pins/1/blob/Cargo.lock',
    '/pins/1/blob/server/src/auth/common-passwords.txt',
    '/pins/1/blob/server/src/audit/merkle.rs',
    ...diffs.map((d) => d.href),
    ...diffs.map((d) => `${d.href}${d.href.includes('?') ? '&' : '?'}view=split`),
  ];
  console.log('load event (ms, median of 3), rows in the page');
  for (const target of targets) {
    const times = [];
    let rows = 0;
    for (let round = 0; round < 3; round++) {
      await page.goto(`${server.url}${target}`, { waitUntil: 'load' });
      times.push(await page.evaluate(() => performance.getEntriesByType('navigation')[0].loadEventEnd));
      rows = await page.locator('table.code tbody > tr').count();
    }
    times.sort((a, b) => a - b);
    console.log(`  ${times[1].toFixed(0).padStart(6)}  ${String(rows).padStart(6)}  ${target}`);
  }

  console.log('page width at 390 px (scroll width; 390 is no sideways scroll)');
  const pages = {
    reviewer: ['/', '/pins/1/tree', '/pins/1/blob/server/src/audit/merkle.rs', '/pins/1/blob/Cargo.lock', '/pins/1/search?q=leaf_hash', '/pins/1/compare', '/pins/2/compare/1', '/pins/1/comments', '/pins/1/coverage', '/pins/1/verdicts', '/pins/1/builds', '/account', '/verify'],
    staff: ['/admin', '/audit', '/log', '/exports'],
    regulator: ['/', '/pins/1/comments', '/pins/1/coverage'],
  };
  if (diffs[0]) pages.reviewer.push(diffs[0].href, `${diffs[0].href}${diffs[0].href.includes('?') ? '&' : '?'}view=split`);
  for (const [role, paths] of Object.entries(pages)) {
    const narrow = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const phone = await narrow.newPage();
    await signIn(phone, server.url, role, server.passwords[role]);
    for (const path of paths) {
      await phone.goto(`${server.url}${path}`);
      const width = await phone.evaluate(() => document.documentElement.scrollWidth);
      console.log(`  ${String(width).padStart(5)}  ${role.padEnd(9)} ${path}`);
    }
    await narrow.close();
  }
} finally {
  await browser.close();
  await server.stop();
}
