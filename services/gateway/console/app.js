// Pépinière's web console: plain JavaScript over the REST gateway (no framework, no CDN — it
// must work on closed networks). French UI, English code. Pages are rendered from the URL
// (history API); every call goes through api(). People sign in with their administration
// account (ProConnect, OpenID Connect): the gateway keeps the session and the browser only an
// HttpOnly cookie — this page holds no secret, in sessionStorage or anywhere else.
'use strict';

const main = () => document.getElementById('main');
const NOBODY = { role: 'public', roles: [], actor: '', scope: '', via: '' };
let me = NOBODY;
const has = (role) => (me.roles || []).includes(role);
const teamStartups = () => (me.scope || '').split(',').filter((s) => s.startsWith('startup:')).map((s) => s.slice(8));
const ROLE_LABELS = { coordinator: 'Coordination', juror: 'Juré', product_team: "Membre de l'équipe", agent: 'Agent' };

// --- helpers ---------------------------------------------------------------------------------

function esc(v) {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  }[c]));
}

// The session cookie goes along (same origin); the browser's Origin header lets the gateway
// refuse the same request made from another site.
async function api(method, path, body) {
  const headers = {};
  const init = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) {
    headers['Content-Type'] = typeof body === 'string' ? 'application/x-ndjson' : 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
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
  status.textContent = 'Export en cours…';
  status.className = '';
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
    status.textContent = `Export terminé (${num(blob.size / 1024, 0)} Kio).`;
    status.className = 'ok';
  } catch (e) {
    status.textContent = 'Export interrompu, le fichier serait incomplet : ' + e.message;
    status.className = 'error';
  }
}

function toast(message, isError) {
  const t = document.getElementById('toast');
  t.textContent = message;
  t.className = isError ? 'error' : 'ok';
}

const num = (v, digits = 1) => Number(v).toLocaleString('fr-FR', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function date(ts) {
  if (!ts) return '';
  const d = new Date(ts);
  return isNaN(d) ? '' : d.toLocaleDateString('fr-FR', { timeZone: 'UTC' });
}

function go(path) {
  history.pushState({}, '', path);
  render();
}

// Runs a form's action; errors are shown next to it, in words a person understands.
function onSubmit(form, action) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const out = form.querySelector('.form-error');
    if (out) out.textContent = '';
    try {
      await action(new FormData(form));
    } catch (e) {
      if (out) out.textContent = 'Erreur : ' + e.message;
      toast('Erreur : ' + e.message, true);
    }
  });
}

const PHASES = {
  PHASE_INVESTIGATION: 'Investigation', PHASE_CONSTRUCTION: 'Construction',
  PHASE_ACCELERATION: 'Accélération', PHASE_CONSOLIDATION: 'Consolidation',
  PHASE_TRANSFERRED: 'Transférée', PHASE_OPERATED: 'Opérée',
  PHASE_ABANDONED_IN_INVESTIGATION: 'Abandonnée (investigation)', PHASE_ABANDONED: 'Abandonnée',
};
const IDEA_STATUS = {
  IDEA_STATUS_SUBMITTED: 'Déposées', IDEA_STATUS_SHORTLISTED: 'Présélectionnées',
  IDEA_STATUS_AWARDED: 'Primées', IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION: 'Retenues',
  IDEA_STATUS_REJECTED: 'Écartées', IDEA_STATUS_WITHDRAWN: 'Retirées',
};
const CHALLENGE_STATUS = {
  CHALLENGE_STATUS_DRAFT: 'Brouillon', CHALLENGE_STATUS_OPEN: 'Ouvert', CHALLENGE_STATUS_CLOSED: 'Clos',
};

// --- pages ----------------------------------------------------------------------------------

