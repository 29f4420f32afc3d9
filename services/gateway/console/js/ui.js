// Shared widgets in DSFR: escaping, French numbers and dates, alerts, toasts, form fields with
// the API's error shown on the field it names, badges, breadcrumbs, pagination, charts, tables.
import { render } from './main.js';
import { ABANDON, PHASES, word } from './words.js';

function esc(v) {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  }[c]));
}

const num = (v, digits = 1) => Number(v).toLocaleString('fr-FR', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const int = (v) => Number(v || 0).toLocaleString('fr-FR');

function date(ts) {
  if (!ts) return '';
  const d = new Date(ts);
  return isNaN(d) ? '' : d.toLocaleDateString('fr-FR', { timeZone: 'UTC' });
}

function longDate(ts) {
  if (!ts) return '';
  const d = new Date(ts);
  return isNaN(d) ? '' : d.toLocaleDateString('fr-FR', { timeZone: 'UTC', day: 'numeric', month: 'long', year: 'numeric' });
}

function alertBox(kind, message, title) {
  return `<div class="fr-alert fr-alert--${kind} fr-alert--sm fr-mb-2w" role="${kind === 'error' ? 'alert' : 'status'}">
    ${title ? `<p class="fr-alert__title">${esc(title)}</p>` : ''}<p>${esc(message)}</p></div>`;
}

function toast(message, isError) {
  const t = document.getElementById('toast');
  t.innerHTML = alertBox(isError ? 'error' : 'success', message);
}

function go(path) {
  history.pushState({}, '', path);
  render();
}

// --- forms: DSFR fields, and the API's error shown on the field it names ---------------------

function field(id, label, { name, type = 'text', value = '', required = false, hint = '', attrs = '' } = {}) {
  const input = type === 'textarea'
    ? `<textarea class="fr-input" id="${id}" name="${esc(name || id)}" ${required ? 'required' : ''} ${attrs}>${esc(value)}</textarea>`
    : `<input class="fr-input" id="${id}" name="${esc(name || id)}" type="${type}" value="${esc(value)}" ${required ? 'required' : ''} ${attrs}>`;
  return `<div class="fr-input-group" data-field="${esc(name || id)}">
    <label class="fr-label" for="${id}">${esc(label)}${hint ? `<span class="fr-hint-text">${esc(hint)}</span>` : ''}</label>
    ${input}</div>`;
}

function select(id, label, name, options, { selected = undefined, hint = '' } = {}) {
  return `<div class="fr-select-group" data-field="${esc(name)}">
    <label class="fr-label" for="${id}">${esc(label)}${hint ? `<span class="fr-hint-text">${esc(hint)}</span>` : ''}</label>
    <select class="fr-select" id="${id}" name="${esc(name)}">
      ${options.map(([v, l]) => `<option value="${esc(v)}"${v === selected ? ' selected' : ''}>${esc(l)}</option>`).join('')}
    </select></div>`;
}

const submit = (label) => `<div class="fr-mt-2w"><button class="fr-btn" type="submit">${esc(label)}</button></div>
  <div class="form-error" aria-live="assertive"></div>`;

// Runs a form's action. An error from the API is shown as a DSFR alert, and on the field it
// names ("rationale: …" marks the Motif field) so the person sees where to correct.
function onSubmit(form, action) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const out = form.querySelector('.form-error');
    form.querySelectorAll('.fr-input-group--error, .fr-select-group--error').forEach((g) => {
      g.classList.remove('fr-input-group--error', 'fr-select-group--error');
      g.querySelector('.fr-error-text')?.remove();
    });
    if (out) out.innerHTML = '';
    const button = form.querySelector('button[type="submit"]');
    if (button) button.disabled = true;
    try {
      await action(new FormData(form));
    } catch (e) {
      const m = /^([a-z_][a-z0-9_.]*(?:\[\d+\])?):\s/.exec(e.message || '');
      const group = m && form.querySelector(`[data-field="${CSS.escape(m[1].replace(/\[\d+\]$/, ''))}"]`);
      if (group) {
        group.classList.add(group.classList.contains('fr-select-group') ? 'fr-select-group--error' : 'fr-input-group--error');
        group.insertAdjacentHTML('beforeend', `<p class="fr-error-text">${esc(e.message)}</p>`);
      }
      if (out) out.innerHTML = alertBox('error', e.message, 'Erreur');
    } finally {
      if (button && button.isConnected) button.disabled = false;
    }
  });
}

