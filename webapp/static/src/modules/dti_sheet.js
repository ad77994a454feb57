/*
 * The DTI scoring sheet (templates/dti/sheet.html), rendered once by the server; this module only:
 *
 *   - recomputes the running totals (each parent, each group, overall; self and final) as the officer
 *     types, from the lines' data attributes (points are kept in hundredths, like the server);
 *   - checks a score against [0, max] (and 0 / half / max for full/half/zero items, which are selects)
 *     before sending, and shows the error next to the line;
 *   - saves every change at once, one line per request (PUT …/scores/<code>/self or /expert, with the
 *     session's CSRF token in X-CSRFToken), showing "Đang lưu…" / "Đã lưu" / the server's error per line;
 *   - uploads evidence files with a progress bar (POST …/evidence, multipart with csrf_token), removes
 *     them, sends the unit's one response per adjusted line, and shows a line's history on demand;
 *   - collapses groups (native <details>) and parent indicators (their descendants' rows are hidden);
 *   - holds the step's submit button back while a save is still running.
 */

const TEXT = {
  vi: {
    saving: 'Đang lưu…',
    saved: 'Đã lưu',
    notNumber: 'Điểm phải là một số (ví dụ 2 hoặc 2,5).',
    negative: 'Điểm không được âm.',
    precise: 'Điểm chỉ được tối đa hai chữ số thập phân.',
    tooHigh: (max) => `Điểm tối đa là ${max}.`,
    reasonNeeded: 'Điểm khác điểm tự đánh giá: phải nêu lý do điều chỉnh.',
    network: 'Không lưu được: mất kết nối mạng; thay đổi sẽ được gửi lại khi bạn sửa tiếp.',
    http: (status) => `Không lưu được (lỗi ${status}); hãy tải lại trang.`,
    uploading: (name) => `Đang tải lên “${name}”…`,
    tooLarge: (name, limit) => `Tệp “${name}” quá lớn (tối đa ${limit}).`,
    remove: 'Xóa',
    removeFile: (name) => `Xóa tệp ${name}`,
    emptyResponse: 'Nội dung phản hồi không được để trống.',
    responseLabel: 'Phản hồi của đơn vị',
    noHistory: 'Chưa có thay đổi nào.',
    history: ['Lúc', 'Người thực hiện', 'Nội dung', 'Trước', 'Sau', 'Lý do / ghi chú'],
    waiting: 'Đang chờ lưu xong các thay đổi…',
  },
  en: {
    saving: 'Saving…',
    saved: 'Saved',
    notNumber: 'The score must be a number (e.g. 2 or 2.5).',
    negative: 'The score may not be negative.',
    precise: 'The score may have at most two decimals.',
    tooHigh: (max) => `The maximum is ${max}.`,
    reasonNeeded: "The score differs from the unit's: give the reason for the adjustment.",
    network: 'Not saved: the network is down; the change is sent again when you edit the line.',
    http: (status) => `Not saved (error ${status}); reload the page.`,
    uploading: (name) => `Uploading “${name}”…`,
    tooLarge: (name, limit) => `“${name}” is too large (at most ${limit}).`,
    remove: 'Remove',
    removeFile: (name) => `Remove file ${name}`,
    emptyResponse: 'The response may not be empty.',
    responseLabel: "The unit's response",
    noHistory: 'No change yet.',
    history: ['When', 'By', 'What', 'Before', 'After', 'Reason / note'],
    waiting: 'Waiting for the changes to be saved…',
  },
};

