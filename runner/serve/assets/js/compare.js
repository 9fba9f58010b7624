// Compare, `/compare?runs=<id>,<id>[,...]`: the runs, their config differences, their curves
// overlaid, one colour per run.

async function comparePage(refs) {
  if (refs.length < 2) return showError('compare needs two or more runs: /compare?runs=<id>,<id>');
  const answer = await getJson('/api/compare', {runs: refs.join(',')});
  const runs = answer.runs.map((run, i) => ({run, key: String(run.id), name: run.name,
                                             color: PALETTE[i % PALETTE.length]}));
  setTitle(`compare ${runs.map((r) => r.name).join(', ')}`);
  const curves = new CurvePanel(runs);
  const summary = el('div');
  const drawSummary = () => replaceChildren(summary, compareRunsTable(runs));
  drawSummary();
  replaceChildren(document.getElementById('page'), section('runs', summary),
                  section('config differences', differencesTable(runs, answer.differences || [])),
                  section('curves', curves.node));
  const firsts = await Promise.all(runs.map((r) => getJson(`/api/runs/${r.run.id}/scalars`)));
  firsts.forEach((first, i) => {
    curves.add(runs[i].key, first.series);
    runs[i].run.status = first.status;
  });
  drawSummary();
  document.body.dataset.ready = '1';
  if (!runs.some((r) => r.run.status === 'running')) return;
  pollWhile(async () => {
    const live = runs.filter((r) => r.run.status === 'running');
    const answers = await Promise.all(live.map((r) => getJson(`/api/runs/${r.run.id}/scalars`,
                                                                {after: pollAfter(curves.lastStep(r.key))})));
    answers.forEach((a, i) => {
      curves.add(live[i].key, a.series);
      Object.assign(live[i].run, {status: a.status, step: a.step});
    });
    drawSummary();
    return runs.some((r) => r.run.status === 'running');
  });
}

function compareRunsTable(runs) {
  return table(['', 'run', 'status', 'progress', 'best', 'started'], runs.map((r) => ({
    attrs: {'data-run-id': r.run.id},
    cells: [el('span', {class: 'swatch', style: {background: r.color}}), runLink(r.run), statusBadge(r.run.status),
            progressCell(r.run), bestList(r.run.best), formatTime(r.run.started)]})));
}

function differencesTable(runs, differences) {
  if (!differences.length) return el('p', {class: 'note'}, 'the runs\' configs are the same');
  return table(['key', ...runs.map((r) => el('span', null, el('span', {class: 'swatch', style: {background: r.color}}),
                                           r.name))],
               differences.map((d) => ({attrs: {'data-key': d.key},
                 cells: [{text: d.key, class: 'key'}, ...d.values.map((v) =>
                   (v === null ? {text: '—', class: 'absent'} : {text: v, class: 'value'}))]})),
               {class: 'differences'});
}
