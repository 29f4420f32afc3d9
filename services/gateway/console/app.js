// Pépinière's web console: plain JavaScript over the REST gateway, in the State design system
// (DSFR, served by the gateway from local files — closed networks have no CDN), with DSFR Chart
// web components for the bar and line charts and SVG drawn here for the phase timeline. French
// UI, English code. Pages are rendered from the URL (history API), and every filter of a list
// lives in its query string, so a view can be shared. Every call goes through api(). People
// sign in with their administration account (ProConnect, OpenID Connect): the gateway keeps the
// session and the browser only an HttpOnly cookie — this page holds no secret.
'use strict';

const main = () => document.getElementById('main');
const NOBODY = { role: 'public', roles: [], actor: '', scope: '', via: '' };
let me = NOBODY;
const has = (role) => (me.roles || []).includes(role);
const teamStartups = () => (me.scope || '').split(',').filter((s) => s.startsWith('startup:')).map((s) => s.slice(8));
const jurorChallenges = () => (me.scope || '').split(',').filter((s) => s.startsWith('challenge:')).map((s) => s.slice(10));

// --- words: every enum the API speaks, in French ---------------------------------------------

const ROLE_LABELS = { coordinator: 'Coordination', juror: 'Juré', product_team: "Membre de l'équipe", agent: 'Agent' };
const PHASES = {
  PHASE_INVESTIGATION: 'Investigation', PHASE_CONSTRUCTION: 'Construction',
  PHASE_ACCELERATION: 'Accélération', PHASE_CONSOLIDATION: 'Consolidation',
  PHASE_TRANSFERRED: 'Transférée', PHASE_OPERATED: 'Opérée',
  PHASE_ABANDONED_IN_INVESTIGATION: 'Abandonnée (investigation)', PHASE_ABANDONED: 'Abandonnée',
};
// GetPortfolioStats keys its counts by the short name ("CONSTRUCTION").
const phaseOfStatsKey = (k) => 'PHASE_' + k;
// The beta.gouv.fr model, as pep-incubation enforces it (incubation_core.cc TransitionAllowed).
const NEXT_PHASES = {
  PHASE_INVESTIGATION: ['PHASE_CONSTRUCTION', 'PHASE_ABANDONED_IN_INVESTIGATION'],
  PHASE_CONSTRUCTION: ['PHASE_ACCELERATION', 'PHASE_ABANDONED'],
  PHASE_ACCELERATION: ['PHASE_CONSOLIDATION', 'PHASE_ABANDONED'],
  PHASE_CONSOLIDATION: ['PHASE_TRANSFERRED', 'PHASE_OPERATED', 'PHASE_ABANDONED'],
};
const ABANDON = new Set(['PHASE_ABANDONED', 'PHASE_ABANDONED_IN_INVESTIGATION']);
const OUTCOMES = {
  COMMITTEE_OUTCOME_GO: 'GO (passage à la phase suivante)', COMMITTEE_OUTCOME_EXTEND: 'Prolongation de la phase',
  COMMITTEE_OUTCOME_PIVOT: 'Pivot', COMMITTEE_OUTCOME_STOP: 'STOP (abandon)',
  COMMITTEE_OUTCOME_UNSPECIFIED: 'Décision non renseignée',
};
const MILESTONE_KINDS = {
  MILESTONE_KIND_PRODUCT_LAUNCH: 'Mise en production', MILESTONE_KIND_USERS_REACHED: 'Usagers atteints',
  MILESTONE_KIND_KPI: 'Indicateur', MILESTONE_KIND_FUNDING: 'Financement', MILESTONE_KIND_TEAM: 'Équipe',
  MILESTONE_KIND_OTHER: 'Autre', MILESTONE_KIND_UNSPECIFIED: 'Non précisé',
};
const IDEA_STATUS = {
  IDEA_STATUS_SUBMITTED: 'Déposées', IDEA_STATUS_SHORTLISTED: 'Présélectionnées',
  IDEA_STATUS_AWARDED: 'Primées', IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION: 'Retenues',
  IDEA_STATUS_REJECTED: 'Écartées', IDEA_STATUS_WITHDRAWN: 'Retirées',
};
const IDEA_STATUS_ONE = {
  IDEA_STATUS_SUBMITTED: 'Déposée', IDEA_STATUS_SHORTLISTED: 'Présélectionnée', IDEA_STATUS_AWARDED: 'Primée',
  IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION: 'Retenue pour expérimentation', IDEA_STATUS_REJECTED: 'Écartée',
  IDEA_STATUS_WITHDRAWN: 'Retirée',
};
const CHALLENGE_STATUS = {
  CHALLENGE_STATUS_DRAFT: 'Brouillon', CHALLENGE_STATUS_OPEN: 'Ouvert', CHALLENGE_STATUS_CLOSED: 'Clos',
};
const BANDS = {
  BAND_GREEN: ['Bon', 'success'], BAND_YELLOW: ['Moyen', 'new'], BAND_RED: ['Insuffisant', 'error'],
  BAND_INSUFFICIENT_DATA: ['Données insuffisantes', 'info'],
};
const SORTS = {
  name: 'Nom', phase: 'Phase', incubator: 'Incubateur', phase_since: 'Date d\'entrée dans la phase',
  last_milestone_at: 'Dernier jalon', created_at: 'Date de création',
};
const word = (table, key) => table[key] || key || '';

// --- helpers ---------------------------------------------------------------------------------

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

