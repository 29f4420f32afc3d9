// The API client: every call goes through api(); progress for slow calls; paged lists; exports
// downloaded with a check that they arrived whole; idempotency keys.
import { main } from './session.js';
import { alertBox, num } from './ui.js';

// A slow call shows progress: a bar under the header after 300 ms, and the word for screen readers.
let pending = 0;
let progressTimer = null;
function busy(delta) {
  pending += delta;
  const bar = document.getElementById('progress');
  if (pending > 0 && !progressTimer && bar.hidden) {
    progressTimer = setTimeout(() => {
      progressTimer = null;
      if (pending > 0) {
        bar.hidden = false;
        document.getElementById('progress-text').textContent = 'Chargement en cours…';
        main().setAttribute('aria-busy', 'true');
      }
    }, 300);
  }
  if (pending === 0) {
    clearTimeout(progressTimer);
    progressTimer = null;
    bar.hidden = true;
    document.getElementById('progress-text').textContent = '';
    main().removeAttribute('aria-busy');
  }
}

// The session cookie goes along (same origin); the browser's Origin header lets the gateway
// refuse the same request made from another site. An error carries the API's message, which
// names the field ("title: must not be empty").
async function api(method, path, body) {
  const headers = {};
  const init = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) {
    headers['Content-Type'] = typeof body === 'string' ? 'application/x-ndjson' : 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  busy(1);
  try {
    const r = await fetch(path, init);
    const text = await r.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { message: text }; }
    if (!r.ok) {
      const err = new Error((data && data.message) || ('HTTP ' + r.status));
      err.status = r.status;
      throw err;
    }
    return data;
  } finally {
    busy(-1);
  }
}

// Every item of a paged list (`path` already has its query), following next_page_token.
async function allPages(path, field) {
  const out = [];
  let token = '';
  do {
    const r = await api('GET', path + (token ? '&page_token=' + encodeURIComponent(token) : ''));
    out.push(...(r[field] || []));
    token = r.next_page_token || '';
  } while (token);
  return out;
}

// A key of its own for each answer or push: two people submitting in the same millisecond must
// never share one (the gateway scopes it to the client as well).
function idempotencyKey(prefix) {
  if (window.crypto && crypto.randomUUID) return prefix + crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return prefix + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// Downloads an export. The gateway ends a body that broke mid-way without its final chunk, so
// the browser's read fails and the person is told, instead of receiving a file that looks whole.
async function download(path, filename, status) {
  status.innerHTML = alertBox('info', 'Export en cours…');
  busy(1);
  try {
    const r = await fetch(path, { credentials: 'same-origin' });
    if (!r.ok) {
      let message = 'HTTP ' + r.status;
      try { message = (await r.json()).message || message; } catch (e) { /* not JSON */ }
      throw new Error(message);
    }
    const blob = await r.blob();  // rejects when the body was cut short
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = filename;
    document.body.appendChild(a);
    a.click();
    a.remove();
    status.innerHTML = alertBox('success', `Export terminé (${num(blob.size / 1024, 0)} Kio).`);
  } catch (e) {
    status.innerHTML = alertBox('error', 'Export interrompu, le fichier serait incomplet : ' + e.message);
  } finally {
    busy(-1);
  }
}

export {
  allPages, api, busy, download, idempotencyKey, pending,
  progressTimer,
};
