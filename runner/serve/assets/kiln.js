// kiln serve's pages: the run list, one run, a comparison and the SQL box, drawn from the JSON
// API (docs/serve.md) with plain DOM calls. Every string from the database goes in through
// textContent or setAttribute, never as markup: run names, tags and configs are data, not HTML.
(function () {
  'use strict';

  // ---------------------------------------------------------------------------------------
  // The look shared with `kiln report` (runner/report/page.cpp): Tableau's ten colours.
  const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#59a14f', '#b07aa1',
                   '#76b7b2', '#edc948', '#ff9da7', '#9c755f', '#bab0ac'];
  const STATUSES = ['running', 'completed', 'stopped', 'failed', 'crashed'];
  const POLL_MS = 1000;
  // A run page re-reads checkpoints, events and images every this many polls: they change far
  // less often than the curves.
  const DETAIL_EVERY_POLLS = 5;
  // Points drawn per series; more are thinned to each bucket's extremes, as the report does.
  const MAX_DRAWN_POINTS = 1200;
  const SVG_NS = 'http://www.w3.org/2000/svg';

  // ---------------------------------------------------------------------------------------
  // DOM helpers: the only ways text reaches the page.

  /// An element with attributes (null/false ones left out) and children (strings become text nodes).
  function el(tag, attrs, ...children) {
    return fill(document.createElement(tag), attrs, children);
  }

  function svgEl(tag, attrs, ...children) {
    return fill(document.createElementNS(SVG_NS, tag), attrs, children);
  }

  function fill(node, attrs, children) {
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'style') Object.assign(node.style, value);  // CSSOM: allowed where a CSP bars style="..."
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function replaceChildren(node, ...children) {
    node.textContent = '';
    fill(node, null, children);
  }

  // ---------------------------------------------------------------------------------------
  // The API. A page opened with ?token= passes it on every call: the server also keeps it in
  // a cookie, but a browser that refuses cookies still works this way.

  const TOKEN = new URLSearchParams(location.search).get('token');

  function withToken(url) {
    if (!TOKEN) return url;
    const u = new URL(url, location.origin);
    u.searchParams.set('token', TOKEN);
    return u.pathname + u.search;
  }

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  /// The JSON of GET `path` with `params` (null/empty ones left out); an ApiError carries the
  /// server's own one-line error.
  async function getJson(path, params) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params || {}))
      if (value !== null && value !== undefined && value !== '') query.set(key, String(value));
    const url = withToken(path + (query.toString() ? '?' + query : ''));
    const response = await fetch(url, {headers: {Accept: 'application/json'}, credentials: 'same-origin'});
    let body = null;
    try {
      body = await response.json();
    } catch (e) {
      throw new ApiError(response.status, `${path}: the server answered ${response.status} without JSON`);
    }
    if (!response.ok) throw new ApiError(response.status, (body && body.error) || `${path}: HTTP ${response.status}`);
    return body;
  }

  // ---------------------------------------------------------------------------------------
  // Formatting, as `kiln report` prints (runner/report/format.cpp).

  /// printf's %.{digits}g: "0.2571", "1.5e-05", "1200"; null (a NaN or infinity) is "nan".
  function formatValue(value, digits = 4) {
    if (value === null || value === undefined || !Number.isFinite(value)) return 'nan';
    if (value === 0) return '0';
    const exponent = Number(value.toExponential(digits - 1).split('e')[1]);
    if (exponent < -4 || exponent >= digits) {
      const [mantissa, exp] = value.toExponential(digits - 1).split('e');
      const sign = exp[0] === '-' ? '-' : '+';
      return `${stripZeros(mantissa)}e${sign}${exp.replace(/^[+-]/, '').padStart(2, '0')}`;
    }
    return stripZeros(value.toFixed(Math.max(0, digits - 1 - exponent)));
  }

  function stripZeros(text) {
    return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
  }

  function formatTime(unixSeconds) {
    if (unixSeconds === null || unixSeconds === undefined) return '—';
    const d = new Date(unixSeconds * 1000);
    const pad = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
           `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }

  function formatDuration(seconds) {
    if (!Number.isFinite(seconds) || seconds < 0) return '—';
    if (seconds < 10) return `${seconds.toFixed(1)} s`;
    const whole = Math.round(seconds);
    if (whole < 60) return `${whole} s`;
    const pad = (n) => String(n).padStart(2, '0');
    if (whole < 3600) return `${Math.floor(whole / 60)} min ${pad(whole % 60)} s`;
    return `${Math.floor(whole / 3600)} h ${pad(Math.floor(whole / 60) % 60)} min`;
  }

  function formatBytes(bytes) {
    if (bytes < 1e3) return `${bytes} B`;
    if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
    if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
    return `${(bytes / 1e9).toFixed(2)} GB`;
  }

  /// A running run's duration grows with the clock; a finished one's is fixed.
  function runDuration(run) {
    const end = run.ended !== null && run.ended !== undefined ? run.ended : Date.now() / 1000;
    return formatDuration(end - run.started);
  }

  function statusBadge(status) {
    return el('span', {class: `status ${STATUSES.includes(status) ? status : ''}`, 'data-status': status}, status);
  }

  /// A bar and "step / max" (just the step when the run has no max_steps).
  function progressCell(run) {
    const step = run.step === null || run.step === undefined ? 0 : run.step;
    if (!run.max_steps) return el('span', {class: 'progress-text'}, String(step));
    const fraction = Math.max(0, Math.min(1, step / run.max_steps));
    return el('span', {class: 'progress', title: `${Math.round(fraction * 100)}%`},
              el('span', {class: 'bar'}, el('span', {class: 'done', style: {width: `${(fraction * 100).toFixed(1)}%`}})),
              el('span', {class: 'progress-text'}, `${step} / ${run.max_steps}`));
  }

  function runLink(run) {
    return el('a', {href: withToken(`/run/${encodeURIComponent(run.id)}`), class: 'run'}, run.name);
  }

  function bestList(best) {
    const entries = Object.entries(best || {});
    if (!entries.length) return el('span', {class: 'absent'}, '—');
    return el('ul', {class: 'values'}, entries.map(([tag, b]) =>
      el('li', {'data-tag': tag}, el('span', {class: 'key'}, tag), ' ', formatValue(b.value),
         el('span', {class: 'note'}, ` @${b.step}`))));
  }

  // ---------------------------------------------------------------------------------------
  // Series: points are [step, value] with value null for a NaN or infinity (the API's null).

  /// TensorBoard's smoothing: an exponential moving average with its start debiased, over the
  /// finite values only; a constant series stays as it is (runner/report/series.cpp).
  function smoothEma(points, weight) {
    if (weight <= 0 || !points.length) return points;
    const first = points[0][1];
    if (points.every((p) => p[1] === first)) return points;
    let last = 0;
    let count = 0;
    return points.map(([step, value]) => {
      if (value === null || !Number.isFinite(value)) return [step, null];
      last = last * weight + (1 - weight) * value;
      ++count;
      const debias = weight === 1 ? 1 : 1 - Math.pow(weight, count);
      return [step, last / debias];
    });
  }

  /// At most about `max` points: each of max/2 buckets keeps its lowest and highest value and
  /// its first gap, so spikes and NaNs survive the thinning (runner/report/series.cpp).
  function decimate(points, max) {
    const buckets = Math.max(1, Math.floor(max / 2));
    if (points.length <= max || points.length <= 2 * buckets) return points;
    const out = [];
    for (let b = 0; b < buckets; ++b) {
      const begin = Math.floor(points.length * b / buckets);
      const end = Math.floor(points.length * (b + 1) / buckets);
      let low = -1, high = -1, gap = -1;
      for (let i = begin; i < end; ++i) {
        const v = points[i][1];
        if (v === null) {
          if (gap < 0) gap = i;
          continue;
        }
        if (low < 0 || v < points[low][1]) low = i;
        if (high < 0 || v > points[high][1]) high = i;
      }
      const keep = [...new Set([low, high, gap].filter((i) => i >= 0))].sort((a, b) => a - b);
      for (const i of keep) out.push(points[i]);
    }
    return out;
  }

  /// `held` with `fresh` merged in by step: a step already held takes the fresh value (a poll
  /// asks again for the last step it holds), later ones are appended in order.
  function mergePoints(held, fresh) {
    if (!fresh.length) return held;
    const firstFresh = fresh[0][0];
    let keep = held.length;
    while (keep > 0 && held[keep - 1][0] >= firstFresh) --keep;
    return held.slice(0, keep).concat(fresh);
  }

  /// The index of the point whose step is nearest `step` (points sorted by step).
  function nearestIndex(points, step) {
    let lo = 0, hi = points.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (points[mid][0] < step) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && Math.abs(points[lo - 1][0] - step) <= Math.abs(points[lo][0] - step)) return lo - 1;
    return lo;
  }

  // ---------------------------------------------------------------------------------------
  // Axes: nice ticks on a linear or log scale, the report's (runner/report/svg_chart.cpp).

  const EPSILON = 1e-9;

  function niceStep(raw) {
    const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    const normalized = raw / magnitude;
    return (normalized < 1.5 ? 1 : normalized < 3 ? 2 : normalized < 7 ? 5 : 10) * magnitude;
  }

  function linearAxis(lo, hi, target, minStep = 0) {
    if (lo > hi) [lo, hi] = [hi, lo];
    if (lo === hi) {
      const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
      lo -= minStep > 0 ? 0 : pad;
      hi += minStep > 0 ? Math.max(minStep, pad) : pad;
    }
    const step = Math.max(niceStep((hi - lo) / Math.max(1, target)), minStep);
    const first = Math.round(Math.floor(lo / step + EPSILON));
    const last = Math.round(Math.ceil(hi / step - EPSILON));
    const ticks = [];
    for (let i = first; i <= last; ++i) ticks.push(i * step);
    return {log: false, lo: first * step, hi: last * step, step, ticks};
  }

  function logAxis(lo, hi) {
    // The domain ends at 1, 2 or 5 times a power of ten, so no empty decade is drawn.
    const loDecade = Math.pow(10, Math.floor(Math.log10(lo) + EPSILON));
    let axisLo = loDecade;
    for (const m of [5, 2]) if (m * loDecade <= lo * (1 + EPSILON)) { axisLo = m * loDecade; break; }
    const hiDecade = Math.pow(10, Math.floor(Math.log10(hi) - EPSILON));
    let axisHi = 10 * hiDecade;
    for (const m of [1, 2, 5]) if (m * hiDecade >= hi * (1 - EPSILON)) { axisHi = m * hiDecade; break; }
    if (axisHi <= axisLo) axisHi = 10 * axisLo;
    const first = Math.ceil(Math.log10(axisLo) - EPSILON);
    const last = Math.floor(Math.log10(axisHi) + EPSILON);
    const every = Math.max(1, Math.floor((last - first + 5) / 6));
    const ticks = [];
    for (let e = first; e <= last; e += every) ticks.push(Math.pow(10, e));
    return {log: true, lo: axisLo, hi: axisHi, step: 0, ticks};
  }

  /// Where `value` lands on `axis`, from 0 to 1; NaN where the axis cannot show it.
  function axisPosition(axis, value) {
    if (value === null || !Number.isFinite(value) || (axis.log && value <= 0)) return NaN;
    if (axis.log) return (Math.log10(value) - Math.log10(axis.lo)) / (Math.log10(axis.hi) - Math.log10(axis.lo));
    return (value - axis.lo) / (axis.hi - axis.lo);
  }

  function axisLabel(axis, tick) {
    if (axis.log) {
      const exponent = Math.round(Math.log10(tick));
      return exponent < -3 || exponent > 4 ? `1e${exponent}` : String(Math.pow(10, exponent));
    }
    if (Math.abs(tick) < axis.step * EPSILON) return '0';
    const largest = Math.max(Math.abs(axis.lo), Math.abs(axis.hi));
    const stepDigit = Math.floor(Math.log10(axis.step) + EPSILON);
    if (largest >= 1e6 || largest < 1e-3) {
      const leadDigit = Math.floor(Math.log10(largest) + EPSILON);
      return tick.toExponential(Math.max(0, leadDigit - stepDigit));
    }
    return tick.toFixed(Math.max(0, -stepDigit));
  }

  // ---------------------------------------------------------------------------------------
  // A line chart in SVG: ticks, a legend, a hover readout, smoothing and a log scale.

  const CHART = {width: 540, height: 300, right: 16, top: 12, bottom: 40, labelX: 13, charWidth: 6.8};

  /// One chart of one tag: `series` are {name, color, points}; render() redraws all of it.
  /// The <svg> carries data-tag, data-series, data-points (raw points held), data-last-step
  /// and, from its first drawing, data-loaded-points and data-loaded-step, for tests and people.
  class LineChart {
    constructor(tag, xLabel = 'step') {
      this.tag = tag;
      this.xLabel = xLabel;
      this.series = [];
      this.view = {smoothing: 0, log: false};
      this.svg = svgEl('svg', {class: 'chart', 'data-tag': tag, viewBox: `0 0 ${CHART.width} ${CHART.height}`,
                               role: 'img'});
      this.legend = el('div', {class: 'legend'});
      this.readout = el('div', {class: 'readout', 'aria-live': 'polite'}, '\u00a0');
      this.node = el('figure', {class: 'chart-box', 'data-tag': tag},
                     el('figcaption', {class: 'chart-title'}, tag), this.legend, this.svg, this.readout);
      this.svg.addEventListener('mousemove', (e) => this.hover(e));
      this.svg.addEventListener('mouseleave', () => this.unhover());
      this.loaded = false;
    }

    setSeries(series) {
      this.series = series;
    }

    render(view) {
      this.view = view;
      this.drawn = this.series.map((s) => {
        const smooth = smoothEma(s.points, view.smoothing);
        return {name: s.name, color: s.color, raw: decimate(s.points, MAX_DRAWN_POINTS),
                smooth: decimate(smooth, MAX_DRAWN_POINTS), all: s.points, allSmooth: smooth};
      });
      this.renderLegend();
      this.frame = this.computeFrame(view.log);
      this.svg.textContent = '';
      this.renderAttributes();
      if (!this.frame) {
        this.svg.append(svgEl('text', {class: 'empty', x: CHART.width / 2, y: CHART.height / 2,
                                       'text-anchor': 'middle'}, `${this.tag}: no finite values`));
        return;
      }
      this.renderGrid();
      for (const s of this.drawn) {
        if (view.smoothing > 0) this.svg.append(this.path(s.raw, 'raw', s));
        this.svg.append(this.path(view.smoothing > 0 ? s.smooth : s.raw, 'smooth', s));
      }
      this.hoverLayer = svgEl('g', {class: 'hover'});
      this.svg.append(this.hoverLayer);
    }

    renderAttributes() {
      const points = this.series.reduce((n, s) => n + s.points.length, 0);
      const lastStep = this.series.reduce((m, s) => (s.points.length ? Math.max(m, s.points[s.points.length - 1][0]) : m),
                                          -Infinity);
      const set = (key, value) => this.svg.setAttribute(key, String(value));
      set('data-series', this.series.length);
      set('data-points', points);
      set('data-last-step', Number.isFinite(lastStep) ? lastStep : '');
      set('data-log', this.view.log && this.frame && this.frame.y.log ? '1' : '0');
      if (!this.loaded) {
        this.loaded = true;
        set('data-loaded-points', points);
        set('data-loaded-step', Number.isFinite(lastStep) ? lastStep : '');
      }
    }

    renderLegend() {
      replaceChildren(this.legend, this.series.map((s) =>
        el('span', {class: 'legend-item', 'data-run': s.name},
           el('span', {class: 'swatch', style: {background: s.color}}), s.name)));
    }

    /// The plot area and both axes for what is held; null when no value is finite (or, on a log
    /// scale, positive: then the chart falls back to a linear one).
    computeFrame(wantLog) {
      let xLo = Infinity, xHi = -Infinity, yLo = Infinity, yHi = -Infinity, positiveLo = Infinity;
      for (const s of this.series)
        for (const [step, value] of s.points) {
          xLo = Math.min(xLo, step);
          xHi = Math.max(xHi, step);
          if (value === null || !Number.isFinite(value)) continue;
          yLo = Math.min(yLo, value);
          yHi = Math.max(yHi, value);
          if (value > 0) positiveLo = Math.min(positiveLo, value);
        }
      if (!(yLo <= yHi)) return null;
      const log = wantLog && positiveLo <= yHi && yHi > 0;
      const y = log ? logAxis(positiveLo, yHi) : linearAxis(yLo, yHi, 5);
      const widest = Math.max(1, ...y.ticks.map((t) => axisLabel(y, t).length));
      const left = CHART.labelX + 12 + CHART.charWidth * widest;
      return {left, top: CHART.top, width: CHART.width - left - CHART.right,
              height: CHART.height - CHART.top - CHART.bottom, x: linearAxis(xLo, xHi, 6, 1), y};
    }

    px(step) {
      return this.frame.left + axisPosition(this.frame.x, step) * this.frame.width;
    }

    py(value) {
      return this.frame.top + (1 - axisPosition(this.frame.y, value)) * this.frame.height;
    }

    renderGrid() {
      const f = this.frame;
      const grid = svgEl('g', {class: 'grid'});
      const ticks = svgEl('g', {class: 'ticks'});
      for (const t of f.y.ticks) {
        grid.append(svgEl('line', {x1: f.left, x2: f.left + f.width, y1: this.py(t), y2: this.py(t)}));
        ticks.append(svgEl('text', {x: f.left - 6, y: this.py(t), 'text-anchor': 'end', 'dominant-baseline': 'middle'},
                           axisLabel(f.y, t)));
      }
      for (const t of f.x.ticks) {
        grid.append(svgEl('line', {x1: this.px(t), x2: this.px(t), y1: f.top, y2: f.top + f.height}));
        ticks.append(svgEl('text', {x: this.px(t), y: f.top + f.height + 16, 'text-anchor': 'middle'}, axisLabel(f.x, t)));
      }
      this.svg.append(grid, ticks,
                      svgEl('rect', {class: 'frame', x: f.left, y: f.top, width: f.width, height: f.height}),
                      svgEl('text', {class: 'axis-label', x: f.left + f.width / 2, y: f.top + f.height + 33,
                                     'text-anchor': 'middle'}, this.xLabel),
                      svgEl('text', {class: 'axis-label', 'text-anchor': 'middle',
                                     transform: `translate(${CHART.labelX} ${f.top + f.height / 2}) rotate(-90)`},
                            this.tag + (f.y.log ? ' (log)' : '')));
    }

    /// "M x,y L x,y ..." through the points, a new piece after each value the axis cannot show;
    /// a piece of one point is a dot (a zero-length line with round caps).
    path(points, cls, series) {
      let d = '';
      let piece = 0;
      for (const [step, value] of points) {
        const y = this.py(value);
        if (Number.isNaN(y)) {
          if (piece === 1) d += 'h0';
          piece = 0;
          continue;
        }
        d += `${piece === 0 ? (d ? ' M' : 'M') : ' L'}${this.px(step).toFixed(1)},${y.toFixed(1)}`;
        ++piece;
      }
      if (piece === 1) d += 'h0';
      return svgEl('path', {class: cls, 'data-run': series.name, stroke: series.color, d});
    }

    /// A vertical line at the step under the pointer, each series' nearest point, and the
    /// values in the readout under the chart.
    hover(event) {
      if (!this.frame || !this.hoverLayer) return;
      const box = this.svg.getBoundingClientRect();
      const x = (event.clientX - box.left) * CHART.width / box.width;
      const f = this.frame;
      if (x < f.left || x > f.left + f.width) return this.unhover();
      const step = f.x.lo + (x - f.left) / f.width * (f.x.hi - f.x.lo);
      this.hoverLayer.textContent = '';
      const parts = [];
      let shownStep = null;
      for (const s of this.drawn) {
        if (!s.all.length) continue;
        const i = nearestIndex(s.all, step);
        const [at, raw] = s.all[i];
        const smooth = s.allSmooth[i][1];
        shownStep = shownStep === null ? at : shownStep;
        const shown = this.view.smoothing > 0 ? smooth : raw;
        const y = this.py(shown);
        if (!Number.isNaN(y)) this.hoverLayer.append(svgEl('circle', {cx: this.px(at), cy: y, r: 3.5, fill: s.color}));
        parts.push(el('span', {class: 'readout-item'}, el('span', {class: 'swatch', style: {background: s.color}}),
                      `${s.name} ${formatValue(raw)}`,
                      this.view.smoothing > 0 ? el('span', {class: 'note'}, ` (smoothed ${formatValue(smooth)})`) : null,
                      this.drawn.length > 1 ? el('span', {class: 'note'}, ` @${at}`) : null));
      }
      if (shownStep === null) return;
      this.hoverLayer.prepend(svgEl('line', {class: 'cursor', x1: this.px(shownStep), x2: this.px(shownStep),
                                            y1: f.top, y2: f.top + f.height}));
      replaceChildren(this.readout, el('span', {class: 'readout-step'}, `${this.xLabel} ${shownStep}`), parts);
    }

    unhover() {
      if (this.hoverLayer) this.hoverLayer.textContent = '';
      replaceChildren(this.readout, '\u00a0');
    }
  }

  // ---------------------------------------------------------------------------------------
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

  // ---------------------------------------------------------------------------------------
  // Tables.

  /// A table of `rows` under `headers`; a cell is a Node, a string or {text, class}.
  function table(headers, rows, attrs) {
    return el('table', attrs,
              el('thead', null, el('tr', null, headers.map((h) => el('th', null, h)))),
              el('tbody', null, rows.map((row) => tableRow(row))));
  }

  function tableRow(row) {
    const cells = Array.isArray(row) ? row : row.cells;
    return el('tr', Array.isArray(row) ? null : row.attrs, cells.map((cell) => {
      if (cell instanceof Node) return el('td', null, cell);
      if (cell !== null && typeof cell === 'object') return el('td', {class: cell.class}, cell.text);
      return el('td', null, cell === null || cell === undefined ? '' : String(cell));
    }));
  }

  function section(title, ...children) {
    return el('section', {'data-section': title}, el('h2', null, title), children);
  }

  function showError(message) {
    const page = document.getElementById('page');
    replaceChildren(page, el('section', null, el('p', {class: 'error', 'data-error': ''}, message)));
    document.body.dataset.ready = '1';
  }

  function setTitle(text) {
    document.title = text ? `${text} · kiln` : 'kiln';
    document.getElementById('title').textContent = text || '';
  }

  // ---------------------------------------------------------------------------------------
  // The run list: `/`, with its filters in the URL (?name=&status=&tag=&sort=).

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
    {key: 'device', label: 'device', value: (r) => r.device, cell: (r) => `${r.device || ''}` +
     (r.world_size > 1 ? ` ×${r.world_size}` : '')},
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
                    el('section', null, runFilters(state, refilter), el('div', {class: 'toolbar'}, count, compare), body));
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
      const pick = el('input', {type: 'checkbox', 'aria-label': `select ${run.name}`, checked: state.selected.has(run.id)});
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

  // ---------------------------------------------------------------------------------------
  // One run: `/run/<id or name>`.

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
      ['device', run.device + (run.world_size > 1 ? ` ×${run.world_size}` : '')], ['host', run.host],
      ['directory', run.run_dir], ['kiln', run.kiln_version], ['tags', (run.tags || []).join(', ') || null],
    ].filter(([, v]) => v !== null && v !== undefined && v !== '');
    replaceChildren(head,
                    el('h2', null, el('span', {class: 'run-name'}, run.name), ' ', statusBadge(run.status), ' ',
                       progressCell(run)),
                    el('dl', {class: 'facts'}, facts.map(([k, v]) => [el('dt', null, k), el('dd', null, v)])),
                    run.error ? el('p', {class: 'error'}, run.error) : null,
                    el('div', {class: 'best-line'}, bestList(run.best)));
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

  // ---------------------------------------------------------------------------------------
  // Compare: `/compare?runs=<id>,<id>[,...]`.

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

  // ---------------------------------------------------------------------------------------
  // SQL: `/sql?q=<statement>` runs it at once, so a query is a link.

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

  // ---------------------------------------------------------------------------------------
  // Routing by location.pathname; the server answers every page route with this same page.

  function route() {
    const path = location.pathname;
    const params = new URLSearchParams(location.search);
    const fail = (e) => showError(e.message);
    for (const link of document.querySelectorAll('a[data-keep-token]')) link.href = withToken(link.getAttribute('href'));
    if (path === '/' || path === '/index.html') return page('runs', runListPage);
    const run = path.match(/^\/run\/([^/]+)\/?$/);
    if (run) return page('run', () => runPage(decodeURIComponent(run[1])).catch(fail));
    if (path === '/compare') {
      const refs = (params.get('runs') || '').split(',').map((s) => s.trim()).filter(Boolean);
      return page('compare', () => comparePage(refs).catch(fail));
    }
    if (path === '/sql') return page('sql', sqlPage);
    page('missing', () => showError(`no page at ${path}: try / (runs), /run/<id>, /compare?runs=<id>,<id> or /sql`));
  }

  function page(name, draw) {
    document.body.dataset.page = name;
    document.body.dataset.ready = '0';
    draw();
  }

  route();
})();
