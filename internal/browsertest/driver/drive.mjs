// Drives headless Chromium (Debian's /usr/bin/chromium) through a list of
// steps read as JSON from stdin, and prints one JSON result per step on
// stdout: the page after the step (URL, HTTP status of the last
// navigation, title, the text of <main> or <body>). Used by the Go package
// internal/browsertest; the tests decide what is right.
//
// Steps: {"goto": url} | {"click": selector} | {"fill": selector, "value": v}
//        | {"screenshot": path} | {"cookies": true} | {"newContext": true}
// Selectors are Playwright selectors (e.g. "role=button[name='Log in to box']").
// Env: CHROMIUM (default /usr/bin/chromium), STEP_TIMEOUT_MS (default 30000).
import { chromium } from 'playwright-core';

const input = await new Promise((resolve, reject) => {
  const chunks = [];
  process.stdin.on('data', (c) => chunks.push(c));
  process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString()));
  process.stdin.on('error', reject);
});
const steps = JSON.parse(input);
const timeout = Number(process.env.STEP_TIMEOUT_MS || 30000);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
});
let context; let page; let lastStatus = 0;
async function fresh() {
  if (context) await context.close();
  context = await browser.newContext({ viewport: { width: 900, height: 700 } });
  context.setDefaultTimeout(timeout);
  // Fonts and images from the internet (the test IdP's pages import Google
  // fonts) are not reachable on CI: answer them at once instead of waiting.
  await context.route(/^https?:\/\/(?!127\.0\.0\.1|localhost)/, (route) => route.abort());
  page = await context.newPage();
  page.on('response', (r) => { if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) lastStatus = r.status(); });
}
await fresh();

async function state(extra = {}) {
  await page.waitForLoadState('load');
  const text = await page.evaluate(() => (document.querySelector('main') || document.body || {}).innerText || '');
  return { url: page.url(), status: lastStatus, title: await page.title(), text, ...extra };
}

let failed = false;
for (const s of steps) {
  let out;
  try {
    if (s.newContext) { await fresh(); out = { ok: true }; }
    else if (s.goto) { await page.goto(s.goto); out = await state(); }
    else if (s.click) { await Promise.all([page.waitForNavigation({ waitUntil: 'load' }).catch(() => {}), page.click(s.click)]); out = await state(); }
    else if (s.fill) { await page.fill(s.fill, s.value ?? ''); out = { ok: true }; }
    else if (s.screenshot) { await page.screenshot({ path: s.screenshot, fullPage: true }); out = { ok: true }; }
    else if (s.cookies) { out = { cookies: await context.cookies() }; }
    else throw new Error(`unknown step ${JSON.stringify(s)}`);
  } catch (e) {
    out = { error: String(e && e.message || e), url: page.url() };
    failed = true;
  }
  process.stdout.write(JSON.stringify(out) + '\n');
  if (failed) break;
}
await browser.close();
process.exit(failed ? 1 : 0);
