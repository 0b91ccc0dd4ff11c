// Pod page: status, containers, conditions, events and a live log tail over SSE.
'use strict';
const $ = (sel) => document.querySelector(sel);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const token = new URLSearchParams(location.search).get('token');
const withToken = (url) => (token ? `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}` : url);
const [, , ns, name] = location.pathname.split('/').map(decodeURIComponent);

function stateText(state) {
  if (!state) return '';
  const [kind, v] = Object.entries(state).find(([, x]) => x) ?? [];
  if (!kind) return '';
  const bits = [v.reason, v.exitCode !== undefined ? `exit ${v.exitCode}` : '', v.message].filter((x) => x !== undefined && x !== '');
  return `${kind}${bits.length ? ` (${bits.join(', ')})` : ''}`;
}

let selected;
function render(d) {
  if (!d) {
    $('#pod-title').textContent = `${ns}/${name} (not found)`;
    return;
  }
  const { pod, summary } = d;
  $('#pod-title').textContent = `${summary.namespace}/${summary.name} — ${summary.status}`;
  const facts = { phase: summary.phase, status: summary.status, ready: summary.ready, restarts: summary.restarts, worker: summary.worker ?? '',
    'pod IP': pod.status?.podIP ?? '', uid: summary.uid, started: pod.status?.startTime ?? '',
    'enqueue → running': d.runningAt && d.enqueuedAt ? `${d.runningAt - d.enqueuedAt} ms` : '' };
  $('#pod-facts').innerHTML = Object.entries(facts).map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('');
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const specs = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  $('#containers tbody').innerHTML = specs.map((c) => {
    const s = statuses.find((x) => x.name === c.name) ?? {};
    return `<tr><td>${esc(c.name)}</td><td>${esc(c.image)}</td><td>${esc(stateText(s.state))}</td><td>${s.ready ? 'yes' : 'no'}</td><td>${s.restartCount ?? 0}</td><td>${esc(stateText(s.lastState))}</td></tr>`;
  }).join('');
  $('#conditions').innerHTML = (pod.status?.conditions ?? []).map((c) => `<span class="badge ${c.status === 'True' ? 'ok' : 'warn'}" title="${esc(c.message ?? '')}">${esc(c.type)}: ${esc(c.status)}</span>`).join('') || '<span class="muted">none yet</span>';
  $('#events tbody').innerHTML = d.events.length ? d.events.map((e) => `<tr><td>${esc(e.type)}</td><td>${esc(e.reason)}</td><td>${esc(e.message)}</td><td>${e.count}</td><td>${new Date(e.at).toLocaleTimeString()}</td></tr>`).join('')
    : '<tr><td class="empty" colspan="5">no events</td></tr>';
  const names = Object.keys(d.logs);
  const sel = $('#log-container');
  if (sel.options.length !== names.length) {
    sel.innerHTML = names.map((n) => `<option>${esc(n)}</option>`).join('');
    selected = selected && names.includes(selected) ? selected : names.at(-1);
    sel.value = selected ?? '';
  }
  const logs = $('#logs');
  const atBottom = logs.scrollTop + logs.clientHeight >= logs.scrollHeight - 4;
  logs.textContent = (d.logs[selected] ?? []).join('\n');
  if (atBottom) logs.scrollTop = logs.scrollHeight;
}

$('#log-container').addEventListener('change', (e) => { selected = e.target.value; });
const es = new EventSource(withToken(`/api/stream?pod=${encodeURIComponent(`${ns}/${name}`)}`));
es.addEventListener('pod', (e) => render(JSON.parse(e.data)));
es.onopen = () => $('#live').classList.remove('off');
es.onerror = () => $('#live').classList.add('off');