function alertBox(kind, message, title) {
  return `<div class="fr-alert fr-alert--${kind} fr-alert--sm fr-mb-2w" role="${kind === 'error' ? 'alert' : 'status'}">
    ${title ? `<p class="fr-alert__title">${esc(title)}</p>` : ''}<p>${esc(message)}</p></div>`;
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

// --- pages ----------------------------------------------------------------------------------

function signIn() {
  const back = encodeURIComponent(location.pathname === '/' ? '/' : location.pathname + location.search);
  main().innerHTML = me.sign_in_available ? `
    <h1>Connexion</h1>
    <p>Connectez-vous avec le compte de votre administration. À la première connexion, un compte
      d'agent est créé : vous pouvez déposer des idées aux défis ouverts et suivre les vôtres.</p>
    <div class="fr-connect-group">
      <a class="fr-connect" id="proconnect" href="/auth/login?return_to=${back}">
        <span class="fr-connect__login">Se connecter avec</span> <span class="fr-connect__brand">ProConnect</span></a>
    </div>
    <p class="fr-text--sm">Les équipes qui publient depuis leur CI utilisent un jeton d'accès (<code>pepctl</code>), pas cette page.</p>` : `
    <h1>Connexion</h1>
    ${alertBox('warning', "Aucun fournisseur d'identité n'est configuré sur cette passerelle (--oidc_issuer) : seuls les jetons d'accès (pepctl) fonctionnent.")}`;
}

async function challenges() {
  const data = await api('GET', '/v1/challenges');
  const rows = (data.challenges || []).map((c) => [
    `<a href="/defis/${esc(c.id)}">${esc(c.title)}</a>`, badge(word(CHALLENGE_STATUS, c.status), c.status === 'CHALLENGE_STATUS_OPEN' ? 'success' : ''),
    esc(c.theme), int((c.juror_ids || []).length)]);
  main().innerHTML = `
    <h1>Défis</h1>
    ${dataTable("Défis de l'incubateur", ['Titre', 'Statut', 'Thème', 'Jurés'], rows)}
    ${has('coordinator') ? `
    <h2 class="fr-mt-4w">Créer un défi</h2>
    <form id="new-challenge" class="pep-form">
      ${field('c-title', 'Titre du défi', { name: 'title', required: true })}
      ${field('c-theme', 'Thème', { name: 'theme', value: 'simplification' })}
      ${field('c-criteria', 'Critères (séparés par des virgules)', { name: 'criteria', value: 'impact, faisabilité' })}
      ${field('c-quorum', 'Quorum du jury', { name: 'jury_quorum', type: 'number', value: '1', attrs: 'min="1"' })}
      ${submit('Créer le défi')}
    </form>` : ''}`;
  const form = document.getElementById('new-challenge');
  if (form) {
    onSubmit(form, async (f) => {
      const c = await api('POST', '/v1/challenges', {
        title: f.get('title'), theme: f.get('theme'), jury_quorum: Number(f.get('jury_quorum')),
        criteria: String(f.get('criteria')).split(',').map((s) => s.trim()).filter(Boolean)
          .map((name) => ({ name, weight: 1 })),
      });
      toast('Défi créé');
      go('/defis/' + c.id);
    });
  }
}

async function accountNames() {
  if (!has('coordinator')) return {};
  try {
    const list = await api('GET', '/v1/accounts');
    return Object.fromEntries((list.accounts || []).map((a) => [a.id, a.display_name || a.email]));
  } catch (e) { return {}; }
}

async function challenge(id) {
  const enc = encodeURIComponent(id);
  const c = await api('GET', '/v1/challenges/' + enc);
  const ideas = await allPages(`/v1/challenges/${enc}/ideas?page_size=500`, 'ideas');  // a challenge may gather thousands
  const columns = Object.keys(IDEA_STATUS).map((s) => {
    const of = ideas.filter((i) => i.status === s);
    return `<section class="pep-column" aria-label="${esc(IDEA_STATUS[s])}">
      <h3 class="fr-h6">${esc(IDEA_STATUS[s])} <span class="fr-badge fr-badge--sm">${int(of.length)}</span></h3>
      <ul class="pep-cards">${of.map((i) => `<li><a href="/idees/${esc(i.id)}">${esc(i.title)}</a><br>
        <span class="fr-text--xs">${esc(i.author_name)} — ${esc(i.department)}</span></li>`).join('')}</ul></section>`;
  }).join('');
  const onJury = (c.juror_ids || []).includes(me.actor);
  const isCoord = has('coordinator');
  let ranking = '';
  let progress = '';
  if (isCoord || onJury) {
    const [r, cards, names] = await Promise.all([
      api('GET', `/v1/challenges/${enc}/ranking`),
      api('GET', `/v1/challenges/${enc}/scores`),
      accountNames()]);
    ranking = `<h2 class="fr-mt-4w">Classement</h2>${dataTable(`Classement (quorum : ${r.jury_quorum} grille${r.jury_quorum > 1 ? 's' : ''})`,
      ['Rang', 'Idée', 'Statut', 'Moyenne pondérée /5', 'Grilles'],
      (r.ideas || []).map((i) => [int(i.rank), `<a href="/idees/${esc(i.idea_id)}">${esc(i.title)}</a>`, esc(word(IDEA_STATUS_ONE, i.status)),
        i.scorecard_count ? num(i.weighted_mean, 2) : '—',
        `${int(i.scorecard_count)}${i.quorum_reached ? ' ' + badge('quorum atteint', 'success') : ''}`]), 'ranking')}`;
    // The jury's progress: for each juror, the ideas they scored and those still to score.
    const scored = {};
    for (const s of cards.scorecards || []) (scored[s.juror_id] ||= new Set()).add(s.idea_id);
    progress = `<h2 class="fr-mt-4w">Avancement du jury</h2>${dataTable('Idées évaluées par chaque juré',
      ['Juré', 'Idées évaluées', 'Reste à évaluer'],
      (c.juror_ids || []).map((j) => {
        const { done, left } = juryTally(ideas, scored[j] || new Set());
        return [esc(names[j] || (j === me.actor ? 'Vous' : j)),
          `${int(done)} <progress max="${done + left.length || 1}" value="${done}" aria-hidden="true"></progress>`, int(left.length)];
      }), 'jury-progress')}`;
  }
  main().innerHTML = `
    ${breadcrumb([['/defis', 'Défis'], ['', c.title]])}
    <h1>Défi : ${esc(c.title)}</h1>
    <p>Statut : <strong>${esc(word(CHALLENGE_STATUS, c.status))}</strong> — jurés : ${(c.juror_ids || []).length || 'aucun'}${onJury ? ' (dont vous)' : ''}
      — ${int(ideas.length)} idée${ideas.length > 1 ? 's' : ''}</p>
    ${isCoord ? `<ul class="fr-btns-group fr-btns-group--inline-md">
      ${c.status === 'CHALLENGE_STATUS_DRAFT' ? '<li><button class="fr-btn" type="button" id="open">Ouvrir le défi</button></li>' : ''}
      ${c.status === 'CHALLENGE_STATUS_OPEN' ? '<li><button class="fr-btn fr-btn--secondary" type="button" id="close">Clore le défi</button></li>' : ''}
    </ul>
    <p>Pour désigner un juré : <a href="/comptes">Comptes et droits</a>.</p>` : ''}
    <h2>Idées par statut</h2><div class="pep-pipeline">${columns}</div>
    ${ranking}${progress}
    ${(isCoord || has('agent')) && c.status === 'CHALLENGE_STATUS_OPEN' ? `
    <h2 class="fr-mt-4w">Déposer une idée</h2>
    <form id="new-idea" class="pep-form">
      ${field('i-title', "Titre de l'idée", { name: 'title', required: true })}
      ${field('i-problem', 'Problème constaté', { name: 'problem', type: 'textarea', required: true })}
      ${field('i-proposal', 'Proposition', { name: 'proposal', type: 'textarea', required: true })}
      ${field('i-author', 'Votre nom', { name: 'author_name', required: true })}
      ${field('i-dept', 'Direction ou service', { name: 'department', required: true })}
      ${field('i-email', 'Courriel professionnel', { name: 'contact_email', type: 'email', required: true })}
      ${submit("Déposer l'idée")}
    </form>` : ''}`;
  const transition = (verb) => async () => {
    try {
      await api('POST', `/v1/challenges/${enc}:${verb}`);
      toast(verb === 'open' ? 'Défi ouvert' : 'Défi clos');
      render();
    } catch (e) { toast('Erreur : ' + e.message, true); }
  };
  document.getElementById('open')?.addEventListener('click', transition('open'));
  document.getElementById('close')?.addEventListener('click', transition('close'));
  const form = document.getElementById('new-idea');
  if (form) {
    onSubmit(form, async (f) => {
      const r = await api('POST', `/v1/challenges/${enc}/ideas`, Object.fromEntries(f.entries()));
      toast('Idée déposée' + ((r.similar_ideas || []).length ? ' (des idées proches existent)' : ''));
      render();
    });
  }
}

// What a juror has scored of a challenge, and what is left: the ideas not decided beyond the
// shortlist that have no scorecard of theirs (withdrawn ones count for neither).
function juryTally(ideas, scoredIds) {
  const live = ideas.filter((i) => i.status !== 'IDEA_STATUS_WITHDRAWN');
  return {
    done: live.filter((i) => scoredIds.has(i.id)).length,
    left: live.filter((i) => !scoredIds.has(i.id) && (i.status === 'IDEA_STATUS_SUBMITTED' || i.status === 'IDEA_STATUS_SHORTLISTED')),
  };
}

// A juror's own page: the challenges they sit on, and for each the ideas they have yet to score.
async function jury() {
  const all = (await api('GET', '/v1/challenges')).challenges || [];
  const mine = all.filter((c) => (c.juror_ids || []).includes(me.actor) || jurorChallenges().includes(c.id));
  const sections = await Promise.all(mine.map(async (c) => {
    const enc = encodeURIComponent(c.id);
    const [ideas, cards] = await Promise.all([
      allPages(`/v1/challenges/${enc}/ideas?page_size=500`, 'ideas'), api('GET', `/v1/challenges/${enc}/scores`)]);
    const { done, left } = juryTally(ideas,
      new Set((cards.scorecards || []).filter((s) => s.juror_id === me.actor).map((s) => s.idea_id)));
    return `<section class="fr-mb-4w" aria-labelledby="jury-${esc(c.id)}">
      <h2 id="jury-${esc(c.id)}"><a href="/defis/${esc(c.id)}">${esc(c.title)}</a></h2>
      <p>${badge(word(CHALLENGE_STATUS, c.status))} Vous avez évalué ${int(done)} idée(s) ; ${left.length ? `il en reste ${int(left.length)} à évaluer` : 'il n\'en reste aucune'}.</p>
      ${left.length ? `<ul class="pep-todo">${left.map((i) => `<li><a href="/idees/${esc(i.id)}">${esc(i.title)}</a>
        <span class="fr-text--xs"> — ${esc(i.department)}</span></li>`).join('')}</ul>`
    : alertBox('success', 'Toutes les idées de ce défi ont votre évaluation.')}</section>`;
  }));
  main().innerHTML = `<h1>Mon jury</h1>
    ${sections.join('') || alertBox('info', "Vous n'êtes juré d'aucun défi pour l'instant.")}`;
}

async function idea(id) {
  const i = await api('GET', '/v1/ideas/' + encodeURIComponent(id));
  const c = await api('GET', '/v1/challenges/' + encodeURIComponent(i.challenge_id));
  let cards = [];
  const onJury = (c.juror_ids || []).includes(me.actor);
  if (has('coordinator') || onJury) {
    cards = (await api('GET', `/v1/ideas/${encodeURIComponent(id)}/scores`)).scorecards || [];
  }
  const mine = cards.find((s) => s.juror_id === me.actor);
  const names = await accountNames();
  const criteria = c.criteria || [];
  const decidable = i.status !== 'IDEA_STATUS_WITHDRAWN' && i.status !== 'IDEA_STATUS_REJECTED' &&
    i.status !== 'IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION';
  main().innerHTML = `
    ${breadcrumb([['/defis', 'Défis'], ['/defis/' + c.id, c.title], ['', i.title]])}
    <h1>Idée : ${esc(i.title)}</h1>
    <p>Statut : <strong>${esc(word(IDEA_STATUS_ONE, i.status))}</strong> —
       par ${esc(i.author_name)} (${esc(i.department)}), déposée le ${longDate(i.submitted_at)}</p>
    <h2>Problème</h2><p>${esc(i.problem)}</p><h2>Proposition</h2><p>${esc(i.proposal)}</p>
    ${cards.length ? `<h2>Grilles d'évaluation</h2>${dataTable('Évaluations du jury', ['Juré', 'Note pondérée /5', 'Commentaire', 'Le'],
      cards.map((s) => [esc(names[s.juror_id] || (s.juror_id === me.actor ? 'Vous' : s.juror_id)), num(s.weighted_score, 2), esc(s.comment), date(s.scored_at)]))}` : ''}
    ${onJury ? `<h2 class="fr-mt-4w">${mine ? 'Modifier mon évaluation' : 'Évaluer'}</h2><form id="score" class="pep-form">
      ${criteria.map((k, n) => field(`s-${n}`, `Note « ${k.name} » (0 à 5)`, { name: k.name, type: 'number', required: true,
    hint: `Poids ${num(k.weight, 0)}`, attrs: 'min="0" max="5" step="1"',
    value: mine ? String((mine.scores || []).find((x) => x.criterion === k.name)?.score ?? '') : '' })).join('')}
      ${field('s-comment', 'Commentaire', { name: '__comment', type: 'textarea', value: mine ? mine.comment : '' })}
      ${submit("Enregistrer l'évaluation")}</form>` : ''}
    ${has('coordinator') && decidable ? `<h2 class="fr-mt-4w">Décider</h2><form id="decide" class="pep-form">
      ${select('d-outcome', 'Décision', 'decision', [['IDEA_STATUS_SHORTLISTED', 'Présélectionner'], ['IDEA_STATUS_AWARDED', 'Primer'],
    ['IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION', 'Retenir pour expérimentation'], ['IDEA_STATUS_REJECTED', 'Écarter']])}
      ${field('d-rationale', 'Motif', { name: 'rationale' })}
      ${field('d-prize', 'Prix (si primée)', { name: 'prize' })}
      ${submit('Enregistrer la décision')}</form>` : ''}`;
  const score = document.getElementById('score');
  if (score) {
    onSubmit(score, async (f) => {
      await api('POST', `/v1/ideas/${encodeURIComponent(id)}/scores`, {
        scores: criteria.map((k) => ({ criterion: k.name, score: Number(f.get(k.name)) })),
        comment: f.get('__comment') || '',
      });
      toast('Évaluation enregistrée');
      render();
    });
  }
  const decide = document.getElementById('decide');
  if (decide) {
    onSubmit(decide, async (f) => {
      await api('POST', `/v1/ideas/${encodeURIComponent(id)}:decide`, Object.fromEntries(f.entries()));
      toast('Décision enregistrée');
      render();
    });
  }
}