function badge(text, kind) {
  return `<p class="fr-badge fr-badge--sm${kind ? ' fr-badge--' + kind : ''}">${esc(text)}</p>`;
}

function phaseBadge(phase) {
  const kind = ABANDON.has(phase) ? 'error' : phase === 'PHASE_TRANSFERRED' || phase === 'PHASE_OPERATED' ? 'success' : 'info';
  return badge(word(PHASES, phase), kind);
}

function breadcrumb(items) {
  return `<nav role="navigation" class="fr-breadcrumb" aria-label="vous êtes ici :">
    <button type="button" class="fr-breadcrumb__button" aria-expanded="false" aria-controls="breadcrumb">Voir le fil d'Ariane</button>
    <div class="fr-collapse" id="breadcrumb"><ol class="fr-breadcrumb__list">
      ${items.map(([href, label], i) => `<li>${i === items.length - 1
    ? `<a class="fr-breadcrumb__link" aria-current="page">${esc(label)}</a>`
    : `<a class="fr-breadcrumb__link" href="${esc(href)}">${esc(label)}</a>`}</li>`).join('')}
    </ol></div></nav>`;
}

// DSFR pagination over `total` items, `size` a page; `href(page)` keeps the other filters.
function pagination(page, pages, href) {
  if (pages <= 1) return '';
  const link = (p, label, cls, extra = '') => `<li><a class="fr-pagination__link ${cls}" href="${esc(href(p))}" ${extra}>${label}</a></li>`;
  const off = (label, cls) => `<li><a class="fr-pagination__link ${cls}" aria-disabled="true" role="link">${label}</a></li>`;
  const around = [];
  for (let p = Math.max(1, page - 2); p <= Math.min(pages, page + 2); p += 1) around.push(p);
  return `<nav role="navigation" class="fr-pagination fr-mt-3w" aria-label="Pagination"><ul class="fr-pagination__list">
    ${page > 1 ? link(1, 'Première page', 'fr-pagination__link--first') + link(page - 1, 'Page précédente', 'fr-pagination__link--prev fr-pagination__link--lg-label')
    : off('Première page', 'fr-pagination__link--first') + off('Page précédente', 'fr-pagination__link--prev fr-pagination__link--lg-label')}
    ${around.map((p) => (p === page ? `<li><a class="fr-pagination__link" aria-current="page" title="Page ${p}">${p}</a></li>`
    : link(p, String(p), '', `title="Page ${p}"`))).join('')}
    ${page < pages ? link(page + 1, 'Page suivante', 'fr-pagination__link--next fr-pagination__link--lg-label') + link(pages, 'Dernière page', 'fr-pagination__link--last')
    : off('Page suivante', 'fr-pagination__link--next fr-pagination__link--lg-label') + off('Dernière page', 'fr-pagination__link--last')}
  </ul></nav>`;
}

// DSFR Chart web components take their series as JSON in attributes.
function barChart(labels, values, name, { horizontal = false } = {}) {
  if (!labels.length) return '<p>Aucune donnée à représenter.</p>';
  return `<bar-chart x='${esc(JSON.stringify([labels]))}' y='${esc(JSON.stringify([values]))}'
    name='${esc(JSON.stringify([name]))}' selected-palette="categorical"${horizontal ? ' horizontal="true"' : ''}></bar-chart>`;
}

// The same figures as a table, for whoever does not see the picture (and to check it).
function dataTable(caption, head, rows, id = '') {
  return `<div class="fr-table fr-table--sm fr-mt-2w"${id ? ` id="${id}"` : ''}><div class="fr-table__wrapper"><div class="fr-table__container"><div class="fr-table__content">
    <table><caption>${esc(caption)}</caption>
    <thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead>
    <tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('') || `<tr><td colspan="${head.length}">Aucune donnée.</td></tr>`}</tbody>
    </table></div></div></div></div>`;
}

export {
  alertBox, badge, barChart, breadcrumb, dataTable, date,
  esc, field, go, int, longDate, num,
  onSubmit, pagination, phaseBadge, select, submit, toast,
};
