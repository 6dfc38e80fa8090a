// The subscriber's path through `paperpost serve` in a real browser (Debian's Chromium,
// driven by playwright-core). tests/suite/browser.rs starts the server and the SMTP sink, runs
// this script once per phase and does the mail work in between (it parses the mails with
// mail-parser and hands the links over in the environment):
//
//   signup       home page → fill in the form → "Check your inbox"
//   confirm      CONFIRM_URL only asks (twice: scanners fetch links) → its button →
//                "You're subscribed" → preferences → change topics and frequency → save →
//                the saved state
//   editor       the operator's status page sends to the sign-in form → sign in as OPERATOR
//                → write the edition's note, pin PIN_ID with a note → both listed on the
//                page → sign out → the status page sends to the sign-in form again
//   digest       the digest's HTML (DIGEST_HTML) at 375 and 600 px, light and dark: no
//                horizontal overflow, the editor's note visible above the pinned paper,
//                which comes before the reader's own picks, the dark theme applied; then its
//                web copy (WEB_COPY_URL, served, noindex) and the reader's feed (FEED_URL)
//   like         the digest's HTML (DIGEST_HTML, a file) → 👍 under LIKE_TITLE → the page
//                with one button (reloading it records nothing) → confirm → "Noted" →
//                preferences list the liked paper → switch to daily for the next digest
//   more         the next digest's HTML (DIGEST_HTML): its "More like what you liked"
//                section names LIKE_TITLE in a why line
//   unsubscribe  the digest's List-Unsubscribe URL: its GET only asks; the RFC 8058
//                one-click POST from the browser context (200, no redirect) answers with
//                the unsubscribed state; the link is then retired (its token changed); the
//                archive and home show the issue
//
// Environment: BASE_URL (ends in /), ARTIFACTS (screenshots go here), EMAIL, and per phase
// CONFIRM_URL or UNSUBSCRIBE_URL. Each step prints one line; any failure exits non-zero
// with the reason (and a screenshot named failed-<phase>.png).
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const phase = process.argv[2];
const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const BASE_URL = env('BASE_URL');
const ARTIFACTS = env('ARTIFACTS');
const EMAIL = env('EMAIL');
const origin = new URL(BASE_URL).origin;
// URLs a phase expects to fail (a retired link's 404): not counted as problems.
const expectedErrors = new Set();
mkdirSync(ARTIFACTS, { recursive: true });

function check(cond, what) {
  if (!cond) throw new Error(`assertion failed: ${what}`);
  console.log(`ok - ${what}`);
}

async function shot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  console.log(`screenshot ${name}.png`);
}

async function heading(page) {
  return (await page.locator('main h1').first().innerText()).trim();
}

/// Top and bottom of an element's box on the page (scrolled to the top), or null.
async function box(locator) {
  const b = await locator.first().boundingBox();
  return b && { top: b.y, bottom: b.y + b.height, left: b.x, right: b.x + b.width };
}

/// The page is no wider than the viewport (nothing scrolls sideways).
async function noOverflow(page, what) {
  const { scroll, inner } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth,
  }));
  check(scroll <= inner, `${what}: no horizontal overflow (${scroll} px wide in ${inner} px)`);
}

/// The digest's layout as a reader sees it: the note first, the pin before the reader's own
/// picks, all inside the viewport's width.
async function digestLayout(page, what, width) {
  await noOverflow(page, what);
  const note = page.locator('td.pp-note');
  check(await note.isVisible(), `${what}: the editor's note is visible`);
  check((await note.innerText()).includes(env('NOTE')), `${what}: the note says what the editor wrote`);
  const n = await box(note);
  const pinned = await box(page.locator('td.pp-card:not(.pp-glance):not(.pp-note)', { hasText: env('PIN_TITLE') }));
  const own = await box(page.locator('td.pp-card:not(.pp-glance):not(.pp-note)', { hasText: env('LIKE_TITLE') }));
  check(pinned && own, `${what}: the pinned paper and the reader's own pick both have cards`);
  check(n.bottom <= pinned.top && pinned.bottom <= own.top, `${what}: note (${n.top}) above the pin (${pinned.top}) above the own pick (${own.top})`);
  check(n.right <= width && pinned.right <= width, `${what}: the cards fit in ${width} px`);
  const mark = page.getByText("★ Editor's pick", { exact: true });
  check((await mark.count()) === 1 && (await box(mark)).bottom <= pinned.top, `${what}: the pick is marked above its card`);
}

