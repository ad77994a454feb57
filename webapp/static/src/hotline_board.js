/*
 * Hotline 1022 monitoring board: its content reloads itself without reloading the page.
 *
 * Page contract:
 *
 *   <div id="hotline-board" data-refresh-url="/hotline/giam-sat/noi-dung" data-refresh-seconds="15"> … </div>
 *
 * Every data-refresh-seconds the fragment at data-refresh-url replaces the element's content (a failed
 * request leaves the last content in place and is tried again next time). The fragment says when it was
 * made ("Cập nhật lúc HH:MM:SS"). A hidden tab is refreshed as soon as it is shown again.
 */

function setup(board) {
  const url = board.dataset.refreshUrl;
  const seconds = Math.max(5, Number(board.dataset.refreshSeconds) || 15);
  let busy = false;

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const response = await fetch(url, { headers: { Accept: 'text/html' }, credentials: 'same-origin' });
      if (response.ok) {
        board.innerHTML = await response.text();
        board.dispatchEvent(new CustomEvent('hotline-board:refreshed'));
      }
    } catch (error) {
      // Offline for a moment: keep what is shown, try again at the next tick.
    } finally {
      busy = false;
    }
  }

  window.setInterval(() => {
    if (!document.hidden) refresh();
  }, seconds * 1000);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) refresh();
  });
}

for (const board of document.querySelectorAll('[data-refresh-url]')) {
  setup(board);
}
