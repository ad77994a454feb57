/*
 * Task form page: renders a form-js schema and posts the collected data.
 *
 * Page contract (all ids required unless noted; no inline script needed):
 *
 *   <div id="form-root" [data-readonly="true"]></div>
 *   <script type="application/json" id="form-schema">{ form-js schema }</script>
 *   <script type="application/json" id="form-data">{ initial data }</script>          (optional)
 *   <script type="application/json" id="form-errors">{ "<id>": ["msg", ...] }</script> (optional)
 *   <form method="post" id="task-submit-form">
 *     <input type="hidden" name="csrf_token" value="...">
 *     <input type="hidden" name="data" id="form-data-input">
 *     <button type="submit" id="task-submit-button">...</button>
 *   </form>                                                                         (optional)
 *
 * Excel import (optional; one <li> per repeatable list, see templates/tasks/task.html):
 *
 *   <section id="excel-import" data-max-bytes="2097152" data-csrf="...">
 *     <li class="excel-list" data-path="ca_nhan" data-label="..." data-upload-url="...">
 *       <button class="excel-upload-button">  <input type="file" class="excel-file">
 *     <div id="excel-status">
 *
 * The chosen .xlsx is posted to data-upload-url; the server checks it against the form and
 * answers {"rows": [...]} (that list's rows are replaced in the form, other fields keep what
 * was typed, nothing is saved until "Hoàn thành") or {"error": {message, details: [{row,
 * column, label, message: {vi, en}}]}} (shown as a table; the form is left unchanged).
 *
 * File fields (form-js `filepicker`, see modules/file_field.js) upload each chosen file at once;
 * the form root says where (all optional; without them file fields only list their files):
 *
 *   <div id="form-root" data-attachment-upload="/tasks/7/attachments"
 *        data-attachment-remove="/tasks/7/attachments/__ref__"
 *        data-attachment-download="/instances/3/attachments/__ref__"
 *        data-attachment-max-bytes="10485760" data-csrf="...">
 *
 * "Hoàn thành" waits while an upload runs.
 *
 * Server errors are keyed by the form-js component `id` (that is what form-js
 * keys its own validation errors by). As a convenience a key may also be a
 * component `key` (the data path, e.g. "applicant.email").
 *
 * Repeated rows (dynamiclist): form-js stores errors of a field inside a
 * repeated group at [componentId, rowIndex] (one index per enclosing
 * dynamiclist, outermost first). The server may address a row as
 * "<id>[2]" or "<id>.2" (nested: "<id>[1][0]"); a plain "<id>" for a field
 * inside a dynamiclist matches no row and is only shown in the server's plain
 * HTML error list above the form. This is best effort.
 *
 * Server errors stay visible until the user edits that field; form-js' own
 * validation on load / blur would otherwise clear them. Clicking submit runs
 * form-js' client-side validation, which replaces all errors.
 *
 * Language: on a Vietnamese page (<html lang="vi">) form-js' built-in English
 * (buttons, placeholders, aria-labels, validation messages) and the date
 * picker's calendar are shown in Vietnamese; on an English page they stay as
 * form-js ships them. See "Vietnamese for form-js" below.
 */

import { Form } from '@bpmn-io/form-js';
import flatpickr from 'flatpickr';
import { Vietnamese as flatpickrVietnamese } from 'flatpickr/dist/esm/l10n/vn.js';

import { fileFieldModule } from './modules/file_field.js';

import '@bpmn-io/form-js/dist/assets/form-js.css';
import '@bpmn-io/form-js/dist/assets/flatpickr/light.css';

const PAGE_LANG = (document.documentElement.lang || 'vi').slice(0, 2).toLowerCase();