function signIn() {
  const back = encodeURIComponent(location.pathname === '/' ? '/' : location.pathname);
  main().innerHTML = me.sign_in_available ? `
    <h2>Connexion</h2>
    <p>Connectez-vous avec le compte de votre administration. À la première connexion, un compte
      d'agent est créé : vous pouvez déposer des idées aux défis ouverts et suivre les vôtres.</p>
    <p><a class="button" id="proconnect" href="/auth/login?return_to=${back}">Se connecter avec ProConnect</a></p>
    <p><small>Les équipes qui publient depuis leur CI utilisent un jeton d'accès (<code>pepctl</code>), pas cette page.</small></p>` : `
    <h2>Connexion</h2>
    <p role="alert">Aucun fournisseur d'identité n'est configuré sur cette passerelle (<code>--oidc_issuer</code>) :
      seuls les jetons d'accès (<code>pepctl</code>) fonctionnent.</p>`;
}

async function challenges() {
  const data = await api('GET', '/v1/challenges');
  const list = (data.challenges || []).map((c) => `
      <tr><td><a href="/defis/${esc(c.id)}">${esc(c.title)}</a></td>
      <td>${esc(CHALLENGE_STATUS[c.status] || c.status)}</td><td>${esc(c.theme)}</td>
      <td>${(c.juror_ids || []).length}</td></tr>`).join('');
  main().innerHTML = `
    <h2>Défis</h2>
    <table><caption>Défis de l'incubateur</caption>
      <thead><tr><th scope="col">Titre</th><th scope="col">Statut</th><th scope="col">Thème</th>
      <th scope="col">Jurés</th></tr></thead><tbody>${list || '<tr><td colspan="4">Aucun défi.</td></tr>'}</tbody></table>
    ${has('coordinator') ? `
    <h3>Créer un défi</h3>
    <form id="new-challenge">
      <label for="c-title">Titre du défi</label><input id="c-title" name="title" required>
      <label for="c-theme">Thème</label><input id="c-theme" name="theme" value="simplification">
      <label for="c-criteria">Critères (séparés par des virgules)</label>
      <input id="c-criteria" name="criteria" value="impact, faisabilité">
      <label for="c-quorum">Quorum du jury</label><input id="c-quorum" name="quorum" type="number" min="1" value="1">
      <button type="submit">Créer le défi</button>
      <p class="form-error" role="alert"></p>
    </form>` : ''}`;
  const form = document.getElementById('new-challenge');
  if (form) {
    onSubmit(form, async (f) => {
      const c = await api('POST', '/v1/challenges', {
        title: f.get('title'), theme: f.get('theme'), jury_quorum: Number(f.get('quorum')),
        criteria: String(f.get('criteria')).split(',').map((s) => s.trim()).filter(Boolean)
          .map((name) => ({ name, weight: 1 })),
      });
      toast('Défi créé');
      go('/defis/' + c.id);
    });
  }
}

