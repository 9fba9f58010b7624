// What every page uses: the palette and constants, the DOM helpers, the API client, and how
// values, times and runs are written. Every string from the database goes in through
// textContent or setAttribute, never as markup: run names, tags and configs are data, not HTML.

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
// Tables, sections and the page's title.

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
