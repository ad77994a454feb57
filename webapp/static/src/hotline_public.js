/*
 * Public hotline 1022 form: a live count of the characters typed in the content box.
 *
 * Page contract:
 *
 *   <textarea id="x" maxlength="5000" data-char-counter="x-count"></textarea>
 *   <span id="x-count">0</span>
 *
 * The count element shows "typed / maximum" and turns red near the end. Without script the box still limits
 * the length (maxlength) and the server checks it again.
 */

function setup(box) {
  const counter = document.getElementById(box.dataset.charCounter);
  if (!counter) return;
  const max = Number(box.getAttribute('maxlength')) || 0;
  function update() {
    const used = box.value.length;
    counter.textContent = max ? `${used.toLocaleString('vi-VN')} / ${max.toLocaleString('vi-VN')}` : String(used);
    counter.classList.toggle('text-danger', max > 0 && used > max * 0.95);
  }
  box.addEventListener('input', update);
  update();
}

document.querySelectorAll('textarea[data-char-counter]').forEach(setup);
