// The usage page: static HTML that asks /api/v1/usage with the user's token (kept in
// sessionStorage, never in the URL once read) and draws it with Chart.js, served locally.

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>daytwo — usage</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem auto; max-width: 70rem; padding: 0 1rem; color: #1d2330; }
  h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; margin-top: 1.6rem; }
  form { display: flex; flex-wrap: wrap; gap: .6rem; align-items: end; }
  label { display: flex; flex-direction: column; font-size: .8rem; color: #555; }
  input, select, button { font: inherit; padding: .25rem .4rem; }
  table { border-collapse: collapse; width: 100%; } th, td { padding: .3rem .6rem; border-bottom: 1px solid #e3e6ec; text-align: left; }
  td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
  .cards { display: flex; gap: 1rem; flex-wrap: wrap; } .card { border: 1px solid #e3e6ec; border-radius: 6px; padding: .6rem 1rem; min-width: 10rem; }
  .card b { display: block; font-size: 1.25rem; } #error { color: #b00020; white-space: pre-wrap; }
  #chart-box { position: relative; height: 320px; }
</style>
</head>
<body>
<h1>daytwo usage</h1>
<form id="query">
  <label>Token <input id="token" type="password" autocomplete="off" size="28" placeholder="operator or tenant token"></label>
  <label>Org <input id="org" size="12" placeholder="all"></label>
  <label>From <input id="from" size="22" value="7d"></label>
  <label>To <input id="to" size="22" placeholder="now"></label>
  <label>Group by <select id="by"><option>org</option><option>app</option><option>day</option></select></label>
  <button type="submit">Show</button>
</form>
<p id="error" role="alert"></p>
<div class="cards">
  <div class="card">Stored <b id="total-bytes">–</b><span id="total-lines"></span></div>
  <div class="card">Dropped <b id="total-dropped">–</b><span id="total-dropped-lines"></span></div>
  <div class="card">Cost <b id="total-cost">–</b><span id="price"></span></div>
</div>
<h2>Bytes stored over time</h2>
<div id="chart-box"><canvas id="chart" aria-label="bytes stored over time"></canvas></div>
<h2>Top talkers</h2>
<table id="talkers"><thead></thead><tbody></tbody></table>
<h2>Drops by reason</h2>
<table id="drops"><thead><tr><th>Reason</th><th class="n">Lines</th><th class="n">Bytes</th></tr></thead><tbody></tbody></table>
<script src="/usage/chart.umd.min.js"></script>
<script>
(() => {
  const $ = (id) => document.getElementById(id)
  const params = new URLSearchParams(location.search)
  if (params.has('token')) {
    sessionStorage.setItem('daytwo-token', params.get('token'))
    params.delete('token')
    history.replaceState(null, '', location.pathname + (params.toString() ? '?' + params : ''))
  }
  for (const k of ['org', 'from', 'to', 'by']) if (params.has(k)) $(k).value = params.get(k)
  $('token').value = sessionStorage.getItem('daytwo-token') || ''
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  const human = (n) => { let i = 0; while (n >= 1024 && i < units.length - 1) { n /= 1024; i++ } return (i ? n.toFixed(1) : String(n)) + ' ' + units[i] }
  const num = (n) => n.toLocaleString('en')
  const cell = (text, cls) => { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; return td }
  let chart = null
  const state = window.daytwoUsage = { report: null, chart: null, ready: false }

  async function load () {
    $('error').textContent = ''
    const token = $('token').value.trim()
    sessionStorage.setItem('daytwo-token', token)
    const q = new URLSearchParams({ by: $('by').value, from: $('from').value || '7d' })
    if ($('org').value.trim()) q.set('org', $('org').value.trim())
    if ($('to').value.trim()) q.set('to', $('to').value.trim())
    const res = await fetch('/api/v1/usage?' + q, { headers: { authorization: 'Bearer ' + token } })
    const body = await res.json()
    if (!res.ok) { $('error').textContent = body.message + ' [' + body.code + ']'; state.ready = true; return }
    render(body)
  }

  function render (r) {
    state.report = r
    const t = r.totals
    $('total-bytes').textContent = human(t.bytes); $('total-bytes').dataset.value = t.bytes
    $('total-lines').textContent = num(t.lines) + ' lines'; $('total-lines').dataset.value = t.lines
    $('total-dropped').textContent = human(t.droppedBytes); $('total-dropped').dataset.value = t.droppedBytes
    $('total-dropped-lines').textContent = num(t.droppedLines) + ' lines'
    $('total-cost').textContent = t.cost.toFixed(2) + ' ' + r.currency; $('total-cost').dataset.value = t.cost
    $('price').textContent = 'at ' + r.pricePerGiB + ' ' + r.currency + '/GiB'

    const keyCols = r.by === 'app' ? ['org', 'app'] : r.by === 'day' ? ['day', 'org'] : ['org']
    const head = document.createElement('tr')
    for (const h of [...keyCols, 'lines', 'bytes', 'dropped lines', 'dropped bytes', 'cost']) {
      const th = document.createElement('th'); th.textContent = h; if (!keyCols.includes(h)) th.className = 'n'; head.append(th)
    }
    $('talkers').tHead.replaceChildren(head)
    const rows = (r.by === 'day' ? r.rows : r.rows.slice(0, 20)).map((row) => {
      const tr = document.createElement('tr')
      for (const k of keyCols) tr.append(cell(row[k] || '(none)'))
      tr.append(cell(num(row.lines), 'n'), cell(human(row.bytes), 'n'), cell(num(row.droppedLines), 'n'), cell(human(row.droppedBytes), 'n'), cell(row.cost.toFixed(2), 'n'))
      tr.dataset.bytes = row.bytes
      return tr
    })
    $('talkers').tBodies[0].replaceChildren(...rows)
    $('drops').tBodies[0].replaceChildren(...(r.drops.length ? r.drops : [{ reason: 'none', lines: 0, bytes: 0 }]).map((d) => {
      const tr = document.createElement('tr'); tr.append(cell(d.reason), cell(num(d.lines), 'n'), cell(human(d.bytes), 'n')); return tr
    }))

    const s = r.series
    const step = s.stepMs
    const label = (ms) => { const iso = new Date(ms).toISOString(); return step >= 86400000 ? iso.slice(0, 10) : iso.slice(0, 16).replace('T', ' ') }
    const palette = ['#3366cc', '#dc3912', '#ff9900', '#109618', '#990099', '#0099c6', '#dd4477', '#66aa00', '#b82e2e', '#316395']
    const datasets = s.keys.map((k, i) => ({ label: k.key || '(none)', data: k.bytes, borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length] + '55', fill: true, pointRadius: 0, tension: 0.2 }))
    if (chart) chart.destroy()
    chart = new Chart($('chart'), {
      type: 'line',
      data: { labels: s.buckets.map(label), datasets },
      options: {
        animation: false, maintainAspectRatio: false, interaction: { mode: 'index', intersect: false },
        scales: { y: { stacked: true, ticks: { callback: (v) => human(v) } }, x: { ticks: { maxTicksLimit: 12 } } },
        plugins: { tooltip: { callbacks: { label: (c) => c.dataset.label + ': ' + human(c.parsed.y) } } }
      }
    })
    state.chart = chart
    state.ready = true
  }

  $('query').addEventListener('submit', (e) => { e.preventDefault(); state.ready = false; load().catch((err) => { $('error').textContent = String(err); state.ready = true }) })
  if ($('token').value) load().catch((err) => { $('error').textContent = String(err); state.ready = true })
})()
</script>
</body>
</html>
`
