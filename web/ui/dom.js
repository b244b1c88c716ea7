// dom.js - building DOM nodes safely (text only, never HTML strings) and
// formatting values for people.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export const STAGES = ['dhcp', 'tftp', 'ipxe-script', 'kernel', 'initrd', 'credential', 'iscsi-login', 'root-attached', 'userspace'];

// Stages that mean something is wrong: shown in red, and a suspected
// takeover (a boot's credential asked for twice) with a warning sign.
const ALARMS = ['failed', 'takeover-suspected', 'verity-failed'];

export function stageBadge(stage) {
  const s = stage || 'never booted';
  if (stage === 'takeover-suspected')
    return h('span', { class: 'badge stage-alarm stage-takeover-suspected', title: 'this boot\'s credential was asked for twice: someone may be impersonating the machine' }, '\u26a0 takeover suspected');
  return h('span', { class: `badge stage-${stage || 'none'}${ALARMS.includes(stage) ? ' stage-alarm' : ''}` }, s);
}

// Verified-boot evidence (the API's verified_boot): a small badge, none for
// machines with Secure Boot off; its title says why.
const VB_TEXT = { verified: '\u2713 verified', 'no-uki': 'not verified', unreported: 'verifying', 'verity-failed': 'verity failed', mismatch: 'root hash mismatch' };
export function verifiedBadge(vb) {
  if (!vb || vb.state === 'not-secure-boot') return null;
  const cls = vb.state === 'verified' ? 'vb-ok' : vb.state === 'unreported' || vb.state === 'no-uki' ? 'vb-wait' : 'vb-bad';
  return h('span', { class: `badge vb-badge ${cls}`, title: vb.why, dataset: { state: vb.state } }, VB_TEXT[vb.state] || vb.state);
}

// Stages outside the bar that stand for a step of it: a Secure Boot
// machine's UKI carries its kernel and initrd; `verified` follows the root.
const STAGE_STEP = { 'uki-served': 'initrd', verified: 'root-attached' };

export function progress(stage) {
  const i = STAGES.indexOf(STAGE_STEP[stage] || stage);
  const alarm = ALARMS.includes(stage);
  const cls = stage === 'userspace' ? 'progress complete' : alarm ? 'progress failed' : 'progress';
  return h('div', { class: cls, title: stage || 'never booted' },
    STAGES.map((_, k) => h('span', { class: k <= i || alarm ? 'done' : '' })));
}

export function size(n) {
  if (!n) return '0 B';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(n < 10 && i ? 1 : 0)} ${u[i]}`;
}

export function ago(unix) {
  if (!unix) return 'never';
  const d = Math.max(0, Date.now() / 1000 - unix);
  if (d < 5) return 'just now';
  if (d < 60) return `${Math.floor(d)} s ago`;
  if (d < 3600) return `${Math.floor(d / 60)} min ago`;
  if (d < 86400) return `${Math.floor(d / 3600)} h ago`;
  return new Date(unix * 1000).toLocaleDateString();
}

export function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}

export function date(unix) {
  return unix ? new Date(unix * 1000).toLocaleString([], { hour12: false }) : '—';
}