const phases = {
  async editor(page) {
    await page.goto(`${BASE_URL}status`);
    check(page.url() === `${BASE_URL}login`, 'the status page sends a stranger to the sign-in form');
    await shot(page, '05a-sign-in');
    await page.locator('#login-name').fill(env('OPERATOR'));
    await page.locator('#login-password').fill(env('OPERATOR_PASSWORD'));
    await Promise.all([page.waitForURL(`${BASE_URL}status`), page.locator('#login-submit').click()]);
    check((await page.locator('#operator-name').innerText()) === env('OPERATOR'), 'signed in, the page names the operator');
    check((await page.locator('#editorial h2').innerText()).startsWith("Editor's note and picks"), 'the status page has the editor\'s section');
    await page.locator('#note').fill(env('NOTE'));
    await Promise.all([page.waitForURL(/#editorial$/), page.getByRole('button', { name: 'Save the note' }).click()]);
    check((await page.locator('#note').inputValue()) === env('NOTE'), 'the note is saved and shown');
    const pin = page.locator('#editorial form', { has: page.locator('input[name="paper"]:not([type="hidden"])') });
    await pin.locator('input[name="paper"]').fill(env('PIN_ID'));
    await pin.locator('input[name="note"]').fill(env('PIN_NOTE'));
    await Promise.all([page.waitForURL(/#editorial$/), pin.getByRole('button', { name: 'Pin' }).click()]);
    const pins = await page.locator('#pins').innerText();
    check(pins.includes(env('PIN_ID')) && pins.includes(env('PIN_NOTE')), 'the pinned paper is listed with its note');
    await shot(page, '05b-status-editor');
    await Promise.all([page.waitForURL(`${BASE_URL}login`), page.locator('#sign-out').click()]);
    await page.goto(`${BASE_URL}status`);
    check(page.url() === `${BASE_URL}login`, 'signed out: the status page asks to sign in again');
  },

  async digest(page) {
    const html = readFileSync(env('DIGEST_HTML'), 'utf8');
    for (const width of [375, 600]) {
      for (const colorScheme of ['light', 'dark']) {
        await page.setViewportSize({ width, height: 900 });
        await page.emulateMedia({ colorScheme });
        await page.setContent(html);
        const what = `digest at ${width} px, ${colorScheme}`;
        await digestLayout(page, what, width);
        const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        const want = colorScheme === 'dark' ? 'rgb(15, 17, 21)' : 'rgb(244, 245, 247)';
        check(bg === want, `${what}: the page background is ${want} (got ${bg})`);
        await shot(page, `06-digest-${width}-${colorScheme}`);
        if (width === 600 && colorScheme === 'light' && process.env.README_SCREENSHOT) {
          // The README's picture: the top of the digest, one viewport high.
          await page.setViewportSize({ width: 600, height: 1100 });
          await page.screenshot({ path: process.env.README_SCREENSHOT });
          console.log(`screenshot ${process.env.README_SCREENSHOT}`);
        }
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 375, height: 900 });
    const copy = await page.goto(env('WEB_COPY_URL'));
    check(copy.status() === 200, 'the web copy answers 200');
    check((copy.headers()['x-robots-tag'] || '').includes('noindex'), 'the web copy is noindex');
    await digestLayout(page, 'web copy at 375 px', 375);
    check(page.url() === env('WEB_COPY_URL'), 'the web copy stays at its own address');
    await shot(page, '06-web-copy');
    const feed = await page.goto(env('FEED_URL'));
    check(feed.status() === 200, 'the feed answers 200');
    check(feed.headers()['content-type'].startsWith('application/atom+xml'), 'the feed is Atom');
    // Read as a feed reader would: the browser's own XML parser.
    const raw = await (await page.request.get(env('FEED_URL'))).text();
    const entries = await page.evaluate((text) => {
      const xml = new DOMParser().parseFromString(text, 'application/xml');
      if (xml.querySelector('parsererror')) return null;
      return [...xml.getElementsByTagName('entry')].map((e) => ({
        title: e.getElementsByTagName('title')[0]?.textContent,
        summary: e.getElementsByTagName('summary')[0]?.textContent || '',
      }));
    }, raw);
    check(entries !== null, 'the feed is well-formed XML');
    const pinned = entries.find((e) => e.title === env('PIN_TITLE'));
    check(pinned && entries.some((e) => e.title === env('LIKE_TITLE')), 'the feed lists the pinned paper and the own pick');
    check(pinned.summary.includes(`Editor's pick: ${env('PIN_NOTE')}`), 'the feed says why: the editor\'s pick with its note');
    await shot(page, '06-feed');
    await page.setViewportSize({ width: 1280, height: 900 });
  },

  async signup(page) {
    await page.goto(BASE_URL);
    check((await page.title()).length > 0, 'the home page has a title');
    await shot(page, '01-home');
    const form = page.locator('#subscribe-form');
    await form.locator('#email').fill(EMAIL);
    await form.locator('#topics').fill('contrastive, "knowledge editing"');
    // Categories are folded per group, as a reader finds them: open cs.CL's group first.
    const box = form.locator('[id="cat-cs.CL"]');
    const group = form.locator('details.cat-group', { has: page.locator('[id="cat-cs.CL"]') });
    await group.locator('summary').click();
    await box.check();
    check(await box.isChecked(), 'the cs.CL checkbox is ticked');
    await form.locator('#frequency-daily').check();
    await Promise.all([page.waitForURL(`${BASE_URL}subscribe`), form.locator('#subscribe-submit').click()]);
    check((await heading(page)) === 'Check your inbox', 'the answer is "Check your inbox"');
    await shot(page, '02-check-inbox');
  },

  async confirm(page) {
    // The link's GET only asks (mail scanners fetch links): the button confirms.
    for (let i = 0; i < 2; i++) await page.goto(env('CONFIRM_URL'));
    check((await heading(page)) === 'Confirm your subscription', 'GET (twice) only asks to confirm');
    await shot(page, '03-confirm-ask');
    const posted = (r) => r.request().method() === 'POST' && r.url() === env('CONFIRM_URL');
    await Promise.all([page.waitForResponse(posted), page.locator('#confirm-submit').click()]);
    await page.waitForFunction(() => document.querySelector('main h1')?.innerText.trim() === "You're subscribed");
    check((await heading(page)) === "You're subscribed", 'the button says "You\'re subscribed"');
    check((await page.locator('main').innerText()).includes('every day'), 'it promises a daily digest');
    await shot(page, '03-confirmed');
    await Promise.all([page.waitForURL(/\/preferences\//), page.locator('#preferences-link').click()]);
    const status = page.locator('#subscriber-status');
    check((await status.innerText()).includes(EMAIL), 'preferences show the address');
    check((await status.innerText()).includes('active'), 'preferences show the status active');
    const form = page.locator('#preferences-form');
    check((await form.locator('#topics').inputValue()).includes('contrastive'), 'the sign-up topics are in the form');
    check(await form.locator('[id="cat-cs.CL"]').isChecked(), 'cs.CL is still ticked');
    check(await form.locator('#frequency-daily').isChecked(), 'daily is chosen');
    await shot(page, '04-preferences-before');

    await form.locator('#topics').fill('hallucinations, "data selection"');
    await form.locator('[id="cat-cs.CL"]').uncheck();
    await form.locator('#authors').fill('Sanmi Koyejo');
    await form.locator('#frequency-weekly').check();
    await Promise.all([page.waitForURL(/\?done=saved$/), form.locator('#preferences-save').click()]);
    check((await page.locator('#flash').innerText()).startsWith('Saved.'), 'the page says "Saved."');
    const following = await page.locator('#following').innerText();
    check(following.includes('hallucinations') && following.includes('data selection'), 'the new topics are listed');
    check(following.toLowerCase().includes('author: sanmi koyejo'), 'the author is listed');
    check(!following.includes('cs.CL'), 'cs.CL is no longer followed');
    check((await status.innerText()).includes('weekly'), 'the frequency is now weekly');
    check(await page.locator('#preferences-form #frequency-weekly').isChecked(), 'weekly is chosen in the form');
    await shot(page, '05-preferences-after');
  },

  async like(page) {
    const title = env('LIKE_TITLE');
    await page.setContent(readFileSync(env('DIGEST_HTML'), 'utf8'));
    await shot(page, '06-digest');
    const card = page.locator('td.pp-card:not(.pp-glance)', { hasText: title });
    check((await card.count()) === 1, `the digest has a card for “${title}”`);
    const up = card.getByRole('link', { name: '👍 More like this' });
    check((await up.count()) === 1, 'the card has a 👍 link');
    await Promise.all([page.waitForURL(/\/feedback\/.*\?v=like$/), up.click()]);
    check((await heading(page)) === 'More papers like this one?', 'the 👍 link opens a page that asks');
    // Link scanners fetch links: opening the page again records nothing (the test checks
    // the store after this phase) and still asks.
    await page.reload();
    check((await page.locator('#feedback-paper').innerText()).includes(title), 'the page names the paper');
    check((await page.locator('#feedback-current').count()) === 0, 'nothing is recorded by opening it');
    check((await page.locator('main button').count()) === 1, 'the page has exactly one button');
    await shot(page, '07-feedback-ask');
    await page.locator('#feedback-submit').click();
    await page.waitForLoadState();
    check((await heading(page)) === 'Noted: more like this', 'the button records the like');
    await shot(page, '08-feedback-noted');
    await Promise.all([page.waitForURL(/\/preferences\//), page.getByRole('link', { name: 'See all your liked papers' }).click()]);
    check((await page.locator('#liked-papers').innerText()).includes(title), 'preferences list the liked paper');
    const form = page.locator('#preferences-form');
    await form.locator('#frequency-daily').check();
    await Promise.all([page.waitForURL(/\?done=saved$/), form.locator('#preferences-save').click()]);
    check((await page.locator('#subscriber-status').innerText()).includes('daily'), 'the next digest comes daily');
    await shot(page, '09-preferences-liked');
  },

  async more(page) {
    const title = env('LIKE_TITLE');
    await page.setContent(readFileSync(env('DIGEST_HTML'), 'utf8'));
    const section = page.getByRole('heading', { name: 'More like what you liked' });
    check((await section.count()) === 1, 'the next digest has a "More like what you liked" section');
    const why = page.getByText(`Close to papers you liked: “${title}”`);
    check((await why.count()) >= 1, `a recommended paper says it is close to “${title}”`);
    // The why line heads the run of recommended cards; the last card is one of them.
    const lastCard = page.locator('td.pp-card:not(.pp-glance)').last();
    check((await lastCard.getByRole('link', { name: '👍 More like this' }).count()) === 1, 'recommended papers have 👍 too');
    await shot(page, '10-digest-more-like');
  },

  async unsubscribe(page) {
    const url = env('UNSUBSCRIBE_URL');
    check(url.startsWith(`${BASE_URL}unsubscribe/`), 'the List-Unsubscribe URL points at this site');
    // The link's GET only asks (mail scanners fetch links): it must change nothing.
    for (let i = 0; i < 2; i++) await page.goto(url);
    check((await heading(page)) === 'Unsubscribe?', 'GET (twice) only asks "Unsubscribe?"');
    check((await page.locator('#unsubscribe-form').count()) === 1, 'with the one-click button form');
    await shot(page, '11-unsubscribe-ask');
    // What a mail provider does for RFC 8058: a POST with List-Unsubscribe=One-Click
    // (multipart/form-data, the encoding the RFC recommends), redirects not followed.
    const res = await page.request.post(url, {
      multipart: { 'List-Unsubscribe': 'One-Click' },
      maxRedirects: 0,
    });
    check(res.status() === 200, `the one-click POST answers 200 (got ${res.status()})`);
    check(!res.headers()['location'], 'the one-click POST does not redirect');
    const answer = await res.text();
    check(answer.includes("You're unsubscribed"), 'the one-click answer says unsubscribed');

    await page.setContent(answer);
    check((await page.locator('#unsubscribed').innerText()).includes(EMAIL), 'it names the address');
    const again = page.getByRole('link', { name: 'Subscribe again' });
    check((await again.count()) === 1, 'it offers to subscribe again');
    await shot(page, '12-unsubscribed');
    // Unsubscribing retired the reader's links: an old mail's link changes nothing more.
    expectedErrors.add(url);
    await page.goto(url);
    check((await heading(page)) === 'This link does not work', 'the old link is retired');

    await page.goto(`${BASE_URL}archive`);
    check((await page.locator('main a[href*="/archive/"]').count()) === 2, 'the archive lists the two sent editions (weekly, then daily)');
    await shot(page, '13-archive');
    await page.goto(BASE_URL);
    check((await page.locator('#sample-heading').innerText()) === 'From the latest issue', 'the home page shows the latest issue');
    await shot(page, '14-home-with-issue');
  },
};

const THUMBNAIL =
  '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="648" viewBox="0 0 1200 648">' +
  '<rect width="1200" height="648" fill="#d5d9e0"/></svg>';

if (!phases[phase]) {
  console.error(`usage: node flow.mjs ${Object.keys(phases).join('|')}`);
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  // A fresh temporary profile per launch (playwright makes and removes it); nothing that
  // phones home: the test machine has no internet and must not try.
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
  ],
});
let failed = false;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const problems = [];
  // Only the site under test is reached. Paper thumbnails (https CDNs) get a wide grey
  // stand-in, so screenshots look like the real page; anything else from elsewhere is refused.
  await context.route('**/*', (route) => {
    const request = route.request();
    if (new URL(request.url()).origin === origin) return route.continue();
    if (request.resourceType() === 'image') {
      return route.fulfill({ status: 200, contentType: 'image/svg+xml', body: THUMBNAIL });
    }
    return route.abort();
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // CSP violations and failed same-site loads are reported on the console.
    if (expectedErrors.has(m.location().url)) return;
    if (m.type() === 'error' && !/ERR_FAILED|net::/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (expectedErrors.has(r.url())) return;
    if (new URL(r.url()).origin === origin && r.status() >= 400) problems.push(`${r.status()} for ${r.url()}`);
  });
  try {
    await phases[phase](page);
    check(problems.length === 0, `no console errors or failed requests (${problems.join('; ') || 'none'})`);
  } catch (e) {
    await page.screenshot({ path: join(ARTIFACTS, `failed-${phase}.png`), fullPage: true }).catch(() => {});
    throw e;
  }
} catch (e) {
  failed = true;
  console.error(`FAILED in phase ${phase}: ${e.stack || e}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
