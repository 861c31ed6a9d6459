// Browser test of Senda's accounts (issue 17), as a new user would try them: the first
// administrator is made with `senda user add` (password on standard input), `senda serve`
// runs, the administrator signs in, creates an organisation and a partner editor from the
// administration pages; the partner editor signs in, in Spanish, and cannot reach the
// administrator's pages. Playwright (playwright-core) drives Debian's chromium; JavaScript is
// off in the pages (Senda's pages have none), the forms work as plain HTML forms.
// Screenshots go to ../target/e2e-screenshots/ (accounts-*.png).
//
// Environment: SENDA_BIN (default ../target/debug/senda), CHROMIUM (default /usr/bin/chromium).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const bin = process.env.SENDA_BIN || resolve(here, '../target/debug/senda');
const browserPath = process.env.CHROMIUM || '/usr/bin/chromium';
const shots = resolve(here, '../target/e2e-screenshots');
const realFile = resolve(here, '../../shared/data/iati/us-gov/dhs-honduras.xml');
mkdirSync(shots, { recursive: true });

const ADMIN = 'admin@example.org';
const ADMIN_PW = 'a long administrator passphrase';
const EDITOR = 'editora@example.org';
const EDITOR_PW = 'una frase de paso bastante larga';

let server, base, browser, work, db;

