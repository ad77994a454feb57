/*
 * Knowledge-base search (hotline 1022): results follow the search box as one types.
 *
 * Page contract:
 *
 *   <form data-kb-search data-results-url="/hotline/kb/ket-qua"> <input name="q"> <select name="field"> </form>
 *   <div id="kb-results"> <details class="kb-article"><summary>…</summary>…</details> … </div>
 *
 * Typing (after a short pause) or changing the field fetches the results fragment and swaps #kb-results; the
 * address follows (?q=&field=) so the page can be reloaded or shared. Keys: ArrowDown in the box goes to the
 * first result, ArrowUp/ArrowDown move between results, Enter/Space opens one (native <details>), Escape
 * goes back to the box. Without script the form still submits and the server renders the same results.
 */

const DEBOUNCE_MS = 200;

function setup(form) {
  const input = form.querySelector('input[name="q"]');
  const select = form.querySelector('select[name="field"]');
  const url = form.dataset.resultsUrl;
  let timer = null;
  let latest = 0;

  function summaries() {
    return Array.from(document.querySelectorAll('#kb-results .kb-article > summary'));
  }

  async function refresh() {
    const params = new URLSearchParams();
    if (input.value) params.set('q', input.value);
    if (select && select.value) params.set('field', select.value);
    const ticket = ++latest;
    const response = await fetch(`${url}?${params}`, { headers: { Accept: 'text/html' }, credentials: 'same-origin' });
    if (ticket !== latest || !response.ok) return;
    const html = await response.text();
    if (ticket !== latest) return;
    const current = document.getElementById('kb-results');
    const holder = document.createElement('div');
    holder.innerHTML = html;
    const fresh = holder.querySelector('#kb-results');
    if (current && fresh) current.replaceWith(fresh);
    const query = params.toString();
    window.history.replaceState(null, '', query ? `?${query}` : window.location.pathname);
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, DEBOUNCE_MS);
  }

  input.addEventListener('input', schedule);
  if (select) select.addEventListener('change', refresh);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    window.clearTimeout(timer);
    refresh();
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown') {
      const first = summaries()[0];
      if (first) {
        event.preventDefault();
        first.focus();
      }
    }
  });
  document.addEventListener('keydown', (event) => {
    const all = summaries();
    const index = all.indexOf(document.activeElement);
    if (index < 0) return;
    if (event.key === 'ArrowDown' && index + 1 < all.length) {
      event.preventDefault();
      all[index + 1].focus();
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      (index > 0 ? all[index - 1] : input).focus();
    } else if (event.key === 'Escape') {
      input.focus();
      input.select();
    }
  });
  if (!input.value) input.focus();
}

for (const form of document.querySelectorAll('form[data-kb-search]')) {
  setup(form);
}