// ---- Vietnamese for form-js ----
//
// form-js 1.x (checked in @bpmn-io/form-js-viewer 1.23) has no translation API: its
// components and its Validator hard-code English strings, and no service or module
// produces them that could be swapped. So on Vietnamese pages a MutationObserver over
// the form root rewrites those strings in the rendered DOM: text nodes and the
// placeholder / aria-label / title attributes. Preact diffs against its own virtual
// DOM, not the page, so a rewritten node stays rewritten until form-js renders a new
// (English) string there, which the observer sees and rewrites in turn.
//
// Only the exact strings below are touched, and text coming from the form schema or
// the data (labels, descriptions, text views, options, table cells) is left alone.

/** form-js' fixed strings (whitespace-collapsed) -> Vietnamese. */
const VI_STRINGS = new Map([
  // dynamic list
  ['Add new', 'Thêm dòng'],
  ['Collapse', 'Thu gọn'],
  // select, tag list
  ['Select', 'Chọn'],
  ['Search', 'Tìm kiếm'],
  ['No results', 'Không có kết quả'],
  ['All values selected', 'Đã chọn tất cả'],
  ['Skip to search', 'Chuyển đến ô tìm kiếm'],
  ['Remove tag', 'Bỏ chọn'],
  // number field
  ['Increment', 'Tăng'],
  ['Decrement', 'Giảm'],
  // time field (24 h)
  ['hh:mm', 'giờ:phút'],
  // table
  ['Nothing to show.', 'Không có dữ liệu.'],
  ['of', 'trên'], // pager: "1 of 3"
  ['Previous page', 'Trang trước'],
  ['Next page', 'Trang sau'],
  ['Click to remove sorting', 'Bấm để bỏ sắp xếp'],
  // file picker
  ['Browse', 'Chọn tệp'],
  ['No files selected', 'Chưa chọn tệp nào'],
  // client-side validation (form-js Validator)
  ['Field is required.', 'Trường này là bắt buộc.'],
  ['Field must be a valid email.', 'Địa chỉ thư điện tử không hợp lệ.'],
  ['Field must be a valid international phone number. (e.g. +4930664040900)',
    'Số điện thoại không hợp lệ (dạng quốc tế, ví dụ: +84912345678).'],
  ['Value is not a number.', 'Giá trị phải là một số.'],
  ['Value is expected to be an integer.', 'Giá trị phải là số nguyên.'],
  ['Min validation value is not a valid number.', 'Giá trị nhỏ nhất cấu hình trong biểu mẫu không phải là số.'],
  ['Max validation value is not a valid number.', 'Giá trị lớn nhất cấu hình trong biểu mẫu không phải là số.'],
]);

const DATE_PART_VI = { d: 'ngày', m: 'tháng', y: 'năm' };

/** form-js' strings with a value in them -> Vietnamese ($1… are the values). */
const VI_PATTERNS = [
  [/^Remove list item (\d+)$/, 'Xóa dòng $1'],
  [/^Expand all \((\d+)\)$/, 'Mở rộng tất cả ($1)'],
  [/^(\d+) files selected$/, 'Đã chọn $1 tệp'],
  [/^Download (.+)$/, 'Tải xuống $1'],
  [/^Click to sort by (.+) descending$/, 'Bấm để sắp xếp theo $1, giảm dần'],
  [/^Click to sort by (.+) ascending$/, 'Bấm để sắp xếp theo $1, tăng dần'],
  [/^hh:mm --$/, 'giờ:phút --'],
  // the date field's placeholder is the browser locale's date pattern, e.g. "dd/mm/yyyy"
  [/^(?:d+|m+|y+)(?:[./ -]+(?:d+|m+|y+)){2}\.?$/, (format) => format.replace(/d+|m+|y+/g, (part) => DATE_PART_VI[part[0]])],
  // validation; a pattern rule without its own message would show the raw regular expression
  [/^Field must match pattern .*\.$/s, 'Giá trị không đúng định dạng yêu cầu.'],
  [/^Field must have minimum length of (.+)\.$/, 'Cần nhập ít nhất $1 ký tự.'],
  [/^Field must have maximum length of (.+)\.$/, 'Chỉ được nhập tối đa $1 ký tự.'],
  [/^Field must have minimum value of (.+)\.$/, 'Giá trị không được nhỏ hơn $1.'],
  [/^Field must have maximum value of (.+)\.$/, 'Giá trị không được lớn hơn $1.'],
  [/^Value is expected to have at most (\d+) decimal digits?\.$/, 'Giá trị chỉ được có tối đa $1 chữ số thập phân.'],
  [/^Please select a valid value, the two nearest valid values are (.+) and (.+)\.$/,
    'Giá trị không hợp lệ; hai giá trị hợp lệ gần nhất là $1 và $2.'],
];

