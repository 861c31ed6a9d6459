// Browser tests of the Senda dashboard: Playwright (playwright-core) drives Debian's chromium
// (never a downloaded browser). A fresh demo database is built and served on a free port.
// Screenshots go to ../target/e2e-screenshots/.
//
// Environment: SENDA_BIN (default ../target/debug/senda), CHROMIUM (default /usr/bin/chromium).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const bin = process.env.SENDA_BIN || resolve(here, '../target/debug/senda');
const browserPath = process.env.CHROMIUM || '/usr/bin/chromium';
const shots = resolve(here, '../target/e2e-screenshots');
mkdirSync(shots, { recursive: true });

let server, base, browser, work;
const consoleErrors = [];

before(async () => {
  assert.ok(existsSync(bin), `senda binary not found at ${bin} (cargo build first, or set SENDA_BIN)`);
  assert.ok(existsSync(browserPath), `chromium not found at ${browserPath} (apt-get install chromium, or set CHROMIUM)`);
  work = mkdtempSync(join(tmpdir(), 'senda-e2e-'));
  server = spawn(bin, ['--db', join(work, 'demo.db'), 'demo', '--activities', '300', '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  base = await new Promise((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`server did not start: ${out}`)), 120000);
    server.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/http:\/\/127\.0\.0\.1:\d+\//);
      if (m) { clearTimeout(timer); ok(m[0].replace(/\/$/, '')); }
    });
    server.stderr.on('data', (d) => { out += d; });
    server.on('exit', (code) => fail(new Error(`server exited ${code}: ${out}`)));
  });
  browser = await chromium.launch({
    executablePath: browserPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.kill('SIGINT');
  if (work) rmSync(work, { recursive: true, force: true });
});

