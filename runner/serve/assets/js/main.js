// Routing by location.pathname: the server answers every page route with the same index.html.

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