/** Where the text is the form author's or the data's, not form-js' own. */
const AUTHORED_TEXT = [
  'label', '.fjs-form-field-description', '.fjs-form-field-text', '.fjs-form-field-html',
  '.fjs-dropdownlist-item', '.fjs-taglist-tag-label', '.fjs-table-th-label', 'td:not([colspan])',
  '.fjs-select-display:not(.fjs-select-placeholder)', '.fjs-attachment-name',
].join(', ');

const TRANSLATED_ATTRIBUTES = ['placeholder', 'aria-label', 'title'];

/** Vietnamese for one of form-js' strings, keeping its surrounding spaces; null if not one. */
function toVietnamese(text) {
  const key = text.trim().replace(/\s+/g, ' ');
  if (!key) {
    return null;
  }
  let result = VI_STRINGS.get(key);
  if (result === undefined) {
    const match = VI_PATTERNS.find(([pattern]) => pattern.test(key));
    if (!match) {
      return null;
    }
    result = key.replace(match[0], match[1]);
  }
  return text.replace(text.trim(), () => result);
}

function translateText(node) {
  const parent = node.parentElement;
  if (!parent || parent.closest(AUTHORED_TEXT)) {
    return;
  }
  const translated = toVietnamese(node.data);
  if (translated !== null && translated !== node.data) {
    node.data = translated;
  }
}

function translateAttribute(element, name) {
  const value = element.getAttribute(name);
  const translated = value ? toVietnamese(value) : null;
  if (translated !== null && translated !== value) {
    element.setAttribute(name, translated);
  }
}

function translateTree(node) {
  if (node.nodeType === Node.TEXT_NODE) {
    translateText(node);
    return;
  }
  if (node.nodeType !== Node.ELEMENT_NODE) {
    return;
  }
  for (const element of [node, ...node.querySelectorAll('[placeholder], [aria-label], [title]')]) {
    TRANSLATED_ATTRIBUTES.forEach((name) => translateAttribute(element, name));
  }
  const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    translateText(walker.currentNode);
  }
}

/** Keep form-js' own strings under `root` in Vietnamese from now on. */
function translateFormJs(root) {
  const observer = new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === 'characterData') {
        translateText(record.target);
      } else if (record.type === 'attributes') {
        translateAttribute(record.target, record.attributeName);
      } else {
        record.addedNodes.forEach(translateTree);
      }
    }
  });
  observer.observe(root, {
    subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: TRANSLATED_ATTRIBUTES,
  });
  translateTree(root);
}

if (PAGE_LANG === 'vi') {
  // form-js creates its date pickers with flatpickr's defaults: Vietnamese month and day
  // names, weeks from Monday. The input format stays the browser locale's (form-js sets it).
  flatpickr.localize({
    ...flatpickrVietnamese,
    yearAriaLabel: 'Năm',
    monthAriaLabel: 'Tháng',
    hourAriaLabel: 'Giờ',
    minuteAriaLabel: 'Phút',
    toggleTitle: 'Bấm để chuyển',
    scrollTitle: 'Cuộn để tăng, giảm',
    weekAbbreviation: 'Tuần',
  });
  flatpickr.setDefaults({ ariaDateFormat: 'j F Y' });
}