async function challenge(id) {
  const c = await api('GET', '/v1/challenges/' + encodeURIComponent(id));
  const ideas = (await api('GET', `/v1/challenges/${encodeURIComponent(id)}/ideas?page_size=200`)).ideas || [];
  const columns = Object.keys(IDEA_STATUS).map((s) => {
    const items = ideas.filter((i) => i.status === s)
      .map((i) => `<li><a href="/idees/${esc(i.id)}">${esc(i.title)}</a><br><small>${esc(i.author_name)} — ${esc(i.department)}</small></li>`).join('');
    return `<section class="column" aria-label="${esc(IDEA_STATUS[s])}"><h4>${esc(IDEA_STATUS[s])} (${ideas.filter((i) => i.status === s).length})</h4><ul>${items}</ul></section>`;
  }).join('');
  let ranking = '';
  const onJury = (c.juror_ids || []).includes(me.actor);
  if (has('coordinator') || onJury) {
    try {
      const r = await api('GET', `/v1/challenges/${encodeURIComponent(id)}/ranking`);
      ranking = `<h3>Classement</h3><table><caption>Classement (quorum : ${r.jury_quorum})</caption>
        <thead><tr><th scope="col">Rang</th><th scope="col">Idée</th><th scope="col">Moyenne /5</th><th scope="col">Grilles</th></tr></thead><tbody>
        ${(r.ideas || []).map((i) => `<tr><td>${i.rank}</td><td><a href="/idees/${esc(i.idea_id)}">${esc(i.title)}</a></td>
          <td>${num(i.weighted_mean, 2)}</td><td>${i.scorecard_count}${i.quorum_reached ? ' ✓' : ''}</td></tr>`).join('')}
        </tbody></table>`;
    } catch (e) { ranking = ''; }
  }
  const isCoord = has('coordinator');
  main().innerHTML = `
    <h2>Défi : ${esc(c.title)}</h2>
    <p>Statut : <strong>${esc(CHALLENGE_STATUS[c.status] || c.status)}</strong> — jurés : ${(c.juror_ids || []).length || 'aucun'}${onJury ? ' (dont vous)' : ''}</p>
    ${isCoord ? `<div class="actions">
      ${c.status === 'CHALLENGE_STATUS_DRAFT' ? '<button type="button" id="open">Ouvrir le défi</button>' : ''}
      ${c.status === 'CHALLENGE_STATUS_OPEN' ? '<button type="button" id="close">Clore le défi</button>' : ''}
    </div>
    <p>Pour désigner un juré : <a href="/comptes">Comptes et droits</a>.</p>` : ''}
    <h3>Idées</h3><div class="pipeline">${columns}</div>
    ${ranking}
    ${(isCoord || has('agent')) && c.status === 'CHALLENGE_STATUS_OPEN' ? `
    <h3>Déposer une idée</h3>
    <form id="new-idea">
      <label for="i-title">Titre de l'idée</label><input id="i-title" name="title" required>
      <label for="i-problem">Problème constaté</label><textarea id="i-problem" name="problem" required></textarea>
      <label for="i-proposal">Proposition</label><textarea id="i-proposal" name="proposal" required></textarea>
      <label for="i-author">Votre nom</label><input id="i-author" name="author_name" required>
      <label for="i-dept">Direction ou service</label><input id="i-dept" name="department" required>
      <label for="i-email">Courriel professionnel</label><input id="i-email" name="contact_email" type="email" required>
      <button type="submit">Déposer l'idée</button>
      <p class="form-error" role="alert"></p>
    </form>` : ''}`;
  const transition = (verb) => async () => {
    try {
      await api('POST', `/v1/challenges/${encodeURIComponent(id)}:${verb}`);
      toast(verb === 'open' ? 'Défi ouvert' : 'Défi clos');
      render();
    } catch (e) { toast('Erreur : ' + e.message, true); }
  };
  document.getElementById('open')?.addEventListener('click', transition('open'));
  document.getElementById('close')?.addEventListener('click', transition('close'));
  const form = document.getElementById('new-idea');
  if (form) {
    onSubmit(form, async (f) => {
      const body = Object.fromEntries(f.entries());
      const r = await api('POST', `/v1/challenges/${encodeURIComponent(id)}/ideas`, body);
      toast('Idée déposée' + ((r.similar_ideas || []).length ? ' (des idées proches existent)' : ''));
      render();
    });
  }
}

