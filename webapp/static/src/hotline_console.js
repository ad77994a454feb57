/*
 * Hotline 1022 operator console: the caller's earlier tickets follow the number as it is typed, and
 * Ctrl+Enter (⌘+Enter on a Mac) submits the call from anywhere in the form.
 *
 * Page contract:
 *
 *   <form data-hotline-console data-history-url="/hotline/nguoi-goi"> <input name="phone"> … </form>
 *   <div id="caller-history"> … </div>
 *
 * After a short pause in the typing the panel fragment is fetched (?so=<number>, the session cookie
 * signs the request) and swaps #caller-history. Without script the form still submits and the server
 * renders the same panel for the number typed.
 */

const DEBOUNCE_MS = 300;

function setup(form) {
  const phone = form.querySelector('input[name="phone"]');
  const url = form.dataset.historyUrl;
  let timer = null;
  let latest = 0;
  let shown = phone.value.trim();

  async function refresh() {
    const number = phone.value.trim();
    if (number === shown) return;
    const ticket = ++latest;
    const params = new URLSearchParams(number ? { so: number } : {});
    const response = await fetch(`${url}?${params}`, { headers: { Accept: 'text/html' }, credentials: 'same-origin' });
    if (ticket !== latest || !response.ok) return;
    const html = await response.text();
    if (ticket !== latest) return;
    const holder = document.createElement('div');
    holder.innerHTML = html;
    const fresh = holder.querySelector('#caller-history');
    const current = document.getElementById('caller-history');
    if (current && fresh) {
      current.replaceWith(fresh);
      shown = number;
    }
  }

  phone.addEventListener('input', () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, DEBOUNCE_MS);
  });
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener('submit', () => {
    const button = form.querySelector('button[type="submit"]');
    if (button) button.disabled = true; // one ticket per call, however often the keys are pressed
  });
  if (!phone.value) phone.focus();
}

for (const form of document.querySelectorAll('form[data-hotline-console]')) {
  setup(form);
}