const FATAL_MESSAGES = {
  vi: { noSchema: 'Không tải được biểu mẫu (thiếu định nghĩa biểu mẫu).', importFailed: 'Không hiển thị được biểu mẫu.' },
  en: { noSchema: 'The form could not be loaded (its definition is missing).', importFailed: 'The form could not be shown.' },
};

function readJson(id, fallback) {
  const el = document.getElementById(id);
  if (!el || !el.textContent.trim()) {
    return fallback;
  }
  try {
    return JSON.parse(el.textContent);
  } catch (err) {
    console.error(`#${id}: invalid JSON`, err);
    return fallback;
  }
}

function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function toMessages(value) {
  if (Array.isArray(value)) {
    return value.filter((m) => m !== null && m !== undefined && m !== '').map(String);
  }
  if (value === null || value === undefined || value === '') {
    return [];
  }
  return [String(value)];
}

/** "Field_1[2][0]" / "Field_1.2.0" -> { base: "Field_1", indexes: [2, 0] } */
function splitIndexedKey(key) {
  const match = /^(.*?)((?:\[\d+\]|\.\d+)+)$/.exec(key);
  if (!match) {
    return { base: key, indexes: [] };
  }
  const indexes = (match[2].match(/\d+/g) || []).map(Number);
  return { base: match[1], indexes };
}

/**
 * Turn the server's error map into a list of { path, messages } where path is
 * the form-js error path [componentId, ...rowIndexes].
 */
function resolveServerErrors(form, rawErrors) {
  const registry = form.get('formFieldRegistry');
  const fields = registry.getAll();

  const findId = (name) => {
    if (registry.get(name)) {
      return name;
    }
    const byKey = fields.find((f) => f.key === name || (f.path && f.path === name));
    return byKey ? byKey.id : null;
  };

  const resolved = [];
  const unmatched = [];

  for (const [rawKey, rawValue] of Object.entries(rawErrors)) {
    // nested form: { "<id>": { "0": [...], "1": [...] } } for rows
    if (isPlainObject(rawValue)) {
      const id = findId(rawKey);
      for (const [idx, msgs] of Object.entries(rawValue)) {
        const messages = toMessages(msgs);
        if (id && /^\d+$/.test(idx) && messages.length) {
          resolved.push({ path: [id, Number(idx)], messages });
        } else if (messages.length) {
          unmatched.push(rawKey);
        }
      }
      continue;
    }

    const messages = toMessages(rawValue);
    if (!messages.length) {
      continue;
    }
    let id = findId(rawKey);
    let indexes = [];
    if (!id) {
      const split = splitIndexedKey(rawKey);
      id = split.indexes.length ? findId(split.base) : null;
      indexes = split.indexes;
    }
    if (id) {
      resolved.push({ path: [id, ...indexes], messages });
    } else {
      unmatched.push(rawKey);
    }
  }

  if (unmatched.length) {
    console.warn('form-errors: no form field for', unmatched);
  }
  return resolved;
}

function samePath(a, b) {
  return a.length === b.length && a.every((part, i) => String(part) === String(b[i]));
}

function setAtPath(target, path, value) {
  let node = target;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i];
    if (!isPlainObject(node[key]) && !Array.isArray(node[key])) {
      node[key] = {};
    }
    node = node[key];
  }
  node[path[path.length - 1]] = value;
}

function showFatal(root, message) {
  root.textContent = '';
  const p = document.createElement('p');
  p.className = 'alert alert-danger';
  p.textContent = message;
  root.appendChild(p);
}

// ---- Excel import into a repeatable list ----

