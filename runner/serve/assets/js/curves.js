// The curves of one or more runs, and the polling that keeps them live.

// Curves: the charts of every tag, for one run or several, with the smoothing slider and the
// log toggle above them. `held` is tag -> run key -> points.


class CurvePanel {
  /// `runs` are {key, name, color}, in legend order.
  constructor(runs) {
    this.runs = runs;
    this.held = new Map();
    this.charts = new Map();
    this.view = {smoothing: Number(localStorage.getItem('kiln.smoothing') || 0.6), log: false, filter: ''};
    this.grid = el('div', {class: 'charts'});
    this.empty = el('p', {class: 'note'}, 'no summaries yet');
    this.node = el('div', {class: 'curves'}, this.controls(), this.empty, this.grid);
  }

  controls() {
    const value = el('output', {class: 'smoothing-value'}, this.view.smoothing.toFixed(2));
    const slider = el('input', {type: 'range', min: 0, max: 0.99, step: 0.01, value: this.view.smoothing,
                                id: 'smoothing', 'aria-label': 'smoothing'});
    slider.addEventListener('input', () => {
      this.view.smoothing = Number(slider.value);
      value.textContent = this.view.smoothing.toFixed(2);
      localStorage.setItem('kiln.smoothing', slider.value);
      this.redraw();
    });
    const log = el('input', {type: 'checkbox', id: 'log-scale'});
    log.addEventListener('change', () => {
      this.view.log = log.checked;
      this.redraw();
    });
    const filter = el('input', {type: 'search', id: 'tag-filter', placeholder: 'filter tags'});
    filter.addEventListener('input', () => {
      this.view.filter = filter.value.trim();
      this.applyFilter();
    });
    return el('div', {class: 'controls'},
              el('label', null, 'smoothing ', slider, ' ', value),
              el('label', null, log, ' log scale'),
              filter);
  }

  /// Takes an API `series` object (tag -> points) of the run `key`; redraws the charts it changed.
  add(key, series) {
    const changed = new Set();
    for (const [tag, fresh] of Object.entries(series || {})) {
      if (!fresh.length) continue;
      if (!this.held.has(tag)) this.held.set(tag, new Map());
      const byRun = this.held.get(tag);
      byRun.set(key, mergePoints(byRun.get(key) || [], fresh));
      changed.add(tag);
    }
    for (const tag of changed) this.draw(tag);
    this.empty.hidden = this.held.size > 0;
  }

  /// The largest step held for run `key`, over all tags (null when none).
  lastStep(key) {
    let last = null;
    for (const byRun of this.held.values()) {
      const points = byRun.get(key);
      if (points && points.length) last = Math.max(last === null ? -Infinity : last, points[points.length - 1][0]);
    }
    return last;
  }

  draw(tag) {
    let chart = this.charts.get(tag);
    if (!chart) {
      chart = new LineChart(tag);
      this.charts.set(tag, chart);
      this.insertSorted(tag, chart.node);
    }
    const byRun = this.held.get(tag);
    chart.setSeries(this.runs.filter((r) => byRun.has(r.key))
                              .map((r) => ({name: r.name, color: r.color, points: byRun.get(r.key)})));
    chart.render(this.view);
    chart.node.hidden = !this.matches(tag);
  }

  insertSorted(tag, node) {
    const after = [...this.charts.keys()].filter((t) => t > tag).sort()[0];
    this.grid.insertBefore(node, after ? this.charts.get(after).node : null);
  }

  redraw() {
    for (const chart of this.charts.values()) chart.render(this.view);
  }

  matches(tag) {
    return !this.view.filter || tag.toLowerCase().includes(this.view.filter.toLowerCase());
  }

  applyFilter() {
    for (const [tag, chart] of this.charts) chart.node.hidden = !this.matches(tag);
  }
}

// ---------------------------------------------------------------------------------------
// Polling: one request at a time, once a second, until `step` says to stop. body's
// data-polls counts the polls answered, so a test can tell the page kept polling.

function countPoll() {
  document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
}

/// Calls `step()` every POLL_MS after the previous call settled, while it resolves true.
function pollWhile(step) {
  const live = document.getElementById('live');
  const tick = async () => {
    let again = true;
    try {
      again = await step();
      countPoll();
      live.classList.remove('lost');
      live.textContent = 'live';
    } catch (e) {
      // A server restart or a dropped connection: keep trying, and say so.
      live.classList.add('lost');
      live.textContent = `connection lost: ${e.message}`;
    }
    if (again) setTimeout(tick, POLL_MS);
    else setLive(false);
  };
  setLive(true);
  setTimeout(tick, POLL_MS);
}

function setLive(on) {
  const live = document.getElementById('live');
  live.hidden = !on;
  live.textContent = on ? 'live' : '';
  document.body.dataset.live = on ? '1' : '0';
}

/// The `after` of a run's next poll: the last step held, asked again, because the rows of one
/// step can arrive in two of the writer's commits (mergePoints replaces it).
function pollAfter(lastStep) {
  return lastStep === null ? null : lastStep - 1;
}