// --- portfolio: a table paged, sorted and filtered by pep-incubation; the filters in the URL --

const PAGE_SIZE = 50;

async function portfolio() {
  const q = new URLSearchParams(location.search);
  const page = Math.max(1, parseInt(q.get('page') || '1', 10) || 1);
  const order = q.get('tri') || 'name';
  const desc = q.get('ordre') === 'desc';
  const api_q = new URLSearchParams({ page_size: String(PAGE_SIZE), skip: String((page - 1) * PAGE_SIZE),
    order_by: order + (desc ? ' desc' : '') });
  if (q.get('q')) api_q.set('query', q.get('q'));
  if (q.get('phase')) api_q.set('phase', q.get('phase'));
  if (q.get('incubateur')) api_q.set('incubator', q.get('incubateur'));
  if (q.get('sponsor')) api_q.set('sponsor', q.get('sponsor'));
  if (q.get('retard') === '1') api_q.set('overdue_only', 'true');
  const statsQ = q.get('incubateur') ? '?incubator=' + encodeURIComponent(q.get('incubateur')) : '';
  const [list, stats, overdue] = await Promise.all([
    api('GET', '/v1/startups?' + api_q),
    api('GET', '/v1/portfolio/stats' + statsQ),
    api('GET', '/v1/startups?overdue_only=true&order_by=phase_since&page_size=20' + (q.get('incubateur') ? '&incubator=' + encodeURIComponent(q.get('incubateur')) : '')),
  ]);
  const startups = list.startups || [];
  const total = list.total_size || 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const href = (changes) => {
    const n = new URLSearchParams(location.search);
    for (const [k, v] of Object.entries(changes)) { if (v === '' || v === null) n.delete(k); else n.set(k, v); }
    const s = n.toString();
    return '/portefeuille' + (s ? '?' + s : '');
  };
  const sortHeader = (key, label) => {
    const active = order === key;
    const next = active && !desc ? 'desc' : '';
    return `<th scope="col" ${active ? `aria-sort="${desc ? 'descending' : 'ascending'}"` : ''}>
      <a href="${esc(href({ tri: key, ordre: next, page: '' }))}" title="Trier par ${esc(label.toLowerCase())}">${esc(label)}${active ? (desc ? ' ↓' : ' ↑') : ''}</a></th>`;
  };
  const byPhase = stats.startups_by_phase || {};
  const phaseKeys = Object.keys(PHASES).filter((p) => byPhase[p.slice(6)] !== undefined);
  const years = stats.transitions_per_year || [];
  const first = (page - 1) * PAGE_SIZE;
  main().innerHTML = `
    <h1>Portefeuille</h1>
    <p id="portfolio-count">${int(stats.total)} start-up${stats.total > 1 ? 's' : ''} dans le portefeuille${q.get('incubateur') ? ' de ' + esc(q.get('incubateur')) : ''},
      dont ${int(stats.overdue)} en retard.</p>
    <form id="filters" class="pep-filters" role="search" aria-label="Filtrer le portefeuille">
      <div class="fr-search-bar" id="search-portfolio">
        <label class="fr-label" for="f-q">Rechercher (nom, mission, identifiant)</label>
        <input class="fr-input" type="search" id="f-q" name="q" value="${esc(q.get('q') || '')}" placeholder="Rechercher (nom, mission, identifiant)">
        <button class="fr-btn" type="submit" title="Rechercher">Rechercher</button>
      </div>
      <div class="pep-filter-row">
        ${select('f-phase', 'Phase', 'phase', [['', 'Toutes les phases'], ...Object.entries(PHASES)], { selected: q.get('phase') || '' })}
        ${field('f-incubator', 'Incubateur', { name: 'incubateur', value: q.get('incubateur') || '' })}
        ${field('f-sponsor', 'Administration porteuse', { name: 'sponsor', value: q.get('sponsor') || '' })}
        <div class="fr-fieldset__element"><div class="fr-checkbox-group">
          <input type="checkbox" id="f-overdue" name="retard" value="1"${q.get('retard') === '1' ? ' checked' : ''}>
          <label class="fr-label" for="f-overdue">En retard seulement</label></div></div>
        ${select('f-sort', 'Trier par', 'tri', Object.entries(SORTS), { selected: order })}
        ${select('f-order', 'Ordre', 'ordre', [['', 'Croissant'], ['desc', 'Décroissant']], { selected: desc ? 'desc' : '' })}
      </div>
      <ul class="fr-btns-group fr-btns-group--inline-sm">
        <li><button class="fr-btn" type="submit">Appliquer les filtres</button></li>
        <li><a class="fr-btn fr-btn--tertiary" href="/portefeuille">Effacer les filtres</a></li>
      </ul>
    </form>
    <div class="fr-table fr-table--sm" id="portfolio-table"><div class="fr-table__wrapper"><div class="fr-table__container"><div class="fr-table__content">
      <table><caption>Start-ups ${total ? `${int(first + 1)} à ${int(first + startups.length)} sur ${int(total)}` : ': aucune ne correspond aux filtres'}</caption>
      <thead><tr>${sortHeader('name', 'Nom')}${sortHeader('phase', 'Phase')}${sortHeader('incubator', 'Incubateur')}
        <th scope="col">Administrations porteuses</th>${sortHeader('phase_since', 'Dans la phase depuis')}${sortHeader('last_milestone_at', 'Dernier jalon')}<th scope="col">Alerte</th></tr></thead>
      <tbody>${startups.map((s) => {
    const since = (s.phases || []).length ? s.phases[s.phases.length - 1].start : '';
    return `<tr><td><a href="/startups/${esc(s.id)}">${esc(s.name)}</a><br><span class="fr-text--xs">${esc(s.slug)}</span></td>
          <td>${phaseBadge(s.phase)}</td><td>${esc(s.incubator)}</td><td>${esc((s.sponsors || []).join(', '))}</td>
          <td>${date(since)}</td><td>${date(s.last_milestone_at) || '—'}</td>
          <td>${s.overdue ? `<p class="fr-badge fr-badge--sm fr-badge--warning" title="${esc((s.overdue_reasons || []).join(' ; '))}">En retard</p>` : ''}</td></tr>`;
  }).join('') || '<tr><td colspan="7">Aucune start-up ne correspond à ces filtres.</td></tr>'}</tbody></table>
    </div></div></div></div>
    ${pagination(page, pages, (p) => href({ page: p === 1 ? '' : String(p) }))}
    <div class="fr-grid-row fr-grid-row--gutters fr-mt-4w">
      <div class="fr-col-12 fr-col-md-6">
        <h2 class="fr-h4">Start-ups par phase</h2>
        <figure class="pep-chart" id="chart-phases" aria-label="Nombre de start-ups par phase">
          ${barChart(phaseKeys.map((p) => PHASES[p]), phaseKeys.map((p) => byPhase[p.slice(6)]), 'Start-ups')}</figure>
        ${dataTable('Start-ups par phase', ['Phase', 'Start-ups'], phaseKeys.map((p) => [
    `<a href="${esc(href({ phase: p, page: '' }))}">${esc(PHASES[p])}</a>`, int(byPhase[p.slice(6)])]), 'phase-counts')}
      </div>
      <div class="fr-col-12 fr-col-md-6">
        <h2 class="fr-h4">Changements de phase par année</h2>
        <figure class="pep-chart" id="chart-years" aria-label="Changements de phase par année">
          ${barChart(years.map((y) => String(y.year)), years.map((y) => y.transitions), 'Changements de phase')}</figure>
        ${dataTable('Changements de phase par année', ['Année', 'Changements'], years.map((y) => [esc(String(y.year)), int(y.transitions)]))}
      </div>
    </div>
    <h2 class="fr-h4 fr-mt-4w">En retard</h2>
    ${dataTable(`Start-ups en retard (${int(stats.overdue)}), les plus anciennes dans leur phase d'abord`, ['Start-up', 'Phase', 'Raisons'],
    (overdue.startups || []).map((s) => [`<a href="/startups/${esc(s.id)}">${esc(s.name)}</a>`, phaseBadge(s.phase),
      `<ul>${(s.overdue_reasons || []).map((r) => `<li>${esc(r)}</li>`).join('')}</ul>`]), 'overdue')}
    ${stats.overdue > 20 ? `<p><a href="${esc(href({ retard: '1', page: '' }))}">Voir les ${int(stats.overdue)} start-ups en retard</a></p>` : ''}`;
  onSubmit(document.getElementById('filters'), async (f) => {
    const n = new URLSearchParams();
    for (const [k, v] of f.entries()) if (v) n.set(k, v);
    if (n.get('tri') === 'name') n.delete('tri');
    go('/portefeuille' + (n.toString() ? '?' + n : ''));
  });
}

// --- a start-up ------------------------------------------------------------------------------

// The phase history as a picture: one bar per phase on a time axis, committee decisions as
// diamonds and milestones as dots; every mark has its words in a <title> and the list below.
function phaseTimeline(s, decisions, milestones) {
  const periods = s.phases || [];
  if (!periods.length) return '';
  const now = Date.now();
  const t = (ts) => new Date(ts).getTime();
  const start = Math.min(t(periods[0].start), ...milestones.map((m) => t(m.date)), ...decisions.map((d) => t(d.date)));
  const end = Math.max(now, ...periods.map((p) => (p.end ? t(p.end) : now)));
  const W = 900, left = 150, right = 20, rowH = 26, top = 30;
  const rows = [...new Set(periods.map((p) => p.phase))];
  const H = top + rows.length * rowH + 50;
  const x = (ms) => left + ((ms - start) / Math.max(1, end - start)) * (W - left - right);
  const ticks = [];
  for (let y = new Date(start).getUTCFullYear(); y <= new Date(end).getUTCFullYear(); y += 1) {
    const ms = Date.UTC(y, 0, 1);
    if (ms >= start && ms <= end) ticks.push([ms, y]);
  }
  const bars = periods.map((p) => {
    const r = rows.indexOf(p.phase);
    const x0 = x(t(p.start));
    const x1 = x(p.end ? t(p.end) : now);
    return `<rect class="pep-phase pep-phase--${p.phase.toLowerCase().replace(/_/g, '-')}" x="${x0}" y="${top + r * rowH + 4}"
      width="${Math.max(3, x1 - x0)}" height="${rowH - 8}" rx="3"><title>${esc(PHASES[p.phase] || p.phase)} : du ${date(p.start)}${p.end ? ' au ' + date(p.end) : " à aujourd'hui"}</title></rect>`;
  }).join('');
  const axisY = top + rows.length * rowH + 8;
  const marks = decisions.map((d) => {
    const cx = x(t(d.date));
    return `<path class="pep-mark-decision" d="M${cx} ${axisY + 4} l7 7 l-7 7 l-7 -7 z"><title>Comité du ${date(d.date)} : ${esc(word(OUTCOMES, d.outcome))}</title></path>`;
  }).join('') + milestones.map((m) => `<circle class="pep-mark-milestone" cx="${x(t(m.date))}" cy="${axisY + 30}" r="5"><title>Jalon du ${date(m.date)} : ${esc(m.title)}</title></circle>`).join('');
  return `<figure class="pep-gantt" id="phase-picture">
    <svg role="img" aria-labelledby="gantt-title" viewBox="0 0 ${W} ${H}" preserveAspectRatio="xMinYMin meet">
      <title id="gantt-title">Frise des phases de ${esc(s.name)} : ${periods.map((p) => `${PHASES[p.phase] || p.phase} du ${date(p.start)}${p.end ? ' au ' + date(p.end) : " à aujourd'hui"}`).join(' ; ')}</title>
      ${rows.map((p, r) => `<text class="pep-gantt-label" x="${left - 8}" y="${top + r * rowH + rowH / 2 + 5}" text-anchor="end">${esc(PHASES[p] || p)}</text>`).join('')}
      ${ticks.map(([ms, y]) => `<line class="pep-gantt-grid" x1="${x(ms)}" x2="${x(ms)}" y1="${top - 6}" y2="${axisY}"/><text class="pep-gantt-tick" x="${x(ms) + 3}" y="${top - 10}">${y}</text>`).join('')}
      <line class="pep-gantt-grid pep-gantt-now" x1="${x(now)}" x2="${x(now)}" y1="${top - 6}" y2="${axisY}"/>
      <text class="pep-gantt-label" x="${left - 8}" y="${axisY + 16}" text-anchor="end">Comités</text>
      <text class="pep-gantt-label" x="${left - 8}" y="${axisY + 35}" text-anchor="end">Jalons</text>
      ${bars}${marks}
    </svg>
    <figcaption class="fr-text--sm">Barres : phases ; losanges : décisions du comité ; points : jalons. Trait vertical : aujourd'hui.</figcaption>
  </figure>`;
}

// Satisfaction over time, with the colour bands (green from 8, yellow from 5, red below) and the
// "données insuffisantes" state when too few people answered for a colour.
function feedbackChart(summary) {
  const buckets = (summary.buckets || []).filter((b) => b.scores && b.scores.answers > 0);
  if (!buckets.length) return alertBox('info', "Pas encore d'avis sur la période.");
  const W = 720, H = 220, left = 40, right = 16, top = 12, bottom = 28;
  const x = (n) => left + (buckets.length === 1 ? (W - left - right) / 2 : n * (W - left - right) / (buckets.length - 1));
  const y = (v) => top + (1 - v / 10) * (H - top - bottom);
  const pts = buckets.map((b, n) => [x(n), b.scores.satisfaction === undefined ? null : y(b.scores.satisfaction), b]);
  const line = pts.filter((p) => p[1] !== null).map((p) => `${p[0]},${p[1]}`).join(' ');
  const label = (b) => `${date(b.start)} : ${b.scores.satisfaction === undefined ? 'sans note' : num(b.scores.satisfaction) + '/10'}, ${int(b.scores.answers)} avis${b.scores.band === 'BAND_INSUFFICIENT_DATA' ? ' (données insuffisantes)' : ''}`;
  return `<figure class="pep-feedback-chart" id="feedback-chart">
    <svg role="img" aria-label="Satisfaction des usagers par jour, sur 10, avec les seuils de couleur" viewBox="0 0 ${W} ${H}" preserveAspectRatio="xMinYMin meet">
      <rect class="pep-band pep-band--green" x="${left}" y="${y(10)}" width="${W - left - right}" height="${y(8) - y(10)}"/>
      <rect class="pep-band pep-band--yellow" x="${left}" y="${y(8)}" width="${W - left - right}" height="${y(5) - y(8)}"/>
      <rect class="pep-band pep-band--red" x="${left}" y="${y(5)}" width="${W - left - right}" height="${y(0) - y(5)}"/>
      ${[0, 5, 8, 10].map((v) => `<text class="pep-gantt-tick" x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`).join('')}
      <polyline points="${line}" class="pep-series"/>
      ${pts.filter((p) => p[1] !== null).map(([cx, cy, b]) => `<circle class="${b.scores.band === 'BAND_INSUFFICIENT_DATA' ? 'pep-point pep-point--weak' : 'pep-point'}" cx="${cx}" cy="${cy}" r="5"><title>${esc(label(b))}</title></circle>`).join('')}
      <text class="pep-gantt-tick" x="${left}" y="${H - 8}">${date(buckets[0].start)}</text>
      <text class="pep-gantt-tick" x="${W - right}" y="${H - 8}" text-anchor="end">${date(buckets[buckets.length - 1].start)}</text>
    </svg>
    <figcaption class="fr-text--sm">Satisfaction par jour (sur 10) — ${int(buckets.reduce((a, b) => a + b.scores.answers, 0))} avis.
      Bandes : vert à partir de 8, jaune de 5 à 8, rouge en dessous ; point creux : moins de ${int(summary.threshold)} avis, données insuffisantes pour une couleur.</figcaption>
  </figure>`;
}

// KPIs as the team reported them, latest value of each with its date.
function kpis(milestones) {
  const latest = {};
  for (const m of [...milestones].sort((a, b) => (a.date < b.date ? -1 : 1))) {
    for (const k of m.kpis || []) latest[k.name + '\u0000' + (k.unit || '')] = { ...k, date: m.date };
  }
  const list = Object.values(latest);
  if (!list.length) return '<p>Aucun indicateur publié avec les jalons.</p>';
  return `<div class="fr-grid-row fr-grid-row--gutters" id="kpis">${list.map((k) => `<div class="fr-col-6 fr-col-md-3">
    <div class="fr-tile fr-tile--sm"><div class="fr-tile__body"><div class="fr-tile__content">
      <h3 class="fr-tile__title">${esc(num(k.value, Number.isInteger(k.value) ? 0 : 1))}${k.unit ? ' ' + esc(k.unit) : ''}</h3>
      <p class="fr-tile__desc">${esc(k.name)}</p><p class="fr-tile__detail">au ${date(k.date)}</p></div></div></div></div>`).join('')}</div>`;
}

const TIMELINE_PAGE = 25;

async function startup(id) {
  const enc = encodeURIComponent(id);
  const q = new URLSearchParams(location.search);
  const d = await api('GET', '/v1/startups/' + enc);
  const s = d.startup;
  const isCoord = has('coordinator');
  const [ms, timelineData, summary, rollingData] = await Promise.all([
    api('GET', `/v1/startups/${enc}/milestones`),
    api('GET', `/v1/startups/${enc}/timeline`).catch(() => ({ entries: [] })),
    api('GET', `/v1/startups/${enc}/feedback/summary?granularity=GRANULARITY_DAY`).catch(() => ({ buckets: [] })),
    api('GET', `/v1/startups/${enc}/feedback/summary?granularity=GRANULARITY_ROLLING_12_MONTHS`).catch(() => ({ buckets: [] })),
  ]);
  const milestones = ms.milestones || [];
  const decisions = d.decisions || [];
  const timeline = (timelineData.entries || []).slice().reverse();  // newest first
  const tPages = Math.max(1, Math.ceil(timeline.length / TIMELINE_PAGE));
  const tPage = Math.min(tPages, Math.max(1, parseInt(q.get('chronologie') || '1', 10) || 1));
  const shown = timeline.slice((tPage - 1) * TIMELINE_PAGE, tPage * TIMELINE_PAGE);
  const rolling = (rollingData.buckets || [])[0];
  const band = rolling && rolling.scores ? BANDS[rolling.scores.band] : null;
  const next = NEXT_PHASES[s.phase] || [];
  const unused = decisions.filter((x) => !x.used);
  main().innerHTML = `
    ${isCoord ? breadcrumb([['/portefeuille', 'Portefeuille'], ['', s.name]]) : ''}
    <h1>Start-up : ${esc(s.name)}</h1>
    <p class="pep-badges">Phase : <strong id="phase">${esc(word(PHASES, s.phase))}</strong> — ${esc(s.incubator)}
      ${s.overdue ? `<span class="fr-badge fr-badge--sm fr-badge--warning">En retard</span>` : ''}</p>
    ${s.overdue ? alertBox('warning', (s.overdue_reasons || []).join(' ; '), 'En retard') : ''}
    <p>${esc(s.mission)}</p>
    <p>${(s.sponsors || []).length ? 'Administrations porteuses : ' + esc(s.sponsors.join(', ')) + ' — ' : ''}
      <a href="/avis/${esc(s.id)}">Formulaire public « Je donne mon avis »</a></p>

    <h2>Historique des phases</h2>
    ${phaseTimeline(s, decisions, milestones)}
    <ol class="pep-phase-list">${(s.phases || []).map((p) => `<li>${esc(word(PHASES, p.phase))} depuis le ${date(p.start)}${p.end ? ' jusqu\'au ' + date(p.end) : ''}${p.comment ? ' — ' + esc(p.comment) : ''}</li>`).join('')}</ol>
    ${decisions.length ? dataTable('Décisions du comité', ['Date', 'Décision', 'Motif', 'Participants'],
    decisions.map((x) => [date(x.date), esc(word(OUTCOMES, x.outcome)), esc(x.rationale), esc((x.participants || []).join(', '))])) : ''}

    <h2 class="fr-mt-4w">Indicateurs</h2>
    ${kpis(milestones)}

    <h2 class="fr-mt-4w">Jalons</h2>
    <ul id="milestones">${milestones.map((m) => `<li>${date(m.date)} — ${esc(m.title)} ${badge(word(MILESTONE_KINDS, m.kind))}</li>`).join('') || '<li>Aucun jalon.</li>'}</ul>
    ${isCoord || teamStartups().includes(s.id) ? `<form id="milestone" class="pep-form"><h3>Publier un jalon</h3>
      ${field('m-title', 'Titre du jalon', { name: 'title', required: true })}
      ${select('m-kind', 'Type', 'kind', Object.entries(MILESTONE_KINDS).filter(([k]) => k !== 'MILESTONE_KIND_UNSPECIFIED'))}
      ${field('m-date', 'Date', { name: 'date', type: 'date', value: new Date().toISOString().slice(0, 10) })}
      ${field('m-kpi-name', 'Indicateur (facultatif)', { name: 'kpi_name', hint: 'Par exemple : usagers actifs' })}
      ${field('m-kpi-value', "Valeur de l'indicateur", { name: 'kpi_value', type: 'number', attrs: 'step="any"' })}
      ${submit('Publier le jalon')}</form>` : ''}

    ${isCoord ? (next.length ? `<form id="committee" class="pep-form fr-mt-4w"><h3>Comité et changement de phase</h3>
      <p class="fr-text--sm">Depuis « ${esc(word(PHASES, s.phase))} », les phases possibles sont : ${next.map((p) => esc(PHASES[p])).join(', ')}.</p>
      ${select('k-outcome', 'Décision du comité', 'outcome', Object.entries(OUTCOMES).filter(([k]) => k !== 'COMMITTEE_OUTCOME_UNSPECIFIED'))}
      ${field('k-participants', 'Participants (séparés par des virgules)', { name: 'participants', value: 'DGS', required: true })}
      ${field('k-rationale', 'Motif', { name: 'rationale', required: true })}
      ${select('k-to', 'Nouvelle phase', 'to', [...next.map((p) => [p, PHASES[p]]), ['', 'Aucune (prolongation : la décision seule est enregistrée)']])}
      ${submit('Enregistrer le comité et changer de phase')}</form>`
    : alertBox('info', `« ${word(PHASES, s.phase)} » est une phase terminale : plus aucun comité ni changement de phase.`, 'Parcours terminé'))
    : ''}
    ${isCoord && next.length && unused.length ? `<p class="fr-text--sm">${int(unused.length)} décision(s) du comité pas encore suivie(s) d'un changement de phase.</p>` : ''}

    <h2 class="fr-mt-4w">Avis des usagers</h2>
    ${rolling && rolling.scores ? `<p id="feedback-summary">12 derniers mois : ${int(rolling.scores.answers)} avis${rolling.scores.satisfaction !== undefined ? ', satisfaction ' + num(rolling.scores.satisfaction) + '/10' : ''}${rolling.scores.band === 'BAND_INSUFFICIENT_DATA' ? ' (données insuffisantes pour une couleur)' : ''}
      ${band ? badge(band[0], band[1]) : ''}</p>` : '<p id="feedback-summary">Aucun avis.</p>'}
    ${feedbackChart(summary)}

    <h2 class="fr-mt-4w">Exports</h2>
    <ul class="fr-btns-group fr-btns-group--inline-md">
      <li><button class="fr-btn fr-btn--secondary fr-icon-download-line fr-btn--icon-left" type="button" id="export-ledger">Exporter le registre (JSON Lines)</button></li>
      <li><button class="fr-btn fr-btn--secondary fr-icon-download-line fr-btn--icon-left" type="button" id="export-feedback">Exporter les avis (CSV)</button></li>
    </ul>
    <div id="export-status" role="status"></div>

    <h2 class="fr-mt-4w">Chronologie (registre d'audit)</h2>
    <p class="fr-text--sm">${int(timeline.length)} événement(s), du plus récent au plus ancien${tPages > 1 ? ` — page ${tPage} sur ${tPages}` : ''}.</p>
    <ol class="pep-timeline" id="timeline">${shown.map((e) => `<li><time datetime="${esc(e.effective_time)}">${date(e.effective_time)}</time>
      ${esc(e.summary)} <span class="fr-text--xs">${esc(e.actor_name || e.actor)}${e.log_index >= 0 && e.log_index !== undefined ? ` · entrée n° ${int(e.log_index)}` : ''}</span></li>`).join('') || '<li>Le registre n\'a encore rien enregistré.</li>'}</ol>
    ${pagination(tPage, tPages, (p) => `/startups/${encodeURIComponent(id)}${p > 1 ? '?chronologie=' + p : ''}`)}`;
  const exportStatus = document.getElementById('export-status');
  document.getElementById('export-ledger').addEventListener('click', () =>
    download(`/v1/startups/${enc}/ledger:export`, `registre-${s.slug || s.id}.jsonl`, exportStatus));
  document.getElementById('export-feedback').addEventListener('click', () =>
    download(`/v1/startups/${enc}/feedback:export?format=EXPORT_FORMAT_CSV`, `avis-${s.slug || s.id}.csv`, exportStatus));
  const msForm = document.getElementById('milestone');
  if (msForm) {
    onSubmit(msForm, async (f) => {
      const body = {
        title: f.get('title'), kind: f.get('kind'), idempotency_key: idempotencyKey('console-'),
        date: f.get('date') ? new Date(f.get('date') + 'T12:00:00Z').toISOString() : new Date().toISOString(),
      };
      if (f.get('kpi_name')) body.kpis = [{ name: f.get('kpi_name'), value: Number(f.get('kpi_value') || 0) }];
      await api('POST', `/v1/startups/${enc}/milestones`, body);
      toast('Jalon publié');
      render();
    });
  }
  const committee = document.getElementById('committee');
  if (committee) {
    onSubmit(committee, async (f) => {
      const dec = await api('POST', `/v1/startups/${enc}/committee-decisions`, {
        date: new Date().toISOString(), outcome: f.get('outcome'), rationale: f.get('rationale'),
        participants: String(f.get('participants')).split(',').map((x) => x.trim()).filter(Boolean),
      });
      if (f.get('to')) {
        await api('POST', `/v1/startups/${enc}:change-phase`, { to: f.get('to'), decision_id: dec.id });
        toast('Phase changée');
      } else {
        toast('Décision du comité enregistrée');
      }
      render();
    });
  }
}

async function tokens() {
  const data = await api('GET', '/v1/tokens');
  const isCoord = has('coordinator');
  main().innerHTML = `
    <h1>Jetons d'accès</h1>
    <p>Pour les machines (la CI d'une équipe appelle <code>pepctl</code>) : un jeton ne dure pas plus que
      la limite de la passerelle et n'a jamais plus de droits que la personne qui l'a créé.</p>
    ${dataTable('Jetons (le secret n\'est jamais réaffiché)', ['Pour', 'Rôle', 'Périmètre', 'Expire le', 'Dernier usage', 'État', 'Action'],
    (data.tokens || []).map((t) => [`${esc(t.actor)}<br><span class="fr-text--xs">${esc(t.name)}</span>`, esc(word(ROLE_LABELS, t.role)), esc(t.scope),
      date(t.expires_at), t.last_used_at ? date(t.last_used_at) : 'jamais', t.revoked ? badge('Révoqué', 'error') : badge('Actif', 'success'),
      t.revoked ? '' : `<button class="fr-btn fr-btn--sm fr-btn--tertiary" type="button" data-revoke="${esc(t.id)}">Révoquer ${esc(t.name || t.actor)}</button>`]))}
    <h2 class="fr-mt-4w">Créer un jeton</h2>
    <form id="new-token" class="pep-form">
      ${isCoord ? `${field('t-actor', 'Pour qui (identifiant)', { name: 'actor', required: true })}
      ${select('t-role', 'Rôle', 'role', [['agent', 'Agent'], ['juror', 'Juré'], ['product_team', 'Équipe produit'], ['coordinator', 'Coordination']])}
      ${field('t-scope', 'Périmètre (startup:<id> pour une équipe produit)', { name: 'scope' })}` : `
      <input type="hidden" name="role" value="product_team">
      ${select('t-scope', 'Start-up', 'scope', teamStartups().map((sid) => ['startup:' + sid, sid]))}`}
      ${field('t-name', 'Description', { name: 'name', required: true })}
      ${field('t-days', 'Durée (jours)', { name: 'days', type: 'number', value: '90', attrs: 'min="1" max="365"' })}
      ${submit('Créer le jeton')}
    </form>
    <div id="secret" role="status"></div>`;
  onSubmit(document.getElementById('new-token'), async (f) => {
    const body = Object.fromEntries(f.entries());
    body.expires_at = new Date(Date.now() + Number(body.days || 90) * 86400000).toISOString();
    delete body.days;
    const r = await api('POST', '/v1/tokens', body);
    document.getElementById('secret').innerHTML = `<div class="fr-alert fr-alert--success fr-mt-2w"><h3 class="fr-alert__title">Jeton créé</h3>
      <p>Jeton « ${esc(r.token.name)} » (à transmettre, il ne sera plus affiché) : <code id="new-secret">${esc(r.secret)}</code></p></div>`;
    toast('Jeton créé');
  });
  main().querySelectorAll('[data-revoke]').forEach((b) => b.addEventListener('click', async () => {
    try {
      await api('DELETE', '/v1/tokens/' + encodeURIComponent(b.dataset.revoke));
      toast('Jeton révoqué');
      render();
    } catch (e) { toast('Erreur : ' + e.message, true); }
  }));
}

// Every start-up of the portfolio, for the pickers.
async function allStartups() {
  return (await allPages('/v1/startups?page_size=1000', 'startups')).sort((a, b) => a.name.localeCompare(b.name, 'fr'));
}

// Coordinators: who has signed in, and what each may do. A grant is recorded on the ledger.
async function accounts() {
  const [list, chs, sts] = await Promise.all([api('GET', '/v1/accounts'), api('GET', '/v1/challenges'), allStartups()]);
  const people = list.accounts || [];
  const challengesById = Object.fromEntries((chs.challenges || []).map((c) => [c.id, c.title]));
  const startupsById = Object.fromEntries(sts.map((s) => [s.id, s.name]));
  const scopeLabel = (g) => {
    if (g.scope.startsWith('challenge:')) return ' — défi « ' + (challengesById[g.scope.slice(10)] || g.scope) + ' »';
    if (g.scope.startsWith('startup:')) return ' — ' + (startupsById[g.scope.slice(8)] || g.scope);
    return '';
  };
  main().innerHTML = `
    <h1>Comptes et droits</h1>
    ${dataTable('Personnes connectées au moins une fois (toutes sont agents)', ['Nom', 'Courriel', 'Organisation', 'Droits accordés'],
    people.map((a) => [esc(a.display_name), esc(a.email), esc(a.organisation),
      `<ul>${(a.grants || []).map((g) => `<li>${esc(word(ROLE_LABELS, g.role))}${esc(scopeLabel(g))}
        <button class="fr-btn fr-btn--sm fr-btn--tertiary-no-outline" type="button" data-account="${esc(a.id)}" data-role="${esc(g.role)}" data-scope="${esc(g.scope)}">Retirer</button></li>`).join('') || '<li>aucun</li>'}</ul>`]))}
    <h2 class="fr-mt-4w">Accorder un droit</h2>
    <form id="grant" class="pep-form">
      ${select('g-account', 'Personne', 'account', people.map((a) => [a.id, `${a.display_name} (${a.email})`]))}
      ${select('g-role', 'Droit', 'role', [['juror', "Juré d'un défi"], ['product_team', "Membre de l'équipe d'une start-up"], ['coordinator', "Coordination de l'incubateur"]])}
      ${select('g-challenge', 'Défi (pour un juré)', 'challenge', (chs.challenges || []).map((c) => [c.id, c.title]))}
      ${select('g-startup', "Start-up (pour un membre d'équipe)", 'startup', sts.map((s) => [s.id, s.name]))}
      ${submit('Accorder')}
    </form>`;
  onSubmit(document.getElementById('grant'), async (f) => {
    const role = f.get('role');
    const scope = role === 'juror' ? 'challenge:' + f.get('challenge') : role === 'product_team' ? 'startup:' + f.get('startup') : '';
    await api('POST', `/v1/accounts/${encodeURIComponent(f.get('account'))}/grants`, { role, scope });
    toast('Droit accordé');
    render();
  });
  main().querySelectorAll('[data-account]').forEach((b) => b.addEventListener('click', async () => {
    try {
      await api('DELETE', `/v1/accounts/${encodeURIComponent(b.dataset.account)}/grants?role=${encodeURIComponent(b.dataset.role)}&scope=${encodeURIComponent(b.dataset.scope)}`);
      toast('Droit retiré');
      render();
    } catch (e) { toast('Erreur : ' + e.message, true); }
  }));
}

function feedbackForm(id) {
  const radio = (name, value, label, n) => `<div class="fr-fieldset__element fr-fieldset__element--inline"><div class="fr-radio-group">
    <input type="radio" id="${name}-${n}" name="${name}" value="${value}" required><label class="fr-label" for="${name}-${n}">${label}</label></div></div>`;
  main().innerHTML = `
    <h1>Je donne mon avis</h1>
    <form id="feedback" class="pep-form">
      <fieldset class="fr-fieldset" data-field="satisfaction"><legend class="fr-fieldset__legend">De façon générale, êtes-vous satisfait·e de ce service ?</legend>
        ${radio('satisfaction', 'SATISFACTION_GOOD', 'Bien', 1)}${radio('satisfaction', 'SATISFACTION_MEDIUM', 'Moyen', 2)}${radio('satisfaction', 'SATISFACTION_BAD', 'Mal', 3)}</fieldset>
      ${field('f-clarity', 'Les informations étaient-elles claires ? (1 à 5, facultatif)', { name: 'clarity', type: 'number', attrs: 'min="1" max="5"' })}
      ${field('f-nps', 'Recommanderiez-vous ce service ? (0 à 10, facultatif)', { name: 'nps', type: 'number', attrs: 'min="0" max="10"' })}
      ${field('f-verbatim', 'Votre message (facultatif, 2 000 caractères au plus)', { name: 'verbatim', type: 'textarea', attrs: 'maxlength="2000"' })}
      ${submit('Envoyer mon avis')}
    </form>`;
  onSubmit(document.getElementById('feedback'), async (f) => {
    const body = { satisfaction: f.get('satisfaction'), verbatim: f.get('verbatim') || '',
      idempotency_key: idempotencyKey('form-') };
    if (f.get('clarity')) body.clarity = Number(f.get('clarity'));
    if (f.get('nps')) body.nps = Number(f.get('nps'));
    await api('POST', `/v1/startups/${encodeURIComponent(id)}/feedback`, body);
    main().innerHTML = '<h1>Merci !</h1>' + alertBox('success', 'Votre avis a bien été enregistré.').replace('<p>', '<p id="thanks">');
  });
}

// --- routing --------------------------------------------------------------------------------

// One page is drawn at a time: a click while a slow page loads draws the newer URL after it, so
// an older answer never replaces a newer page. (go() must not return render()'s promise: a
// page that redirects would wait for itself.)
let drawing = null;
let redraw = false;
function render() {
  if (drawing) {
    redraw = true;
    return drawing;
  }
  drawing = (async () => {
    try {
      do {
        redraw = false;
        await draw();
      } while (redraw);
    } finally {
      drawing = null;
    }
  })();
  return drawing;
}

async function draw() {
  rendered = location.pathname + location.search;
  const path = decodeURIComponent(location.pathname);
  const nav = document.getElementById('navigation');
  const signedIn = me.via !== '' && me.role !== 'public';
  nav.hidden = !signedIn;
  document.getElementById('tools').hidden = !signedIn;
  document.getElementById('whoami').textContent = signedIn
    ? `${me.display_name || me.actor} (${(me.roles || []).map((r) => word(ROLE_LABELS, r)).join(', ')})` : '';
  nav.querySelectorAll('[data-roles]').forEach((li) => { li.hidden = !li.dataset.roles.split(' ').some(has); });
  document.getElementById('my-startups').innerHTML = teamStartups().map((sid) =>
    `<a class="fr-nav__link" href="/startups/${esc(sid)}">Ma start-up</a>`).join(' ');
  nav.querySelectorAll('.fr-nav__link').forEach((a) => {
    if (a.pathname === location.pathname || (a.pathname !== '/' && location.pathname.startsWith(a.pathname + '/'))) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  let m;
  try {
    if ((m = path.match(/^\/avis\/([^/]+)$/))) return feedbackForm(m[1]);
    if (!signedIn) return signIn();
    if (path === '/' || path === '') {
      if (!has('agent') && teamStartups().length) return go('/startups/' + teamStartups()[0]);
      return go(has('coordinator') ? '/portefeuille' : has('juror') ? '/jury' : '/defis');
    }
    if (path === '/defis') return await challenges();
    if (path === '/jury') return await jury();
    if ((m = path.match(/^\/defis\/([^/]+)$/))) return await challenge(m[1]);
    if ((m = path.match(/^\/idees\/([^/]+)$/))) return await idea(m[1]);
    if (path === '/portefeuille') return await portfolio();
    if ((m = path.match(/^\/startups\/([^/]+)$/))) return await startup(m[1]);
    if (path === '/jetons') return await tokens();
    if (path === '/comptes') return await accounts();
    main().innerHTML = '<h1>Page introuvable</h1>' + alertBox('warning', "Cette adresse ne correspond à aucune page de la console.");
  } catch (e) {
    if (e.status === 401) {  // the session ended (signed out elsewhere, idle, 12 h)
      me = await whoAmI();
      return signIn();
    }
    main().innerHTML = `<h1>Erreur</h1>${alertBox('error', e.message)}`;
  } finally {
    document.title = 'Pépinière — ' + (main().querySelector('h1')?.textContent || 'console');
  }
}

document.addEventListener('click', (ev) => {
  const a = ev.target.closest('a');
  // Console pages only: sign-in pages are the gateway's and the provider's, files and the API
  // are not pages — those get a real navigation.
  if (a && a.href && a.origin === location.origin && !(a.getAttribute('href') || '').startsWith('#') &&
      !/^\/(auth|ledger|v1)\//.test(a.pathname) &&
      !a.pathname.includes('.') && !a.target && !a.hasAttribute('download') && !ev.ctrlKey && !ev.metaKey) {
    ev.preventDefault();
    history.pushState({}, '', a.pathname + a.search);
    render().then(() => {
      window.scrollTo(0, 0);
      main().focus({ preventScroll: true });
    });
  }
});
// Back and forward re-render; a jump to an anchor (the skip links) fires popstate too, and must
// not re-render the page under the keyboard.
let rendered = '';
window.addEventListener('popstate', () => {
  if (location.pathname + location.search !== rendered) render();
});
async function whoAmI() {
  try { return await api('GET', '/v1/me'); } catch (e) { return NOBODY; }
}

(async () => {
  me = await whoAmI();
  render();
})();
