/*
 * "Sao chép" buttons: copies the value of the field a button names.
 *
 * Page contract:
 *
 *   <input id="credential-password" readonly value="…">
 *   <button type="button" data-copy-target="credential-password" data-copied-text="Đã sao chép">Sao chép</button>
 *
 * Uses the Clipboard API where the page is a secure context (https, or 127.0.0.1 in
 * development); elsewhere selects the text and falls back to the copy command, so the
 * person can still press Ctrl+C.
 */

function selectText(field) {
  field.focus();
  field.select();
  field.setSelectionRange(0, field.value.length);
}

async function copyFrom(field) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(field.value);
    return true;
  }
  selectText(field);
  return document.execCommand('copy');
}

function confirmCopied(button) {
  const label = button.textContent;
  button.textContent = button.dataset.copiedText || label;
  button.classList.add('copied');
  window.setTimeout(() => {
    button.textContent = label;
    button.classList.remove('copied');
  }, 2000);
}

for (const button of document.querySelectorAll('[data-copy-target]')) {
  const field = document.getElementById(button.dataset.copyTarget);
  if (!field) {
    continue;
  }
  field.addEventListener('focus', () => selectText(field));
  button.addEventListener('click', async () => {
    try {
      if (await copyFrom(field)) {
        confirmCopied(button);
        return;
      }
    } catch (err) {
      console.warn('copy failed', err);
    }
    selectText(field);
  });
}
