// The run list, `/`: status, progress and best values of every run, filtered by name, status and
// tag and sorted by a column, all kept in the URL (?name=&status=&tag=&sort=&order=).

const RUN_COLUMNS = [
  {key: 'id', label: 'id', value: (r) => r.id, cell: (r) => ({text: String(r.id), class: 'num'})},
  {key: 'name', label: 'name', value: (r) => r.name, cell: runLink},
  {key: 'status', label: 'status', value: (r) => r.status, cell: (r) => statusBadge(r.status)},
  {key: 'step', label: 'progress', value: (r) => (r.max_steps ? (r.step || 0) / r.max_steps : r.step),
   cell: progressCell},
  {key: 'best', label: 'best', value: (r) => firstBest(r), cell: (r) => bestList(r.best)},
  {key: 'started', label: 'started', value: (r) => r.started, cell: (r) => formatTime(r.started)},
  {key: 'duration', label: 'duration', value: (r) => (r.ended || Date.now() / 1000) - r.started,
   cell: (r) => ({text: runDuration(r), class: 'num'})},
  {key: 'tags', label: 'tags', value: (r) => (r.tags || []).join(','),
   cell: (r) => el('span', null, (r.tags || []).map((t) => el('span', {class: 'tag'}, t)))},
  {key: 'device', label: 'device', value: (r) => r.device,
   cell: (r) => (r.device ? r.device + (r.world_size > 1 ? ` ×${r.world_size}` : '') : '')},
];

function firstBest(run) {
  const values = Object.values(run.best || {});
  return values.length ? values[0].value : null;
}

/// Compares by `column` with nulls last whatever the direction.
function sortRuns(runs, column, descending) {
  const sign = descending ? -1 : 1;
  return runs.slice().sort((a, b) => {
    const x = column.value(a), y = column.value(b);
    if (x === null || x === undefined) return y === null || y === undefined ? 0 : 1;
    if (y === null || y === undefined) return -1;
    return sign * (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y)));
  });
}

function runListPage() {
  setTitle('runs');
  const params = new URLSearchParams(location.search);
  const state = {name: params.get('name') || '', status: params.get('status') || '', tag: params.get('tag') || '',
                 sort: params.get('sort') || 'id', descending: params.get('order') !== 'asc', runs: [],
                 selected: new Set()};
  const body = el('div', {id: 'run-table'});
  const count = el('span', {class: 'note', id: 'run-count'});
  const compare = el('button', {type: 'button', id: 'compare', disabled: true}, 'compare selected');
  compare.addEventListener('click', () => {
    location.href = withToken(`/compare?runs=${[...state.selected].join(',')}`);
  });

  const redraw = () => {
    drawRunTable(body, state, redraw);
    count.textContent = `${state.runs.length} run${state.runs.length === 1 ? '' : 's'}`;
    compare.disabled = state.selected.size < 2;
  };
  const load = async () => {
    const answer = await getJson('/api/runs', {name: state.name, status: state.status, tag: state.tag});
    state.runs = answer.runs;
    const ids = new Set(state.runs.map((r) => r.id));
    for (const id of [...state.selected]) if (!ids.has(id)) state.selected.delete(id);
    redraw();
    return state.runs.some((r) => r.status === 'running');
  };
  const refilter = () => {
    keepInUrl({name: state.name, status: state.status, tag: state.tag});
    load().catch((e) => showInline(body, e.message));
  };

  replaceChildren(document.getElementById('page'),
                  el('section', null, runFilters(state, refilter), el('div', {class: 'toolbar'}, count, compare),
                     body));
  load().then((running) => {
    document.body.dataset.ready = '1';
    // The list stays live while any run it shows is running (status, progress, best).
    if (running) pollWhile(load);
  }).catch((e) => showError(e.message));
}

function runFilters(state, refilter) {
  const debounce = (fn) => {
    let timer = null;
    return () => {
      clearTimeout(timer);
      timer = setTimeout(fn, 250);
    };
  };
  const name = el('input', {type: 'search', id: 'filter-name', placeholder: 'name (glob or part)', value: state.name});
  const tag = el('input', {type: 'search', id: 'filter-tag', placeholder: 'tag', value: state.tag});
  const status = el('select', {id: 'filter-status'}, el('option', {value: ''}, 'any status'),
                    STATUSES.map((s) => el('option', {value: s, selected: s === state.status}, s)));
  const later = debounce(refilter);
  name.addEventListener('input', () => { state.name = name.value.trim(); later(); });
  tag.addEventListener('input', () => { state.tag = tag.value.trim(); later(); });
  status.addEventListener('change', () => { state.status = status.value; refilter(); });
  return el('div', {class: 'filters'}, name, status, tag);
}

function drawRunTable(container, state, redraw) {
  if (!state.runs.length) return replaceChildren(container, el('p', {class: 'note', id: 'no-runs'}, 'no runs match'));
  const column = RUN_COLUMNS.find((c) => c.key === state.sort) || RUN_COLUMNS[0];
  const header = el('tr', null, el('th', null, ''), RUN_COLUMNS.map((c) => {
    const sorted = c.key === column.key;
    const th = el('th', {class: 'sortable', 'data-sort': c.key,
                         'aria-sort': sorted ? (state.descending ? 'descending' : 'ascending') : null},
                  c.label, sorted ? (state.descending ? ' ▾' : ' ▴') : '');
    th.addEventListener('click', () => {
      state.descending = sorted ? !state.descending : c.key !== 'name';
      state.sort = c.key;
      keepInUrl({sort: state.sort, order: state.descending ? 'desc' : 'asc'});
      redraw();
    });
    return th;
  }));
  const rows = sortRuns(state.runs, column, state.descending).map((run) => {
    const pick = el('input', {type: 'checkbox', 'aria-label': `select ${run.name}`,
                              checked: state.selected.has(run.id)});
    pick.addEventListener('change', () => {
      if (pick.checked) state.selected.add(run.id);
      else state.selected.delete(run.id);
      redraw();
    });
    return tableRow({attrs: {'data-run-id': run.id, 'data-status': run.status},
                     cells: [pick, ...RUN_COLUMNS.map((c) => c.cell(run))]});
  });
  replaceChildren(container, el('table', {class: 'runs'}, el('thead', null, header), el('tbody', null, rows)));
}

/// Puts `values` into the page's query string without a reload (empty ones removed).
function keepInUrl(values) {
  const params = new URLSearchParams(location.search);
  for (const [key, value] of Object.entries(values)) {
    if (value) params.set(key, value);
    else params.delete(key);
  }
  history.replaceState(null, '', location.pathname + (params.toString() ? '?' + params : ''));
}

function showInline(container, message) {
  replaceChildren(container, el('p', {class: 'error', 'data-error': ''}, message));
}