/** Points as typed ("2,5", "2.5", "") → hundredths, null for empty, or {error}. */
export function parsePoints(raw, max, method, t) {
  const text = String(raw ?? '').trim().replace(',', '.');
  if (!text) {
    return { value: null };
  }
  if (!/^\d*(\.\d*)?$/.test(text) || text === '.') {
    return { error: /^-/.test(text) ? t.negative : t.notNumber };
  }
  const [whole, fraction = ''] = text.split('.');
  if (fraction.replace(/0+$/, '').length > 2) {
    return { error: t.precise };
  }
  const centi = Number(whole || '0') * 100 + Number((fraction + '00').slice(0, 2));
  if (centi > max) {
    return { error: t.tooHigh(pointsText(max)) };
  }
  if (method === 'muc' && ![0, Math.floor(max / 2), max].includes(centi)) {
    return { error: t.tooHigh(pointsText(max)) };
  }
  return { value: centi };
}

/** Hundredths → "12,5" (Vietnamese decimal comma, no trailing zeros). */
export function pointsText(centi) {
  if (centi === null || centi === undefined || centi === '') {
    return '';
  }
  const whole = Math.trunc(centi / 100);
  const rest = Math.abs(centi % 100);
  if (!rest) {
    return String(whole);
  }
  return `${whole},${String(rest).padStart(2, '0').replace(/0$/, '')}`;
}

function numberOrNull(value) {
  return value === '' || value === undefined || value === null ? null : Number(value);
}

function errorText(payload, status, t, lang) {
  const error = payload && payload.error;
  if (error && (error.message || error.message_en)) {
    return String((lang === 'en' ? error.message_en : error.message) || error.message || error.message_en);
  }
  return t.http(status);
}