function senda(args, input = '') {
  const r = spawnSync(bin, ['--db', db, ...args], { input, encoding: 'utf8' });
  assert.equal(r.status, 0, `senda ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

before(async () => {
  assert.ok(existsSync(bin), `senda binary not found at ${bin} (cargo build first, or set SENDA_BIN)`);
  assert.ok(existsSync(browserPath), `chromium not found at ${browserPath} (apt-get install chromium, or set CHROMIUM)`);
  work = mkdtempSync(join(tmpdir(), 'senda-e2e-accounts-'));
  db = join(work, 'senda.db');
  // Real published data, so the public pages have something to show.
  if (existsSync(realFile)) senda(['import', '--no-progress', realFile]);
  senda(['user', 'add', ADMIN, '--role', 'administrator'], ADMIN_PW + '\n');
  server = spawn(bin, ['--db', db, 'serve', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  base = await new Promise((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`server did not start: ${out}`)), 120000);
    const look = (d) => {
      out += d;
      const m = out.match(/http:\/\/127\.0\.0\.1:\d+\//);
      if (m) { clearTimeout(timer); ok(m[0].replace(/\/$/, '')); }
    };
    server.stdout.on('data', look);
    server.stderr.on('data', look);
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

async function newPage(locale) {
  const context = await browser.newContext({ locale, javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
  return context.newPage();
}

async function signIn(page, email, password, lang = '') {
  await page.goto(`${base}/login${lang}`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
}

test('the administrator makes an organisation and a partner editor; the editor signs in in Spanish and is kept out of administration', async () => {
  const admin = await newPage('en-US');
  await admin.goto(`${base}/login`);
  assert.equal(await admin.locator('h1').innerText(), 'Sign in');
  await admin.screenshot({ path: join(shots, 'accounts-login-en.png'), fullPage: true });
  // A wrong password is refused with the form again.
  await admin.fill('#email', ADMIN);
  await admin.fill('#password', 'not the password at all');
  await Promise.all([admin.waitForNavigation(), admin.click('button[type=submit]')]);
  assert.match(await admin.locator('[role=alert]').innerText(), /Wrong e-mail or password/);

  await signIn(admin, ADMIN, ADMIN_PW);
  assert.match(admin.url(), /\/account$/);
  assert.equal(await admin.locator('h1').innerText(), 'My account');
  await Promise.all([admin.waitForNavigation(), admin.click('a[href="/admin/organisations"]')]);
  await admin.fill('#org-name', 'Alianza para la Niñez');
  await admin.fill('#org-name-es', 'Alianza para la Niñez');
  await admin.selectOption('#org-category', 'civil_society');
  await admin.fill('#org-country', 'HN');
  await Promise.all([admin.waitForNavigation(), admin.click('form[action="/admin/organisations"] button')]);
  const row = admin.locator('tr', { hasText: 'Alianza para la Niñez' });
  assert.equal(await row.count(), 1);
  // An organisation of the imported data, adopted without retyping.
  const offered = admin.locator('#adopt-ref option');
  assert.ok((await offered.count()) > 0, 'organisations of the imported IATI data are offered');
  const refs = [];
  for (let i = 0; i < await offered.count(); i++) refs.push(await offered.nth(i).getAttribute('value'));
  const ref = refs.find((r) => r.includes('-')) || refs[0];
  await admin.selectOption('#adopt-ref', ref);
  await Promise.all([admin.waitForNavigation(), admin.click('form[action="/admin/organisations/adopt"] button')]);
  assert.equal(await admin.locator('td', { hasText: new RegExp(`^${ref}$`) }).count(), 1, `${ref} is adopted`);
  await admin.screenshot({ path: join(shots, 'accounts-organisations-en.png'), fullPage: true });
  await admin.goto(`${base}/admin/organisations?lang=es`);
  assert.equal(await admin.locator('h1').innerText(), 'Organizaciones');
  await admin.screenshot({ path: join(shots, 'accounts-organisations-es.png'), fullPage: true });

  // The partner editor, of the new organisation.
  await admin.goto(`${base}/admin/people`);
  await admin.fill('#person-email', EDITOR);
  await admin.selectOption('#person-role', 'partner_editor');
  await admin.selectOption('#person-org', { label: 'Alianza para la Niñez' });
  await admin.fill('#person-password', EDITOR_PW);
  await Promise.all([admin.waitForNavigation(), admin.click('form[action="/admin/people"] button')]);
  const editorRow = admin.locator('tr', { hasText: EDITOR });
  assert.equal(await editorRow.count(), 1);
  assert.match(await editorRow.innerText(), /partner_editor/);
  assert.match(await editorRow.innerText(), /Alianza para la Niñez/);

  // The editor signs in, in Spanish (the browser asks for Spanish; no ?lang needed).
  const editor = await newPage('es-HN');
  await editor.goto(`${base}/login`);
  assert.equal(await editor.locator('h1').innerText(), 'Iniciar sesión');
  assert.equal(await editor.locator('label[for=password]').innerText(), 'Contraseña');
  await editor.screenshot({ path: join(shots, 'accounts-login-es.png'), fullPage: true });
  await signIn(editor, EDITOR, EDITOR_PW);
  assert.equal(await editor.locator('h1').innerText(), 'Mi cuenta');
  const account = await editor.locator('main').innerText();
  assert.match(account, /partner_editor/);
  assert.match(account, /Alianza para la Niñez/);
  assert.equal(await editor.locator('a[href^="/admin/"]').count(), 0, 'no administration links for a partner editor');
  // The administrator's pages are refused, by address too.
  for (const path of ['/admin/organisations', '/admin/people', '/admin/audit', '/admin/audit.csv']) {
    const r = await editor.goto(`${base}${path}`);
    assert.equal(r.status(), 403, `${path} is refused to the partner editor`);
  }
  // A form posted to the administrator's pages is refused and changes nothing.
  const before = await admin.goto(`${base}/admin/organisations`).then(() => admin.locator('tbody tr').count());
  await editor.goto(`${base}/account`);
  const csrf = await editor.locator('input[name=csrf]').first().getAttribute('value');
  const r = await editor.request.post(`${base}/admin/organisations`, { form: { name: 'Intrusa', csrf } });
  assert.equal(r.status(), 403);
  await admin.goto(`${base}/admin/organisations`);
  assert.equal(await admin.locator('tbody tr').count(), before, 'no organisation was made');

  // Signing out ends the session on the server: the account page asks to sign in again.
  await editor.goto(`${base}/account`);
  await Promise.all([editor.waitForNavigation(), editor.click('form[action="/logout"] button')]);
  await editor.goto(`${base}/account`);
  assert.match(editor.url(), /\/login$/);
});
