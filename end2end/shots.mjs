import { startDemo, launchBrowser, signIn } from '/work/main/end2end/tests/support.mjs';
const server = await startDemo();
const browser = await launchBrowser();
try {
  for (const [w, h] of [[1440, 900], [390, 844]]) {
    for (const scheme of ['light', 'dark']) {
      const context = await browser.newContext({ viewport: { width: w, height: h }, colorScheme: scheme });
      const page = await context.newPage();
      await signIn(page, server.url, 'reviewer', server.passwords.reviewer);
      for (const [name, path] of [['list', '/pins/1/sarif'], ['log', '/pins/1/sarif/1'], ['file', '/pins/1/blob/server/tests/fixtures/sarif/copy.c']]) {
        await page.goto(server.url + path);
        await page.screenshot({ path: `/tmp/shots/${name}-${w}-${scheme}.png`, fullPage: name !== 'file' });
      }
      await context.close();
    }
  }
} finally {
  await browser.close();
  await server.stop();
}
