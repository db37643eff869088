// Imported tool results (issue 38, part 5) as a reviewer meets them in the demo: flawfinder's log
// on the release's C files with three results triaged, a log of their own uploaded through the
// page's form and triaged there, and the results under their lines in the file view.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDemo, launchBrowser, signIn, withScreenshotOnFailure } from './support.mjs';

let server;
let browser;
let context;

before(async () => {
  server = await startDemo();
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  await signIn(await context.newPage(), server.url, 'reviewer', server.passwords.reviewer);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("the demo's flawfinder log is counted per rule, with its triage", async () => {
  const page = await context.newPage();
  await withScreenshotOnFailure(page, 'sarif-demo', async () => {
    await page.goto(`${server.url}/pins/1/sarif`);
    assert.equal(await page.locator('#sarif-tab').getAttribute('aria-current'), 'page');
    const logs = await page.locator('table.sarif-logs').innerText();
    assert.match(logs, /Flawfinder/);
    const rules = await page.locator('table.sarif-rules').innerText();
    assert.match(rules, /FF1001/);
    assert.match(rules, /\d+ %/, 'a false-positive rate where results were triaged');
    await page.click('table.sarif-logs a');
    await page.waitForURL(/\/pins\/1\/sarif\/\d+$/);
    const confirmed = page.locator('.tool-result', { hasText: 'finding #' });
    assert.equal(await confirmed.count(), 1, 'the confirmed result links its finding');
    assert.match(await confirmed.innerText(), /server\/tests\/fixtures\/sarif\/copy\.c:6/);
  });
  await page.close();
});

test('a log uploaded through the form is placed and triaged there, and shows on the file', async () => {
  const page = await context.newPage();
  await withScreenshotOnFailure(page, 'sarif-upload', async () => {
    await page.goto(`${server.url}/pins/1/sarif`);
    const log = {
      version: '2.1.0',
      runs: [{
        tool: { driver: { name: 'lab-lint', version: '1.0' } },
        results: [
          { ruleId: 'LAB7', level: 'warning', message: { text: 'The title names a sample' },
            locations: [{ physicalLocation: { artifactLocation: { uri: 'file:///srv/lab/checkout/README.md' }, region: { startLine: 1 } } }] },
          { ruleId: 'LAB8', level: 'note', message: { text: 'Not in this release' },
            locations: [{ physicalLocation: { artifactLocation: { uri: 'vendor/missing.c' }, region: { startLine: 3 } } }] },
        ],
      }],
    };
    await page.setInputFiles('input[name=file]', { name: 'lab.sarif', mimeType: 'application/sarif+json', buffer: Buffer.from(JSON.stringify(log)) });
    await Promise.all([page.waitForURL(/\/pins\/1\/sarif\/\d+/), page.click('button:has-text("Import")')]);
    assert.match(await page.locator('.notice').first().innerText(), /imported 2 results: 1 placed in the pin, 1 outside it/);
    assert.match(await page.locator('details.sarif-outside').innerText(), /1 results not placed/);
    const result = page.locator('.tool-result', { hasText: 'LAB7' });
    assert.match(await result.innerText(), /README\.md:1/);
    await result.locator('select[name=state]').selectOption('false_positive');
    await result.locator('input[name=reason]').fill('The demo README is the sample on purpose');
    await Promise.all([page.waitForNavigation(), result.locator('button:has-text("Triage")').click()]);
    assert.match(await page.locator('.notice').first().innerText(), /triaged as false positive/);
    assert.match(await page.locator('.tool-result', { hasText: 'LAB7' }).innerText(), /False positive by reviewer/);

    await page.goto(`${server.url}/pins/1/blob/README.md`);
    const note = page.locator('tr.annotation-row .annotation', { hasText: 'LAB7' });
    assert.match(await note.innerText(), /The title names a sample/);
    assert.match(await note.innerText(), /False positive/);
    await page.goto(`${server.url}/pins/1/blob/server/tests/fixtures/sarif/copy.c`);
    const strcpy = page.locator('tr.annotation-row .annotation', { hasText: 'FF1001' });
    assert.match(await strcpy.innerText(), /finding #\d+/);
  });
  await page.close();
});
