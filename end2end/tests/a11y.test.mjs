// Every page passes axe-core with no violations, in the light and the dark theme (EN 301 549 /
// WCAG 2.1 AA). axe runs in the page with the page's CSP bypassed, as the issue that asked for it said.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startDemo, launchBrowser, signIn, withScreenshotOnFailure } from './support.mjs';

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
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

/** The violations axe finds on the page, as readable lines. */
async function violations(page) {
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(async () => {
    // The watermark is decoration (aria-hidden, no pointer events) drawn over everything on purpose.
    return await window.axe.run(document, { exclude: [['.watermark']], resultTypes: ['violations'] });
  });
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

const pages = {
  reviewer: ['/', '/pins/1/tree', '/pins/1/tree/server/src', '/pins/1/blob/server/src/audit/merkle.rs', '/pins/1/comments', '/pins/1/coverage', '/pins/1/verdicts', '/pins/1/traceability'],
  staff: ['/admin', '/account', '/audit', '/log', '/exports', '/pins/1/coverage'],
  regulator: ['/audit', '/log', '/exports', '/pins/1/comments'],
};

for (const scheme of ['light', 'dark']) {
  test(`every page passes axe-core in the ${scheme} theme`, async () => {
    const found = [];
    const context = await browser.newContext({ colorScheme: scheme, bypassCSP: true, viewport: { width: 1280, height: 900 } });
    const login = await context.newPage();
    await login.goto(`${server.url}/login`);
    for (const line of await violations(login)) found.push(`/login: ${line}`);
    await login.close();
    for (const [role, paths] of Object.entries(pages)) {
      const page = await context.newPage();
      await withScreenshotOnFailure(page, `a11y-${role}-${scheme}`, async () => {
        await signIn(page, server.url, role, server.passwords[role]);
        for (const path of paths) {
          await page.goto(`${server.url}${path}`);
          await page.waitForLoadState('networkidle');
          for (const line of await violations(page)) found.push(`${role} ${path}: ${line}`);
        }
      });
      await page.close();
      await context.clearCookies();
    }
    await context.close();
    assert.deepEqual(found, [], `axe-core found violations:\n${found.join('\n')}`);
  });
}