const EXCEL_TEXT = {
  vi: {
    checking: (name) => `Đang kiểm tra tệp “${name}”…`,
    imported: (count, name, label) => `Đã nhập ${count} dòng từ tệp “${name}” vào “${label}”. `
      + 'Hãy xem lại rồi bấm “Hoàn thành” để lưu.',
    tooLarge: (limit) => `Tệp quá lớn (tối đa ${limit} MB).`,
    network: 'Không gửi được tệp; hãy kiểm tra kết nối mạng rồi thử lại.',
    http: (status) => `Không nhập được tệp (lỗi ${status}). Hãy tải lại trang rồi thử lại.`,
    unchanged: 'Chưa nhập dòng nào; biểu mẫu giữ nguyên.',
    heads: ['Dòng', 'Cột', 'Nội dung lỗi'],
    replaceFailed: 'Không đưa được các dòng vào biểu mẫu.',
  },
  en: {
    checking: (name) => `Checking “${name}”…`,
    imported: (count, name, label) => `Imported ${count} row(s) from “${name}” into “${label}”. `
      + 'Review them, then click “Complete” to save.',
    tooLarge: (limit) => `The file is too large (at most ${limit} MB).`,
    network: 'The file could not be sent; check the network connection and try again.',
    http: (status) => `The file could not be imported (error ${status}). Reload the page and try again.`,
    unchanged: 'No row was imported; the form is unchanged.',
    heads: ['Row', 'Column', 'Problem'],
    replaceFailed: 'The rows could not be put into the form.',
  },
};

function localized(message) {
  if (message && typeof message === 'object') {
    return String((PAGE_LANG === 'en' ? message.en : message.vi) || message.vi || message.en || '');
  }
  return message === null || message === undefined ? '' : String(message);
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) {
    el.className = className;
  }
  if (text !== undefined) {
    el.textContent = text;
  }
  return el;
}

function showExcelProgress(status, text) {
  status.replaceChildren();
  const box = element('div', 'd-flex align-items-center gap-2 text-muted excel-progress');
  const spinner = element('span', 'spinner-border spinner-border-sm');
  spinner.setAttribute('aria-hidden', 'true');
  box.append(spinner, element('span', '', text));
  status.append(box);
}

function showExcelSuccess(status, text) {
  status.replaceChildren(element('div', 'alert alert-success mb-0 excel-imported', text));
}

/** The server's error (message + row/column details) as an alert with a table. */
function showExcelErrors(status, error, t) {
  const box = element('div', 'alert alert-danger mb-0 excel-errors');
  box.setAttribute('role', 'alert');
  box.append(element('p', 'fw-semibold mb-1', PAGE_LANG === 'en' && error.message_en ? error.message_en : error.message));
  const details = Array.isArray(error.details) ? error.details : [];
  const placed = details.filter((d) => d && (d.row || d.column));
  if (placed.length) {
    const wrap = element('div', 'table-responsive excel-errors-scroll');
    const table = element('table', 'table table-sm table-gov mb-1 bg-white excel-errors-table');
    const head = table.createTHead().insertRow();
    t.heads.forEach((title) => head.append(element('th', '', title)));
    const body = table.createTBody();
    for (const detail of details) {
      const row = body.insertRow();
      row.append(element('td', 'text-nowrap', detail.row ? String(detail.row) : '—'));
      const column = detail.column ? `${detail.column}${detail.label ? ` (${detail.label})` : ''}` : '—';
      row.append(element('td', '', column));
      row.append(element('td', '', localized(detail.message)));
    }
    wrap.append(table);
    box.append(wrap);
  } else {
    const other = details.map((d) => localized(d && d.message)).filter((m) => m && m !== error.message);
    other.forEach((m) => box.append(element('p', 'mb-1', m)));
  }
  box.append(element('p', 'small mb-0', t.unchanged));
  status.replaceChildren(box);
}

/**
 * Wire the "Nhập từ Excel" buttons; `replaceRows(path, rows)` puts the checked rows in the form.
 * Only one upload runs at a time, and "Hoàn thành" waits while it does.
 */
