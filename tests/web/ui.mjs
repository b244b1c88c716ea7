// ui.mjs - drive the admin UI in Debian's headless chromium (playwright-core)
// against a fleetboot-web started by test-ui.sh in a private namespace.
//
// Environment: WEB_URL, ADMIN_PW, STATE_DIR, EV (the web_event_add helper),
// FB_ARTIFACTS, PROFILE (a fresh chromium user-data-dir).
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

const { WEB_URL, ADMIN_PW, STATE_DIR, EV, FB_ARTIFACTS, PROFILE, BOOTD_URL, CLI_NS } = process.env;
const MAC = '52-54-00-bb-00-01';
const NEW_MAC = '52-54-00-bb-00-99';

function fail(msg) {
  console.error(`FAIL: ${msg}`);
  process.exit(1);
}
function step(msg) {
  console.log(`-- ${msg}`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const creds = new Map();

// A boot credential of the machine (`fleetboot machine credential`, which
// starts a boot), issued once and kept: stage reports carry it as the
// initramfs does. The long-lived secret opens nothing (issue 13).
function credOf(mac) {
  if (!creds.has(mac))
    creds.set(mac, execFileSync(process.env.FB, ['machine', 'credential', mac]).toString().trim());
  return creds.get(mac);
}

// A boot stage: reported to bootd as the initramfs does, or recorded by
// the helper when bootd is not built.
async function event(mac, stage, detail = '', query = '') {
  if (!BOOTD_URL) {
    execFileSync(EV, [STATE_DIR, mac, stage, detail]);
    return;
  }
  const url = `${BOOTD_URL}/boot/${mac}/stage?name=${stage}${query}`;
  const headers = { 'X-Fleetboot-Credential': credOf(mac) };
  // bootd's machine cache catches up with new machines within moments.
  for (let i = 0; i < 50; i++) {
    const res = await fetch(url, { method: 'POST', headers });
    if (res.ok) return;
    if (res.status !== 404) fail(`bootd refused stage ${stage}: ${res.status} ${await res.text()}`);
    await sleep(200);
  }
  fail(`bootd does not know ${mac}`);
}

// An unknown machine asking to boot: bootd registers it.
async function register(mac) {
  if (!BOOTD_URL) {
    execFileSync(EV, [STATE_DIR, '--register', mac]);
    return;
  }
  // From the machine's own namespace and MAC, as its iPXE would ask.
  const code = execFileSync('ip', ['netns', 'exec', CLI_NS, 'curl', '-s', '-m', '10', '-o', '/dev/null',
    '-w', '%{http_code}', `http://10.78.0.1:8067/boot/${mac}.ipxe`]).toString();
  console.log(`   bootd answered the unknown machine's script request with HTTP ${code}`);
  if (code !== '200') fail('bootd did not serve the unknown machine');
}

mkdirSync(FB_ARTIFACTS, { recursive: true });
const ctx = await chromium.launchPersistentContext(PROFILE, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1366, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = ctx.pages()[0] || (await ctx.newPage());
page.setDefaultTimeout(15000);
const problems = [];
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
page.on('console', (m) => {
  if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`);
});

try {
  step('an unauthenticated visit lands on the login page');
  await page.goto(WEB_URL + '/');
  if (!page.url().endsWith('/login.html')) fail(`expected the login page, got ${page.url()}`);

  step('a wrong password is refused');
  await page.fill('#password', 'not-the-password');
  await page.click('#login-button');
  await page.waitForSelector('#login-error:not([hidden])');

  step('log in');
  await page.fill('#password', ADMIN_PW);
  await page.click('#login-button');
  await page.waitForURL(WEB_URL + '/');
  await page.waitForSelector('#machines');
  await page.waitForSelector('#live.on');

  step('add a machine');
  await page.click('#add-open');
  await page.fill('#f-mac', '52:54:00:BB:00:01');
  await page.fill('#f-name', 'kiosk-lobby');
  await page.fill('#f-group', 'lobby');
  await page.click('#add-submit');
  await page.waitForSelector(`#machines-body tr[data-mac="${MAC}"]`);
  step('a bad MAC shows the server message naming the field');
  await page.click('#add-open');
  await page.fill('#f-mac', 'nonsense');
  await page.click('#add-submit');
  const err = await page.waitForSelector('#add-form .form-error:not([hidden])');
  if (!/mac/.test(await err.textContent())) fail('the add form does not name the bad field');
  await page.click('#add-form button[type=button]');

  step('assign an image on the machine page');
  await page.click(`#machines-body tr[data-mac="${MAC}"]`);
  await page.waitForSelector('#machine-form');
  await page.selectOption('#f-image', 'tiny@1');
  await page.selectOption('#f-mode', 'ephemeral');
  await page.click('#save');
  await page.waitForFunction(() => document.querySelector('.kv dd:nth-of-type(2)')?.textContent === 'tiny@1');
  const m = await page.evaluate(async (mac) => (await fetch(`/api/v1/machines/${mac}`)).json(), MAC);
  if (m.image !== 'tiny@1' || m.mode !== 'ephemeral') fail(`server has image=${m.image} mode=${m.mode}`);

  step('the dashboard follows boot stages live, without a reload');
  await page.click('a[data-nav=dashboard]');
  await page.waitForSelector(`#machines-body tr[data-mac="${MAC}"]`);
  await page.evaluate(() => { window.__noReload = 'still here'; });
  const badge = () => page.textContent(`#machines-body tr[data-mac="${MAC}"] .stage-cell .badge`);
  if ((await badge()) !== 'never booted') fail(`initial stage: ${await badge()}`);
  const stages = [['dhcp', 'arch=0 ipxe=0'], ['tftp', 'file=undionly.kpxe'], ['ipxe-script', ''],
    ['kernel', 'file=vmlinuz'], ['initrd', 'file=initrd.img'], ['root-attached', 'nbd'], ['userspace', '']];
  const t0 = Date.now();
  for (const [s, d] of stages) {
    await event(MAC, s, d);
    await page.waitForFunction(([mac, want]) =>
      document.querySelector(`#machines-body tr[data-mac="${mac}"] .stage-cell .badge`)?.textContent === want,
    [MAC, s], { timeout: 5000 }).catch(() => fail(`dashboard did not show stage ${s}`));
  }
  const perStage = (Date.now() - t0) / stages.length;
  console.log(`   ${stages.length} stages shown live, ${perStage.toFixed(0)} ms per stage on average`);
  if ((await page.evaluate(() => window.__noReload)) !== 'still here') fail('the page reloaded');
  const feed = await page.textContent('#feed');
  if (!/userspace/.test(feed)) fail('the event feed lacks the new events');

  step('an unknown machine that registers shows up in "new machines" live');
  await register(NEW_MAC);
  await page.waitForSelector(`#attention:not([hidden]) tr[data-mac="${NEW_MAC}"]`, { timeout: 5000 })
    .catch(() => fail('the registered machine did not appear in the new-machines section'));
  await event(NEW_MAC, 'tftp', 'file=undionly.kpxe');
  await page.waitForTimeout(800);
  if ((await page.evaluate(() => window.__noReload)) !== 'still here') fail('the page reloaded');

  step('screenshot of the dashboard');
  await page.mouse.move(0, 0);
  await sleep(1700); // let the row highlight fade
  await page.screenshot({ path: `${FB_ARTIFACTS}/web-dashboard.png`, fullPage: true });

  step('assign the new machine from the new-machines section');
  await page.selectOption(`#attention tr[data-mac="${NEW_MAC}"] select`, 'tiny');
  await page.click(`#attention tr[data-mac="${NEW_MAC}"] button`);
  await page.waitForSelector('#attention', { state: 'hidden' });

  step('machine page: boot timeline and overlay');
  await page.goto(`${WEB_URL}/#/machine/${MAC}`);
  await page.waitForSelector('#timeline .timeline li');
  // The credential the test issued by hand (credOf) is an event of its own.
  const n = await page.locator('#timeline .timeline li:not(.tl-credential)').count();
  if (n !== stages.length) fail(`timeline shows ${n} stages, expected ${stages.length}`);
  await page.screenshot({ path: `${FB_ARTIFACTS}/web-machine.png`, fullPage: true });

  step('machine page: next boot, once (issue 15)');
  if ((await page.textContent('#machine-next-boot')).trim() !== 'normal') fail('a next boot before one was set');
  await page.selectOption('#f-next-boot', 'memtest');
  await page.click('#set-next-boot');
  await page.waitForSelector('#machine-next-boot:has-text("memtest, once")');
  const nb = await page.evaluate(async (mac) => (await (await fetch(`/api/v1/machines/${mac}`)).json()).next_boot, MAC);
  if (nb !== 'memtest') fail(`the API says next_boot ${nb}`);

  step('machine page: the Wake button asks the API (202: bootd sends)');
  await page.click('#wake-machine');
  await page.waitForSelector('#toast:not(.error):has-text("Wake-on-LAN: bootd is sending the magic packet")', { timeout: 5000 });

  step('verified boot: the machine page and the dashboard show the evidence (issue 16)');
  const SB_MAC = '52-54-00-bb-00-05';
  execFileSync(process.env.FB, ['machine', 'add', SB_MAC, '--image', 'tiny@1', '--mode', 'readonly', '--secure-boot', 'on']);
  const img = JSON.parse(execFileSync(process.env.FB, ['image', 'show', 'tiny@1', '--json']).toString());
  const RH = img.verity_root_hash || '';
  if (!/^[0-9a-f]{64}$/.test(RH)) fail(`image tiny@1 has no dm-verity root hash: ${JSON.stringify(img)}`);
  // bootd's own records of this boot (the firmware's DHCP, the whole
  // signed UKI handed out), written through the DB API as bootd does: this
  // test has no site key, so no real boot.efi.
  execFileSync(EV, [STATE_DIR, SB_MAC, 'dhcp', 'arch=7 ipxe=0']);
  const UKI = 'ab'.repeat(32);
  execFileSync(EV, [STATE_DIR, SB_MAC, 'uki-served', `image=tiny@1 sha256=${UKI} via=tftp`]);
  await page.goto(`${WEB_URL}/#/machine/${SB_MAC}`);
  await page.waitForSelector('#verified-boot[data-state="unreported"]')
    .catch(async () => fail(`before the report: ${await page.textContent('#verified-panel').catch(() => 'no panel')}`));
  // The initramfs's report once veritysetup opened the root, with its root
  // hash: the page follows it live.
  await event(SB_MAC, 'verified', `from=test root_hash=${RH}`, `&root_hash=${RH}`);
  await page.waitForSelector('#verified-boot[data-state="verified"]', { timeout: 5000 })
    .catch(async () => fail(`the machine page does not say verified: ${await page.textContent('#verified-boot')}`));
  const vbText = await page.textContent('#verified-boot');
  const want = `verified — booted tiny@1, rootfs sha256 ${img.sha256}, root hash ${RH}; signed UKI sha256 ${UKI}`;
  if (!vbText.includes(want)) fail(`evidence text: '${vbText}', expected it to contain '${want}'`);
  console.log(`   ${vbText.slice(0, 120)}...`);
  await page.screenshot({ path: `${FB_ARTIFACTS}/web-verified.png`, fullPage: true });
  await page.click('a[data-nav=dashboard]');
  await page.waitForSelector(`#machines-body tr[data-mac="${SB_MAC}"] .vb-badge.vb-ok`, { timeout: 5000 })
    .catch(() => fail('the dashboard row has no verified badge'));
  if ((await page.textContent(`#machines-body tr[data-mac="${SB_MAC}"] .vb-badge`)) !== '\u2713 verified') fail('badge text');
  if (await page.$(`#machines-body tr[data-mac="${MAC}"] .vb-badge`)) fail('a badge on a machine with Secure Boot off');

  step('the entries page lists the entry, in use as a next boot');
  await page.click('a[data-nav=entries]');
  await page.waitForSelector('#entries tr[data-entry="memtest"]');
  const entText = await page.textContent('#entries tr[data-entry="memtest"]');
  if (!/Memtest86\+/.test(entText) || !/served/.test(entText)) fail(`entries page: ${entText}`);
  if (!(await page.isDisabled('#entries tr[data-entry="memtest"] button'))) fail('an entry in use can be removed');
  await page.screenshot({ path: `${FB_ARTIFACTS}/web-entries.png`, fullPage: true });

  step('the groups page lists a group, adds, edits and deletes one (issue 15)');
  await page.click('a[data-nav=groups]');
  await page.waitForSelector('#groups tr[data-group="lobby"]');
  const gText = await page.textContent('#groups tr[data-group="lobby"]');
  if (!/^lobby1/.test(gText)) fail(`groups page row: ${gText}`);
  step('the groups page: Wake all asks the API for every machine of the group');
  await page.click('#groups tr[data-group="lobby"] button[data-wake="lobby"]');
  await page.waitForSelector('#toast:not(.error):has-text("magic packets to the 1 machine(s) of lobby")', { timeout: 5000 });
  await page.fill('#g-name', 'lab1');
  await page.selectOption('#g-mode', 'ephemeral');
  await page.fill('#g-menu-timeout', '7');
  await page.click('#group-submit');
  await page.waitForSelector('#groups tr[data-group="lab1"]');
  const g1 = await page.evaluate(async () => (await fetch('/api/v1/groups/lab1')).json());
  if (g1.mode !== 'ephemeral' || g1.menu_timeout !== 7 || g1.protocol !== '') fail(`server has ${JSON.stringify(g1)}`);
  await page.click('#groups tr[data-group="lab1"] button:has-text("Edit")');
  await page.waitForSelector('#group-form h2:has-text("Edit group lab1")');
  await page.selectOption('#g-protocol', 'iscsi');
  await page.click('#group-submit');
  await page.waitForFunction(() => /iscsi/.test(document.querySelector('#groups tr[data-group="lab1"]')?.textContent || ''));
  await page.screenshot({ path: `${FB_ARTIFACTS}/web-groups.png`, fullPage: true });
  page.once('dialog', (d) => d.accept());
  await page.click('#groups tr[data-group="lab1"] button:has-text("Delete")');
  await page.waitForSelector('#groups tr[data-group="lab1"]', { state: 'detached' });

  step('the dashboard\'s group filter shows only that group\'s machines');
  await page.click('a[data-nav=dashboard]');
  await page.waitForSelector(`#machines-body tr[data-mac="${NEW_MAC}"]`);
  await page.selectOption('#group-filter', 'lobby');
  await page.waitForSelector(`#machines-body tr[data-mac="${NEW_MAC}"]`, { state: 'detached' });
  const shown = await page.$$eval('#machines-body tr[data-mac]', (rs) => rs.map((r) => r.dataset.mac));
  if (shown.join(' ') !== MAC) fail(`filter lobby shows ${shown.join(' ')}`);
  const groupCell = await page.textContent(`#machines-body tr[data-mac="${MAC}"] td[data-label=Group]`);
  if (groupCell !== 'lobby') fail(`group column: ${groupCell}`);
  await page.selectOption('#group-filter', '-');
  await page.waitForSelector(`#machines-body tr[data-mac="${MAC}"]`, { state: 'detached' });
  await page.waitForSelector(`#machines-body tr[data-mac="${NEW_MAC}"]`);
  await page.selectOption('#group-filter', '');
  await page.waitForSelector(`#machines-body tr[data-mac="${MAC}"]`);

  step('the images page lists versions, sizes and hashes');
  await page.click('a[data-nav=images]');
  await page.waitForSelector('text=tiny');
  const imgText = await page.textContent('main');
  if (!/4\.0 MiB/.test(imgText) || !/ready/.test(imgText)) fail(`images page: ${imgText.slice(0, 300)}`);
  await page.screenshot({ path: `${FB_ARTIFACTS}/web-images.png`, fullPage: true });

  step('phone-sized dashboard');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.click('a[data-nav=dashboard]');
  await page.waitForSelector(`#machines-body tr[data-mac="${MAC}"]`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 4) fail(`the phone layout scrolls sideways by ${overflow}px`);
  await page.screenshot({ path: `${FB_ARTIFACTS}/web-dashboard-phone.png`, fullPage: true });

  step('sign out');
  await page.click('#logout');
  await page.waitForURL(/login\.html$/);
  const after = await page.evaluate(async () => (await fetch('/api/v1/machines')).status);
  if (after !== 401) fail(`API after sign-out answered ${after}`);

  if (problems.length) fail(`browser reported problems:\n${problems.join('\n')}`);
  console.log('UI: all checks passed');
} catch (e) {
  await page.screenshot({ path: `${FB_ARTIFACTS}/web-failure.png`, fullPage: true }).catch(() => {});
  fail(e.stack || String(e));
} finally {
  await ctx.close();
}
