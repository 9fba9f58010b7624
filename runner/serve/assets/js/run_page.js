// One run, `/run/<id or name>`: its head, live curves, image grids, checkpoints, events and config.

async function runPage(ref) {
  const detail = await getJson(`/api/runs/${encodeURIComponent(ref)}`);
  const run = detail.run;
  setTitle(run.name);
  const key = String(run.id);
  const curves = new CurvePanel([{key, name: run.name, color: PALETTE[0]}]);
  const head = el('section', {class: 'run-head', 'data-run-id': run.id});
  const images = el('div', {class: 'images'});
  const checkpoints = el('div');
  const events = el('div');
  replaceChildren(document.getElementById('page'), head, section('curves', curves.node),
                  section('images', images), section('checkpoints', checkpoints), section('events', events),
                  section('config', el('pre', {class: 'config'}, detail.config || '')));
  const imageView = new ImagePanel(images, run.id);
  const showDetail = (d) => {
    drawRunHead(head, d.run);
    drawCheckpoints(checkpoints, d.checkpoints || []);
    drawEvents(events, d.events || []);
  };
  showDetail(detail);
  const first = await getJson(`/api/runs/${run.id}/scalars`);
  curves.add(key, first.series);
  await imageView.load();
  document.body.dataset.ready = '1';
  if (first.status !== 'running') return;

  let polls = 0;
  pollWhile(async () => {
    const answer = await getJson(`/api/runs/${run.id}/scalars`, {after: pollAfter(curves.lastStep(key))});
    curves.add(key, answer.series);
    const running = answer.status === 'running';
    drawRunHead(head, Object.assign(run, {status: answer.status, step: answer.step}));
    // The checkpoints, events, images and end time: now and then, and once when the run ends.
    if (++polls % DETAIL_EVERY_POLLS === 0 || !running) {
      const fresh = await getJson(`/api/runs/${run.id}`);
      Object.assign(run, fresh.run);
      showDetail(fresh);
      await imageView.load();
    }
    return running;
  });
}

function drawRunHead(head, run) {
  const facts = [
    ['experiment', run.experiment], ['started', formatTime(run.started)],
    ['ended', run.ended ? formatTime(run.ended) : null], ['duration', runDuration(run)],
    ['device', run.device ? run.device + (run.world_size > 1 ? ` ×${run.world_size}` : '') : null],
    ['host', run.host],
    ['directory', run.run_dir], ['kiln', run.kiln_version], ['tags', (run.tags || []).join(', ') || null],
  ].filter(([, v]) => v !== null && v !== undefined && v !== '');
  replaceChildren(head,
                  el('h2', null, el('span', {class: 'run-name'}, run.name), ' ', statusBadge(run.status), ' ',
                     progressCell(run)),
                  el('dl', {class: 'facts'}, facts.map(([k, v]) => [el('dt', null, k), el('dd', null, v)])),
                  run.error ? el('p', {class: 'error'}, run.error) : null,
                  Object.keys(run.best || {}).length ? el('div', {class: 'best-line'}, 'best', bestList(run.best))
                                                     : null);
}

function drawCheckpoints(container, checkpoints) {
  if (!checkpoints.length) return replaceChildren(container, el('p', {class: 'note'}, 'no checkpoints'));
  replaceChildren(container, table(['step', 'reason', 'kept because', 'size', 'written', 'path'],
    checkpoints.map((c) => ({attrs: {class: c.deleted ? 'deleted' : null, 'data-step': c.step},
                             cells: [{text: String(c.step), class: 'num'}, c.reason,
                                     c.deleted ? `deleted ${formatTime(c.deleted)}` : (c.kept || '—'),
                                     {text: formatBytes(c.bytes), class: 'num'}, formatTime(c.created),
                                     {text: c.path, class: 'path'}]}))));
}

function drawEvents(container, events) {
  if (!events.length) return replaceChildren(container, el('p', {class: 'note'}, 'no events'));
  replaceChildren(container, table(['time', 'step', 'kind', 'message'],
    events.map((e) => ({attrs: {class: e.kind},
                        cells: [formatTime(e.time), {text: e.step === null ? '' : String(e.step), class: 'num'},
                                {text: e.kind, class: 'kind'}, {text: e.message || '', class: 'message'}]}))));
}

/// The latest image grid of each image tag, with a slider over the steps that wrote one.
class ImagePanel {
  constructor(container, runId) {
    this.container = container;
    this.runId = runId;
    this.views = new Map();  // tag -> {images, slider, img, caption, followLatest}
  }

  async load() {
    const answer = await getJson(`/api/runs/${this.runId}/images`);
    const byTag = new Map();
    for (const image of answer.images) {
      if (!byTag.has(image.tag)) byTag.set(image.tag, []);
      byTag.get(image.tag).push(image);
    }
    if (!byTag.size) return replaceChildren(this.container, el('p', {class: 'note'}, 'no images'));
    if (!this.views.size) this.container.textContent = '';
    for (const [tag, images] of byTag) this.update(tag, images);
  }

  update(tag, images) {
    let view = this.views.get(tag);
    if (!view) {
      view = this.create(tag);
      this.views.set(tag, view);
    }
    view.images = images;
    view.slider.max = String(images.length - 1);
    // A slider left at the newest image follows new ones; one moved back stays where it is.
    if (view.followLatest) view.slider.value = String(images.length - 1);
    this.show(view);
  }

  create(tag) {
    const view = {images: [], followLatest: true};
    view.slider = el('input', {type: 'range', min: 0, max: 0, step: 1, value: 0, 'aria-label': `${tag} step`});
    view.caption = el('span', {class: 'note'});
    view.img = el('img', {class: 'summary', alt: tag});
    view.missing = el('p', {class: 'missing', hidden: true}, 'this image is not available from the server');
    view.slider.addEventListener('input', () => {
      view.followLatest = Number(view.slider.value) === view.images.length - 1;
      this.show(view);
    });
    this.container.append(el('figure', {class: 'image-tag', 'data-tag': tag},
                             el('figcaption', null, el('span', {class: 'key'}, tag), ' ', view.caption),
                             view.slider, view.img, view.missing));
    return view;
  }

  show(view) {
    const image = view.images[Number(view.slider.value)];
    if (!image) return;
    view.caption.textContent = `step ${image.step} (${Number(view.slider.value) + 1} of ${view.images.length})`;
    // Only the server's own /files/ paths: a stored path cannot point the page elsewhere. A
    // file the server cannot serve (deleted, or outside the run's directory) has no url.
    const url = typeof image.url === 'string' && image.url.startsWith('/files/') ? image.url : null;
    view.missing.hidden = url !== null;
    view.img.hidden = url === null;
    if (url && view.img.getAttribute('data-url') !== url) {
      view.img.setAttribute('data-url', url);
      view.img.src = withToken(url);
    }
    view.img.parentNode.setAttribute('data-step', image.step);
  }
}