function setupExcelImport(replaceRows, submitButton) {
  const section = document.getElementById('excel-import');
  const status = document.getElementById('excel-status');
  if (!section || !status) {
    return;
  }
  const t = EXCEL_TEXT[PAGE_LANG] || EXCEL_TEXT.vi;
  const maxBytes = Number(section.dataset.maxBytes) || 0;
  const controls = () => [...section.querySelectorAll('.excel-upload-button'), submitButton].filter(Boolean);

  const upload = async (item, file) => {
    if (maxBytes && file.size > maxBytes) {
      showExcelErrors(status, { message: t.tooLarge(+(maxBytes / 1048576).toFixed(1)) }, t);
      return;
    }
    controls().forEach((button) => { button.disabled = true; });
    section.setAttribute('aria-busy', 'true');
    showExcelProgress(status, t.checking(file.name));
    try {
      const body = new FormData();
      body.append('file', file, file.name);
      body.append('csrf_token', section.dataset.csrf || '');
      let response;
      try {
        response = await fetch(item.dataset.uploadUrl, {
          method: 'POST', body, credentials: 'same-origin', headers: { Accept: 'application/json' },
        });
      } catch (err) {
        console.error('excel upload failed', err);
        showExcelErrors(status, { message: t.network }, t);
        return;
      }
      const payload = await response.json().catch(() => null);
      if (response.ok && payload && Array.isArray(payload.rows)) {
        try {
          await replaceRows(item.dataset.path, payload.rows);
        } catch (err) {
          console.error('excel rows not imported into the form', err);
          showExcelErrors(status, { message: t.replaceFailed }, t);
          return;
        }
        showExcelSuccess(status, t.imported(payload.rows.length, file.name, item.dataset.label));
      } else if (payload && payload.error) {
        showExcelErrors(status, payload.error, t);
      } else {
        showExcelErrors(status, { message: t.http(response.status) }, t);
      }
    } finally {
      controls().forEach((button) => { button.disabled = false; });
      section.removeAttribute('aria-busy');
    }
  };

  section.querySelectorAll('.excel-list').forEach((item) => {
    const button = item.querySelector('.excel-upload-button');
    const input = item.querySelector('.excel-file');
    if (!button || !input) {
      return;
    }
    button.addEventListener('click', () => {
      input.value = ''; // choosing the same file again after fixing it must fire "change"
      input.click();
    });
    input.addEventListener('change', () => {
      const file = input.files && input.files[0];
      if (file) {
        upload(item, file);
      }
    });
  });
}

