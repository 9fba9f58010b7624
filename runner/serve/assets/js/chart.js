// Series and charts: smoothing, thinning, nice axes and an SVG line chart, after the report's
// (runner/report/series.cpp, svg_chart.cpp), so that report and dashboard look alike.

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
      ticks.append(svgEl('text', {x: this.px(t), y: f.top + f.height + 16, 'text-anchor': 'middle'},
                         axisLabel(f.x, t)));
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