async function idea(id) {
  const i = await api('GET', '/v1/ideas/' + encodeURIComponent(id));
  const c = await api('GET', '/v1/challenges/' + encodeURIComponent(i.challenge_id));
  let cards = [];
  const onJury = (c.juror_ids || []).includes(me.actor);
  if (has('coordinator') || onJury) {
    cards = (await api('GET', `/v1/ideas/${encodeURIComponent(id)}/scores`)).scorecards || [];
  }
  const criteria = c.criteria || [];
  main().innerHTML = `
    <p><a href="/defis/${esc(c.id)}">← ${esc(c.title)}</a></p>
    <h2>Idée : ${esc(i.title)}</h2>
    <p>Statut : <strong>${esc((IDEA_STATUS[i.status] || i.status).replace(/s$/, ''))}</strong> —
       par ${esc(i.author_name)} (${esc(i.department)})</p>
    <h3>Problème</h3><p>${esc(i.problem)}</p><h3>Proposition</h3><p>${esc(i.proposal)}</p>
    ${cards.length ? `<h3>Grilles d'évaluation</h3><table><caption>Évaluations du jury</caption>
      <thead><tr><th scope="col">Juré</th><th scope="col">Note pondérée /5</th><th scope="col">Commentaire</th></tr></thead><tbody>
      ${cards.map((s) => `<tr><td>${esc(s.juror_id)}</td><td>${num(s.weighted_score, 2)}</td><td>${esc(s.comment)}</td></tr>`).join('')}
      </tbody></table>` : ''}
    ${onJury ? `<h3>Évaluer</h3><form id="score">
      ${criteria.map((k, n) => `<label for="s-${n}">Note « ${esc(k.name)} » (0 à 5)</label>
        <input id="s-${n}" name="${esc(k.name)}" type="number" min="0" max="5" required>`).join('')}
      <label for="s-comment">Commentaire</label><textarea id="s-comment" name="__comment"></textarea>
      <button type="submit">Enregistrer l'évaluation</button><p class="form-error" role="alert"></p></form>` : ''}
    ${has('coordinator') ? `<h3>Décider</h3><form id="decide">
      <label for="d-outcome">Décision</label>
      <select id="d-outcome" name="decision">
        <option value="IDEA_STATUS_SHORTLISTED">Présélectionner</option>
        <option value="IDEA_STATUS_AWARDED">Primer</option>
        <option value="IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION">Retenir pour expérimentation</option>
        <option value="IDEA_STATUS_REJECTED">Écarter</option>
      </select>
      <label for="d-rationale">Motif</label><input id="d-rationale" name="rationale">
      <label for="d-prize">Prix (si primée)</label><input id="d-prize" name="prize">
      <button type="submit">Enregistrer la décision</button><p class="form-error" role="alert"></p></form>` : ''}`;
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

async function portfolio() {
  const data = await api('GET', '/v1/startups?page_size=500');
  const startups = data.startups || [];
  const groups = Object.keys(PHASES).map((p) => {
    const items = startups.filter((s) => s.phase === p);
    if (!items.length) return '';
    return `<section aria-label="${esc(PHASES[p])}"><h3>${esc(PHASES[p])} (${items.length})</h3><ul class="cards">
      ${items.map((s) => `<li><a href="/startups/${esc(s.id)}">${esc(s.name)}</a>
        ${s.overdue ? `<span class="flag" title="${esc((s.overdue_reasons || []).join(' ; '))}">En retard</span>` : ''}
        <br><small>${esc(s.incubator)}${s.last_milestone_at ? ' — dernier jalon le ' + date(s.last_milestone_at) : ''}</small></li>`).join('')}
      </ul></section>`;
  }).join('');
  main().innerHTML = `<h2>Portefeuille</h2><p>${startups.length} start-up(s).</p>${groups || '<p>Aucune start-up.</p>'}`;
}

function chart(buckets) {
  const points = buckets.filter((b) => b.scores && b.scores.answers > 0);
  if (!points.length) return '<p>Pas encore d\'avis.</p>';
  const w = 480, h = 160, pad = 24;
  const x = (n) => pad + (points.length === 1 ? (w - 2 * pad) / 2 : n * (w - 2 * pad) / (points.length - 1));
  const y = (v) => h - pad - (v / 10) * (h - 2 * pad);
  const line = points.map((b, n) => `${x(n)},${y(b.scores.satisfaction ?? 0)}`).join(' ');
  const dots = points.map((b, n) => `<circle cx="${x(n)}" cy="${y(b.scores.satisfaction ?? 0)}" r="4"><title>${date(b.start)} : ${num(b.scores.satisfaction ?? 0)}/10 (${b.scores.answers} avis)</title></circle>`).join('');
  return `<figure><svg role="img" aria-label="Satisfaction des usagers dans le temps, sur 10" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}">
    <line x1="${pad}" y1="${y(0)}" x2="${w - pad}" y2="${y(0)}" class="axis"/><line x1="${pad}" y1="${y(10)}" x2="${w - pad}" y2="${y(10)}" class="grid"/>
    <polyline points="${line}" class="series"/>${dots}</svg>
    <figcaption>Satisfaction par jour (sur 10) — ${points.reduce((a, b) => a + b.scores.answers, 0)} avis</figcaption></figure>`;
}

async function startup(id) {
  const enc = encodeURIComponent(id);
  const d = await api('GET', '/v1/startups/' + enc);
  const s = d.startup;
  const milestones = (await api('GET', `/v1/startups/${enc}/milestones`)).milestones || [];
  let timeline = [];
  try { timeline = (await api('GET', `/v1/startups/${enc}/timeline`)).entries || []; } catch (e) { timeline = []; }
  let summary = { buckets: [] };
  try { summary = await api('GET', `/v1/startups/${enc}/feedback/summary?granularity=GRANULARITY_DAY`); } catch (e) { /* none yet */ }
  let rolling = null;
  try { rolling = ((await api('GET', `/v1/startups/${enc}/feedback/summary?granularity=GRANULARITY_ROLLING_12_MONTHS`)).buckets || [])[0]; } catch (e) { rolling = null; }
  const isCoord = has('coordinator');
  main().innerHTML = `
    <h2>Start-up : ${esc(s.name)}</h2>
    <p>Phase : <strong id="phase">${esc(PHASES[s.phase] || s.phase)}</strong> — ${esc(s.incubator)}
      ${s.overdue ? '<span class="flag">En retard</span>' : ''}</p>
    <p>${esc(s.mission)}</p>
    <p><a href="/avis/${esc(s.id)}">Formulaire public « Je donne mon avis »</a></p>
    <h3>Historique des phases</h3><ol>${(s.phases || []).map((p) => `<li>${esc(PHASES[p.phase] || p.phase)} depuis le ${date(p.start)}${p.end ? ' jusqu\'au ' + date(p.end) : ''}</li>`).join('')}</ol>
    <h3>Jalons</h3><ul id="milestones">${milestones.map((m) => `<li>${date(m.date)} — ${esc(m.title)}</li>`).join('') || '<li>Aucun jalon.</li>'}</ul>
    ${isCoord || teamStartups().includes(s.id) ? `<form id="milestone"><h4>Publier un jalon</h4>
      <label for="m-title">Titre du jalon</label><input id="m-title" name="title" required>
      <label for="m-kind">Type</label><select id="m-kind" name="kind">
        <option value="MILESTONE_KIND_PRODUCT_LAUNCH">Mise en production</option><option value="MILESTONE_KIND_USERS_REACHED">Usagers atteints</option>
        <option value="MILESTONE_KIND_KPI">Indicateur</option><option value="MILESTONE_KIND_FUNDING">Financement</option>
        <option value="MILESTONE_KIND_TEAM">Équipe</option><option value="MILESTONE_KIND_OTHER">Autre</option></select>
      <button type="submit">Publier le jalon</button><p class="form-error" role="alert"></p></form>` : ''}
    ${isCoord ? `<form id="committee"><h4>Comité et changement de phase</h4>
      <label for="k-outcome">Décision du comité</label><select id="k-outcome" name="outcome">
        <option value="COMMITTEE_OUTCOME_GO">GO</option><option value="COMMITTEE_OUTCOME_EXTEND">Prolonger</option>
        <option value="COMMITTEE_OUTCOME_PIVOT">Pivoter</option><option value="COMMITTEE_OUTCOME_STOP">STOP</option></select>
      <label for="k-participants">Participants (séparés par des virgules)</label><input id="k-participants" name="participants" value="DGS" required>
      <label for="k-rationale">Motif</label><input id="k-rationale" name="rationale" required>
      <label for="k-to">Nouvelle phase</label><select id="k-to" name="to">
        ${Object.keys(PHASES).map((p) => `<option value="${p}">${esc(PHASES[p])}</option>`).join('')}</select>
      <button type="submit">Enregistrer le comité et changer de phase</button><p class="form-error" role="alert"></p></form>` : ''}
    <h3>Avis des usagers</h3>
    ${rolling && rolling.scores ? `<p id="feedback-summary">12 derniers mois : ${rolling.scores.answers} avis${rolling.scores.satisfaction !== undefined ? ', satisfaction ' + num(rolling.scores.satisfaction) + '/10' : ''}${rolling.scores.band === 'BAND_INSUFFICIENT_DATA' ? ' (données insuffisantes pour une couleur)' : ''}</p>` : '<p id="feedback-summary">Aucun avis.</p>'}
    ${chart(summary.buckets || [])}
    <h3>Exports</h3>
    <p><button type="button" id="export-ledger">Exporter le registre (JSON Lines)</button>
      <button type="button" id="export-feedback">Exporter les avis (CSV)</button></p>
    <p id="export-status" role="status"></p>
    <h3>Chronologie (registre d'audit)</h3>
    <ol class="timeline" id="timeline">${timeline.map((e) => `<li><time>${date(e.effective_time)}</time> ${esc(e.summary)} <small>${esc(e.actor_name || e.actor)}</small></li>`).join('') || '<li>Le registre n\'a encore rien enregistré.</li>'}</ol>`;
  const exportStatus = document.getElementById('export-status');
  document.getElementById('export-ledger').addEventListener('click', () =>
    download(`/v1/startups/${enc}/ledger:export`, `registre-${s.slug || s.id}.jsonl`, exportStatus));
  document.getElementById('export-feedback').addEventListener('click', () =>
    download(`/v1/startups/${enc}/feedback:export?format=EXPORT_FORMAT_CSV`, `avis-${s.slug || s.id}.csv`, exportStatus));
  const ms = document.getElementById('milestone');
  if (ms) {
    onSubmit(ms, async (f) => {
      await api('POST', `/v1/startups/${enc}/milestones`, {
        title: f.get('title'), kind: f.get('kind'), date: new Date().toISOString(),
        idempotency_key: idempotencyKey('console-'),
      });
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
      await api('POST', `/v1/startups/${enc}:change-phase`, { to: f.get('to'), decision_id: dec.id });
      toast('Phase changée');
      render();
    });
  }
}

async function tokens() {
  const data = await api('GET', '/v1/tokens');
  const isCoord = has('coordinator');
  main().innerHTML = `
    <h2>Jetons d'accès</h2>
    <p>Pour les machines (la CI d'une équipe appelle <code>pepctl</code>) : un jeton ne dure pas plus que
      la limite de la passerelle et n'a jamais plus de droits que la personne qui l'a créé.</p>
    <table><caption>Jetons (le secret n'est jamais réaffiché)</caption>
      <thead><tr><th scope="col">Pour</th><th scope="col">Rôle</th><th scope="col">Périmètre</th><th scope="col">Expire le</th><th scope="col">Dernier usage</th><th scope="col">État</th><th scope="col"></th></tr></thead>
      <tbody>${(data.tokens || []).map((t) => `<tr><td>${esc(t.actor)}<br><small>${esc(t.name)}</small></td><td>${esc(t.role)}</td><td>${esc(t.scope)}</td>
        <td>${date(t.expires_at)}</td><td>${t.last_used_at ? date(t.last_used_at) : 'jamais'}</td><td>${t.revoked ? 'Révoqué' : 'Actif'}</td>
        <td>${t.revoked ? '' : `<button type="button" data-revoke="${esc(t.id)}">Révoquer ${esc(t.name || t.actor)}</button>`}</td></tr>`).join('')}</tbody></table>
    <h3>Créer un jeton</h3>
    <form id="new-token">
      ${isCoord ? `<label for="t-actor">Pour qui (identifiant)</label><input id="t-actor" name="actor" required>
      <label for="t-role">Rôle</label><select id="t-role" name="role">
        <option value="agent">Agent</option><option value="juror">Juré</option>
        <option value="product_team">Équipe produit</option><option value="coordinator">Coordinateur</option></select>
      <label for="t-scope">Périmètre (startup:&lt;id&gt; pour une équipe produit)</label><input id="t-scope" name="scope">` : `
      <input type="hidden" name="role" value="product_team">
      <label for="t-scope">Start-up</label><select id="t-scope" name="scope">
        ${teamStartups().map((id) => `<option value="startup:${esc(id)}">${esc(id)}</option>`).join('')}</select>`}
      <label for="t-name">Description</label><input id="t-name" name="name" required>
      <label for="t-days">Durée (jours)</label><input id="t-days" name="days" type="number" min="1" max="365" value="90">
      <button type="submit">Créer le jeton</button><p class="form-error" role="alert"></p>
    </form>
    <p id="secret" role="status"></p>`;
  onSubmit(document.getElementById('new-token'), async (f) => {
    const body = Object.fromEntries(f.entries());
    body.expires_at = new Date(Date.now() + Number(body.days || 90) * 86400000).toISOString();
    delete body.days;
    const r = await api('POST', '/v1/tokens', body);
    document.getElementById('secret').innerHTML =
      `Jeton « ${esc(r.token.name)} » (à transmettre, il ne sera plus affiché) : <code id="new-secret">${esc(r.secret)}</code>`;
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

// Coordinators: who has signed in, and what each may do. A grant is recorded on the ledger.
async function accounts() {
  const [list, chs, sts] = await Promise.all([api('GET', '/v1/accounts'), api('GET', '/v1/challenges'),
    api('GET', '/v1/startups?page_size=500')]);
  const people = list.accounts || [];
  const challengesById = Object.fromEntries((chs.challenges || []).map((c) => [c.id, c.title]));
  const startupsById = Object.fromEntries((sts.startups || []).map((s) => [s.id, s.name]));
  const scopeLabel = (g) => {
    if (g.scope.startsWith('challenge:')) return ' — défi « ' + (challengesById[g.scope.slice(10)] || g.scope) + ' »';
    if (g.scope.startsWith('startup:')) return ' — ' + (startupsById[g.scope.slice(8)] || g.scope);
    return '';
  };
  main().innerHTML = `
    <h2>Comptes et droits</h2>
    <table><caption>Personnes connectées au moins une fois (toutes sont agents)</caption>
      <thead><tr><th scope="col">Nom</th><th scope="col">Courriel</th><th scope="col">Organisation</th><th scope="col">Droits accordés</th></tr></thead>
      <tbody>${people.map((a) => `<tr><td>${esc(a.display_name)}</td><td>${esc(a.email)}</td><td>${esc(a.organisation)}</td>
        <td><ul>${(a.grants || []).map((g) => `<li>${esc(ROLE_LABELS[g.role] || g.role)}${esc(scopeLabel(g))}
          <button type="button" data-account="${esc(a.id)}" data-role="${esc(g.role)}" data-scope="${esc(g.scope)}">Retirer</button></li>`).join('') || '<li>aucun</li>'}</ul></td></tr>`).join('')}</tbody></table>
    <h3>Accorder un droit</h3>
    <form id="grant">
      <label for="g-account">Personne</label><select id="g-account" name="account">
        ${people.map((a) => `<option value="${esc(a.id)}">${esc(a.display_name)} (${esc(a.email)})</option>`).join('')}</select>
      <label for="g-role">Droit</label><select id="g-role" name="role">
        <option value="juror">Juré d'un défi</option><option value="product_team">Membre de l'équipe d'une start-up</option>
        <option value="coordinator">Coordination de l'incubateur</option></select>
      <label for="g-challenge">Défi (pour un juré)</label><select id="g-challenge" name="challenge">
        ${(chs.challenges || []).map((c) => `<option value="${esc(c.id)}">${esc(c.title)}</option>`).join('')}</select>
      <label for="g-startup">Start-up (pour un membre d'équipe)</label><select id="g-startup" name="startup">
        ${(sts.startups || []).map((s) => `<option value="${esc(s.id)}">${esc(s.name)}</option>`).join('')}</select>
      <button type="submit">Accorder</button><p class="form-error" role="alert"></p>
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
  const radio = (name, value, label) => `<label class="inline"><input type="radio" name="${name}" value="${value}" required> ${label}</label>`;
  main().innerHTML = `
    <h2>Je donne mon avis</h2>
    <form id="feedback">
      <fieldset><legend>De façon générale, êtes-vous satisfait·e de ce service ?</legend>
        ${radio('satisfaction', 'SATISFACTION_GOOD', 'Bien')}${radio('satisfaction', 'SATISFACTION_MEDIUM', 'Moyen')}${radio('satisfaction', 'SATISFACTION_BAD', 'Mal')}</fieldset>
      <label for="f-clarity">Les informations étaient-elles claires ? (1 à 5, facultatif)</label>
      <input id="f-clarity" name="clarity" type="number" min="1" max="5">
      <label for="f-nps">Recommanderiez-vous ce service ? (0 à 10, facultatif)</label>
      <input id="f-nps" name="nps" type="number" min="0" max="10">
      <label for="f-verbatim">Votre message (facultatif, 2 000 caractères au plus)</label>
      <textarea id="f-verbatim" name="verbatim" maxlength="2000"></textarea>
      <button type="submit">Envoyer mon avis</button><p class="form-error" role="alert"></p>
    </form>`;
  onSubmit(document.getElementById('feedback'), async (f) => {
    const body = { satisfaction: f.get('satisfaction'), verbatim: f.get('verbatim') || '',
      idempotency_key: idempotencyKey('form-') };
    if (f.get('clarity')) body.clarity = Number(f.get('clarity'));
    if (f.get('nps')) body.nps = Number(f.get('nps'));
    await api('POST', `/v1/startups/${encodeURIComponent(id)}/feedback`, body);
    main().innerHTML = '<h2>Merci !</h2><p id="thanks">Votre avis a bien été enregistré.</p>';
  });
}

// --- routing --------------------------------------------------------------------------------

async function render() {
  const path = decodeURIComponent(location.pathname);
  const nav = document.getElementById('nav');
  const signedIn = me.via !== '' && me.role !== 'public';
  nav.hidden = !signedIn;
  document.getElementById('whoami').textContent = signedIn
    ? `${me.display_name || me.actor} (${(me.roles || []).map((r) => ROLE_LABELS[r] || r).join(', ')})` : '';
  nav.querySelectorAll('[data-roles]').forEach((a) => { a.hidden = !a.dataset.roles.split(' ').some(has); });
  const mine = document.getElementById('my-startups');
  mine.innerHTML = teamStartups().map((id) => `<a href="/startups/${esc(id)}">Ma start-up</a>`).join(' ');
  let m;
  try {
    if ((m = path.match(/^\/avis\/([^/]+)$/))) return feedbackForm(m[1]);
    if (!signedIn) return signIn();
    if (path === '/' || path === '') {
      return go(!has('agent') && teamStartups().length ? '/startups/' + teamStartups()[0] : '/defis');
    }
    if (path === '/defis') return await challenges();
    if ((m = path.match(/^\/defis\/([^/]+)$/))) return await challenge(m[1]);
    if ((m = path.match(/^\/idees\/([^/]+)$/))) return await idea(m[1]);
    if (path === '/portefeuille') return await portfolio();
    if ((m = path.match(/^\/startups\/([^/]+)$/))) return await startup(m[1]);
    if (path === '/jetons') return await tokens();
    if (path === '/comptes') return await accounts();
    main().innerHTML = '<h2>Page introuvable</h2>';
  } catch (e) {
    if (e.status === 401) {  // the session ended (signed out elsewhere, idle, 12 h)
      me = await whoAmI();
      return signIn();
    }
    main().innerHTML = `<h2>Erreur</h2><p role="alert">${esc(e.message)}</p>`;
  } finally {
    document.title = 'Pépinière — ' + (main().querySelector('h2')?.textContent || 'console');
  }
}

document.addEventListener('click', (ev) => {
  const a = ev.target.closest('a');
  // Sign-in pages are the gateway's and the provider's, not this page's: a real navigation.
  if (a && a.origin === location.origin && !a.pathname.startsWith('/auth/') && !a.target &&
      !a.hasAttribute('download') && !ev.ctrlKey && !ev.metaKey) {
    ev.preventDefault();
    go(a.pathname);
  }
});
window.addEventListener('popstate', render);
async function whoAmI() {
  try { return await api('GET', '/v1/me'); } catch (e) { return NOBODY; }
}

(async () => {
  me = await whoAmI();
  render();
})();