async function newPage(locale = 'en-US') {
  const context = await browser.newContext({ locale, acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`); });
  page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
  return page;
}

test('overview shows the eight lines of effort, an accessible chart and the country split', async () => {
  const page = await newPage();
  await page.goto(base + '/');
  assert.equal(await page.locator('h1').innerText(), 'The strategy at a glance');
  assert.equal(await page.locator('li.tile').count(), 8);
  const chart = page.locator('svg[role="img"]').first();
  assert.ok((await chart.getAttribute('aria-labelledby')).length > 0);
  assert.match(await page.locator('#chart-fy-loe figcaption').innerText(), /Disbursements by fiscal year/);
  // Values reachable by keyboard: the chart's data table opens from a focusable summary.
  await page.locator('#chart-fy-loe summary').focus();
  await page.keyboard.press('Enter');
  assert.ok(await page.locator('#chart-fy-loe table').isVisible());
  assert.match(await page.locator('#nm-h').innerText(), /not mapped/);
  await page.screenshot({ path: join(shots, 'overview-en.png'), fullPage: true });
});

test('the strategy switch re-reads the page through Root Causes and back', async () => {
  const page = await newPage();
  await page.goto(base + '/');
  await page.selectOption('#strategy-switch', 'rc-2021');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Switch' }).click()]);
  assert.match(await page.locator('li.tile h3').first().innerText(), /^RC1/);
  await page.goto(base + '/activities');
  assert.equal(await page.locator('#strategy-switch').inputValue(), 'rc-2021', 'the choice follows to other pages');
  await page.selectOption('#strategy-switch', 'cmms-2021');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Switch' }).click()]);
  await page.goto(base + '/');
  assert.match(await page.locator('li.tile h3').first().innerText(), /^LOE1/);
});

test('the activity list filters by line of effort and country, and downloads the view as CSV', async () => {
  const page = await newPage();
  await page.goto(base + '/activities');
  await page.selectOption('select[name="line_of_effort"]', 'LOE6');
  await page.selectOption('select[name="country"]', 'GT');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Apply' }).click()]);
  const rows = page.locator('table.activities tbody tr');
  const n = await rows.count();
  assert.ok(n > 0, 'some activities match');
  for (let i = 0; i < n; i++) {
    const cells = rows.nth(i).locator('td');
    assert.match(await cells.nth(4).innerText(), /LOE6/);
    assert.match(await cells.nth(3).innerText(), /GT/);
  }
  const countText = await page.locator('p.count').innerText();
  const total = Number(countText.replace(/[^0-9]/g, ''));
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('a.csv').click()]);
  const csv = readFileSync(await download.path(), 'utf8').trim().split('\n');
  assert.equal(csv[0].split(',')[0], 'iati_identifier');
  assert.equal(csv.length - 1, total, 'the CSV has every matching row');
});

test('an activity page shows its fields, transactions and the mapping evidence in words', async () => {
  const page = await newPage();
  await page.goto(base + '/activities?line_of_effort=LOE5');
  await Promise.all([page.waitForNavigation(), page.locator('table.activities tbody tr td a').first().click()]);
  assert.equal(await page.locator('#map-h').innerText(), 'Why it is mapped where it is');
  assert.match(await page.locator('p.verdict').innerText(), /Mapped to .*LOE5/);
  assert.ok(await page.locator('ul.evidence li').count() > 0);
  assert.match(await page.locator('ul.evidence li').first().innerText(), /^Rule \S+ maps to/);
  assert.ok(await page.getByRole('heading', { name: /Transactions/ }).isVisible());
  await page.screenshot({ path: join(shots, 'activity-en.png'), fullPage: true });
});

test('switching to Spanish translates the interface and formats numbers', async () => {
  const page = await newPage();
  await page.goto(base + '/');
  await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Español' }).click()]);
  assert.equal(await page.locator('h1').innerText(), 'La estrategia de un vistazo');
  assert.equal(await page.locator('html').getAttribute('lang'), 'es');
  assert.match(await page.locator('li.tile').first().innerText(), /Desembolsos/);
  await page.goto(base + '/activities');
  assert.match(await page.locator('p.count').innerText(), /actividades coinciden/);
  await page.goto(base + '/');
  await page.screenshot({ path: join(shots, 'overview-es.png'), fullPage: true });
  // Accept-Language alone chooses Spanish for a new reader.
  const es = await newPage('es-GT');
  await es.goto(base + '/');
  assert.equal(await es.locator('h1').innerText(), 'La estrategia de un vistazo');
});

test('the Guatemala page shows money, indicators and border encounters together', async () => {
  const page = await newPage();
  await page.goto(base + '/country/GT');
  assert.match(await page.locator('h1').innerText(), /Guatemala/);
  assert.ok(await page.locator('#chart-country-fy svg[role="img"]').isVisible(), 'money by fiscal year');
  const headings = await page.locator('h2').allInnerTexts();
  assert.ok(headings.includes('Migration context'), headings.join(' | '));
  assert.ok(headings.includes('Indicators: progress against targets'), headings.join(' | '));
  // The encounters chart of Guatemalan citizens, with its data table reachable by keyboard.
  const enc = page.locator('[id="ctx-country-loe6-c1"]');
  assert.match(await enc.locator('figcaption').innerText(), /Southwest land border encounters/);
  await enc.locator('summary').focus();
  await page.keyboard.press('Enter');
  assert.ok(await enc.locator('table').isVisible());
  // Indicators against targets, with a status word for each row that has data.
  const rows = page.locator('table.indicators tbody tr');
  assert.ok((await rows.count()) >= 8);
  assert.match(await rows.first().innerText(), /On track|Off track|Achieved/);
  await page.screenshot({ path: join(shots, 'country-gt-en.png'), fullPage: true });
});

test('the printable progress report opens from the header, in the chosen language', async () => {
  const page = await newPage();
  await page.goto(base + '/?lang=es');
  await Promise.all([page.waitForNavigation(), page.getByRole('link', { name: 'Informe de avance' }).click()]);
  assert.equal(await page.locator('html').getAttribute('lang'), 'es');
  assert.equal(await page.locator('script').count(), 0);
  assert.ok((await page.locator('svg[role="img"]').count()) >= 8, 'charts');
  await page.goto(base + '/?lang=en');
});

test('no page logged a console error', () => {
  assert.deepEqual(consoleErrors, []);
});