function sizeText(bytes) {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(0)} MB` : `${Math.round(bytes / 1024)} KB`;
}

export function initSheet(root) {
  const lang = root.dataset.lang === 'en' ? 'en' : 'vi';
  const t = TEXT[lang];
  const csrf = root.dataset.csrf || '';
  const base = root.dataset.base;
  const maxBytes = Number(root.dataset.maxBytes) || 0;
  const lines = new Map();
  root.querySelectorAll('.dti-line').forEach((el) => lines.set(el.dataset.code, el));
  const leaves = [...root.querySelectorAll('.dti-leaf')];
  let busy = 0;

  // ---------------------------------------------------------------- totals

  function leafValues(el) {
    const own = numberOrNull(el.dataset.self);
    const expert = numberOrNull(el.dataset.expert);
    return { own, final: expert !== null ? expert : own };
  }

  function recompute() {
    const sums = new Map();
    const groups = new Map();
    let own = 0;
    let final = 0;
    let missing = 0;
    for (const el of leaves) {
      const v = leafValues(el);
      if (v.own === null) {
        missing += 1;
      }
      own += v.own || 0;
      final += v.final || 0;
      const g = groups.get(el.dataset.group) || { own: 0, final: 0 };
      g.own += v.own || 0;
      g.final += v.final || 0;
      groups.set(el.dataset.group, g);
      for (let parent = el.dataset.parent; parent; parent = lines.get(parent)?.dataset.parent) {
        const s = sums.get(parent) || { own: 0, final: 0 };
        s.own += v.own || 0;
        s.final += v.final || 0;
        sums.set(parent, s);
      }
    }
    for (const [code, s] of sums) {
      const el = lines.get(code);
      el.querySelector('.dti-sum-self').textContent = pointsText(s.own);
      const fin = el.querySelector('.dti-sum-final');
      if (fin) {
        fin.textContent = pointsText(s.final);
      }
    }
    root.querySelectorAll('.dti-group').forEach((section) => {
      const g = groups.get(section.dataset.group) || { own: 0, final: 0 };
      section.querySelector('[data-group-total="self"]').textContent = pointsText(g.own);
      const fin = section.querySelector('[data-group-total="final"]');
      if (fin) {
        fin.textContent = pointsText(g.final);
      }
    });
    root.querySelector('[data-total="self"]').textContent = pointsText(own);
    const fin = root.querySelector('[data-total="final"]');
    if (fin) {
      fin.textContent = pointsText(final);
    }
    const count = root.querySelector('.dti-missing-count');
    if (count) {
      count.textContent = String(missing);
    }
  }

  // ---------------------------------------------------------------- saving

  function status(el, message, kind) {
    const box = el.querySelector('.dti-line-main .dti-status');
    box.textContent = message;
    box.className = `dti-status small dti-status-${kind}`;
    el.classList.toggle('dti-line-error', kind === 'error');
  }

  function request(method, url, body) {
    busy += 1;
    const headers = { Accept: 'application/json', 'X-CSRFToken': csrf };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
    }
    return fetch(url, { method, credentials: 'same-origin', headers, body: body === undefined ? undefined : JSON.stringify(body) })
      .then(async (response) => {
        const payload = await response.json().catch(() => null);
        if (!response.ok) {
          throw new Error(errorText(payload, response.status, t, lang));
        }
        return payload;
      }, () => { throw new Error(t.network); })
      .finally(() => { busy -= 1; });
  }

  function urlFor(el, suffix) {
    return `${base}/scores/${encodeURIComponent(el.dataset.code)}/${suffix}`;
  }

  /** One save in flight per line; a change made meanwhile is sent when it returns. */
  function queueSave(el, kind) {
    const state = el._dti || (el._dti = { running: false, again: false, last: null });
    if (state.running) {
      state.again = true;
      return;
    }
    const body = kind === 'self' ? selfBody(el) : expertBody(el);
    if (!body) {
      return;
    }
    const key = `${kind}:${JSON.stringify(body)}`;
    if (key === state.last) {
      return;
    }
    state.running = true;
    status(el, t.saving, 'saving');
    request('PUT', urlFor(el, kind), body).then((saved) => {
      state.last = key;
      el.dataset.self = saved.self_score ?? '';
      if (kind === 'expert' || root.dataset.showExpert === '1') {
        el.dataset.expert = saved.expert_score ?? '';
      }
      el.classList.toggle('dti-adjusted', Boolean(saved.adjusted));
      status(el, t.saved, 'saved');
      recompute();
    }, (err) => {
      status(el, err.message, 'error');
    }).finally(() => {
      state.running = false;
      if (state.again) {
        state.again = false;
        queueSave(el, kind);
      }
    });
  }

  function selfBody(el) {
    const input = el.querySelector('.dti-self-input');
    const parsed = parsePoints(input.value, Number(el.dataset.max), el.dataset.method, t);
    if (parsed.error) {
      status(el, parsed.error, 'error');
      return null;
    }
    const note = el.querySelector('.dti-note-input');
    return { score: parsed.value === null ? null : pointsText(parsed.value).replace(',', '.'), note: note ? note.value : null };
  }

  function expertBody(el) {
    const input = el.querySelector('.dti-expert-input');
    const parsed = parsePoints(input.value, Number(el.dataset.max), el.dataset.method, t);
    if (parsed.error) {
      status(el, parsed.error, 'error');
      return null;
    }
    const reason = el.querySelector('.dti-reason-input');
    const own = numberOrNull(el.dataset.self);
    if (parsed.value !== null && parsed.value !== own && !reason.value.trim()) {
      status(el, t.reasonNeeded, 'error');
      reason.classList.add('is-invalid');
      return null;
    }
    reason.classList.remove('is-invalid');
    return { score: parsed.value === null ? null : pointsText(parsed.value).replace(',', '.'), reason: reason.value };
  }

  function onTyping(el, kind) {
    const input = el.querySelector(kind === 'self' ? '.dti-self-input' : '.dti-expert-input');
    const parsed = parsePoints(input.value, Number(el.dataset.max), el.dataset.method, t);
    input.classList.toggle('is-invalid', Boolean(parsed.error));
    if (parsed.error) {
      status(el, parsed.error, 'error');
      return;
    }
    status(el, '', 'idle');
    // The totals follow what is typed at once; the line is saved when the field is left (or after a pause).
    el.dataset[kind === 'self' ? 'self' : 'expert'] = parsed.value ?? '';
    recompute();
    clearTimeout(el._dtiTimer);
    el._dtiTimer = setTimeout(() => queueSave(el, kind), 800);
  }

  for (const el of leaves) {
    const self = el.querySelector('.dti-self-input');
    if (self) {
      self.addEventListener('input', () => onTyping(el, 'self'));
      self.addEventListener('change', () => { clearTimeout(el._dtiTimer); queueSave(el, 'self'); });
      el.querySelector('.dti-note-input')?.addEventListener('change', () => queueSave(el, 'self'));
    }
    const expert = el.querySelector('.dti-expert-input');
    if (expert) {
      expert.addEventListener('input', () => onTyping(el, 'expert'));
      expert.addEventListener('change', () => { clearTimeout(el._dtiTimer); queueSave(el, 'expert'); });
      el.querySelector('.dti-reason-input')?.addEventListener('change', () => queueSave(el, 'expert'));
    }
  }

  // ---------------------------------------------------------------- evidence

  function fileItem(el, file) {
    const li = document.createElement('li');
    li.dataset.id = file.id;
    const link = document.createElement('a');
    link.href = file.url;
    link.textContent = file.name;
    li.append(link, ' ');
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.className = 'btn btn-link btn-sm p-0 dti-file-remove';
    remove.dataset.url = file.remove;
    remove.textContent = t.remove;
    remove.setAttribute('aria-label', t.removeFile(file.name));
    li.append(remove);
    return li;
  }

  function upload(el, file) {
    const error = el.querySelector('.dti-file-error');
    const bar = el.querySelector('.dti-progress');
    error.textContent = '';
    if (maxBytes && file.size > maxBytes) {
      error.textContent = t.tooLarge(file.name, sizeText(maxBytes));
      return;
    }
    const body = new FormData();
    body.append('file', file, file.name);
    body.append('csrf_token', csrf);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', urlFor(el, 'evidence'));
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.responseType = 'json';
    bar.hidden = false;
    bar.value = 0;
    status(el, t.uploading(file.name), 'saving');
    busy += 1;
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total) {
        bar.value = Math.round((100 * event.loaded) / event.total);
      }
    };
    const done = () => { busy -= 1; bar.hidden = true; };
    xhr.onload = () => {
      done();
      if (xhr.status === 201 && xhr.response) {
        el.querySelector('.dti-files').append(fileItem(el, xhr.response));
        el.dataset.evidence = String(Number(el.dataset.evidence || 0) + 1);
        status(el, t.saved, 'saved');
      } else {
        error.textContent = errorText(xhr.response, xhr.status, t, lang);
        status(el, '', 'idle');
      }
    };
    xhr.onerror = () => { done(); error.textContent = t.network; status(el, '', 'idle'); };
    xhr.send(body);
  }

  root.addEventListener('change', (event) => {
    const input = event.target.closest('.dti-file-input');
    if (input && input.files && input.files.length) {
      const el = input.closest('.dti-leaf');
      [...input.files].forEach((file) => upload(el, file));
      input.value = '';
    }
  });

  root.addEventListener('click', (event) => {
    const remove = event.target.closest('.dti-file-remove');
    if (remove) {
      const el = remove.closest('.dti-leaf');
      request('DELETE', remove.dataset.url).then(() => {
        remove.closest('li').remove();
        el.dataset.evidence = String(Math.max(0, Number(el.dataset.evidence || 0) - 1));
        status(el, t.saved, 'saved');
      }, (err) => { el.querySelector('.dti-file-error').textContent = err.message; });
      return;
    }
    const send = event.target.closest('.dti-response-send');
    if (send) {
      respond(send.closest('.dti-leaf'));
      return;
    }
    const historyButton = event.target.closest('.dti-history-button');
    if (historyButton) {
      toggleHistory(historyButton.closest('.dti-leaf'), historyButton);
      return;
    }
    const toggle = event.target.closest('.dti-toggle');
    if (toggle) {
      const parent = toggle.closest('.dti-parent');
      setCollapsed(parent, toggle.getAttribute('aria-expanded') === 'true');
    }
  });

  // ---------------------------------------------------------------- response, history

  function respond(el) {
    const box = el.querySelector('.dti-response');
    const input = box.querySelector('.dti-response-input');
    if (!input.value.trim()) {
      status(el, t.emptyResponse, 'error');
      return;
    }
    status(el, t.saving, 'saving');
    request('POST', urlFor(el, 'response'), { text: input.value }).then((saved) => {
      const shown = document.createElement('div');
      shown.className = 'dti-response-text small';
      const label = document.createElement('span');
      label.className = 'fw-semibold';
      label.textContent = `${t.responseLabel}: `;
      shown.append(label, saved.response || input.value);
      box.replaceWith(shown);
      status(el, t.saved, 'saved');
    }, (err) => status(el, err.message, 'error'));
  }

  function toggleHistory(el, button) {
    const box = el.querySelector('.dti-history');
    if (!box.hidden) {
      box.hidden = true;
      button.setAttribute('aria-expanded', 'false');
      return;
    }
    request('GET', urlFor(el, 'history')).then((changes) => {
      box.replaceChildren();
      if (!changes.length) {
        box.textContent = t.noHistory;
      } else {
        const table = document.createElement('table');
        table.className = 'table table-sm table-bordered small mb-0 dti-history-table';
        const head = table.createTHead().insertRow();
        t.history.forEach((label) => { const th = document.createElement('th'); th.scope = 'col'; th.textContent = label; head.append(th); });
        const body = table.createTBody();
        changes.forEach((c) => {
          const row = body.insertRow();
          [c.at, c.actor, c.kind, c.old, c.new, c.text].forEach((value) => { row.insertCell().textContent = value || ''; });
        });
        box.append(table);
      }
      box.hidden = false;
      button.setAttribute('aria-expanded', 'true');
    }, (err) => status(el, err.message, 'error'));
  }

  // ---------------------------------------------------------------- collapsing

  function descendants(code) {
    return [...lines.values()].filter((el) => {
      for (let parent = el.dataset.parent; parent; parent = lines.get(parent)?.dataset.parent) {
        if (parent === code) {
          return true;
        }
      }
      return false;
    });
  }

  function setCollapsed(parent, collapsed) {
    const toggle = parent.querySelector('.dti-toggle');
    toggle.setAttribute('aria-expanded', collapsed ? 'false' : 'true');
    parent.classList.toggle('dti-collapsed', collapsed);
    const closed = new Set([...root.querySelectorAll('.dti-parent.dti-collapsed')].map((el) => el.dataset.code));
    for (const el of descendants(parent.dataset.code)) {
      let hidden = false;
      for (let p = el.dataset.parent; p; p = lines.get(p)?.dataset.parent) {
        hidden = hidden || closed.has(p);
      }
      el.hidden = hidden;
    }
  }

  root.querySelector('.dti-expand-all')?.addEventListener('click', () => {
    root.querySelectorAll('.dti-group').forEach((g) => { g.open = true; });
    root.querySelectorAll('.dti-parent.dti-collapsed').forEach((p) => setCollapsed(p, false));
  });
  root.querySelector('.dti-collapse-all')?.addEventListener('click', () => {
    root.querySelectorAll('.dti-group').forEach((g) => { g.open = false; });
  });

  // ---------------------------------------------------------------- the step's button

  const stepForm = document.querySelector('.dti-step-form');
  if (stepForm) {
    stepForm.addEventListener('submit', (event) => {
      if (busy > 0) {
        event.preventDefault();
        stepForm.querySelector('.dti-step-wait').textContent = t.waiting;
        setTimeout(() => stepForm.requestSubmit(), 300);
      }
    });
  }
  window.addEventListener('beforeunload', (event) => {
    if (busy > 0) {
      event.preventDefault();
    }
  });
  recompute();
  root.dataset.ready = 'true'; // the listeners are in place: what a user types from now on is counted and saved
}
