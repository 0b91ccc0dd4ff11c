// Overview page: renders /api/overview and follows /api/stream (SSE) without reloading.
'use strict';
const $ = (sel) => document.querySelector(sel);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const token = new URLSearchParams(location.search).get('token');
const withToken = (url) => (token ? `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}` : url);

function age(iso) {
  if (!iso) return '';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}
const cpu = (m) => (m >= 1000 ? `${(m / 1000).toFixed(m % 1000 ? 1 : 0)}` : `${m}m`);
const mem = (b) => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(1)}Gi` : `${Math.round(b / 2 ** 20)}Mi`);

function badge(status) {
  const cls = /^(Running)$/.test(status) ? 'run'
    : /^(Succeeded|Completed|True)$/.test(status) ? 'ok'
    : /^(Pending|ContainerCreating|PodInitializing|Init:\d|Terminating|Unknown)/.test(status) ? 'warn'
    : /(Err|BackOff|Failed|Error|OOM|Deadline|Invalid|False)/.test(status) ? 'bad' : 'muted';
  return `<span class="badge ${cls}">${esc(status)}</span>`;
}

function meter(label, used, total, fmt) {
  const pct = total > 0 ? Math.min(100, (100 * used) / total) : 0;
  return `<div class="meter"><span>${label}</span><div class="bar"><div style="width:${pct.toFixed(1)}%"></div></div><span>${fmt(used)} / ${fmt(total)} allocated</span></div>`;
}

function renderNode(node) {
  $('#node-name').textContent = node.name;
  $('#node-conditions').innerHTML = node.conditions.map((c) => {
    const good = c.type === 'Ready' ? c.status === 'True' : c.status !== 'True';
    return `<span class="badge ${good ? 'ok' : 'bad'}" title="${esc(c.message || c.reason || '')}">${esc(c.type)}: ${esc(c.status)}</span>`;
  }).join('') || '<span class="muted">no conditions yet</span>';
  $('#cpu-meter').innerHTML = meter('cpu', node.allocated.cpuMillis, node.capacity.cpuMillis, cpu);
  $('#mem-meter').innerHTML = meter('memory', node.allocated.memoryBytes, node.capacity.memoryBytes, mem);
  $('#pods-meter').innerHTML = meter('pods', node.allocated.pods, node.capacity.pods, String);
}

function rows(tbody, items, cols, emptyText, attrs = () => '') {
  tbody.innerHTML = items.length ? items.map((it) => `<tr ${attrs(it)}>${cols.map((c) => `<td>${c(it)}</td>`).join('')}</tr>`).join('')
    : `<tr><td class="empty" colspan="${cols.length}">${esc(emptyText)}</td></tr>`;
}

function render(o) {
  renderNode(o.node);
  rows($('#queues tbody'), o.queues, [(q) => esc(q.name), (q) => (q.counts.waiting ?? 0) + (q.counts.prioritized ?? 0), (q) => q.counts.active ?? 0,
    (q) => q.counts.delayed ?? 0, (q) => q.counts.completed ?? 0, (q) => q.counts.failed ?? 0], 'no queues');
  $('#workers-count').textContent = o.workers.length;
  rows($('#workers tbody'), o.workers, [(w) => esc(w.id), (w) => esc(w.pool), (w) => esc(w.hostname),
    (w) => `${cpu(w.used.cpuMillis)} / ${cpu(w.allocatable.cpuMillis)}`, (w) => `${mem(w.used.memoryBytes)} / ${mem(w.allocatable.memoryBytes)}`,
    (w) => `${w.used.pods} / ${w.allocatable.pods}`, (w) => `${Math.round(w.heartbeatAgeMs / 1000)}s ago`, (w) => esc(w.version)], 'no live worker');
  $('#pods-count').textContent = o.pods.length;
  rows($('#pods tbody'), o.pods, [(p) => esc(p.namespace),
    (p) => `<a href="${withToken(`/pods/${encodeURIComponent(p.namespace)}/${encodeURIComponent(p.name)}`)}">${esc(p.name)}</a>`,
    (p) => esc(p.ready), (p) => badge(p.status), (p) => p.restarts, (p) => esc(p.worker ?? ''), (p) => age(p.createdAt),
    (p) => (p.lastEvent ? `<span class="muted">${esc(p.lastEvent.reason)}:</span> ${esc(p.lastEvent.message)}` : '')], 'no pods',
    (p) => `data-pod="${esc(`${p.namespace}/${p.name}`)}" data-phase="${esc(p.phase)}"`);
  renderCharts(o.history);
}

const charts = {};
function chart(id, series, data) {
  const el = $(`#${id}`);
  const width = el.clientWidth || 300;
  if (!window.uPlot) return;
  if (!charts[id]) {
    // The x axis always spans the last hour, so a fresh start shows a point, not a zoom.
    const hour = () => [Date.now() / 1000 - 3600, Date.now() / 1000];
    charts[id] = new uPlot({ width, height: 160, legend: { show: series.length > 1 }, cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true, range: hour }, y: { range: (u, min, max) => [0, Math.max(1, max ?? 1) * 1.1] } },
      axes: [{ stroke: '#8a96a3', grid: { stroke: '#26303b' } }, { stroke: '#8a96a3', grid: { stroke: '#26303b' }, size: 50 }],
      series: [{}, ...series] }, data, el);
  } else charts[id].setData(data);
}
function renderCharts(h) {
  const t = h.map((s) => s.t / 1000);
  chart('chart-depth', [{ label: 'queue depth', stroke: '#4aa3ff', fill: 'rgba(74,163,255,.12)' }], [t, h.map((s) => s.queueDepth)]);
  chart('chart-started', [{ label: 'started', stroke: '#3fb950', fill: 'rgba(63,185,80,.12)' }], [t, h.map((s) => s.started)]);
  chart('chart-latency', [{ label: 'p50', stroke: '#d29922' }, { label: 'p99', stroke: '#f85149' }], [t, h.map((s) => s.p50 ?? null), h.map((s) => s.p99 ?? null)]);
}

async function start() {
  const res = await fetch(withToken('/api/overview'));
  if (res.ok) render(await res.json());
  const es = new EventSource(withToken('/api/stream'));
  es.addEventListener('overview', (e) => render(JSON.parse(e.data)));
  es.onopen = () => $('#live').classList.remove('off');
  es.onerror = () => $('#live').classList.add('off');
}
start();
