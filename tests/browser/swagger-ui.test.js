// Headless-browser test of sessiond's Swagger UI. Started by
// scripts/swagger-ui.sh, which runs the server, seeds the data the examples
// name and passes:
//   SWAGGER_BASE          http://127.0.0.1:<port>
//   SWAGGER_ADMIN_KEY     admin API key (every Bearer scheme)
//   SWAGGER_BASIC_ID      API key id     (every Basic scheme: user name)
//   SWAGGER_BASIC_SECRET  API key secret (every Basic scheme: password)
//   CHROMIUM              browser binary (default /usr/bin/chromium)
//
// For every document, as a user would: open it, press Authorize, fill every
// offered scheme, expand every operation, keep the default example body and
// parameters, Execute, read the status Swagger UI shows. Fails on
//   - an operation Swagger UI refuses to send with its defaults,
//   - a 401, a validation 400 (code 3 / INVALID_ARGUMENT / INVALID_REQUEST),
//     any 5xx or a failed fetch,
//   - a request without the credentials of its document's scheme (OAM: Basic,
//     even though Bearer was authorized first),
//   - a document whose schemes count as authorized before it was authorized
//     (credentials leaking from another document through the shared store),
//   - authorization that does not survive a page reload.
// Browser auth challenges (401 + `WWW-Authenticate: Basic`, which make a real
// browser open its own login dialog) are answered with Cancel and reported as
// notes.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const BASE = mustEnv('SWAGGER_BASE').replace(/\/$/, '');
const ADMIN_KEY = mustEnv('SWAGGER_ADMIN_KEY');
const BASIC_ID = mustEnv('SWAGGER_BASIC_ID');
const BASIC_SECRET = mustEnv('SWAGGER_BASIC_SECRET');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const BASIC_HEADER = 'Basic ' + Buffer.from(`${BASIC_ID}:${BASIC_SECRET}`).toString('base64');
const BEARER_HEADER = `Bearer ${ADMIN_KEY}`;

// Admin first: its Bearer authorization must not leak into OAM (or ZITADEL).
const DOCUMENTS = ['admin-v1', 'oam-session-v1', 'zitadel-session-v2alpha', 'zitadel-session-v2', 'zitadel-session-v2beta'];
// The document whose operations must go out with HTTP Basic.
const BASIC_DOCUMENT = 'oam-session-v1';
const VALIDATION_CODES = new Set([3, 'INVALID_ARGUMENT', 'INVALID_REQUEST', 'invalid_argument']);
const RESPONSE_TIMEOUT_MS = 20000;

function mustEnv(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`${name} is not set (run scripts/swagger-ui.sh)`);
    process.exit(2);
  }
  return v;
}

const failures = [];
const rows = [];
const notes = [];
const challenges = [];
function fail(doc, what, detail) {
  failures.push({ doc, what, detail });
}

function isApiUrl(url) {
  const p = new URL(url).pathname;
  return !(p.startsWith('/swagger-ui') || p.startsWith('/openapi/'));
}

async function fetchDocument(name) {
  const res = await fetch(`${BASE}/openapi/${name}.json`);
  if (!res.ok) throw new Error(`GET /openapi/${name}.json: ${res.status}`);
  const doc = await res.json();
  const ops = [];
  for (const [p, item] of Object.entries(doc.paths || {})) {
    for (const m of ['get', 'put', 'post', 'delete', 'patch', 'head', 'options']) {
      if (item[m]) ops.push({ method: m.toUpperCase(), path: p, operationId: item[m].operationId });
    }
  }
  const schemes = doc.components?.securitySchemes || {};
  return { doc, ops, schemes };
}

// --- Swagger UI helpers ----------------------------------------------------

async function waitForDocument(page, name, expectedOps) {
  await page.waitForFunction(
    ({ url, n }) => {
      const sel = document.querySelector('.topbar select#select');
      return sel && sel.value === url && document.querySelectorAll('.opblock').length === n;
    },
    { url: `/openapi/${name}.json`, n: expectedOps.length },
    { timeout: 20000 },
  );
  // Every documented operation is on the page, none twice.
  const shown = await page.$$eval('.opblock', (els) =>
    els.map((e) => ({
      method: e.querySelector('.opblock-summary-method')?.textContent.trim(),
      path: e.querySelector('.opblock-summary [data-path]')?.getAttribute('data-path'),
    })),
  );
  for (const op of expectedOps) {
    const n = shown.filter((s) => s.method === op.method && s.path === op.path).length;
    if (n !== 1) throw new Error(`${name}: ${op.method} ${op.path} shown ${n} times`);
  }
}

