// The SQL box, `/sql`: one read-only statement, its result as a table, and as a chart when a
// column is numeric. `/sql?q=<statement>` runs it at once, so a query is a link.

const EXAMPLE_SQL = 'SELECT step, value FROM summaries s JOIN runs r ON r.id = s.run_id\n' +
                    'WHERE r.id = (SELECT MAX(id) FROM runs) AND s.tag LIKE \'loss/%\' ORDER BY step';

function sqlPage() {
  setTitle('sql');
  const initial = new URLSearchParams(location.search).get('q');
  const box = el('textarea', {id: 'sql', rows: 5, spellcheck: 'false', 'aria-label': 'SQL statement'},
                 initial || EXAMPLE_SQL);
  const run = el('button', {type: 'button', id: 'run-sql'}, 'run');
  const result = el('div', {id: 'sql-result'});
  const go = () => {
    keepInUrl({q: box.value});
    runQuery(box.value, result);
  };
  run.addEventListener('click', go);
  box.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) go();
  });
  replaceChildren(document.getElementById('page'),
                  section('query',
                          el('p', {class: 'note'}, 'One read-only statement, as kiln query runs it (at most 5 s and ',
                             '10 000 rows). Ctrl+Enter runs it.'),
                          box, el('div', {class: 'toolbar'}, run)),
                  result);
  if (initial) go();
  else document.body.dataset.ready = '1';
}

async function runQuery(sql, container) {
  document.body.dataset.ready = '0';
  replaceChildren(container, el('p', {class: 'note'}, 'running…'));
  try {
    const answer = await getJson('/api/query', {sql});
    replaceChildren(container, queryResult(answer));
  } catch (e) {
    replaceChildren(container, el('section', null, el('p', {class: 'error', 'data-error': ''}, e.message)));
  }
  document.body.dataset.ready = '1';
}

function queryResult(answer) {
  const numeric = answer.columns.map((_, c) => answer.rows.some((r) => typeof r[c] === 'number') &&
                                               answer.rows.every((r) => r[c] === null || typeof r[c] === 'number'));
  const meta = `${answer.rows.length} row${answer.rows.length === 1 ? '' : 's'} in ${formatValue(answer.ms, 3)} ms` +
               (answer.truncated ? ' (truncated: more rows matched)' : '');
  const rows = answer.rows.map((row) => row.map((v, c) =>
    (v === null ? {text: 'NULL', class: 'absent'} : {text: typeof v === 'number' ? String(v) : v,
                                                     class: numeric[c] ? 'num' : null})));
  return el('div', null,
            queryChart(answer, numeric),
            section('result', el('p', {class: 'note', id: 'sql-meta'}, meta),
                    table(answer.columns, rows, {class: 'result', id: 'result-table'})));
}

/// When a column after the first is numeric: a chart of it against the first column (against
/// the row number when the first is not numeric), with a choice of column.
function queryChart(answer, numeric) {
  const candidates = answer.columns.map((name, c) => ({name, c})).filter(({c}) => c > 0 && numeric[c]);
  if (!candidates.length || !answer.rows.length) return null;
  const xNumeric = numeric[0];
  const xLabel = xNumeric ? answer.columns[0] : 'row';
  const holder = el('div');
  const pick = el('select', {id: 'sql-y'}, candidates.map(({name, c}) => el('option', {value: c}, name)));
  const draw = () => {
    const c = Number(pick.value);
    const points = answer.rows.map((row, i) => [xNumeric ? row[0] : i, typeof row[c] === 'number' ? row[c] : null])
                              .filter((p) => p[0] !== null)
                              .sort((a, b) => a[0] - b[0]);
    const chart = new LineChart(answer.columns[c], xLabel);
    chart.setSeries([{name: answer.columns[c], color: PALETTE[0], points}]);
    chart.render({smoothing: 0, log: false});
    replaceChildren(holder, chart.node);
  };
  pick.addEventListener('change', draw);
  draw();
  return section('chart', el('label', {class: 'note'}, 'y: ', pick), holder);
}
