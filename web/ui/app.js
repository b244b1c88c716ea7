// app.js - the fleetboot admin UI: a dashboard that follows every
// machine's boot stage live (Server-Sent Events), the images, and a page per
// machine with its boot timeline, overlay and actions. Hash routes:
//   #/                dashboard
//   #/images          images
//   #/groups          groups: shared settings for many machines
//   #/machine/MAC     one machine
import { api, session, ApiError } from './api.js';
import { h, stageBadge, verifiedBadge, progress, size, ago, clock, date, STAGES } from './dom.js';

const state = {
  user: '',
  machines: new Map(), // mac -> machine
  images: [],
  entries: [], // boot entries
  groups: [], // groups and their settings
  groupFilter: '', // dashboard: '' = every machine, '-' = no group, else a group
  events: [], // newest first, for the dashboard feed
  live: false,
};
const view = document.getElementById('view');

// ---- small helpers -------------------------------------------------------

let toastTimer;
function toast(text, error) {
  const t = document.getElementById('toast');
  t.textContent = text;
  t.className = error ? 'toast error' : 'toast';
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, error ? 6000 : 3000);
}

async function act(button, fn, okText) {
  if (button) button.disabled = true;
  try {
    const r = await fn();
    if (okText) toast(okText);
    return r;
  } catch (e) {
    toast(e instanceof ApiError ? e.message : String(e), true);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

function machineLabel(m) {
  return m.name || m.mac;
}

function imageOptions(selected) {
  const opts = [h('option', { value: '' }, '— no image —'), h('option', { value: 'menu' }, 'boot menu')];
  const names = [...new Set(state.images.filter((i) => i.state === 'ready').map((i) => i.name))];
  for (const n of names) opts.push(h('option', { value: n }, `${n} (newest)`));
  for (const i of state.images.filter((x) => x.state === 'ready'))
    opts.push(h('option', { value: `${i.name}@${i.version}` }, `${i.name}@${i.version}`));
  if (selected && !opts.some((o) => o.value === selected))
    opts.push(h('option', { value: selected }, selected));
  for (const o of opts) if (o.value === (selected || '')) o.selected = true;
  return opts;
}

function selectOf(name, values, selected) {
  return h('select', { name, id: `f-${name}` },
    values.map((v) => h('option', { value: v, selected: v === selected }, v)));
}

async function loadMachines() {
  const r = await api('GET', '/machines');
  state.machines = new Map(r.machines.map((m) => [m.mac, m]));
}

async function loadImages() {
  const r = await api('GET', '/images');
  state.images = r.images;
}

async function loadEntries() {
  const r = await api('GET', '/entries');
  state.entries = r.entries;
}

async function loadGroups() {
  const r = await api('GET', '/groups');
  state.groups = r.groups;
}

async function loadEvents() {
  // The newest page of events for the feed.
  const st = await api('GET', '/status');
  const after = Math.max(0, (st.events.last_id || 0) - 30);
  const r = await api('GET', `/events?after=${after}&limit=30`);
  state.events = r.events.reverse();
}

// ---- dashboard -----------------------------------------------------------

function cardsNode() {
  const ms = [...state.machines.values()];
  const up = ms.filter((m) => m.stage === 'userspace').length;
  const booting = ms.filter((m) => m.stage && m.stage !== 'userspace' && m.stage !== 'failed').length;
  const never = ms.filter((m) => !m.stage).length;
  const ready = state.images.filter((i) => i.state === 'ready').length;
  const card = (label, value, sub) =>
    h('div', { class: 'card' }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value),
      h('div', { class: 'sub' }, sub));
  return h('div', { class: 'cards', id: 'cards' },
    card('Machines', ms.length, `${never} never booted`),
    card('Running', up, 'reached userspace'),
    card('Booting', booting, 'between DHCP and root'),
    card('Images', ready, `${state.images.length} version${state.images.length === 1 ? '' : 's'} in total`));
}

function unassignedNode() {
  const waiting = [...state.machines.values()].filter((m) => m.registered && !m.image);
  const panel = h('section', { class: 'panel attention', id: 'attention', hidden: waiting.length === 0 },
    h('div', { class: 'section-head' }, h('h2', {}, 'New machines awaiting assignment'),
      h('span', { class: 'count-pill' }, waiting.length),
      h('span', { class: 'muted small' }, 'These machines asked to boot but are unknown. Pick an image to let them boot.')));
  const rows = waiting.map((m) => {
    const sel = h('select', { 'aria-label': `image for ${m.mac}` }, imageOptions(''));
    const btn = h('button', { class: 'btn btn-primary btn-sm', type: 'button' }, 'Assign');
    btn.addEventListener('click', () => act(btn, async () => {
      if (!sel.value) throw new Error('pick an image first');
      const r = await api('PATCH', `/machines/${m.mac}`, { image: sel.value });
      state.machines.set(r.mac, r);
      renderDashboardParts();
    }, `Assigned ${sel.value || 'image'} to ${m.mac}`));
    return h('tr', { dataset: { mac: m.mac } },
      h('td', { 'data-label': 'MAC' }, h('a', { href: `#/machine/${m.mac}`, class: 'mono' }, m.mac)),
      h('td', { 'data-label': 'Seen' }, ago(m.last_seen || m.created)),
      h('td', { 'data-label': 'Stage' }, stageBadge(m.stage)),
      h('td', { 'data-label': 'Assign' }, h('div', { class: 'inline-assign' }, sel, btn)));
  });
  panel.append(h('div', { class: 'table-wrap' }, h('table', { class: 'responsive' }, h('tbody', {}, rows))));
  return panel;
}

function machineRow(m) {
  return h('tr', { class: 'clickable', dataset: { mac: m.mac }, onclick: () => { location.hash = `#/machine/${m.mac}`; } },
    h('td', { 'data-label': 'Machine' }, h('div', {}, h('strong', {}, machineLabel(m)), verifiedBadge(m.verified_boot)),
      m.name ? h('div', { class: 'muted small mono' }, m.mac) : null),
    h('td', { 'data-label': 'Group' }, m.group || h('span', { class: 'muted' }, '—')),
    h('td', { 'data-label': 'Image' }, m.image || h('span', { class: 'muted' }, 'unassigned')),
    h('td', { 'data-label': 'Mode' }, `${m.mode} · ${m.protocol}`),
    h('td', { 'data-label': 'Stage', class: 'stage-cell' }, stageBadge(m.stage)),
    h('td', { 'data-label': 'Progress' }, progress(m.stage)),
    h('td', { 'data-label': 'Last seen', class: 'muted' }, ago(m.last_seen)));
}

function inFilter(m) {
  const f = state.groupFilter;
  return !f || (f === '-' ? !m.group : m.group === f);
}

function groupFilterNode() {
  const names = new Set(state.groups.map((g) => g.name));
  for (const m of state.machines.values()) if (m.group) names.add(m.group);
  const opts = [h('option', { value: '' }, 'All groups'), h('option', { value: '-' }, 'No group'),
    ...[...names].sort().map((n) => h('option', { value: n }, n))];
  for (const o of opts) o.selected = o.value === state.groupFilter;
  return h('select', { id: 'group-filter', 'aria-label': 'Show the machines of a group',
    onchange: (ev) => { state.groupFilter = ev.target.value; renderDashboardParts(); } }, opts);
}

function machinesBody() {
  const ms = [...state.machines.values()].filter(inFilter).sort((a, b) => machineLabel(a).localeCompare(machineLabel(b)));
  if (!ms.length && state.groupFilter)
    return h('tbody', { id: 'machines-body' }, h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No machines in this group.')));
  if (!ms.length)
    return h('tbody', { id: 'machines-body' }, h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No machines yet. Add one, or let unknown machines register by booting.')));
  return h('tbody', { id: 'machines-body' }, ms.map(machineRow));
}

function feedNode() {
  const items = state.events.slice(0, 30).map((e) => {
    const m = state.machines.get(e.mac);
    return h('li', {}, h('span', { class: 't' }, clock(e.time_ms)),
      h('a', { href: `#/machine/${e.mac}` }, m ? machineLabel(m) : e.mac), stageBadge(e.stage),
      e.detail ? h('span', { class: 'muted small' }, e.detail) : null);
  });
  return h('ul', { class: 'events-feed', id: 'feed' },
    items.length ? items : h('li', { class: 'muted' }, 'No boot events yet.'));
}

function addForm() {
  const err = h('p', { class: 'form-error', hidden: true });
  const form = h('form', { id: 'add-form', class: 'panel', hidden: true },
    h('div', { class: 'section-head' }, h('h2', {}, 'Add a machine')),
    h('div', { class: 'grid-form' },
      h('div', {}, h('label', { for: 'f-mac' }, 'MAC address'), h('input', { id: 'f-mac', name: 'mac', placeholder: '52:54:00:12:34:56', required: true })),
      h('div', {}, h('label', { for: 'f-name' }, 'Host name'), h('input', { id: 'f-name', name: 'name', placeholder: 'lab-pc1' })),
      h('div', {}, h('label', { for: 'f-image' }, 'Image'), h('select', { id: 'f-image', name: 'image' }, imageOptions(''))),
      h('div', {}, h('label', { for: 'f-mode' }, 'Mode'), selectOf('mode', ['persistent', 'ephemeral', 'readonly', 'install'], 'persistent')),
      h('div', {}, h('label', { for: 'f-protocol' }, 'Protocol'), selectOf('protocol', ['nbd', 'iscsi'], 'nbd')),
      h('div', {}, h('label', { for: 'f-ip' }, 'Reserved IP'), h('input', { id: 'f-ip', name: 'ip', placeholder: 'from the pool' })),
      h('div', {}, h('label', { for: 'f-group' }, 'Group'), h('input', { id: 'f-group', name: 'group', placeholder: 'optional' }))),
    err,
    h('div', { class: 'form-actions' }, h('button', { class: 'btn btn-primary', type: 'submit', id: 'add-submit' }, 'Add machine'),
      h('button', { class: 'btn', type: 'button', onclick: () => { form.hidden = true; } }, 'Cancel')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.hidden = true;
    const body = {};
    for (const k of ['mac', 'name', 'image', 'mode', 'protocol', 'ip', 'group']) {
      const v = form.elements[k].value.trim();
      if (v) body[k] = v;
    }
    const btn = form.querySelector('#add-submit');
    btn.disabled = true;
    try {
      const m = await api('POST', '/machines', body);
      state.machines.set(m.mac, m);
      form.reset();
      form.hidden = true;
      renderDashboardParts();
      toast(`Added ${machineLabel(m)}`);
    } catch (e) {
      err.textContent = e.message;
      err.hidden = false;
    } finally {
      btn.disabled = false;
    }
  });
  return form;
}

function renderDashboardParts() {
  if (currentRoute().name !== 'dashboard') return;
  for (const [id, make] of [['cards', cardsNode], ['attention', unassignedNode], ['group-filter', groupFilterNode], ['machines-body', machinesBody], ['feed', feedNode]]) {
    const old = document.getElementById(id);
    if (old) old.replaceWith(make());
  }
}

async function renderDashboard() {
  await Promise.all([loadMachines(), loadImages(), loadEvents(), loadGroups()]);
  const form = addForm();
  view.replaceChildren(
    h('div', { class: 'section-head' }, h('h1', {}, 'Dashboard'), h('div', { class: 'spacer' }),
      h('button', { class: 'btn btn-primary', type: 'button', id: 'add-open', onclick: () => { form.hidden = false; form.querySelector('#f-mac').focus(); } }, '+ Add machine')),
    cardsNode(),
    unassignedNode(),
    form,
    h('section', { class: 'panel flush' },
      h('div', { class: 'section-head' }, h('h2', {}, 'Machines'), h('span', { class: 'muted small' }, 'Boot stages update live.'),
        h('div', { class: 'spacer' }), groupFilterNode()),
      h('div', { class: 'table-wrap' }, h('table', { class: 'responsive', id: 'machines' },
        h('thead', {}, h('tr', {}, ['Machine', 'Group', 'Image', 'Mode', 'Stage', 'Progress', 'Last seen'].map((c) => h('th', {}, c)))),
        machinesBody()))),
    h('section', { class: 'panel flush' },
      h('div', { class: 'section-head' }, h('h2', {}, 'Recent boot events')), feedNode()));
}

// ---- images --------------------------------------------------------------

async function renderImages() {
  await Promise.all([loadImages(), loadMachines()]);
  const rows = state.images.slice().sort((a, b) => a.name.localeCompare(b.name) || b.version - a.version).map((i) => {
    const users = [...state.machines.values()].filter((m) => m.image === i.name || m.image === `${i.name}@${i.version}`).length;
    const retire = h('button', { class: 'btn btn-danger btn-sm', type: 'button', disabled: i.state !== 'ready' }, 'Retire');
    retire.addEventListener('click', () => {
      if (!confirm(`Retire ${i.name}@${i.version}? Machines following "${i.name}" move to the newest other ready version.`)) return;
      act(retire, async () => { await api('POST', `/images/${encodeURIComponent(i.name)}/${i.version}/retire`); await renderImages(); }, `Retired ${i.name}@${i.version}`);
    });
    return h('tr', {},
      h('td', { 'data-label': 'Image' }, h('strong', {}, i.name), h('span', { class: 'muted' }, ` @${i.version}`)),
      h('td', { 'data-label': 'State' }, h('span', { class: `badge state-${i.state}` }, i.state)),
      h('td', { 'data-label': 'Size' }, size(i.size)),
      h('td', { 'data-label': 'sha256' }, h('span', { class: 'mono', title: i.sha256 }, i.sha256.slice(0, 16) + '…')),
      h('td', { 'data-label': 'Created', class: 'muted' }, date(i.created)),
      h('td', { 'data-label': 'Machines' }, users),
      h('td', { 'data-label': '' }, retire));
  });
  view.replaceChildren(
    h('div', { class: 'section-head' }, h('h1', {}, 'Images')),
    h('section', { class: 'panel flush' },
      h('div', { class: 'section-head' }, h('h2', {}, 'Versions'), h('span', { class: 'muted small' }, 'Import or build images with fleetboot image import / build.')),
      h('div', { class: 'table-wrap' }, h('table', { class: 'responsive' },
        h('thead', {}, h('tr', {}, ['Image', 'State', 'Size', 'sha256', 'Created', 'Machines', ''].map((c) => h('th', {}, c)))),
        h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No images yet.')))))));
}

// ---- groups -------------------------------------------------------------------

const GROUP_CHOICES = {
  mode: ['persistent', 'ephemeral', 'readonly', 'install'],
  protocol: ['nbd', 'iscsi'],
  loader: ['ipxe', 'pxelinux'],
  secure_boot: ['on', 'off'],
};

function notSet(v) {
  return v === '' || v === null || v === undefined ? h('span', { class: 'muted' }, '—') : String(v);
}

// The add/edit form: every setting optional ('' = not set).
function groupForm(g) {
  const err = h('p', { class: 'form-error', hidden: true });
  const choice = (k, label) => h('div', {}, h('label', { for: `g-${k}` }, label),
    h('select', { id: `g-${k}`, name: k }, [h('option', { value: '' }, '— not set —'),
      ...GROUP_CHOICES[k].map((v) => h('option', { value: v, selected: g && g[k] === v }, v))]));
  const image = h('select', { id: 'g-image', name: 'image' }, imageOptions(g ? g.image : ''));
  image.options[0].textContent = '— not set —';
  const form = h('form', { id: 'group-form', class: 'panel' },
    h('div', { class: 'section-head' }, h('h2', {}, g ? `Edit group ${g.name}` : 'Add a group'),
      h('span', { class: 'muted small' }, 'A machine\'s own setting wins over its group\'s; a setting not set here is each machine\'s own, else the default.')),
    h('div', { class: 'grid-form' },
      h('div', {}, h('label', { for: 'g-name' }, 'Name'), h('input', { id: 'g-name', name: 'name', value: g ? g.name : '', disabled: !!g, required: true, placeholder: 'lab1' })),
      h('div', {}, h('label', { for: 'g-image' }, 'Image'), image),
      choice('mode', 'Mode'), choice('protocol', 'Protocol'), choice('loader', 'Loader'), choice('secure_boot', 'Secure Boot'),
      h('div', {}, h('label', { for: 'g-menu-default' }, 'Menu default'), h('input', { id: 'g-menu-default', name: 'menu_default', value: g ? g.menu_default : '', placeholder: 'local, an image or an entry' })),
      h('div', {}, h('label', { for: 'g-menu-timeout' }, 'Menu timeout (s)'), h('input', { id: 'g-menu-timeout', name: 'menu_timeout', type: 'number', min: 0, max: 3600, value: g && g.menu_timeout !== null ? g.menu_timeout : '', placeholder: '[bootd]\'s' }))),
    err,
    h('div', { class: 'form-actions' }, h('button', { class: 'btn btn-primary', type: 'submit', id: 'group-submit' }, g ? 'Save group' : 'Add group'),
      g ? h('button', { class: 'btn', type: 'button', onclick: () => renderGroups() }, 'Cancel') : null));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.hidden = true;
    const body = {};
    for (const k of ['image', 'mode', 'protocol', 'loader', 'secure_boot', 'menu_default']) body[k] = form.elements[k].value.trim();
    const t = form.elements.menu_timeout.value.trim();
    body.menu_timeout = t === '' ? null : Number(t);
    if (!g) body.name = form.elements.name.value.trim();
    const btn = form.querySelector('#group-submit');
    btn.disabled = true;
    try {
      if (g) await api('PATCH', `/groups/${encodeURIComponent(g.name)}`, body);
      else await api('POST', '/groups', body);
      toast(g ? `Saved ${g.name}` : `Added ${body.name}`);
      await renderGroups();
    } catch (e) {
      err.textContent = e.message;
      err.hidden = false;
    } finally {
      btn.disabled = false;
    }
  });
  return form;
}

async function renderGroups(editing) {
  await Promise.all([loadGroups(), loadImages()]);
  const rows = state.groups.map((g) => {
    const edit = h('button', { class: 'btn btn-sm', type: 'button', onclick: () => renderGroups(g.name) }, 'Edit');
    const rm = h('button', { class: 'btn btn-danger btn-sm', type: 'button' }, 'Delete');
    rm.addEventListener('click', () => {
      const q = g.machines ? `Delete the group ${g.name}? Its ${g.machines} machine(s) leave the group and keep only their own settings.` : `Delete the group ${g.name}?`;
      if (!confirm(q)) return;
      act(rm, async () => { await api('DELETE', `/groups/${encodeURIComponent(g.name)}${g.machines ? '?force=1' : ''}`); await renderGroups(); }, `Deleted ${g.name}`);
    });
    // Wake-on-LAN for every machine of the group (bootd sends; a `wake`
    // event per machine).
    const wake = h('button', { class: 'btn btn-sm', type: 'button', 'data-wake': g.name, disabled: !g.machines,
      title: g.machines ? 'Send a Wake-on-LAN magic packet to every machine of the group' : 'no machines in the group' }, 'Wake all');
    wake.addEventListener('click', () => act(wake, () => api('POST', `/groups/${encodeURIComponent(g.name)}/wake`),
      `Wake-on-LAN: bootd is sending the magic packets to the ${g.machines} machine(s) of ${g.name}`));
    return h('tr', { 'data-group': g.name },
      h('td', { 'data-label': 'Group' }, h('strong', {}, g.name)),
      h('td', { 'data-label': 'Machines' }, g.machines),
      h('td', { 'data-label': 'Image' }, notSet(g.image)),
      h('td', { 'data-label': 'Mode' }, notSet(g.mode)),
      h('td', { 'data-label': 'Protocol' }, notSet(g.protocol)),
      h('td', { 'data-label': 'Loader' }, notSet(g.loader)),
      h('td', { 'data-label': 'Secure Boot' }, notSet(g.secure_boot)),
      h('td', { 'data-label': 'Menu' }, g.menu_default || g.menu_timeout !== null ? `${g.menu_default || 'default'} · ${g.menu_timeout !== null ? `${g.menu_timeout} s` : 'default timeout'}` : h('span', { class: 'muted' }, '—')),
      h('td', { 'data-label': '' }, h('div', { class: 'inline-assign' }, wake, edit, rm)));
  });
  const g = editing ? state.groups.find((x) => x.name === editing) : null;
  view.replaceChildren(
    h('div', { class: 'section-head' }, h('h1', {}, 'Groups')),
    h('section', { class: 'panel flush' },
      h('div', { class: 'section-head' }, h('h2', {}, 'Groups'), h('span', { class: 'muted small' }, 'Shared settings for many machines; — = not set.')),
      h('div', { class: 'table-wrap' }, h('table', { class: 'responsive', id: 'groups' },
        h('thead', {}, h('tr', {}, ['Group', 'Machines', 'Image', 'Mode', 'Protocol', 'Loader', 'Secure Boot', 'Menu', ''].map((c) => h('th', {}, c)))),
        h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 9, class: 'empty' }, 'No groups yet.')))))),
    groupForm(g));
}

// ---- boot entries ----------------------------------------------------------

async function renderEntries() {
  await Promise.all([loadEntries(), loadMachines()]);
  const rows = state.entries.map((e) => {
    const users = [...state.machines.values()].filter((m) => m.next_boot === e.name).length;
    const rm = h('button', { class: 'btn btn-danger btn-sm', type: 'button', disabled: users > 0,
      title: users ? 'a machine boots it next' : '' }, 'Remove');
    rm.addEventListener('click', () => {
      if (!confirm(`Remove the boot entry ${e.name}?`)) return;
      act(rm, async () => { await api('DELETE', `/entries/${encodeURIComponent(e.name)}`); await renderEntries(); }, `Removed ${e.name}`);
    });
    return h('tr', { 'data-entry': e.name },
      h('td', { 'data-label': 'Entry' }, h('strong', {}, e.name)),
      h('td', { 'data-label': 'Title' }, e.title || '—'),
      h('td', { 'data-label': 'Kind' }, e.kind),
      h('td', { 'data-label': 'Files' }, e.served ? h('span', { class: 'mono', title: e.sha256 }, `served · ${e.sha256.slice(0, 12)}…`) : h('span', { class: 'mono' }, e.url)),
      h('td', { 'data-label': 'Next boot of' }, users),
      h('td', { 'data-label': '' }, rm));
  });
  view.replaceChildren(
    h('div', { class: 'section-head' }, h('h1', {}, 'Boot entries')),
    h('section', { class: 'panel flush' },
      h('div', { class: 'section-head' }, h('h2', {}, 'Installers and tools'), h('span', { class: 'muted small' }, 'Add entries with fleetboot entry add; they appear in the boot menu and can be a machine\'s next boot.')),
      h('div', { class: 'table-wrap' }, h('table', { class: 'responsive', id: 'entries' },
        h('thead', {}, h('tr', {}, ['Entry', 'Title', 'Kind', 'Files', 'Next boot of', ''].map((c) => h('th', {}, c)))),
        h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No boot entries yet.')))))));
}

function nextBootOptions(selected) {
  const opts = [h('option', { value: 'none' }, '— normal boot —'), h('option', { value: 'local' }, 'local disk')];
  for (const e of state.entries || []) opts.push(h('option', { value: e.name }, `${e.title || e.name} (entry)`));
  for (const n of [...new Set(state.images.filter((i) => i.state === 'ready').map((i) => i.name))])
    opts.push(h('option', { value: n }, `${n} (image)`));
  if (selected && !opts.some((o) => o.value === selected)) opts.push(h('option', { value: selected }, selected));
  for (const o of opts) if (o.value === (selected || 'none')) o.selected = true;
  return opts;
}

// ---- one machine -----------------------------------------------------------

function timelineNode(events) {
  // Newest boot first: a firmware DHCP starts a boot.
  const boots = [];
  for (const e of events) {
    if (!boots.length || (e.stage === 'dhcp' && /ipxe=0/.test(e.detail))) boots.push([]);
    boots[boots.length - 1].push(e);
  }
  const recent = boots.slice(-3).reverse();
  if (!recent.length) return h('p', { class: 'muted', id: 'timeline' }, 'This machine has not booted yet.');
  return h('div', { id: 'timeline' }, recent.map((b, k) => [
    h('div', { class: 'boot-sep' }, k === 0 ? 'Latest boot' : `Earlier boot · ${new Date(b[0].time_ms).toLocaleString([], { hour12: false })}`),
    h('ol', { class: 'timeline' }, b.map((e) => h('li', { class: `tl-${e.stage}` },
      h('div', {}, stageBadge(e.stage), ' ', h('span', { class: 't' }, clock(e.time_ms))),
      e.detail ? h('div', { class: 'd' }, e.detail) : null))),
  ]));
}

async function renderMachine(mac) {
  await Promise.all([loadImages(), loadEntries()]);
  let m;
  try {
    m = await api('GET', `/machines/${mac}`);
  } catch (e) {
    view.replaceChildren(h('h1', {}, 'Machine not found'), h('p', {}, e.message), h('a', { href: '#/' }, '← Dashboard'));
    return;
  }
  state.machines.set(m.mac, m);
  const overlay = await api('GET', `/overlays/${m.mac}`).catch(() => null);
  const ev = await api('GET', `/events?machine=${m.mac}&limit=1000`);
  const events = ev.events.slice(-100);

  const err = h('p', { class: 'form-error', hidden: true });
  const form = h('form', { id: 'machine-form' },
    h('div', { class: 'grid-form' },
      h('div', {}, h('label', { for: 'f-image' }, 'Image'), h('select', { id: 'f-image', name: 'image' }, imageOptions(m.image))),
      h('div', {}, h('label', { for: 'f-mode' }, 'Mode'), selectOf('mode', ['persistent', 'ephemeral', 'readonly', 'install'], m.mode)),
      h('div', {}, h('label', { for: 'f-protocol' }, 'Protocol'), selectOf('protocol', ['nbd', 'iscsi'], m.protocol)),
      h('div', {}, h('label', { for: 'f-name' }, 'Host name'), h('input', { id: 'f-name', name: 'name', value: m.name })),
      h('div', {}, h('label', { for: 'f-group' }, 'Group'), h('input', { id: 'f-group', name: 'group', value: m.group })),
      h('div', {}, h('label', { for: 'f-ip' }, 'Reserved IP'), h('input', { id: 'f-ip', name: 'ip', value: m.ip, placeholder: 'from the pool' }))),
    err,
    h('div', { class: 'form-actions' },
      h('button', { class: 'btn btn-primary', type: 'submit', id: 'save' }, 'Save changes'),
      h('button', { class: 'btn', type: 'button', id: 'set-menu' }, 'Set to boot menu')));
  const save = async (body, btn, what) => {
    err.hidden = true;
    const r = await act(btn, async () => {
      try {
        return await api('PATCH', `/machines/${m.mac}`, body);
      } catch (e) {
        err.textContent = e.message;
        err.hidden = false;
        throw e;
      }
    }, what);
    if (r) renderMachine(r.mac);
  };
  form.addEventListener('submit', (e2) => {
    e2.preventDefault();
    const body = {};
    for (const k of ['image', 'mode', 'protocol', 'name', 'group', 'ip']) body[k] = form.elements[k].value.trim();
    save(body, form.querySelector('#save'), 'Saved');
  });
  form.querySelector('#set-menu').addEventListener('click', (e2) => save({ image: 'menu' }, e2.target, 'The machine will show the boot menu'));
  const nextSel = h('select', { id: 'f-next-boot', name: 'next_boot' }, nextBootOptions(m.next_boot));
  const nextBtn = h('button', { class: 'btn', type: 'button', id: 'set-next-boot' }, 'Set next boot');
  nextBtn.addEventListener('click', () => save({ next_boot: nextSel.value }, nextBtn,
    nextSel.value === 'none' ? 'Next boot cleared' : `Next boot: ${nextSel.value}, once`));
  const nextForm = h('div', { class: 'form-actions' },
    h('label', { for: 'f-next-boot' }, 'Next boot (once)'), nextSel, nextBtn);

  const ovPanel = h('section', { class: 'panel' }, h('div', { class: 'section-head' }, h('h2', {}, 'Overlay')));
  if (overlay) {
    const reset = h('button', { class: 'btn btn-danger', type: 'button', id: 'reset-overlay', disabled: overlay.reset_pending }, overlay.reset_pending ? 'Reset pending' : 'Reset overlay');
    reset.addEventListener('click', () => {
      if (!confirm(`Discard every change ${machineLabel(m)} made to its image? If it is running, this happens when its current boot ends.`)) return;
      act(reset, async () => {
        const r = await api('POST', `/overlays/${m.mac}/reset`);
        toast(r.reset_pending ? 'The overlay will be discarded when the current boot ends' : 'Overlay discarded');
        renderMachine(m.mac);
      });
    });
    const asName = h('input', { id: 'commit-as', placeholder: 'new image name', 'aria-label': 'new image name' });
    const commit = h('button', { class: 'btn', type: 'button', id: 'commit-overlay' }, 'Commit as image');
    commit.addEventListener('click', () => act(commit, async () => {
      if (!asName.value.trim()) throw new Error('as: give the new image a name');
      await api('POST', `/overlays/${m.mac}/commit`, { as: asName.value.trim() });
      await loadImages();
    }, `Committed as ${asName.value.trim()}`));
    ovPanel.append(h('dl', { class: 'kv' },
      h('dt', {}, 'Base'), h('dd', {}, overlay.base || '—'),
      h('dt', {}, 'Changed data'), h('dd', {}, size(overlay.bytes)),
      h('dt', {}, 'Created'), h('dd', {}, date(overlay.created)),
      h('dt', {}, 'Reset pending'), h('dd', {}, overlay.reset_pending ? 'yes, at the end of the current boot' : 'no')),
    h('div', { class: 'form-actions' }, reset, asName, commit));
  } else {
    ovPanel.append(h('p', { class: 'muted' }, 'No overlay yet: one is made when the machine first attaches its root device.'));
  }

  // Wake-on-LAN: web queues the request, bootd sends the magic packets
  // (its `wake` event then shows in the timeline).
  const wake = h('button', { class: 'btn', type: 'button', id: 'wake-machine', title: 'Send a Wake-on-LAN magic packet out of every bootd interface' }, 'Wake');
  wake.addEventListener('click', () => act(wake, () => api('POST', `/machines/${m.mac}/wake`),
    `Wake-on-LAN: bootd is sending the magic packet to ${machineLabel(m)}`));

  const del = h('button', { class: 'btn btn-danger', type: 'button', id: 'delete-machine' }, 'Remove machine');
  del.addEventListener('click', () => {
    if (!confirm(`Remove ${machineLabel(m)} (${m.mac})? Its overlay is kept until storaged cleans it up.`)) return;
    act(del, async () => { await api('DELETE', `/machines/${m.mac}`); state.machines.delete(m.mac); location.hash = '#/'; }, `Removed ${m.mac}`);
  });

  view.replaceChildren(
    h('div', { class: 'section-head' }, h('a', { href: '#/' }, '← Dashboard')),
    h('div', { class: 'section-head' }, h('h1', {}, machineLabel(m)), h('span', { id: 'machine-stage' }, stageBadge(m.stage)), progress(m.stage),
      m.registered && !m.image ? h('span', { class: 'count-pill' }, 'new — assign an image') : null, wake),
    h('div', { class: 'two-col' },
      h('div', {},
        h('section', { class: 'panel' }, h('div', { class: 'section-head' }, h('h2', {}, 'Settings')), form, nextForm),
        h('section', { class: 'panel' }, h('div', { class: 'section-head' }, h('h2', {}, 'Details')),
          h('dl', { class: 'kv' },
            h('dt', {}, 'MAC'), h('dd', { class: 'mono' }, m.mac),
            h('dt', {}, 'Image'), h('dd', {}, m.image || 'unassigned'),
            h('dt', {}, 'Next boot'), h('dd', { id: 'machine-next-boot' }, m.next_boot ? `${m.next_boot}, once` : 'normal'),
            h('dt', {}, 'Last seen'), h('dd', { id: 'machine-seen' }, ago(m.last_seen)),
            h('dt', {}, 'Added'), h('dd', {}, date(m.created) + (m.registered ? ' (registered itself)' : '')),
            h('dt', {}, 'Secret'), h('dd', { class: 'mono' }, m.secret)),
          h('div', { class: 'form-actions' }, del)),
        m.verified_boot ? verifiedNode(m.verified_boot) : null,
        ovPanel),
      h('section', { class: 'panel' }, h('div', { class: 'section-head' }, h('h2', {}, 'Boot timeline')), timelineNode(events))));
  view.dataset.events = JSON.stringify(events.map((e) => e.id));
  machinePageEvents = events;
}

// The verified-boot panel (issue 16): what the server can say about this
// boot - the version whose signed UKI it handed out, its hashes, and the
// initramfs's dm-verity report.
const VB_STATE = {
  verified: 'verified', 'not-secure-boot': 'not Secure Boot', 'no-uki': 'not verified: no signed UKI this boot',
  unreported: 'not verified yet: no report', 'verity-failed': 'verity failed', mismatch: 'not verified: root hash mismatch',
};
function verifiedNode(vb) {
  const t = (s) => (s ? date(s) : '—');
  const hash = (s) => h('dd', { class: 'mono' }, s || '—');
  return h('section', { class: 'panel', id: 'verified-panel' },
    h('div', { class: 'section-head' }, h('h2', {}, 'Verified boot'), verifiedBadge(vb)),
    h('p', { id: 'verified-boot', dataset: { state: vb.state } }, h('strong', {}, VB_STATE[vb.state] || vb.state), ' — ', vb.why),
    vb.image ? h('dl', { class: 'kv' },
      h('dt', {}, 'Booted'), h('dd', {}, vb.image),
      h('dt', {}, 'Rootfs sha256'), hash(vb.rootfs_sha256),
      h('dt', {}, 'Root hash'), hash(vb.verity_root_hash),
      h('dt', {}, 'UKI sha256'), hash(vb.uki_sha256),
      h('dt', {}, 'UKI served'), h('dd', {}, t(vb.uki_served)),
      h('dt', {}, 'Reported'), h('dd', {}, vb.report ? `${vb.report}, ${t(vb.reported)}` : '—')) : null);
}
// Stages that change the evidence: a new boot, the UKI, the reports.
const VB_STAGES = ['dhcp', 'uki-served', 'verified', 'verity-failed'];
let machinePageEvents = [];

// ---- live events -----------------------------------------------------------

function onEvent(e) {
  state.events.unshift(e);
  state.events.length = Math.min(state.events.length, 50);
  const m = state.machines.get(e.mac);
  const r = currentRoute();
  if (m) {
    m.stage = e.stage;
    m.last_seen = Math.floor(e.time_ms / 1000);
  } else if (r.name === 'dashboard') {
    // A machine we do not know yet: it may just have registered itself.
    loadMachines().then(renderDashboardParts);
  }
  if (r.name === 'dashboard') {
    renderDashboardParts();
    const row = document.querySelector(`#machines-body tr[data-mac="${e.mac}"]`);
    if (row) row.classList.add('flash');
  } else if (r.name === 'machine' && r.arg === e.mac) {
    machinePageEvents.push(e);
    document.getElementById('timeline')?.replaceWith(timelineNode(machinePageEvents));
    document.getElementById('machine-stage')?.replaceChildren(stageBadge(e.stage));
    const seen = document.getElementById('machine-seen');
    if (seen) seen.textContent = ago(Math.floor(e.time_ms / 1000));
    if (VB_STAGES.includes(e.stage))
      api('GET', `/machines/${e.mac}`).then((m2) => {
        if (m2.verified_boot) document.getElementById('verified-panel')?.replaceWith(verifiedNode(m2.verified_boot));
      }).catch(() => {});
  }
  if (r.name === 'dashboard' && m && VB_STAGES.includes(e.stage))
    loadMachines().then(renderDashboardParts).catch(() => {});
}

function setLive(on) {
  state.live = on;
  document.getElementById('live').classList.toggle('on', on);
  document.getElementById('live-text').textContent = on ? 'live' : 'reconnecting';
}

function startStream() {
  const es = new EventSource('/api/v1/events/stream');
  es.addEventListener('open', () => setLive(true));
  es.addEventListener('error', () => setLive(false));
  es.addEventListener('machines', () => {
    // Machines were added, removed or changed elsewhere (bootd, the CLI).
    const r = currentRoute();
    if (r.name === 'dashboard') loadMachines().then(renderDashboardParts).catch(() => {});
  });
  es.addEventListener('stage', (msg) => {
    try {
      onEvent(JSON.parse(msg.data));
    } catch (err) {
      console.error('bad event', err);
    }
  });
}

// ---- routing ------------------------------------------------------------------

function currentRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/');
  if (parts[0] === 'images') return { name: 'images' };
  if (parts[0] === 'entries') return { name: 'entries' };
  if (parts[0] === 'groups') return { name: 'groups' };
  if (parts[0] === 'machine' && parts[1]) return { name: 'machine', arg: decodeURIComponent(parts[1]).toLowerCase().replace(/:/g, '-') };
  return { name: 'dashboard' };
}

async function route() {
  const r = currentRoute();
  for (const a of document.querySelectorAll('[data-nav]'))
    a.classList.toggle('active', a.dataset.nav === r.name);
  try {
    if (r.name === 'images') await renderImages();
    else if (r.name === 'entries') await renderEntries();
    else if (r.name === 'groups') await renderGroups();
    else if (r.name === 'machine') await renderMachine(r.arg);
    else await renderDashboard();
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) toast(e.message || String(e), true);
  }
}

async function main() {
  const s = await session();
  if (!s) {
    location.replace('/login.html');
    return;
  }
  state.user = s.user;
  document.getElementById('who').textContent = s.user;
  document.getElementById('logout').addEventListener('click', async () => {
    await api('POST', '/logout').catch(() => {});
    location.replace('/login.html');
  });
  window.addEventListener('hashchange', route);
  startStream();
  await route();
  // Relative times ("2 min ago") age; refresh them now and then.
  setInterval(() => { if (currentRoute().name === 'dashboard') renderDashboardParts(); }, 30000);
}

main();
