/*
 * The form-js `filepicker` as the platform runs it: each chosen file is uploaded at once and the
 * field's value is the list of uploaded files, [{ref, name, size, type}], which the task's
 * submission carries (the server checks every ref again; docs/modeling.md "Tệp đính kèm").
 *
 * form-js' own file picker keeps File objects in the browser and a "files::…" key in the data,
 * and clears any other value it finds, so it is replaced (same type, same schema properties:
 * label, description, key, accept, multiple, validate.required, readonly, disabled):
 *
 *   - pick file(s) -> POST <uploadUrl> multipart {file, field (component id), key, csrf_token},
 *     one at a time, with a progress bar each; answer 201 {ref, name, size, type} or the
 *     platform's JSON error, shown under the field in the page's language;
 *   - each uploaded file is listed as a download link with a "Xóa" (remove) button, which drops
 *     it from the value and asks the server to delete it (DELETE <removeUrl>; the server only
 *     deletes files uploaded for this task and not yet filed, so a file kept from an earlier step
 *     only leaves this form);
 *   - `multiple: false` keeps one file: a new pick replaces the old one;
 *   - read-only: the list of download links only.
 *
 * While an upload runs, `onBusy(+1)` / `onBusy(-1)` let the page hold back "Hoàn thành".
 */

import { FilePicker as FormJsFilePicker, Label, Errors, Description } from '@bpmn-io/form-js';
import { h } from 'preact';
import { useRef, useState } from 'preact/hooks';

const TEXT = {
  vi: {
    choose: () => 'Chọn tệp…',
    chooseFor: (label) => `Chọn tệp: ${label}`,
    none: 'Chưa có tệp nào.',
    remove: 'Xóa',
    removeFile: (name) => `Xóa tệp ${name}`,
    uploading: (name) => `Đang tải lên “${name}”`,
    accepts: (kinds, limit) => `Nhận tệp ${kinds}; tối đa ${limit} mỗi tệp.`,
    tooLarge: (name, limit) => `Tệp “${name}” quá lớn (tối đa ${limit}).`,
    failed: (name, reason) => `Không tải lên được “${name}”: ${reason}`,
    network: 'không gửi được tệp; hãy kiểm tra kết nối mạng rồi thử lại.',
    http: (status) => `lỗi ${status}; hãy tải lại trang rồi thử lại.`,
  },
  en: {
    choose: (multiple) => (multiple ? 'Choose files…' : 'Choose a file…'),
    chooseFor: (label, multiple) => `${multiple ? 'Choose files' : 'Choose a file'}: ${label}`,
    none: 'No file yet.',
    remove: 'Remove',
    removeFile: (name) => `Remove file ${name}`,
    uploading: (name) => `Uploading “${name}”`,
    accepts: (kinds, limit) => `Accepts ${kinds} files; at most ${limit} each.`,
    tooLarge: (name, limit) => `“${name}” is too large (at most ${limit}).`,
    failed: (name, reason) => `“${name}” could not be uploaded: ${reason}`,
    network: 'the file could not be sent; check the network connection and try again.',
    http: (status) => `error ${status}; reload the page and try again.`,
  },
};

/** What an `accept` token names, for the hint under the button (the server has the real rules). */
const KIND_LABELS = [
  ['PDF', ['.pdf', 'application/pdf']],
  ['JPEG', ['.jpg', '.jpeg', 'image/jpeg', 'image/*']],
  ['PNG', ['.png', 'image/png', 'image/*']],
  ['Word (.docx)', ['.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document']],
  ['Excel (.xlsx)', ['.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet']],
];

function acceptedKinds(accept) {
  const tokens = String(accept || '').split(',').map((t) => t.trim().toLowerCase()).filter(Boolean);
  const kinds = KIND_LABELS.filter(([, names]) => !tokens.length || names.some((n) => tokens.includes(n)));
  return kinds.map(([label]) => label).join(', ');
}

/** The field's value as a clean list of {ref, name, size, type}; anything else is dropped. */
export function fileList(value) {
  if (!Array.isArray(value)) {
    return [];
  }
  return value
    .filter((item) => item && typeof item === 'object' && typeof item.ref === 'string' && item.ref)
    .map(({ ref, name, size, type }) => ({ ref, name: String(name || ref), size: Number(size) || 0, type: String(type || '') }));
}

