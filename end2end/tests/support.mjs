// Starts the real server binary with a fresh demo data directory and drives Debian's Chromium.
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A copy of this checkout's history with one more commit of a known shape on top, so that the
 * demo's two releases (its HEAD and HEAD~1) differ the same way whatever the checkout's last commit
 * changed: three modified text files, one line replaced and two appended (a long one), no line
 * number of the checkout's files moved. */
function demoCheckout() {
  const dir = mkdtempSync(join(tmpdir(), 'clearroom-e2e-repo-'));
  execFileSync('git', ['clone', '--quiet', '--no-local', root, dir]);
  const readme = join(dir, 'README.md');
  const lines = readFileSync(readme, 'utf8').split('\n');
  lines[0] = `${lines[0]} (demo release)`;
  writeFileSync(readme, lines.join('\n'));
  appendFileSync(join(dir, 'server/src/audit/proof.rs'), `// Demo release: ${'a long line that a diff wraps or scrolls, '.repeat(6)}end.\n`);
  appendFileSync(join(dir, 'app/src/html.rs'), '// Demo release.\n');
  // Now, so that it is the newer release (the compare page orders releases by commit time).
  const who = { GIT_AUTHOR_NAME: 'Clearroom tests', GIT_AUTHOR_EMAIL: 'tests@clearroom.invalid' };
  const env = { ...process.env, ...who, GIT_COMMITTER_NAME: who.GIT_AUTHOR_NAME, GIT_COMMITTER_EMAIL: who.GIT_AUTHOR_EMAIL };
  execFileSync('git', ['commit', '--quiet', '--all', '--no-verify', '-m', 'The demo release'], { cwd: dir, env });
  return dir;
}

/** Runs `server serve --demo` on a free port (with `extra` arguments to `serve`); resolves with its
 * URL and the printed passwords. */
export async function startDemo(extra = []) {
  const dataDir = mkdtempSync(join(tmpdir(), 'clearroom-e2e-'));
  const checkout = demoCheckout();
  const binary = process.env.CLEARROOM_SERVER ?? join(root, 'target', 'debug', 'server');
  // The demo imports the repository it is started in.
  const child = spawn(binary, ['--data-dir', dataDir, 'serve', '--demo', '--listen', '127.0.0.1:0', ...extra], {
    cwd: checkout,
    env: { ...process.env, LEPTOS_SITE_ROOT: join(root, 'target', 'site'), RUST_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const passwords = {};
  const url = await new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error('the server did not start in 60 s')), 60_000);
    child.stdout.on('data', (chunk) => {
      buffer += chunk.toString();
      for (const match of buffer.matchAll(/^\s+(staff|reviewer|evaluator|regulator|supervisor2?)\s+\S+\s+(\S+)$/gm)) {
        passwords[match[1]] = match[2];
      }
      const listening = buffer.match(/listening on (http:\/\/\S+)/);
      if (listening) {
        clearTimeout(timer);
        resolve(listening[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`the server exited with ${code}`)));
  });
  return {
    url,
    passwords,
    dataDir,
    binary,
    /** Stops the server as an operator would (SIGTERM: it answers what is in flight, then exits),
     * waits for it to exit (SIGKILL after 15 s), then removes its data. */
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(checkout, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function signIn(page, url, username, password) {
  await page.goto(`${url}/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
}

/** Runs a test body; on failure leaves a screenshot in end2end/test-results/. */
export async function withScreenshotOnFailure(page, name, body) {
  try {
    await body();
  } catch (error) {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(root, 'end2end', 'test-results'), { recursive: true });
    await page.screenshot({ path: join(root, 'end2end', 'test-results', `${name}.png`), fullPage: true }).catch(() => {});
    throw error;
  }
}
