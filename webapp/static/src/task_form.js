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
 */

import { Form } from '@bpmn-io/form-js';

import '@bpmn-io/form-js/dist/assets/form-js.css';
import '@bpmn-io/form-js/dist/assets/flatpickr/light.css';

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

  if (!isPlainObject(schema)) {
    blockSubmit('Không tải được biểu mẫu (thiếu định nghĩa biểu mẫu).');
    return;
  }

  const form = new Form({
    container: root,
    properties: readOnly ? { readOnly: true } : {},
  });

  try {
    const { warnings } = await form.importSchema(schema, isPlainObject(data) ? data : {});
    if (warnings && warnings.length) {
      console.warn('form-js import warnings', warnings);
    }
  } catch (err) {
    console.error('form-js import failed', err);
    blockSubmit('Không hiển thị được biểu mẫu.');
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
    if (submitting) {
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