function sizeText(bytes, lang) {
  const format = new Intl.NumberFormat(lang === 'en' ? 'en-GB' : 'vi-VN', { maximumFractionDigits: 1 });
  if (bytes >= 1024 * 1024) {
    return `${format.format(bytes / (1024 * 1024))} MB`;
  }
  return `${format.format(Math.max(bytes, 1) / 1024)} KB`;
}

function errorText(payload, status, t, lang) {
  const error = payload && payload.error;
  if (error && (error.message || error.message_en)) {
    return String((lang === 'en' ? error.message_en : error.message) || error.message || error.message_en);
  }
  return t.http(status);
}

/**
 * A form-js module that puts the platform's file field in place of form-js' own.
 *
 * options: { lang: 'vi'|'en', uploadUrl, removeUrl(ref), downloadUrl(ref), csrf, maxBytes, onBusy(delta) }
 * (without uploadUrl the field only shows its files).
 */
export function fileFieldModule(options) {
  const t = TEXT[options.lang] || TEXT.vi;
  let uploadCount = 0;

  function send(file, field, onProgress) {
    return new Promise((resolve, reject) => {
      const body = new FormData();
      body.append('file', file, file.name);
      body.append('field', field.id || '');
      body.append('key', field.key || '');
      body.append('csrf_token', options.csrf || '');
      const request = new XMLHttpRequest();
      request.open('POST', options.uploadUrl);
      request.setRequestHeader('Accept', 'application/json');
      request.responseType = 'json';
      request.upload.onprogress = (event) => {
        if (event.lengthComputable && event.total) {
          onProgress(Math.round((100 * event.loaded) / event.total));
        }
      };
      request.onload = () => {
        const [uploaded] = fileList([request.response]);
        if (request.status === 201 && uploaded) {
          resolve(uploaded);
        } else {
          reject(new Error(errorText(request.response, request.status, t, options.lang)));
        }
      };
      request.onerror = () => reject(new Error(t.network));
      request.send(body);
    });
  }

  function removeOnServer(ref) {
    if (!options.removeUrl) {
      return;
    }
    // Best effort: the server refuses files it must keep (filed in an earlier step), and
    // completing the task drops any upload its data no longer name.
    fetch(options.removeUrl(ref), {
      method: 'DELETE', credentials: 'same-origin', headers: { 'X-CSRFToken': options.csrf || '', Accept: 'application/json' },
    }).catch((err) => console.warn('attachment not removed', err));
  }

  function FileItem({ file, onRemove }) {
    return h('li', { class: 'd-flex align-items-center gap-2 py-1 border-bottom fjs-attachment' }, [
      h('a', { class: 'fjs-attachment-name text-break', href: options.downloadUrl(file.ref), download: file.name }, file.name),
      h('span', { class: 'text-muted small text-nowrap' }, sizeText(file.size, options.lang)),
      onRemove && h('button', {
        type: 'button', class: 'btn btn-sm btn-outline-danger ms-auto py-0', 'aria-label': t.removeFile(file.name),
        onClick: () => onRemove(file),
      }, t.remove),
    ]);
  }

  function UploadItem({ upload }) {
    return h('li', { class: 'd-flex align-items-center gap-2 py-1 fjs-attachment-uploading' }, [
      h('span', { class: 'fjs-attachment-name text-break' }, upload.name),
      h('progress', { class: 'flex-grow-1', max: 100, value: upload.percent, 'aria-label': t.uploading(upload.name) }),
      h('span', { class: 'small text-muted text-nowrap' }, `${upload.percent}%`),
    ]);
  }

  function PlatformFilePicker(props) {
    const { field, value, onChange, domId, errors = [], disabled, readonly } = props;
    const files = fileList(value);
    const latest = useRef(files);
    latest.current = files;
    const input = useRef(null);
    const [uploads, setUploads] = useState([]);
    const [problems, setProblems] = useState([]);
    const editable = Boolean(options.uploadUrl) && !disabled && !readonly;
    const multiple = field.multiple === true;
    const errorId = `${domId}-error-message`;
    const shownErrors = [...errors, ...problems];

    const setFiles = (next) => {
      latest.current = next;
      onChange({ value: next });
    };

    const uploadOne = async (file) => {
      const id = `upload-${++uploadCount}`;
      setUploads((list) => [...list, { id, name: file.name, percent: 0 }]);
      options.onBusy(1);
      try {
        const uploaded = await send(file, field, (percent) => setUploads(
          (list) => list.map((u) => (u.id === id ? { ...u, percent } : u))));
        if (multiple) {
          setFiles([...latest.current, uploaded]);
        } else {
          const replaced = latest.current;
          setFiles([uploaded]);
          replaced.forEach((old) => removeOnServer(old.ref));
        }
        return null;
      } catch (err) {
        return t.failed(file.name, err.message);
      } finally {
        setUploads((list) => list.filter((u) => u.id !== id));
        options.onBusy(-1);
      }
    };

    const onPick = async (event) => {
      const chosen = Array.from(event.target.files || []);
      event.target.value = ''; // picking the same file again must fire "change"
      const messages = [];
      setProblems([]);
      for (const file of multiple ? chosen : chosen.slice(0, 1)) {
        if (options.maxBytes && file.size > options.maxBytes) {
          messages.push(t.tooLarge(file.name, sizeText(options.maxBytes, options.lang)));
          continue;
        }
        const problem = await uploadOne(file); // one at a time: the list grows in the order picked
        if (problem) {
          messages.push(problem);
        }
      }
      setProblems(messages);
    };

    const onRemove = (file) => {
      setProblems([]);
      setFiles(latest.current.filter((f) => f.ref !== file.ref));
      removeOnServer(file.ref);
    };

    const list = files.length || uploads.length
      ? h('ul', { class: 'list-unstyled mb-1 fjs-attachment-list' }, [
        ...files.map((file) => h(FileItem, { key: file.ref, file, onRemove: editable ? onRemove : null })),
        ...uploads.map((upload) => h(UploadItem, { key: upload.id, upload })),
      ])
      : h('p', { class: 'text-muted small mb-1 fjs-attachment-none' }, t.none);

    const classes = ['fjs-form-field', 'fjs-form-field-filepicker'];
    if (shownErrors.length) {
      classes.push('fjs-has-errors');
    }
    if (disabled) {
      classes.push('fjs-disabled');
    }
    if (readonly) {
      classes.push('fjs-readonly');
    }
    return h('div', { class: classes.join(' ') }, [
      h(Label, { htmlFor: domId, label: field.label, required: editable && field.validate && field.validate.required }),
      editable && h('input', {
        type: 'file', class: 'fjs-hidden', ref: input, id: domId, name: domId, multiple: multiple || undefined,
        accept: field.accept || undefined, onChange: onPick, 'aria-describedby': errorId,
      }),
      list,
      editable && h('div', { class: 'd-flex flex-wrap align-items-center gap-2' }, [
        h('button', {
          type: 'button', class: 'fjs-button btn btn-sm btn-outline-primary fjs-attachment-choose',
          'aria-label': t.chooseFor(field.label || field.key || '', multiple), 'aria-describedby': errorId,
          onClick: () => input.current && input.current.click(),
        }, t.choose(multiple)),
        h('span', { class: 'small text-muted' },
          t.accepts(acceptedKinds(field.accept), sizeText(options.maxBytes || 0, options.lang))),
      ]),
      h(Description, { description: field.description, id: `${domId}-description` }),
      h(Errors, { errors: shownErrors, id: errorId }),
    ]);
  }

  PlatformFilePicker.config = {
    ...FormJsFilePicker.config,
    emptyValue: [],
    sanitizeValue: ({ value }) => fileList(value),
  };

  class PlatformFileField {
    constructor(formFields) {
      formFields.register(FormJsFilePicker.config.type, PlatformFilePicker);
    }
  }
  PlatformFileField.$inject = ['formFields'];

  return { __init__: ['platformFileField'], platformFileField: ['type', PlatformFileField] };
}