async function main() {
  const root = document.getElementById('form-root');
  if (!root) {
    return;
  }

  const readOnly = root.dataset.readonly === 'true';
  const schema = readJson('form-schema', null);
  const data = readJson('form-data', {});
  const rawErrors = readJson('form-errors', {});

  const htmlForm = document.getElementById('task-submit-form');
  const dataInput = document.getElementById('form-data-input');
  const submitButton = document.getElementById('task-submit-button');

  const blockSubmit = (message) => {
    if (submitButton) {
      submitButton.disabled = true;
    }
    showFatal(root, message);
  };

  const fatal = FATAL_MESSAGES[PAGE_LANG] || FATAL_MESSAGES.vi;
  if (!isPlainObject(schema)) {
    blockSubmit(fatal.noSchema);
    return;
  }

  if (PAGE_LANG === 'vi') {
    translateFormJs(root);
  }

  // ---- file fields: uploads while the form is filled in ----

  let uploadsRunning = 0;
  const urlFor = (template) => (template ? (ref) => template.replace('__ref__', encodeURIComponent(ref)) : null);
  const files = fileFieldModule({
    lang: PAGE_LANG,
    uploadUrl: readOnly ? null : root.dataset.attachmentUpload,
    removeUrl: readOnly ? null : urlFor(root.dataset.attachmentRemove),
    downloadUrl: urlFor(root.dataset.attachmentDownload) || (() => '#'),
    csrf: root.dataset.csrf,
    maxBytes: Number(root.dataset.attachmentMaxBytes) || 0,
    onBusy: (delta) => {
      uploadsRunning = Math.max(0, uploadsRunning + delta);
      if (submitButton) {
        submitButton.disabled = uploadsRunning > 0;
      }
    },
  });

  const form = new Form({
    container: root,
    properties: readOnly ? { readOnly: true } : {},
    additionalModules: [files],
  });

  try {
    const { warnings } = await form.importSchema(schema, isPlainObject(data) ? data : {});
    if (warnings && warnings.length) {
      console.warn('form-js import warnings', warnings);
    }
  } catch (err) {
    console.error('form-js import failed', err);
    blockSubmit(fatal.importFailed);
    return;
  }

  // ---- server-side validation errors ----

  let serverErrors = isPlainObject(rawErrors) ? resolveServerErrors(form, rawErrors) : [];

  const applyServerErrors = () => {
    if (!serverErrors.length) {
      return;
    }
    const { errors } = form._getState();
    const next = JSON.parse(JSON.stringify(errors || {}));
    for (const { path, messages } of serverErrors) {
      setAtPath(next, path, messages);
    }
    // internal API (form-js 1.x): errors are keyed by component id, then row
    // indexes; the field renderer reads get(errors, [id, ...indexes]).
    form._setState({ errors: next });
  };

  // form-js validates prefilled fields right after the first render (and on
  // blur) and prunes errors of fields that pass client-side rules; put ours back.
  const reapply = () => applyServerErrors();
  form.on('commandStack.formFieldInstance.validation.update.postExecuted', reapply);
  form.on('commandStack.formField.validation.update.postExecuted', reapply);

  // once the user edits a field, its server error is stale
  form.on('field.updated', (event) => {
    const instance = event && event.fieldInstance;
    if (!instance) {
      return;
    }
    const path = [instance.id, ...Object.values(instance.indexes || {})];
    serverErrors = serverErrors.filter((e) => !samePath(e.path, path));
  });

  applyServerErrors();

  // ---- Excel import: replace one list's rows, keep everything else as typed ----

  if (!readOnly) {
    setupExcelImport(async (path, rows) => {
      const next = JSON.parse(JSON.stringify(form._getState().data || {}));
      setAtPath(next, path.split('.'), rows);
      serverErrors = []; // their row indexes belonged to the old rows
      await form.importSchema(schema, next);
    }, submitButton);
  }

  // ---- submit ----

  if (!htmlForm) {
    return;
  }

  if (readOnly) {
    htmlForm.addEventListener('submit', (event) => event.preventDefault());
    return;
  }

  let submitting = false;

  // coming back via the browser's back button restores this page from cache
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) {
      submitting = false;
      if (submitButton) {
        submitButton.disabled = false;
      }
    }
  });

  htmlForm.addEventListener('submit', (event) => {
    if (submitting || uploadsRunning > 0) {
      event.preventDefault();
      return;
    }

    const result = form.submit();
    serverErrors = [];

    if (Object.keys(result.errors || {}).length) {
      event.preventDefault();
      // let preact render the messages, then bring the first one into view
      setTimeout(() => {
        const first = root.querySelector('.fjs-has-errors');
        if (first) {
          first.scrollIntoView({ block: 'center' });
          const input = first.querySelector('input, textarea, select, [tabindex]');
          if (input) {
            input.focus({ preventScroll: true });
          }
        }
      }, 0);
      return;
    }

    if (!dataInput) {
      event.preventDefault();
      console.error('#form-data-input missing');
      return;
    }

    dataInput.value = JSON.stringify(result.data);
    submitting = true;
    if (submitButton) {
      // disable after the browser has captured the submission
      setTimeout(() => {
        submitButton.disabled = true;
      }, 0);
    }
  });
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', main);
} else {
  main();
}