async function openByUrl(page, name, expectedOps) {
  await page.goto(`${BASE}/swagger-ui/?urls.primaryName=${encodeURIComponent(name)}`);
  await waitForDocument(page, name, expectedOps);
}

async function openBySelector(page, name, expectedOps) {
  await page.selectOption('.topbar select#select', { label: name });
  await waitForDocument(page, name, expectedOps);
}

async function openAuthModal(page) {
  await page.click('.scheme-container button.authorize');
  await page.waitForSelector('.modal-ux .auth-container');
}

async function closeAuthModal(page) {
  await page.locator('.modal-ux button.btn-done').first().click();
  await page.waitForSelector('.modal-ux', { state: 'detached' });
}

// The schemes in the Authorize dialog: name, type label, authorized or not.
async function modalSchemes(page) {
  return page.$$eval('.modal-ux .auth-container', (cs) =>
    cs.map((c) => ({
      name: c.querySelector('h4 code')?.textContent.trim(),
      label: c.querySelector('h4')?.textContent.replace(/\s+/g, ' ').trim(),
      authorized: !!c.querySelector('h6') && /Authorized/.test(c.querySelector('h6').textContent),
    })),
  );
}

function container(page, schemeName) {
  return page.locator('.modal-ux .auth-container').filter({
    has: page.locator('h4 code', { hasText: new RegExp(`^${schemeName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }),
  });
}

// Fill one scheme's form and press its Authorize; the dialog stays open.
async function authorizeScheme(page, schemeName, scheme) {
  const c = container(page, schemeName);
  if ((await c.count()) !== 1) throw new Error(`scheme ${schemeName} not in the Authorize dialog`);
  if (await c.locator('button', { hasText: 'Logout' }).count()) {
    await c.locator('button', { hasText: 'Logout' }).click();
  }
  const kind = `${scheme.type}/${(scheme.scheme || '').toLowerCase()}`;
  if (kind === 'http/bearer') {
    await c.locator('input').first().fill(ADMIN_KEY);
  } else if (kind === 'http/basic') {
    await c.locator('input[name=username]').fill(BASIC_ID);
    await c.locator('input[name=password]').fill(BASIC_SECRET);
  } else if (scheme.type === 'apiKey') {
    await c.locator('input').first().fill(ADMIN_KEY);
  } else {
    throw new Error(`scheme ${schemeName}: type ${kind} not supported by this test`);
  }
  await c.locator('button[type=submit]', { hasText: 'Authorize' }).click();
  await c.locator('h6', { hasText: 'Authorized' }).waitFor({ timeout: 5000 });
}

function opLocator(page, op) {
  return page.locator('.opblock').filter({
    has: page.locator(`.opblock-summary [data-path="${op.path}"]`),
  }).filter({
    has: page.locator('.opblock-summary-method', { hasText: new RegExp(`^${op.method}$`) }),
  });
}

async function expand(page, op) {
  const block = opLocator(page, op);
  if (!(await block.locator('.opblock-body').count())) {
    await block.locator('.opblock-summary-control').click();
  }
  await block.locator('.opblock-body').waitFor();
  const tryOut = block.locator('button.try-out__btn');
  if ((await tryOut.count()) && (await tryOut.textContent()).trim() === 'Try it out') {
    await tryOut.click();
  }
  await block.locator('button.execute').waitFor();
  return block;
}

// Expand, Execute with the defaults, read what Swagger UI shows.
// Returns { sent, status, body, requests, reason }.
async function execute(page, op, log) {
  const block = await expand(page, op);
  const clear = block.locator('button.btn-clear');
  if (await clear.count()) await clear.click();
  const start = log.length;
  const startChallenges = challenges.length;
  await block.locator('button.execute').click();
  const deadline = Date.now() + RESPONSE_TIMEOUT_MS;
  for (;;) {
    if (await block.locator('.live-responses-table tbody .response-col_status').count()) break;
    const invalid = await block.locator('input.invalid, textarea.invalid, select.invalid, .validation-errors').evaluateAll((els) =>
      els.map((e) =>
        e.classList.contains('validation-errors')
          ? e.textContent.trim()
          : `${e.closest('tr')?.getAttribute('data-param-name') || e.getAttribute('placeholder') || e.tagName.toLowerCase()}: ${e.getAttribute('title') || 'invalid'}`,
      ),
    );
    if (invalid.length && log.length === start) {
      // Give a request that might still be on its way a moment.
      await page.waitForTimeout(300);
      if (log.length === start && !(await block.locator('.live-responses-table').count())) {
        return { sent: false, reason: [...new Set(invalid)].join('; '), requests: [] };
      }
    }
    if (Date.now() > deadline) {
      return { sent: log.length > start, reason: 'no response shown', requests: log.slice(start) };
    }
    await page.waitForTimeout(100);
  }
  const statusText = (await block.locator('.live-responses-table tbody .response-col_status').first().textContent()).trim();
  const bodyPre = block.locator('.live-responses-table tbody .response-col_description .highlight-code pre');
  const bodyText = (await bodyPre.count()) ? (await bodyPre.first().textContent()).trim() : '';
  const detail = (await block.locator('.live-responses-table tbody .response-col_description').first().textContent()).trim();
  let body = bodyText;
  try {
    body = JSON.parse(bodyText);
  } catch {
    /* not JSON */
  }
  return {
    sent: true,
    status: /^\d{3}$/.test(statusText) ? Number(statusText) : statusText,
    body,
    detail,
    requests: log.slice(start),
    challenges: challenges.slice(startChallenges),
  };
}

const PLACEHOLDER = 'swagger-ui-test-placeholder';

// For an operation Swagger UI refused to send: fill the empty required
// parameters and Execute again. Diagnostic only; the refusal already failed.
async function executeWithPlaceholders(page, op, log) {
  const block = opLocator(page, op);
  const empty = block.locator('.parameters tr[data-param-name] input.invalid');
  const inputs = await empty.all();
  if (!inputs.length) return null;
  for (const input of inputs) await input.fill(PLACEHOLDER);
  return execute(page, op, log);
}

function authOf(req) {
  const h = req.headers.authorization;
  if (!h) return 'none';
  if (h === BASIC_HEADER) return 'Basic(key)';
  if (h === BEARER_HEADER) return 'Bearer(admin)';
  return h.split(' ')[0] + '(?)';
}

function expectedHeader(docName) {
  return docName === BASIC_DOCUMENT ? BASIC_HEADER : BEARER_HEADER;
}

function bodyString(body) {
  return typeof body === 'string' ? body : JSON.stringify(body);
}

// --- checks ------------------------------------------------------------------

// A document opened after others were authorized: none of its schemes may
// count as authorized, and a request must carry no credentials.
async function assertNotAuthorized(page, name, info, how, log) {
  await openAuthModal(page);
  const schemes = await modalSchemes(page);
  await closeAuthModal(page);
  const leaked = schemes.filter((s) => s.authorized).map((s) => s.name);
  if (leaked.length) {
    fail(name, `schemes count as authorized before authorizing (${how})`, `authorized: ${leaked.join(', ')}`);
  }
  const locked = await page.$$eval('.opblock .authorization__btn', (bs) =>
    bs.filter((b) => /\blocked\b/.test(b.getAttribute('aria-label') || '')).length,
  );
  if (locked) fail(name, `operations show a closed lock before authorizing (${how})`, `${locked} of ${info.ops.length}`);
  // One operation Swagger UI can send with its defaults, to see the header.
  for (const op of info.ops) {
    const r = await execute(page, op, log);
    if (!r.sent) continue;
    const sentAuth = r.requests.map(authOf);
    if (sentAuth.some((a) => a !== 'none')) {
      fail(name, `request carries credentials before authorizing (${how})`,
        `${op.operationId}: Authorization ${sentAuth.join(',')}, status ${r.status}`);
    }
    notes.push(`${name}: unauthorized probe (${how}) ${op.operationId} -> ${r.status}, Authorization ${sentAuth.join(',')}`);
    for (const c of r.challenges || []) {
      notes.push(`${name}: unauthorized probe (${how}) ${op.operationId}: 401 carried a browser auth challenge (${c}); ` +
        'a real browser opens its own login dialog here before Swagger UI sees the 401');
    }
    return;
  }
  notes.push(`${name}: unauthorized probe (${how}) skipped: no operation could be sent with its defaults`);
}

async function runDocument(page, name, info, log) {
  const schemeNames = Object.keys(info.schemes);
  // Bearer before Basic, so that a Basic operation still sends Basic.
  const order = schemeNames.slice().sort((a, b) => rank(info.schemes[a]) - rank(info.schemes[b]));
  function rank(s) {
    return (s.scheme || '').toLowerCase() === 'bearer' ? 0 : (s.scheme || '').toLowerCase() === 'basic' ? 2 : 1;
  }
  await openAuthModal(page);
  const offered = await modalSchemes(page);
  const offeredNames = offered.map((s) => s.name);
  for (const s of schemeNames) {
    if (!offeredNames.includes(s)) fail(name, 'scheme missing from the Authorize dialog', s);
  }
  for (const s of order) {
    if (offeredNames.includes(s)) await authorizeScheme(page, s, info.schemes[s]);
  }
  const after = await modalSchemes(page);
  await closeAuthModal(page);
  notes.push(`${name}: authorized ${order.join(' then ')} (${after.map((s) => `${s.label}${s.authorized ? ' ✓' : ' ✗'}`).join('; ')})`);
  const btn = await page.getAttribute('.scheme-container button.authorize', 'class');
  if (!/\blocked\b/.test(btn)) fail(name, 'Authorize button not shown as authorized', btn);

  const want = expectedHeader(name);
  const results = [];
  for (const op of info.ops) {
    const r = await execute(page, op, log);
    results.push({ op, r });
    const auth = r.requests.map(authOf).join(',') || '-';
    let verdict = 'ok';
    const label = `${op.operationId} ${op.method} ${op.path}`;
    if (!r.sent) {
      verdict = 'FAIL not sent';
      fail(name, `${label}: Swagger UI did not send the request with its defaults`, r.reason);
    } else if (typeof r.status !== 'number') {
      verdict = 'FAIL no status';
      fail(name, `${label}: no HTTP status shown`, `${r.status} ${r.reason || r.detail || ''}`);
    } else {
      if (r.status === 401) {
        verdict = 'FAIL 401';
        fail(name, `${label}: 401`, bodyString(r.body));
      } else if (r.status === 400) {
        const code = r.body && typeof r.body === 'object' ? r.body.code : undefined;
        if (VALIDATION_CODES.has(code)) {
          verdict = 'FAIL validation 400';
          fail(name, `${label}: validation 400 with the default example`, bodyString(r.body));
        } else {
          verdict = '400 (not validation)';
        }
        notes.push(`${name}: ${op.operationId} 400 body: ${bodyString(r.body)}`);
      } else if (r.status >= 500) {
        verdict = `FAIL ${r.status}`;
        fail(name, `${label}: ${r.status}`, bodyString(r.body));
      }
      if (!r.requests.length) {
        fail(name, `${label}: status shown but no request seen`, String(r.status));
      }
      for (const q of r.requests) {
        if (q.headers.authorization !== want) {
          if (verdict === 'ok' || !verdict.startsWith('FAIL')) verdict = 'FAIL auth header';
          fail(name, `${label}: request sent Authorization ${authOf(q)}, expected ${authOf({ headers: { authorization: want } })}`,
            `${q.method} ${q.url}`);
        }
      }
    }
    rows.push({ doc: name, op: label, status: r.sent ? String(r.status) : 'not sent', auth, verdict,
      extra: !r.sent ? r.reason : r.status >= 400 ? bodyString(r.body) : '' });
    if (!r.sent) {
      // Still a failure; to also see what the default body does, fill the
      // empty required parameters with a placeholder and send it once.
      const r2 = await executeWithPlaceholders(page, op, log);
      if (r2) {
        let v2 = 'diagnostic';
        if (r2.status === 401) {
          v2 = 'FAIL 401';
          fail(name, `${label} (placeholder parameters): 401`, bodyString(r2.body));
        } else if (r2.status === 400 && r2.body && VALIDATION_CODES.has(r2.body.code)) {
          v2 = 'FAIL validation 400';
          fail(name, `${label} (placeholder parameters): validation 400 with the default body`, bodyString(r2.body));
        } else if (typeof r2.status !== 'number' || r2.status >= 500) {
          v2 = `FAIL ${r2.status}`;
          fail(name, `${label} (placeholder parameters): ${r2.status}`, bodyString(r2.body));
        }
        for (const q of r2.requests) {
          if (q.headers.authorization !== want) {
            v2 = 'FAIL auth header';
            fail(name, `${label} (placeholder parameters): request sent Authorization ${authOf(q)}`, `${q.method} ${q.url}`);
          }
        }
        rows.push({ doc: name, op: `  └ with placeholder parameters`, status: r2.sent ? String(r2.status) : 'not sent',
          auth: r2.requests.map(authOf).join(',') || '-', verdict: v2,
          extra: !r2.sent ? r2.reason : r2.status >= 400 ? bodyString(r2.body) : '' });
      }
    }
  }

  // Reload: the authorization must survive (persistAuthorization).
  await page.reload();
  await waitForDocument(page, name, info.ops);
  const btn2 = await page.getAttribute('.scheme-container button.authorize', 'class');
  if (!/\blocked\b/.test(btn2)) fail(name, 'after reload: Authorize button not shown as authorized', btn2);
  await openAuthModal(page);
  const persisted = await modalSchemes(page);
  await closeAuthModal(page);
  const lost = persisted.filter((s) => !s.authorized).map((s) => s.name);
  if (lost.length) fail(name, 'after reload: schemes no longer authorized', lost.join(', '));
  const probe = results.find((x) => x.r.sent && x.op.method === 'GET') || results.find((x) => x.r.sent);
  if (!probe) {
    fail(name, 'after reload: no operation could be sent to check the header', '');
  } else {
    const r = await execute(page, probe.op, log);
    const hdrs = r.requests.map((q) => q.headers.authorization);
    if (!r.sent || !hdrs.length || hdrs.some((h) => h !== want)) {
      fail(name, `after reload: ${probe.op.operationId} did not carry the credentials`,
        `sent=${r.sent} Authorization=${r.requests.map(authOf).join(',') || '-'} status=${r.status}`);
    }
    notes.push(`${name}: after reload ${probe.op.operationId} -> ${r.status}, Authorization ${r.requests.map(authOf).join(',')}, button "${btn2}"`);
  }
}

function printTable() {
  const head = { doc: 'document', op: 'operation', status: 'status', auth: 'Authorization', verdict: 'verdict' };
  const cols = Object.keys(head);
  const w = Object.fromEntries(cols.map((c) => [c, Math.max(head[c].length, ...rows.map((r) => r[c].length))]));
  const line = (r) => cols.map((c) => r[c].padEnd(w[c])).join(' | ');
  console.log(line(head));
  console.log(cols.map((c) => '-'.repeat(w[c])).join('-|-'));
  for (const r of rows) {
    console.log(line(r));
    if (r.extra) console.log(`${' '.repeat(w.doc)} |   ${r.extra}`);
  }
}

async function main() {
  const t0 = Date.now();
  const infos = {};
  for (const name of DOCUMENTS) infos[name] = await fetchDocument(name);

  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-swagger-ui-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    chromiumSandbox: false,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(15000);
  const log = [];
  page.on('request', (req) => {
    if (isApiUrl(req.url())) log.push({ method: req.method(), url: req.url(), headers: req.headers() });
  });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  // A 401 with `WWW-Authenticate: Basic` makes Chromium ask for credentials
  // itself (a login dialog; headless, the request hangs). Answer every such
  // challenge with Cancel, so Swagger UI gets the 401, and report it.
  const cdp = await context.newCDPSession(page);
  cdp.on('Fetch.requestPaused', (e) => {
    cdp.send('Fetch.continueRequest', { requestId: e.requestId }).catch(() => {});
  });
  cdp.on('Fetch.authRequired', (e) => {
    challenges.push(`${e.request.method} ${new URL(e.request.url).pathname}: ${e.authChallenge.scheme} realm="${e.authChallenge.realm}"`);
    cdp.send('Fetch.continueWithAuth', { requestId: e.requestId, authChallengeResponse: { response: 'CancelAuth' } })
      .catch(() => {});
  });
  await cdp.send('Fetch.enable', { handleAuthRequests: true, patterns: [{ urlPattern: `${BASE}/*` }] });

  try {
    let first = true;
    for (const name of DOCUMENTS) {
      const info = infos[name];
      try {
        if (first) {
          await openByUrl(page, name, info.ops);
        } else {
          // Switched to in the selector, with the previous documents authorized.
          await openBySelector(page, name, info.ops);
          await assertNotAuthorized(page, name, info, 'selector', log);
          // Opened afresh: stored authorizations are restored by scheme name.
          await openByUrl(page, name, info.ops);
          await assertNotAuthorized(page, name, info, 'page load', log);
        }
        first = false;
        await runDocument(page, name, info, log);
      } catch (e) {
        fail(name, 'test error', e.stack || String(e));
        first = false;
        await openByUrl(page, name, info.ops).catch(() => {});
      }
    }
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }

  printTable();
  console.log('');
  for (const n of notes) console.log(`note: ${n}`);
  for (const e of pageErrors) console.log(`page error: ${e}`);
  const ops = DOCUMENTS.reduce((n, d) => n + infos[d].ops.length, 0);
  console.log(`\n${ops} operations in ${DOCUMENTS.length} documents, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (failures.length) {
    console.log(`\n${failures.length} FAILURE(S):`);
    for (const f of failures) console.log(`- [${f.doc}] ${f.what}${f.detail ? `\n    ${f.detail}` : ''}`);
    process.exit(1);
  }
  console.log('Swagger UI check passed');
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
