import { launchBrowser, signIn } from './tests/support.mjs';
const url = 'http://127.0.0.1:8088';
const [reviewerPw, staffPw] = process.argv.slice(2);
const browser = await launchBrowser();
const out = '/tmp/shots';
for (const scheme of ['light', 'dark']) {
  for (const width of [1440, 390]) {
    const context = await browser.newContext({ viewport: { width, height: 900 }, colorScheme: scheme });
    const page = await context.newPage();
    await signIn(page, url, 'reviewer', reviewerPw);
    await page.goto(`${url}/pins/1/blob/server/src/builds/dwarf.rs`);
    await page.screenshot({ path: `${out}/blob-${scheme}-${width}.png` });
    await page.goto(`${url}/pins/1/tree/server/src`);
    await page.screenshot({ path: `${out}/tree-${scheme}-${width}.png` });
    await page.goto(`${url}/pins/1/builds`);
    await page.screenshot({ path: `${out}/builds-${scheme}-${width}.png`, fullPage: true });
    const shas = await page.$$eval('a[href*="/compiled"]', (as) => as.map((a) => a.getAttribute('href')));
    const sha = (shas[0] || '').split('/')[6];
    await page.goto(`${url}/pins/1/coverage?compiled=${sha}`);
    await page.screenshot({ path: `${out}/coverage-${scheme}-${width}.png`, fullPage: true });
    await context.close();
  }
}
await browser.close();
