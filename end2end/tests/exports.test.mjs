// Exports in the browser: the regulator sees the demo's export finish, starts another from the
// form and watches its progress, downloads it; the bundle verifies offline with the server's
// verifier; its SARIF passes Microsoft's SARIF Multitool with no error; its report opens in
// Chromium without an external request and prints to PDF without clipping.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AdmZip from 'adm-zip';
import { startDemo, launchBrowser, signIn, withScreenshotOnFailure, root } from './support.mjs';

const shots = join(root, 'end2end', 'test-results');
let server;
let browser;
let scratch;

before(async () => {
  mkdirSync(shots, { recursive: true });
  scratch = mkdtempSync(join(tmpdir(), 'clearroom-exports-'));
  server = await startDemo();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** Runs the SARIF Multitool's validator (offline, from its npm package); returns its error results. */
function sarifErrors(file) {
  const tool = join(root, 'end2end', 'node_modules', '@microsoft', 'sarif-multitool-linux', 'Sarif.Multitool');
  chmodSync(tool, 0o755); // npm may skip the package's own chmod (install scripts off)
  const out = join(scratch, 'validation.sarif');
  execFileSync(tool, ['validate', file, '--output', out], { stdio: 'pipe', env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1' } });
  const log = JSON.parse(readFileSync(out, 'utf8'));
  return log.runs.flatMap((run) => run.results ?? []).filter((r) => r.level === 'error');
}

test('a regulator exports, downloads and verifies a bundle; its SARIF and report hold up', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await withScreenshotOnFailure(page, 'exports', async () => {
    await signIn(page, server.url, 'regulator', server.passwords.regulator);
    await page.goto(`${server.url}/exports`);
    // The demo's export finishes in the background; the page reloads itself when it does.
    await page.locator('#export-1 a', { hasText: 'Download' }).waitFor({ timeout: 60_000 });

    // A second export from the form: the pin chosen, a time range left open.
    await page.selectOption('select[name=pins]', ['1']);
    await Promise.all([page.waitForURL(/\/exports\?done=/), page.click('#export-form button.primary')]);
    await page.locator('#export-2 a', { hasText: 'Download' }).waitFor({ timeout: 60_000 });
    await page.screenshot({ path: join(shots, 'exports.png'), fullPage: true });

    const response = await page.request.get(`${server.url}/api/v1/exports/2/bundle`);
    assert.equal(response.status(), 200);
    const bundle = join(scratch, 'bundle.zip');
    writeFileSync(bundle, await response.body());

    // Offline verification with the log's key, fetched separately.
    const key = await (await page.request.get(`${server.url}/api/v1/log/key`)).text();
    writeFileSync(join(scratch, 'log.vkey'), key);
    const binary = process.env.CLEARROOM_SERVER ?? join(root, 'target', 'debug', 'server');
    const report = execFileSync(binary, ['verify', 'bundle', bundle, '--key', join(scratch, 'log.vkey')], { encoding: 'utf8' });
    assert.match(report, /VERIFIED/);

    const zip = new AdmZip(bundle);
    const sarifFile = join(scratch, 'findings.sarif');
    writeFileSync(sarifFile, zip.readFile('findings.sarif'));
    const sarif = JSON.parse(readFileSync(sarifFile, 'utf8'));
    assert.ok(sarif.runs[0].results.length > 0, 'the demo has findings');
    assert.deepEqual(sarifErrors(sarifFile), [], 'the SARIF Multitool finds no error');

    // The report: no request leaves the page; it prints without clipping.
    const reportFile = join(scratch, 'report.html');
    writeFileSync(reportFile, zip.readFile('report.html'));
    const reportPage = await browser.newPage({ viewport: { width: 1000, height: 1300 } });
    const requests = [];
    reportPage.on('request', (request) => { if (!request.url().startsWith('file:')) requests.push(request.url()); });
    await reportPage.goto(`file://${reportFile}`);
    assert.deepEqual(requests, [], 'the report is self-contained');
    await reportPage.screenshot({ path: join(shots, 'export-report.png'), fullPage: true });
    await reportPage.emulateMedia({ media: 'print' });
    await reportPage.setViewportSize({ width: 680, height: 1000 }); // A4's printable width at 96 dpi
    const overflow = await reportPage.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the printed report is ${overflow}px wider than the page`);
    const pdf = join(scratch, 'report.pdf');
    await reportPage.pdf({ path: pdf, format: 'A4', printBackground: true });
    assert.ok(existsSync(pdf) && readFileSync(pdf).subarray(0, 5).toString() === '%PDF-');
    writeFileSync(join(shots, 'export-report.pdf'), readFileSync(pdf));
    await reportPage.close();
  });
});

test('the OpenAPI description is linked from /log and validates as OpenAPI 3.1', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await withScreenshotOnFailure(page, 'openapi', async () => {
    await signIn(page, server.url, 'regulator', server.passwords.regulator);
    await page.goto(`${server.url}/log`);
    const href = await page.locator('#openapi-link').getAttribute('href');
    assert.equal(href, '/api/v1/openapi.json');
    const response = await page.request.get(`${server.url}${href}`);
    assert.equal(response.status(), 200);
    const doc = await response.json();
    assert.equal(doc.openapi, '3.1.0');
    const { Validator } = await import('@seriousme/openapi-schema-validator');
    const validator = new Validator();
    const result = await validator.validate(doc);
    assert.ok(result.valid, JSON.stringify(result.errors, null, 2));
    for (const path of ['/api/v1/exports', '/api/v1/exports/{id}', '/api/v1/log/entries', '/api/v1/pins/{pin}/comments']) {
      assert.ok(doc.paths[path], `${path} is described`);
    }
  });
});
