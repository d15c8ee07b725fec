/**
 * The web view `ctnet serve` hands out at /: one page, no build step, no dependency. It draws the
 * topology SVG the server renders (elkjs layout), lists containers and published ports with their
 * nftables counters, shows a container's details and the doctor's verdict, and refreshes on every
 * server-sent change event.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ctnet</title>
<style>
  :root { --bg: #f6f7f9; --card: #fff; --ink: #1d2430; --muted: #677386; --line: #dde2ea; --ok: #1f8a4c; --bad: #c0392b; --accent: #2f6fdf; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, Segoe UI, sans-serif; color: var(--ink); background: var(--bg); }
  header { display: flex; align-items: center; gap: 16px; padding: 12px 20px; background: #1d2430; color: #fff; }
  header h1 { font-size: 18px; margin: 0; letter-spacing: .5px; }
  header .status { margin-left: auto; font-size: 12px; color: #b8c2d3; }
  header .dot { display: inline-block; width: 8px; height: 8px; border-radius: 50%; background: var(--bad); margin-right: 6px; }
  header .dot.live { background: #3ad07a; }
  main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(320px, 2fr); gap: 16px; padding: 16px 20px; }
  section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; min-width: 0; }
  section h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .6px; color: var(--muted); margin: 0 0 8px; }
  #topology { grid-row: span 3; overflow: auto; }
  #topology svg { max-width: 100%; height: auto; }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 5px 6px; border-bottom: 1px solid var(--line); white-space: nowrap; }
  th { font-size: 12px; color: var(--muted); font-weight: 600; }
  tr.container { cursor: pointer; }
  tr.container:hover, tr.container.selected { background: #eef3fd; }
  .state-running { color: var(--ok); font-weight: 600; }
  .state-exited { color: var(--muted); }
  .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
  #details dl { display: grid; grid-template-columns: max-content 1fr; gap: 3px 12px; margin: 0 0 10px; }
  #details dt { color: var(--muted); }
  #details dd { margin: 0; overflow-wrap: anywhere; }
  button { font: inherit; padding: 4px 10px; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 5px; cursor: pointer; }
  .check { display: flex; gap: 8px; padding: 2px 0; }
  .check .ok { color: var(--ok); font-weight: 600; width: 36px; }
  .check .fail { color: var(--bad); font-weight: 600; width: 36px; }
  .fix { color: var(--bad); margin-left: 44px; }
  .empty { color: var(--muted); font-style: italic; }
  #events { max-height: 140px; overflow: auto; font-size: 12px; }
</style>
</head>
<body>
<header><h1>ctnet</h1><span id="summary"></span><span class="status"><span class="dot" id="dot"></span><span id="live">connecting</span></span></header>
<main>
  <section id="topology"><h2>Topology</h2><div id="graph" class="empty">loading</div></section>
  <section><h2>Containers</h2><table id="containers"><thead><tr><th>Name</th><th>Network</th><th>Address</th><th>State</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Published ports</h2><table id="ports"><thead><tr><th>Host</th><th>Container</th><th>Proto</th><th title="connections translated (nftables map element counter)">Conns</th><th>Bytes</th></tr></thead><tbody></tbody></table></section>
  <section id="details"><h2>Container</h2><div id="detail-body" class="empty">Choose a container.</div><h2 style="margin-top:12px">Events</h2><div id="events" class="mono"></div></section>
</main>
<script>
const $ = (s) => document.querySelector(s);
let selected = null;
// The API token comes in the page's address after # (never sent to a server, so never in a log).
const TOKEN = new URLSearchParams(location.hash.slice(1)).get('token') || '';
const api = (path, init = {}) => fetch(path, { ...init, headers: { Authorization: 'Bearer ' + TOKEN } });
const json = async (path, init) => { const r = await api(path, init); if (!r.ok) throw new Error((await r.json()).error || r.statusText); return r.json(); };
function row(cells, cls) {
  const tr = document.createElement('tr');
  if (cls) tr.className = cls;
  for (const [text, c] of cells) { const td = document.createElement('td'); td.textContent = text; if (c) td.className = c; tr.append(td); }
  return tr;
}
async function refresh() {
  const [containers, networks, ports, svg] = await Promise.all([json('/api/containers?view=listing'), json('/api/networks'), json('/api/ports'), api('/api/topology.svg').then((r) => r.text())]);
  const running = containers.filter((c) => c.State.Running).length;
  $('#summary').textContent = networks.length + ' networks, ' + running + ' running / ' + containers.length + ' containers';
  $('#graph').className = '';
  $('#graph').innerHTML = svg;
  const tbody = $('#containers tbody');
  tbody.replaceChildren(...containers.map((c) => {
    const tr = row([[c.Name, 'name'], [c.NetworkSettings.Network], [c.NetworkSettings.IPAddress || ''], [c.State.Status, 'state-' + c.State.Status]], 'container' + (c.Name === selected ? ' selected' : ''));
    tr.dataset.name = c.Name;
    tr.onclick = () => { selected = c.Name; showDetails(); refreshAll(); };
    return tr;
  }));
  if (!containers.length) tbody.replaceChildren(row([['no containers', 'empty']]));
  showPorts(ports);
  if (selected && !containers.some((c) => c.Name === selected)) { selected = null; $('#detail-body').className = 'empty'; $('#detail-body').textContent = 'Choose a container.'; }
}
function showPorts(ports) {
  $('#ports tbody').replaceChildren(...(ports.length ? ports.map((p) => row([[p.HostIp + ':' + p.HostPort, 'mono'], [p.ContainerName + ':' + p.ContainerPort, 'mono'], [p.Protocol], [String(p.Packets)], [String(p.Bytes)]])) : [row([['no published ports', 'empty']])]));
}
async function showDetails() {
  const body = $('#detail-body');
  try {
    const c = await json('/api/containers/' + encodeURIComponent(selected));
    const dl = document.createElement('dl');
    const add = (k, v) => { const dt = document.createElement('dt'); dt.textContent = k; const dd = document.createElement('dd'); dd.textContent = v; dl.append(dt, dd); };
    add('Name', c.Name); add('ID', c.Id.slice(0, 12)); add('State', c.State.Status + (c.State.ExitCode !== null ? ' (' + c.State.ExitCode + (c.State.OOMKilled ? ', OOM killed' : '') + ')' : ''));
    add('PID', c.State.Pid ?? '-'); add('Hostname', c.Config.Hostname); add('Command', c.Config.Cmd.join(' '));
    add('Network', c.NetworkSettings.Network); add('Address', (c.NetworkSettings.IPAddress || '-') + '/' + c.NetworkSettings.IPPrefixLen);
    add('Gateway', c.NetworkSettings.Gateway || '-'); add('Host veth', c.NetworkSettings.HostVeth || '-');
    add('Ports', c.NetworkSettings.Ports.map((p) => p.HostIp + ':' + p.HostPort + ' -> ' + p.ContainerPort + '/' + p.Protocol).join(', ') || '-');
    const doctor = document.createElement('button');
    doctor.textContent = 'Run doctor';
    doctor.id = 'doctor';
    const result = document.createElement('div');
    result.id = 'doctor-result';
    doctor.onclick = async () => {
      result.textContent = 'checking...';
      try {
        const d = await json('/api/containers/' + encodeURIComponent(c.Name) + '/doctor', { method: 'POST' });
        result.replaceChildren(...d.checks.flatMap((k) => {
          const line = document.createElement('div'); line.className = 'check';
          const s = document.createElement('span'); s.className = k.ok ? 'ok' : 'fail'; s.textContent = k.ok ? 'ok' : 'FAIL';
          const t = document.createElement('span'); t.textContent = k.layer + ': ' + k.detail;
          line.append(s, t);
          if (!k.fix) return [line];
          const fix = document.createElement('div'); fix.className = 'fix mono'; fix.textContent = 'fix: ' + k.fix;
          return [line, fix];
        }));
        const verdict = document.createElement('div'); verdict.id = 'verdict';
        verdict.textContent = d.failed ? 'first broken layer: ' + d.failed.layer : 'every layer works';
        result.prepend(verdict);
      } catch (e) { result.textContent = e.message; }
    };
    body.className = '';
    body.replaceChildren(dl, c.State.Running ? doctor : '', result);
  } catch (e) { body.className = 'empty'; body.textContent = e.message; }
}
let pending;
// One refresh of a kind at a time: what asks during one gets one more after it, not one each. A page
// left open on a busy host would otherwise send requests faster than the server answers them.
function oneAtATime(fn) {
  let running = false, again = false;
  const run = async () => {
    if (running) { again = true; return; }
    running = true;
    try { await fn(); } finally { running = false; if (again) { again = false; run(); } }
  };
  return run;
}
const refreshAll = oneAtATime(() => refresh().catch((e) => { $('#graph').textContent = e.message; }));
const refreshPorts = oneAtATime(() => json('/api/ports').then(showPorts, () => {}));
const soon = () => { clearTimeout(pending); pending = setTimeout(refreshAll, 50); };
// An EventSource cannot send a header: the token goes in the query.
const events = new EventSource('/api/events?token=' + encodeURIComponent(TOKEN));
events.onopen = () => { $('#dot').className = 'dot live'; $('#live').textContent = 'live'; soon(); };
events.onerror = () => { $('#dot').className = 'dot'; $('#live').textContent = 'reconnecting'; };
events.addEventListener('change', (m) => {
  const e = JSON.parse(m.data);
  const line = document.createElement('div');
  line.textContent = e.time.slice(11, 19) + '  ' + e.kind + ' ' + e.name + ' ' + e.action + (e.network ? (e.action === 'connected' ? ' to ' : ' from ') + e.network : '');
  $('#events').prepend(line);
  if (e.name === selected) showDetails();
  soon();
});
refreshAll();
// Counters change without events: read them again now and then (the rest changes only with events).
setInterval(refreshPorts, 3000);
</script>
</body>
</html>
`;
